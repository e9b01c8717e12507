"""Who is asking: resolved once per request, before the view, into one `Visitor`.

The route table says for each route what it needs (`Access`); the route guard
(`portal.routing`) calls `resolve` with it and keeps the result in the request's state, where
views read it (`visitor`, `principal`). Resolving is where the visitor's side effects happen,
all of them here and each on purpose:

- a staff session is re-checked against the staff rule (settings may have been narrowed since
  sign-in); one that no longer passes ends, on the record;
- a staff member's view as a customer ends when its 30 minutes are up (on the record, and
  `ImpersonationOver` sends them back to the staff page), and every customer page it shows
  is written to the audit trail (`view`; refused actions are recorded by `portal.errors`);
- a signed-in customer's pages switch to the customer's language in Stripe unless the visitor
  chose one (the invoice link's language likewise).
"""

from __future__ import annotations

from dataclasses import replace
from datetime import UTC, datetime
from enum import StrEnum

from starlette.requests import Request

from portal import audit, i18n
from portal.cookies import read_cookie
from portal.identity import customer_sessions, invoice_links, staff_sessions
from portal.identity.customer_sessions import CustomerSession
from portal.identity.staff_rules import is_staff
from portal.identity.staff_sessions import StaffMember, StaffSession
from portal.permissions import Principal
from portal.services import services
from portal.state import Visitor, request_state
from portal.stripe import changes
from portal.stripe.cache import known_version, remember_version

# The demo's staff sign-in (portal demo only): no identity provider behind it.
DEMO_ISSUER = "demo"


class Access(StrEnum):
    """What a route needs to know about who is asking."""

    PUBLIC = "public"  # nothing: nobody is looked up
    BROWSER = "browser"  # whoever is signed in in this browser, customer or staff; nobody needed
    STAFF = "staff"  # the staff session, if any (the staff pages say what they need of it)
    CUSTOMER = "customer"  # a signed-in customer or staff viewing as one, else to sign-in
    INVOICE = "invoice"  # as CUSTOMER, or the holder of an e-mailed link to the route's invoice


class SignInRequired(Exception):
    """No live session: the visitor is sent to the sign-in page (and back afterwards)."""


class ImpersonationOver(Exception):
    """The 30 minutes are up (or the staff session ended): back to the staff page."""


def visitor(request: Request) -> Visitor:
    """The visitor the route guard resolved for this request."""
    found = request_state(request).visitor
    assert found is not None, "the route does not declare who it needs (portal.routes)"
    return found


def principal(request: Request) -> Principal:
    """Whom this request acts for (routes with `Access.CUSTOMER` or `Access.INVOICE`)."""
    found = visitor(request).principal
    if found is None:
        raise SignInRequired()
    return found


async def resolve(request: Request, access: Access, *, invoice_id: str | None = None) -> Visitor:
    """Find out who is asking, as `access` needs it, and keep it for the request."""
    if access is Access.PUBLIC:
        found = Visitor()
    elif access is Access.STAFF:
        found = Visitor(staff=await _staff_session(request))
    elif access is Access.BROWSER:
        session = await _customer_session(request)
        found = Visitor(
            principal=_customer(request, session) if session is not None else None,
            session=session,
            staff=await _staff_session(request),
        )
    else:
        found = await _acting(request, invoice_id if access is Access.INVOICE else None, access)
        assert found.principal is not None
        await _know_version(request, found.principal.customer_id)
    request_state(request).visitor = found
    return found


# --- the parts ---------------------------------------------------------------------------------


async def _know_version(request: Request, customer_id: str) -> None:
    """The acting customer's change counter, read before any of the page's Stripe reads, so
    that what they read is kept under the counter as it was before (`portal.stripe.cache`).
    A session's query brings its own customer's; an invoice link's holder, support's view and
    a link to another of the session's accounts read it here."""
    if not known_version(customer_id):
        remember_version(customer_id, await changes.version(services(request).engine, customer_id))


async def _customer_session(request: Request) -> CustomerSession | None:
    svc = services(request)
    raw = read_cookie(request, svc.settings, "session")
    return await customer_sessions.load(svc.engine, raw, datetime.now(UTC)) if raw else None


def staff_allowed(request: Request, member: StaffMember) -> bool:
    """Whether `member` counts as staff under today's settings."""
    svc = services(request)
    if member.issuer == DEMO_ISSUER:
        return svc.demo
    return is_staff(member.claims(svc.settings.staff_groups_claim), svc.settings)


async def _staff_session(request: Request) -> StaffSession | None:
    svc = services(request)
    raw = read_cookie(request, svc.settings, "staff")
    now = datetime.now(UTC)
    found = await staff_sessions.load(svc.engine, raw, now) if raw else None
    if found is not None and not staff_allowed(request, found.member):
        await audit.record(
            svc.engine,
            request,
            found.member,
            "staff_rule_failed",
            now=now,
            customer_id=found.impersonation.customer_id if found.impersonation else None,
            outcome="refused",
        )
        await staff_sessions.end(svc.engine, raw or "")
        found = None
    return found


async def end_view(request: Request, staff: StaffSession, outcome: str) -> None:
    """End the staff member's view as a customer, on the record (`outcome` says why)."""
    if staff.impersonation is None:
        return
    svc = services(request)
    await staff_sessions.end_impersonation(svc.engine, staff)
    await audit.record(
        svc.engine,
        request,
        staff.member,
        "impersonation_end",
        now=datetime.now(UTC),
        customer_id=staff.impersonation.customer_id,
        outcome=outcome,
    )


async def _impersonation(request: Request, staff: StaffSession | None) -> StaffSession | None:
    """The staff session viewing as a customer on this request, if any (see the module's
    docstring for what this checks and records)."""
    if staff is None or staff.impersonation is None:
        return None
    svc = services(request)
    now = datetime.now(UTC)
    if staff.impersonation.ends_at <= now:
        await end_view(request, staff, "expired")
        raise ImpersonationOver()
    if request.method in ("GET", "HEAD"):  # actions are recorded with their outcome instead
        await audit.record(
            svc.engine,
            request,
            staff.member,
            "view",
            now=now,
            customer_id=staff.impersonation.customer_id,
            target=request.url.path,
            outcome="allowed",
        )
    return staff


def _customer(request: Request, session: CustomerSession) -> Principal:
    # Language: the visitor's explicit choice, else the customer's own in Stripe, else the
    # browser's (already applied by i18n.use_request_locale); the formats follow a region Stripe's
    # locales name for that language ("de-AT"), else the browser's.
    i18n.set_customer_locale(session.account.locales)
    return Principal(
        customer_id=session.customer_id, customer_ids=session.customer_ids, email=session.email
    )


async def _acting(request: Request, invoice_id: str | None, access: Access) -> Visitor:
    """The principal of a customer page: staff viewing as the customer, else the signed-in
    customer or (`Access.INVOICE`) the holder of an invoice link.

    An invoice link (its cookie, set when the link was opened) acts only for its invoice; on
    that invoice's pages it also wins over a sign-in as another customer, so that a person
    signed in for one company can still open a link to another company's invoice (the page is
    then the link's, with nothing of the session's). A link to an invoice of one of the
    sign-in's own accounts acts within the session, for that account on the invoice's pages,
    whichever of the accounts is active.
    """
    staff = await _staff_session(request)
    impersonation = await _impersonation(request, staff)
    if impersonation is not None and impersonation.impersonation is not None:
        # Support viewing as this customer: read-only, in the staff member's own language
        # unless they switch (the banner offers the customer's).
        customer_id = impersonation.impersonation.customer_id
        return Visitor(
            principal=Principal(
                customer_id=customer_id, customer_ids=(customer_id,), email="", read_only=True
            ),
            staff=staff,
            impersonation=impersonation,
        )
    session = await _customer_session(request)
    link = _invoice_link(request) if access is Access.INVOICE else None
    if session is not None and (
        link is None or invoice_id is None or link.invoice_id != invoice_id
    ):
        return Visitor(principal=_customer(request, session), session=session, staff=staff)
    if session is not None and link is not None and link.customer_id in session.customer_ids:
        # The link's invoice, within the session: for the link's account.
        acting = replace(_customer(request, session), customer_id=link.customer_id)
        return Visitor(principal=acting, session=session, staff=staff)
    if link is None or invoice_id not in (None, link.invoice_id):
        raise SignInRequired()
    if link.locale:  # the e-mail's language, unless the visitor chose one
        i18n.set_customer_locale([link.locale])
    return Visitor(
        principal=Principal(
            customer_id=link.customer_id,
            customer_ids=(link.customer_id,),
            email="",
            invoice_id=link.invoice_id,
        ),
        session=session,
        staff=staff,
        through_link=True,
    )


def _invoice_link(request: Request) -> invoice_links.InvoiceLink | None:
    svc = services(request)
    raw = read_cookie(request, svc.settings, "invoice")
    if not raw:
        return None
    try:
        return invoice_links.read(svc.settings.secret_key, raw)
    except invoice_links.BadLink:
        return None
