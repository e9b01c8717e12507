"""Sign-in by e-mail: request, check your e-mail, confirm by link or code; accounts; sign-out."""

from __future__ import annotations

import logging
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from email.message import EmailMessage

from starlette.background import BackgroundTask
from starlette.requests import Request
from starlette.responses import RedirectResponse, Response

from portal import audit, i18n, ratelimit
from portal.auth import tokens
from portal.cookies import browser_id, delete_cookie, read_cookie, set_cookie
from portal.forms import clean_deliverable_email
from portal.i18n import _
from portal.identity import customer_sessions as sessions
from portal.identity import staff_sessions
from portal.mail import messages, outbox
from portal.mail.messages import Outgoing
from portal.principals import end_view, visitor
from portal.ratelimit import Limit
from portal.services import Services, services
from portal.storage.database import transaction
from portal.stripe import emails
from portal.stripe.models import Customer
from portal.templating import render

log = logging.getLogger(__name__)

SIGN_IN_PER_EMAIL = Limit("sign-in-email", 5, timedelta(hours=1))
SIGN_IN_PER_IP = Limit("sign-in-ip", 30, timedelta(hours=1))
CODE_PER_IP = Limit("code-ip", 30, timedelta(hours=1))
# Each code locks after 5 wrong tries; this caps the tries on one address across new e-mails.
CODE_PER_EMAIL = Limit("code-email", 10, timedelta(hours=1))
LINK_COOKIE_AGE = int(tokens.TTL.total_seconds())


def _client_ip(request: Request) -> str:
    return request.client.host if request.client else "unknown"


async def _count_code_try(request: Request, email: str | None) -> None:
    limits = [(CODE_PER_IP, _client_ip(request))]
    if email:
        limits.append((CODE_PER_EMAIL, email))
    await ratelimit.check(services(request).engine, limits)


async def sign_in_form(request: Request) -> Response:
    if visitor(request).session is not None:
        return RedirectResponse(request.url_for("billing:overview"), status_code=303)
    return render(
        request,
        "pages/sign_in.html",
        {"email": request.query_params.get("email", ""), "errors": {}},
    )


async def request_link(request: Request) -> Response:
    """Send a sign-in e-mail, if the address belongs to a customer.

    Known, unknown and odd-but-plausible addresses get the same answer after the same work (one
    Stripe look-up, one token row, the e-mail composed and made into bytes), so what an address
    is shows neither in the page nor in the time it takes. Only a customer's e-mail is then
    stored and sent, after the answer: database and SMTP round trips, nothing composed or
    encoded, so that requests served meanwhile are not slowed more for a customer's address.
    """
    svc = services(request)
    form = await request.form()
    typed = str(form.get("email", ""))
    checked = await clean_deliverable_email(typed, svc.settings.smtp)
    if checked.value is None:
        return render(
            request,
            "pages/sign_in.html",
            {"email": typed.strip(), "errors": checked.errors},
            status=400,
        )
    email = checked.value
    await ratelimit.check(
        svc.engine,
        [(SIGN_IN_PER_EMAIL, emails.key(email)), (SIGN_IN_PER_IP, _client_ip(request))],
    )
    customers = await svc.gateway.find_customers_by_email(email)
    issued = await _issue(request, email, customers)
    message = messages.prepare(
        _sign_in_message(svc, request, email, contact_name(customers), issued.token, issued.locale)
    )
    response = RedirectResponse(request.url_for("auth:check_email"), status_code=303)
    if customers:
        response.background = BackgroundTask(_send_after_answer, svc, issued, message)
    return response


async def _send_after_answer(svc: Services, issued: IssuedSignIn, message: Outgoing) -> None:
    try:
        await outbox.deliver(
            svc.engine,
            svc.settings.smtp,
            key=_outbox_key(issued),
            message=message,
            expires_at=issued.token.expires_at,
        )
    except Exception:  # the answer is out; a new request for an e-mail sends another
        log.exception("the sign-in e-mail could not be stored")


@dataclass(frozen=True)
class IssuedSignIn:
    token: tokens.IssuedToken
    locale: str


async def queue_staff_sign_in_email(
    request: Request, email: str, customers: list[Customer]
) -> int | None:
    """Issue a sign-in link and code for `email` as support sends them and queue the e-mail
    (only when the address has customers); returns the outbox id to send. The link is bound
    to no browser: wherever it is opened the code from the e-mail completes it, except in
    support's own browser, where it never signs in (`tokens.issue`)."""
    issued = await _issue(request, email, customers, sent_by_staff=True)
    return await _queue(request, email, customers, issued) if customers else None


async def _issue(
    request: Request, email: str, customers: list[Customer], *, sent_by_staff: bool = False
) -> IssuedSignIn:
    svc = services(request)
    locale = (
        i18n.first_supported_locale([t for c in customers for t in c.preferred_locales])
        or i18n.current_locale()
    )
    async with transaction(svc.engine) as conn:
        token = await tokens.issue(
            conn,
            secret=svc.settings.secret_key,
            email=email,
            customer_ids=tuple(c.id for c in customers),
            browser_id=browser_id(request),
            locale=locale,
            now=datetime.now(UTC),
            sent_by_staff=sent_by_staff,
        )
    return IssuedSignIn(token, locale)


async def _queue(
    request: Request, email: str, customers: list[Customer], issued: IssuedSignIn
) -> int | None:
    svc = services(request)
    message = _sign_in_message(
        svc, request, email, contact_name(customers), issued.token, issued.locale
    )
    async with transaction(svc.engine) as conn:
        return await outbox.enqueue(
            conn,
            key=_outbox_key(issued),
            message=message,
            now=datetime.now(UTC),
            expires_at=issued.token.expires_at,
        )


def _outbox_key(issued: IssuedSignIn) -> str:
    return f"sign-in:{issued.token.id}"


def _sign_in_message(
    svc: Services,
    request: Request,
    email: str,
    name: str | None,
    issued: tokens.IssuedToken,
    locale: str,
) -> EmailMessage:
    # Links come from PORTAL_BASE_URL, never from the request's Host header.
    return messages.compose(
        svc.templates,
        svc.settings,
        "sign_in",
        locale=locale,
        to=email,
        to_name=name,
        context={
            "name": name,
            "link": svc.link("auth:link", token=issued.link_token),
            "code": tokens.format_code(issued.code),
            "minutes": int(tokens.TTL.total_seconds() // 60),
        },
    )


def contact_name(customers: list[Customer]) -> str | None:
    """Whom a sign-in e-mail greets: the person Stripe names for the address's accounts
    (`individual_name`, one for all of them), never a company; else a greeting without a name."""
    names = {c.individual_name for c in customers if c.individual_name}
    return names.pop() if len(names) == 1 else None


async def check_email(request: Request) -> Response:
    svc = services(request)
    async with svc.engine.connect() as conn:
        pending = await tokens.latest_request(conn, browser_id=browser_id(request))
    if pending is None:
        return RedirectResponse(request.url_for("auth:sign_in"), status_code=303)
    return render(request, "pages/check_email.html", {"email": pending.email, "code_error": None})


async def enter_code(request: Request) -> Response:
    svc = services(request)
    form = await request.form()
    async with svc.engine.connect() as conn:
        pending = await tokens.latest_request(conn, browser_id=browser_id(request))
    await _count_code_try(request, pending.email if pending else None)
    async with transaction(svc.engine) as conn:
        result = await tokens.redeem_code(
            conn,
            secret=svc.settings.secret_key,
            browser_id=browser_id(request),
            code=str(form.get("code", "")),
            now=datetime.now(UTC),
        )
    if not result.ok:
        return render(
            request,
            "pages/check_email.html",
            {"email": pending.email if pending else "", "code_error": _refusal_message(result)},
            status=400,
        )
    return await _signed_in(request, result)


async def follow_link(request: Request) -> Response:
    """The e-mailed link: keeps its token in a cookie and moves on to a URL without it.

    Opening the link signs nobody in: mail scanners open links. The sign-in happens only when a
    person presses the button on the page this redirects to.
    """
    response = RedirectResponse(request.url_for("auth:confirm"), status_code=303)
    response.headers["referrer-policy"] = "no-referrer"  # this URL carries the token
    set_cookie(
        response,
        services(request).settings,
        "link",
        request.path_params["token"],
        max_age=LINK_COOKIE_AGE,
    )
    return response


def _in_staff_browser(request: Request) -> bool:
    """Whether someone from support signed in in this browser (a staff cookie, live or not)."""
    return read_cookie(request, services(request).settings, "staff") is not None


async def confirm_page(request: Request) -> Response:
    svc = services(request)
    link_token = read_cookie(request, svc.settings, "link")
    if link_token is None:
        return _link_problem(request, tokens.Redemption("invalid"))
    async with svc.engine.connect() as conn:
        state = await tokens.peek_link(
            conn,
            link_token=link_token,
            browser_id=browser_id(request),
            in_staff_browser=_in_staff_browser(request),
            now=datetime.now(UTC),
        )
    if state.refusal == "staff_browser":
        return await _refused_in_staff_browser(request, state)
    if state.refusal not in (None, "needs_code"):
        return _link_problem(request, state)
    return render(
        request,
        "pages/confirm.html",
        {"email": state.email, "needs_code": state.refusal == "needs_code", "code_error": None},
    )


async def confirm(request: Request) -> Response:
    svc = services(request)
    form = await request.form()
    link_token = read_cookie(request, svc.settings, "link")
    if link_token is None:
        return _link_problem(request, tokens.Redemption("invalid"))
    code = form.get("code")
    in_staff_browser = _in_staff_browser(request)
    if code is not None:
        async with svc.engine.connect() as conn:
            state = await tokens.peek_link(
                conn,
                link_token=link_token,
                browser_id=browser_id(request),
                in_staff_browser=in_staff_browser,
                now=datetime.now(UTC),
            )
        await _count_code_try(request, state.email or None)
    async with transaction(svc.engine) as conn:
        result = await tokens.redeem_link(
            conn,
            secret=svc.settings.secret_key,
            link_token=link_token,
            browser_id=browser_id(request),
            in_staff_browser=in_staff_browser,
            code=str(code) if code is not None else None,
            now=datetime.now(UTC),
        )
    if result.refusal == "staff_browser":
        return await _refused_in_staff_browser(request, result)
    if result.refusal in ("wrong_code", "needs_code"):
        return render(
            request,
            "pages/confirm.html",
            {"email": "", "needs_code": True, "code_error": _refusal_message(result)},
            status=400,
        )
    if not result.ok:
        return _link_problem(request, result)
    return await _signed_in(request, result)


async def _signed_in(request: Request, result: tokens.Redemption) -> Response:
    svc = services(request)
    if not result.customer_ids:
        # Only reachable by guessing the code of an address no customer has.
        return _link_problem(request, tokens.Redemption("invalid"))
    customers = await svc.gateway.get_customers(result.customer_ids)
    # A customer signing in where support was viewing as someone never inherits that view.
    staff = visitor(request).staff
    if staff is not None:
        await end_view(request, staff, "customer_signed_in")
    old = read_cookie(request, svc.settings, "session")
    if old:
        await sessions.end(svc.engine, old)
    async with transaction(svc.engine) as conn:
        raw_id = await sessions.create(
            conn,
            email=result.email,
            accounts=tuple(sessions.Account(c.id, c.name, c.preferred_locales) for c in customers),
            customer_id=customers[0].id,
            now=datetime.now(UTC),
        )
    # Several accounts: the customer chooses; none is chosen for them.
    target = (
        request.url_for("billing:accounts").include_query_params(choose=1)
        if len(result.customer_ids) > 1
        else request.url_for("billing:overview")
    )
    response = RedirectResponse(target, status_code=303)
    set_cookie(
        response,
        svc.settings,
        "session",
        raw_id,
        max_age=int(sessions.ABSOLUTE_TIMEOUT.total_seconds()),
    )
    delete_cookie(response, svc.settings, "link")
    return response


async def _refused_in_staff_browser(request: Request, result: tokens.Redemption) -> Response:
    """A link support sent, opened in support's browser: it is the customer's, to be opened
    in theirs. On the record when a staff member is signed in here; the link's cookie goes."""
    svc = services(request)
    raw = read_cookie(request, svc.settings, "staff")
    now = datetime.now(UTC)
    staff = await staff_sessions.load(svc.engine, raw, now) if raw else None
    if staff is not None:
        for customer_id in result.customer_ids:
            await audit.record(
                svc.engine,
                request,
                staff.member,
                "customer_link_in_staff_browser",
                now=now,
                customer_id=customer_id,
                outcome="refused",
            )
    response = render(request, "staff/link_in_staff_browser.html", {}, status=403)
    delete_cookie(response, svc.settings, "link")
    return response


def _link_problem(request: Request, result: tokens.Redemption) -> Response:
    """The page for a link that cannot sign anyone in, saying why."""
    return render(
        request, "pages/link_problem.html", {"message": _refusal_message(result)}, status=400
    )


def _refusal_message(result: tokens.Redemption) -> str:
    if result.refusal == "wrong_code":
        return i18n.ngettext(
            "That code is not right. You can try %(num)d more time.",
            "That code is not right. You can try %(num)d more times.",
            result.attempts_left,
        )
    if result.refusal == "needs_code":
        return _("Please enter the code from the e-mail.")
    if result.refusal == "locked":
        return _("This code was entered wrongly too often. Please request a new e-mail.")
    if result.refusal == "expired":
        return _(
            "This sign-in link has expired. Links are valid for 10 minutes; please request a new one."
        )
    if result.refusal == "used":
        return _(
            "This sign-in link has already been used or replaced by a newer one. Please request a new one."
        )
    return _("This sign-in link is not valid. Please request a new one.")


async def sign_out(request: Request) -> Response:
    svc = services(request)
    raw = read_cookie(request, svc.settings, "session")
    if raw:
        await sessions.end(svc.engine, raw)
    response = RedirectResponse(request.url_for("auth:signed_out"), status_code=303)
    delete_cookie(response, svc.settings, "session")
    return response


async def signed_out(request: Request) -> Response:
    return render(request, "pages/signed_out.html")
