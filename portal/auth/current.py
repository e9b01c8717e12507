"""Who is signed in on this request."""

from __future__ import annotations

from dataclasses import replace
from datetime import UTC, datetime

from starlette.requests import Request

from portal import i18n
from portal.auth import sessions
from portal.auth.sessions import CustomerSession
from portal.billing import links
from portal.cookies import read_cookie
from portal.permissions import Principal
from portal.services import services
from portal.staff.current import impersonating


class SignInRequired(Exception):
    """No live session: the visitor is sent to the sign-in page (and back afterwards)."""


async def customer_session(request: Request) -> CustomerSession | None:
    cached = request.scope.get("portal.session", False)
    if cached is not False:
        return cached  # type: ignore[no-any-return]
    svc = services(request)
    raw = read_cookie(request, svc.settings, "session")
    session = await sessions.load(svc.engine, raw, datetime.now(UTC)) if raw else None
    request.scope["portal.session"] = session
    return session


async def principal(request: Request) -> Principal:
    staff = await impersonating(request)
    if staff is not None and staff.impersonation is not None:
        # Support viewing as this customer: read-only, in the staff member's own language
        # unless they switch (the banner offers the customer's).
        return Principal(
            customer_id=staff.impersonation.customer_id,
            customer_ids=(staff.impersonation.customer_id,),
            email="",
            read_only=True,
        )
    session = await customer_session(request)
    if session is None:
        raise SignInRequired()
    # Language: the visitor's explicit choice, else the customer's own in Stripe, else the
    # browser's (already applied by LocaleMiddleware).
    if not request.scope.get("portal.locale_chosen"):
        preferred = i18n.first_supported(session.account.locales)
        if preferred:
            i18n.set_locale(preferred)
    return Principal(
        customer_id=session.customer_id, customer_ids=session.customer_ids, email=session.email
    )


async def principal_for(request: Request, invoice_id: str | None = None) -> Principal:
    """The signed-in customer or, failing that, the holder of an invoice link.

    An invoice link (its cookie, set when the link was opened) acts only for its invoice; on
    that invoice's pages it also wins over a sign-in as another customer, so that a person
    signed in for one company can still open a link to another company's invoice (the page is
    then the link's, with nothing of the session's). A link to an invoice of one of the
    sign-in's own accounts acts within the session, for that account on the invoice's pages,
    whichever of the accounts is active.
    """
    if await impersonating(request) is not None:
        return await principal(request)
    svc = services(request)
    raw = read_cookie(request, svc.settings, "invoice")
    link = None
    if raw:
        try:
            link = links.read(svc.settings.secret_key, raw)
        except links.BadLink:
            link = None
    session = await customer_session(request)
    if (
        session is not None
        and link is not None
        and invoice_id is not None
        and link.invoice_id == invoice_id
        and link.customer_id in session.customer_ids
    ):
        return replace(await principal(request), customer_id=link.customer_id)
    if session is not None and (
        link is None
        or invoice_id is None
        or link.invoice_id != invoice_id
        or link.customer_id in session.customer_ids
    ):
        return await principal(request)
    if link is None or invoice_id not in (None, link.invoice_id):
        raise SignInRequired()
    if link.locale and not request.scope.get("portal.locale_chosen"):
        i18n.set_locale(link.locale)
    request.scope["portal.acting_as_link"] = True
    return Principal(
        customer_id=link.customer_id,
        customer_ids=(link.customer_id,),
        email="",
        invoice_id=link.invoice_id,
    )
