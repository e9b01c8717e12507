"""The staff side: sign-in through the company's identity provider, customer search, "view as
customer" (read-only, 30 minutes, on the record), sending a customer a sign-in e-mail, and the
audit trail with its CSV download."""

from __future__ import annotations

import logging
import secrets
from datetime import UTC, date, datetime, timedelta

from starlette.background import BackgroundTask
from starlette.requests import Request
from starlette.responses import RedirectResponse, Response

from portal import audit, continuing, ratelimit
from portal.auth.views import queue_staff_sign_in_email
from portal.billing import invoices as rules
from portal.billing.unpaid import unpaid_invoices
from portal.concurrency import at_once
from portal.cookies import browser_id, delete_cookie, read_cookie, set_cookie
from portal.i18n import _, ngettext
from portal.identity import staff_sessions as sessions
from portal.identity.staff_sessions import StaffMember, StaffSession
from portal.mail import outbox
from portal.mail.smtp import offers_smtputf8
from portal.permissions import NotFound
from portal.principals import DEMO_ISSUER, end_view, staff_allowed, visitor
from portal.ratelimit import Limit, RateLimited
from portal.services import services
from portal.signing import digest
from portal.staff import oidc
from portal.storage.database import transaction
from portal.storage.tables import staff_logins
from portal.stripe import emails
from portal.stripe.errors import NotFound as StripeNotFound
from portal.stripe.models import Customer
from portal.templating import render
from portal.text import has_hidden_characters, hidden_characters_message

log = logging.getLogger(__name__)

LOGIN_TTL = timedelta(minutes=10)
SEARCH_RESULTS = 20
# Each sign-in e-mail replaces the customer's open link: a few per customer, and enough per
# staff member for a busy hour, not for a script.
SIGN_IN_EMAILS_PER_CUSTOMER = Limit("staff-sign-in-customer", 3, timedelta(hours=1))
SIGN_IN_EMAILS_PER_STAFF = Limit("staff-sign-in-staff", 30, timedelta(hours=1))


def _enabled(request: Request) -> bool:
    svc = services(request)
    return bool(svc.settings.staff_oidc_issuer) or svc.demo


async def home(request: Request) -> Response:
    """Signed in: the customer search. Otherwise: the sign-in button."""
    if not _enabled(request):
        raise NotFound("staff")
    staff = visitor(request).staff
    if staff is None:
        return render(
            request,
            "staff/sign_in.html",
            {"sso": bool(services(request).settings.staff_oidc_issuer)},
        )
    query = request.query_params.get("q", "").strip()
    found: list[tuple[Customer, list[rules.CurrencyTotal]]] = []
    query_error = hidden_characters_message() if has_hidden_characters(query) else None
    if query and query_error is None:
        found = await _search(request, staff, query)
    return render(
        request,
        "staff/home.html",
        {
            "staff": staff,
            "query": query,
            "results": found,
            "query_error": query_error,
            "searched": bool(query) and query_error is None,
            "ended": bool(request.query_params.get("ended")),
            "sent": request.query_params.get("sent"),
        },
    )


async def _search(
    request: Request, staff: StaffSession, query: str
) -> list[tuple[Customer, list[rules.CurrencyTotal]]]:
    svc = services(request)
    customers = (await svc.gateway.find_customers(query))[:SEARCH_RESULTS]
    # What the customer's own overview counts, so that both see the same total.
    owed = await at_once(*(unpaid_invoices(svc.gateway, c.id) for c in customers))
    now = datetime.now(UTC)
    await audit.record(svc.engine, request, staff.member, "search", now=now, target=query[:200])
    return [
        (customer, rules.totals_to_pay(invoices, now))
        for customer, invoices in zip(customers, owed, strict=True)
    ]


# --- signing in and out ------------------------------------------------------------------------


async def sign_in(request: Request) -> Response:
    if not services(request).settings.staff_oidc_issuer:
        raise NotFound("staff sign-in")
    return await _to_provider(request, then_customer_id=None)


async def _to_provider(request: Request, *, then_customer_id: str | None) -> Response:
    """Off to the identity provider (through the interstitial page), remembering (bound to this
    browser) what to check when the code comes back. A sign-in that goes on to view as a
    customer (`then_customer_id`) asks the provider for a new one."""
    svc = services(request)
    state, nonce, verifier = (secrets.token_urlsafe(32) for _ in range(3))
    now = datetime.now(UTC)
    async with transaction(svc.engine) as conn:
        await conn.execute(
            staff_logins.insert().values(
                state_hash=digest(state),
                browser_hash=digest(browser_id(request)),
                nonce=nonce,
                code_verifier=verifier,
                then_customer_id=then_customer_id,
                created_at=now,
                expires_at=now + LOGIN_TTL,
            )
        )
    url = await oidc.authorization_url(
        svc.settings,
        redirect_uri=_callback_url(request),
        state=state,
        nonce=nonce,
        code_verifier=verifier,
        fresh=then_customer_id is not None,
    )
    # Answered with the portal's own page rather than a redirect to the provider, which CSP
    # `form-action 'self'` would block after this form's POST (see `portal.continuing`).
    return continuing.page(request, url, to="sign_in")


def _callback_url(request: Request) -> str:
    return services(request).link("staff:callback")


async def callback(request: Request) -> Response:
    """Back from the provider: the state must be one this browser started, used once."""
    svc = services(request)
    state = request.query_params.get("state", "")
    code = request.query_params.get("code", "")
    now = datetime.now(UTC)
    async with transaction(svc.engine) as conn:
        row = (
            await conn.execute(
                staff_logins.select().where(
                    staff_logins.c.state_hash == digest(state),
                    staff_logins.c.browser_hash == digest(browser_id(request)),
                    staff_logins.c.expires_at > now,
                )
            )
        ).one_or_none()
        if row is not None:
            await conn.execute(
                staff_logins.delete().where(staff_logins.c.state_hash == row.state_hash)
            )
    if row is None or not code:
        return _failed(request)
    try:
        claims = await oidc.redeem(
            svc.settings,
            redirect_uri=_callback_url(request),
            code=code,
            code_verifier=row.code_verifier,
            nonce=row.nonce,
        )
    except oidc.SignInFailed as exc:
        log.warning("staff sign-in refused: %s", exc)
        return _failed(request)
    groups = claims.get(svc.settings.staff_groups_claim) or ()
    member = StaffMember(
        issuer=str(claims["iss"]),
        subject=str(claims["sub"]),
        email=str(claims.get("email") or "").lower(),
        name=claims.get("name"),
        email_verified=claims.get("email_verified") is True,
        groups=tuple(str(g) for g in ([groups] if isinstance(groups, str) else groups)),
    )
    if not staff_allowed(request, member):
        await audit.record(svc.engine, request, member, "staff_sign_in", now=now, outcome="refused")
        return render(request, "staff/not_authorized.html", {"email": member.email}, status=403)
    if row.then_customer_id is not None and not oidc.signed_in_anew(
        claims, asked_at=row.created_at, now=now, max_age=oidc.REAUTHENTICATION_MAX_AGE
    ):
        # The provider answered the request for a new sign-in with an earlier one: no view,
        # and the staff session stays as it was.
        await audit.record(
            svc.engine,
            request,
            member,
            "reauthentication",
            now=now,
            customer_id=row.then_customer_id,
            target=f"auth_time {oidc.auth_time(claims).isoformat()}",
            outcome="refused",
        )
        return render(request, "staff/sign_in_not_fresh.html", {}, status=403)
    return await _signed_in(
        request, member, auth_time=oidc.auth_time(claims), then_customer_id=row.then_customer_id
    )


def _failed(request: Request) -> Response:
    return render(request, "staff/sign_in_failed.html", {}, status=400)


async def _signed_in(
    request: Request,
    member: StaffMember,
    *,
    auth_time: datetime,
    then_customer_id: str | None,
) -> Response:
    svc = services(request)
    now = datetime.now(UTC)
    old = read_cookie(request, svc.settings, "staff")
    if old:
        await sessions.end(svc.engine, old)
    async with transaction(svc.engine) as conn:
        raw_id = await sessions.create(conn, member, auth_time=auth_time, now=now)
    await audit.record(svc.engine, request, member, "staff_sign_in", now=now)
    response: Response = RedirectResponse(request.url_for("staff:home"), 303)
    if then_customer_id is not None:  # re-authenticated to view as this customer
        staff = await sessions.load(svc.engine, raw_id, now)
        assert staff is not None
        response = await _start_viewing(request, staff, then_customer_id)
    set_cookie(
        response,
        svc.settings,
        "staff",
        raw_id,
        max_age=int(sessions.ABSOLUTE_TIMEOUT.total_seconds()),
    )
    return response


async def demo_sign_in(request: Request) -> Response:
    """`portal demo` only (the route exists only there): staff without an identity provider."""
    member = StaffMember(
        DEMO_ISSUER, "demo-staff", "support@demo.invalid", "Demo Support", email_verified=True
    )
    return await _signed_in(request, member, auth_time=datetime.now(UTC), then_customer_id=None)


async def sign_out(request: Request) -> Response:
    svc = services(request)
    staff = visitor(request).staff
    raw = read_cookie(request, svc.settings, "staff")
    if staff is not None and raw:
        await end_view(request, staff, "signed_out")
        await sessions.end(svc.engine, raw)
        await audit.record(
            svc.engine, request, staff.member, "staff_sign_out", now=datetime.now(UTC)
        )
    response = RedirectResponse(request.url_for("staff:home"), 303)
    delete_cookie(response, svc.settings, "staff")
    return response


# --- viewing as a customer ---------------------------------------------------------------------


def _required(request: Request) -> StaffSession:
    staff = visitor(request).staff
    if staff is None:
        raise NotFound("staff session")
    return staff


async def view_as(request: Request) -> Response:
    form = await request.form()
    staff = _required(request)
    customer_id = str(form.get("customer_id", ""))
    if not customer_id.startswith("cus_"):
        raise NotFound(customer_id)
    if not staff.login_is_fresh(datetime.now(UTC)) and staff.member.issuer != DEMO_ISSUER:
        # Older than 15 minutes: sign in again at the provider first, then straight on.
        return await _to_provider(request, then_customer_id=customer_id)
    return await _start_viewing(request, staff, customer_id)


async def _start_viewing(request: Request, staff: StaffSession, customer_id: str) -> Response:
    svc = services(request)
    try:
        customer = await svc.gateway.get_customer(customer_id)
    except StripeNotFound as exc:
        raise NotFound(customer_id) from exc
    now = datetime.now(UTC)
    await sessions.start_impersonation(
        svc.engine,
        staff,
        customer_id=customer.id,
        customer_name=customer.name or customer.email,
        customer_locale=customer.preferred_locales[0] if customer.preferred_locales else None,
        now=now,
    )
    await audit.record(
        svc.engine, request, staff.member, "impersonation_start", now=now, customer_id=customer.id
    )
    return RedirectResponse(request.url_for("billing:overview"), 303)


async def end_viewing(request: Request) -> Response:
    staff = visitor(request).staff
    if staff is not None:
        await end_view(request, staff, "ok")
    return RedirectResponse(request.url_for("staff:home"), 303)


async def send_sign_in(request: Request) -> Response:
    """Staff may send a customer a sign-in e-mail (to the customer's own address), a few an
    hour. Its link needs the e-mail's code and never signs in in this browser
    (`queue_staff_sign_in_email`)."""
    form = await request.form()
    staff = _required(request)
    svc = services(request)
    try:
        customer = await svc.gateway.get_customer(str(form.get("customer_id", "")))
    except StripeNotFound as exc:
        raise NotFound("customer") from exc
    if not customer.email:
        raise NotFound("customer e-mail")
    member = staff.member
    try:
        await ratelimit.check(
            svc.engine,
            [
                (SIGN_IN_EMAILS_PER_CUSTOMER, customer.id),
                (SIGN_IN_EMAILS_PER_STAFF, f"{member.issuer} {member.subject}"),
            ],
        )
    except RateLimited as exc:
        await _record_send(request, member, customer.id, refused_by=exc.limit.name)
        return _not_sent(request, exc)
    if emails.needs_smtputf8(customer.email) and await offers_smtputf8(svc.settings.smtp) is False:
        # Letters beyond ASCII before the @, and a mail server that cannot carry them: said
        # here rather than "sent" while the outbox gives the e-mail up.
        await _record_send(request, member, customer.id, refused_by="smtputf8")
        message = _(
            "The customer's e-mail address has accented or non-Latin letters before the @, which our mail server cannot deliver to, so no sign-in e-mail was sent."
        )
        return render(request, "staff/sign_in_not_sent.html", {"message": message}, status=409)
    customers = await svc.gateway.find_customers_by_email(customer.email)
    outbox_id = await queue_staff_sign_in_email(request, customer.email, customers)
    await _record_send(request, member, customer.id)
    target = request.url_for("staff:home").include_query_params(sent=customer.id)
    response = RedirectResponse(target, 303)
    if outbox_id is not None:
        response.background = BackgroundTask(
            outbox.send_one, svc.engine, svc.settings.smtp, outbox_id
        )
    return response


async def _record_send(
    request: Request, member: StaffMember, customer_id: str, *, refused_by: str | None = None
) -> None:
    """A sign-in e-mail sent, or refused (`refused_by`: the limit, or the mail server)."""
    await audit.record(
        services(request).engine,
        request,
        member,
        "send_sign_in_email",
        now=datetime.now(UTC),
        customer_id=customer_id,
        target=refused_by,
        outcome="ok" if refused_by is None else "refused",
    )


def _not_sent(request: Request, exc: RateLimited) -> Response:
    minutes = max(1, exc.retry_after // 60)
    if exc.limit is SIGN_IN_EMAILS_PER_CUSTOMER:
        message = ngettext(
            "This customer has already been sent as many sign-in e-mails as support may send within an hour, so none was sent. Please try again in %(num)d minute.",
            "This customer has already been sent as many sign-in e-mails as support may send within an hour, so none was sent. Please try again in %(num)d minutes.",
            minutes,
        )
    else:
        message = ngettext(
            "You have already sent as many sign-in e-mails as support staff may send within an hour, so none was sent. Please try again in %(num)d minute.",
            "You have already sent as many sign-in e-mails as support staff may send within an hour, so none was sent. Please try again in %(num)d minutes.",
            minutes,
        )
    response = render(request, "staff/sign_in_not_sent.html", {"message": message}, status=429)
    response.headers["retry-after"] = str(exc.retry_after)
    return response


# --- the audit trail ---------------------------------------------------------------------------


def _day(raw: str) -> date | None:
    try:
        return date.fromisoformat(raw) if raw else None
    except ValueError:
        return None


async def audit_trail(request: Request) -> Response:
    staff = _required(request)
    svc = services(request)
    params = request.query_params
    since, until = _day(params.get("from", "")), _day(params.get("to", ""))
    # What is typed into the two text filters: a hidden character is explained next to its
    # field, the filters kept, and nothing is looked up.
    errors = {
        name: hidden_characters_message()
        for name in ("staff", "customer")
        if has_hidden_characters(params.get(name, ""))
    }
    found = (
        []
        if errors
        else await audit.entries(
            svc.engine,
            staff_email=params.get("staff") or None,
            customer_id=params.get("customer") or None,
            since=datetime.combine(since, datetime.min.time(), UTC) if since else None,
            until=datetime.combine(until, datetime.min.time(), UTC) + timedelta(days=1)
            if until
            else None,
            limit=10_000 if params.get("format") == "csv" else 500,
        )
    )
    await audit.record(
        svc.engine,
        request,
        staff.member,
        "audit_read",
        now=datetime.now(UTC),
        target=str(request.url.query)[:200] or None,
    )
    if params.get("format") == "csv" and not errors:
        return Response(
            audit.as_csv(found),
            media_type="text/csv; charset=utf-8",
            headers={"content-disposition": 'attachment; filename="audit.csv"'},
        )
    return render(
        request,
        "staff/audit.html",
        {
            "staff": staff,
            "entries": found,
            "filters": dict(params),
            "errors": errors,
            "action_label": audit.action_label,
            "outcome_label": audit.outcome_label,
        },
        status=400 if errors else 200,
    )
