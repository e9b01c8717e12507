"""Changing the e-mail address (`portal.account.email_change` has the rules): asking for it
from the details page, the confirmation link sent to the new address, and the undo link sent to
the address it replaced, each link's page a button so that a mail scanner changes nothing.
"""

from __future__ import annotations

import asyncio
import contextlib
import secrets
from collections.abc import AsyncIterator
from datetime import UTC, datetime, timedelta

from sqlalchemy.ext.asyncio import AsyncConnection
from starlette.background import BackgroundTask
from starlette.requests import Request
from starlette.responses import Response

from portal import i18n, ratelimit
from portal.account import email_change, views
from portal.cookies import read_cookie
from portal.errors import error_page
from portal.forms import clean_deliverable_email, invalid
from portal.i18n import _, current_locale
from portal.identity import customer_sessions as auth_sessions
from portal.mail import messages, outbox
from portal.principals import principal
from portal.ratelimit import Limit
from portal.services import Services, services
from portal.signing import digest
from portal.storage.database import transaction
from portal.stripe import emails
from portal.stripe.client import longest
from portal.stripe.errors import StripeUnavailable
from portal.stripe.models import Customer
from portal.templating import render

EMAIL_CHANGES_PER_CUSTOMER = Limit("email-change", 5, timedelta(hours=1))


async def request_email_change(request: Request) -> Response:
    """Send a confirmation link to the new address; nothing changes until it is used."""
    form_data = await request.form()
    who = principal(request)
    svc = services(request)
    typed = str(form_data.get("email", "")).strip()
    checked = await clean_deliverable_email(typed, svc.settings.smtp)
    customer = await svc.gateway.get_customer(who.customer_id)
    if checked.value is not None and emails.same(checked.value, customer.email or ""):
        checked = invalid(email=_("This is already your e-mail address."))
    if checked.value is None:
        return views.details_page(
            request,
            who,
            customer,
            email_value=typed,
            email_error=checked.errors["email"],
            status=400,
        )
    new_email = checked.value
    await ratelimit.check(svc.engine, [(EMAIL_CHANGES_PER_CUSTOMER, who.customer_id)])
    now = datetime.now(UTC)
    locale = current_locale()
    async with transaction(svc.engine) as conn:
        token = await email_change.request(
            conn, customer_id=who.customer_id, new_email=new_email, now=now
        )
        message = messages.compose(
            svc.templates,
            svc.settings,
            "email_change",
            locale=locale,
            to=new_email,
            to_name=customer.name,
            context={
                "name": customer.individual_name,  # the person, not the company
                "link": svc.link("account:email_confirm", token=token),
                "minutes": int(email_change.TTL.total_seconds() // 60),
            },
        )
        outbox_id = await outbox.enqueue(
            conn, key=f"email-change:{digest(token)}", message=message, now=now
        )
    response = render(
        request,
        "pages/email_sent.html",
        {"email": new_email, "minutes": int(email_change.TTL.total_seconds() // 60)},
    )
    if outbox_id is not None:
        response.background = BackgroundTask(
            outbox.send_one, svc.engine, svc.settings.smtp, outbox_id
        )
    return response


async def confirm_email_page(request: Request) -> Response:
    """The link from the e-mail: a button, so that a mail scanner opening links changes nothing."""
    token = request.path_params["token"]
    async with services(request).engine.connect() as conn:
        change = await email_change.pending(conn, token, datetime.now(UTC))
    if change is None:
        return _link_problem(request)
    return _button_page(
        request, "pages/email_confirm.html", {"new_email": change.new_email, "token": token}
    )


def _link_problem(request: Request) -> Response:
    return render(request, "pages/email_link_problem.html", {}, status=410)


def _button_page(request: Request, template: str, context: dict[str, object]) -> Response:
    """A page an e-mailed link opens, whose button does what the link is for."""
    response = render(request, template, context)
    response.headers["referrer-policy"] = "no-referrer"  # this URL carries the token
    return response


class _Busy(Exception):
    """Another change or undo of the same customer is under way."""


@contextlib.asynccontextmanager
async def _one_at_a_time(request: Request, customer_id: str) -> AsyncIterator[None]:
    """Hold the customer's e-mail address for one change or undo, waiting a moment for one
    under way (`email_change.hold`)."""
    svc = services(request)
    holder = secrets.token_hex(16)
    # Two Stripe requests: reading the address, setting another; and a minute for the rest.
    lasting = longest(
        2,
        timeout=svc.settings.stripe_timeout,
        max_network_retries=svc.settings.stripe_max_network_retries,
    ) + timedelta(minutes=1)
    deadline = datetime.now(UTC) + email_change.WAIT
    while True:
        now = datetime.now(UTC)
        async with transaction(svc.engine) as conn:
            if await email_change.hold(conn, customer_id, holder, now, lasting=lasting):
                break
        if now >= deadline:
            raise _Busy()
        await asyncio.sleep(0.1)
    try:
        yield
    finally:
        async with transaction(svc.engine) as conn:
            await email_change.let_go(conn, customer_id, holder)


def _busy_page(request: Request) -> Response:
    return error_page(
        request,
        409,
        _("Please try again"),
        _("Your e-mail address is being changed right now. Please try again in a moment."),
        headers={"Retry-After": "5"},
    )


def _unfinished_page(request: Request) -> Response:
    """Stripe did not answer: the new address may be set there already, so the page does not
    say that nothing changed. The same link finishes the change (`replaced_address`)."""
    return error_page(
        request,
        503,
        _("Temporarily unavailable"),
        _(
            "Our payment provider did not answer in time, so we cannot say yet whether your e-mail address has been changed. Please use the same link again in a few minutes to finish."
        ),
        headers={"Retry-After": "60"},
    )


async def confirm_email(request: Request) -> Response:
    form_data = await request.form()
    token = str(form_data.get("token", ""))
    svc = services(request)
    async with svc.engine.connect() as conn:
        change = await email_change.pending(conn, token, datetime.now(UTC))
    if change is None:
        return _link_problem(request)
    try:
        async with _one_at_a_time(request, change.customer_id):
            return await _confirm(request, token, change)
    except _Busy:
        return _busy_page(request)
    except StripeUnavailable:
        return _unfinished_page(request)


async def _confirm(request: Request, token: str, change: email_change.EmailChange) -> Response:
    svc = services(request)
    # Asked again now that the customer is held: an undo that went first ended every change
    # not yet confirmed, this one included, and its address must not reach Stripe after the
    # owner's (nor one that another tab confirmed meanwhile be set twice).
    async with svc.engine.connect() as conn:
        if await email_change.pending(conn, token, datetime.now(UTC)) is None:
            return _link_problem(request)
    # Stripe's own record of the address being replaced, not the cache's: it is told.
    before = await svc.gateway.uncached().get_customer(change.customer_id)
    async with transaction(svc.engine) as conn:
        old_email = await email_change.replaced_address(
            conn, token, current=before.email, new_email=change.new_email
        )
    # Stripe first, then the link is used up: if Stripe cannot be reached, the link still works
    # when the customer tries again. Setting the same address twice is harmless.
    await svc.gateway.set_email(change.customer_id, change.new_email)
    now = datetime.now(UTC)
    async with transaction(svc.engine) as conn:
        try:
            undo = await email_change.confirm(conn, token, old_email=old_email, now=now)
        except email_change.ChangeGone:  # confirmed meanwhile, in another tab: done already
            return render(request, "pages/email_changed.html", {"new_email": change.new_email})
        # Sessions signed in under the old address end; this browser's own, if any, goes on,
        # under the new address.
        await auth_sessions.end_for_customer(
            conn,
            change.customer_id,
            keep=read_cookie(request, svc.settings, "session"),
            kept_email=change.new_email,
        )
        outbox_ids = []
        if old_email and undo:
            outbox_ids.append(
                await _queue_notice(
                    request,
                    conn,
                    before,
                    "email_changed",
                    to=old_email,
                    key=f"email-changed:{digest(undo)}",
                    now=now,
                    new_email=change.new_email,
                    link=svc.link("account:email_undo", token=undo),
                    days=email_change.UNDO_TTL.days,
                )
            )
    response = render(request, "pages/email_changed.html", {"new_email": change.new_email})
    _send_after(request, response, outbox_ids)
    return response


def _send_after(request: Request, response: Response, outbox_ids: list[int | None]) -> None:
    svc = services(request)
    queued = [outbox_id for outbox_id in outbox_ids if outbox_id is not None]
    if queued:
        response.background = BackgroundTask(_send_all, svc, queued)


async def _send_all(svc: Services, outbox_ids: list[int]) -> None:
    for outbox_id in outbox_ids:
        await outbox.send_one(svc.engine, svc.settings.smtp, outbox_id)


async def _queue_notice(
    request: Request,
    conn: AsyncConnection,
    customer: Customer,
    template: str,
    *,
    to: str,
    key: str,
    now: datetime,
    **context: object,
) -> int | None:
    """A notice about the account's address, in the customer's language, sent once per `key`."""
    svc = services(request)
    locale = i18n.first_supported_locale(customer.preferred_locales) or current_locale()
    message = messages.compose(
        svc.templates,
        svc.settings,
        template,
        locale=locale,
        to=to,
        to_name=customer.name,
        context={"name": customer.individual_name, **context},  # the person, not the company
    )
    return await outbox.enqueue(conn, key=key, message=message, now=now)


async def _undo_plan(
    request: Request, token: str, *, uncached: bool
) -> tuple[email_change.Undoable | email_change.Refused, Customer | None]:
    """What the undo link would do now, and the customer as Stripe has it (`uncached`: read
    from Stripe itself, for the undo; the page before it may use the cache)."""
    svc = services(request)
    async with svc.engine.connect() as conn:
        link, chain = await email_change.undo_link(conn, token)
    customer = None
    if link is not None:
        gateway = svc.gateway.uncached() if uncached else svc.gateway
        customer = await gateway.get_customer(link.customer_id)
    current = customer.email if customer else None
    return email_change.undo_plan(link, chain, current, datetime.now(UTC)), customer


async def undo_email_page(request: Request) -> Response:
    """The link from the notice: a button, so that a mail scanner opening links changes nothing."""
    token = request.path_params["token"]
    plan, _customer = await _undo_plan(request, token, uncached=False)
    if isinstance(plan, email_change.Refused):
        return _undo_refused_page(request, plan)
    return _button_page(
        request,
        "pages/email_undo.html",
        {"old_email": plan.old_email, "new_email": plan.current_email, "token": token},
    )


def _undo_refused_page(request: Request, refused: email_change.Refused) -> Response:
    if refused.reason in ("voided", "moved"):
        return render(request, "pages/email_undo_refused.html", {}, status=409)
    return _link_problem(request)


async def undo_email(request: Request) -> Response:
    """Put back the address the link's change replaced, end the chain's later changes and sign
    everybody out of the account; tell both addresses. A link that can no longer do this tells
    the account's current address that it was tried."""
    form_data = await request.form()
    token = str(form_data.get("token", ""))
    svc = services(request)
    async with svc.engine.connect() as conn:
        link, _chain = await email_change.undo_link(conn, token)
    if link is None:
        return _link_problem(request)
    try:
        async with _one_at_a_time(request, link.customer_id):
            return await _undo(request, token)
    except _Busy:
        return _busy_page(request)
    except StripeUnavailable:
        return _unfinished_page(request)


async def _undo(request: Request, token: str) -> Response:
    svc = services(request)
    plan, customer = await _undo_plan(request, token, uncached=True)
    if isinstance(plan, email_change.Refused):
        response = _undo_refused_page(request, plan)
        if plan.tell and customer is not None:
            _send_after(request, response, [await _queue_refused(request, customer, plan)])
        return response
    assert customer is not None  # a link that can undo belongs to a customer
    # As when confirming: Stripe first, so that an outage leaves the undo link usable.
    await svc.gateway.set_email(plan.customer_id, plan.old_email)
    now = datetime.now(UTC)
    outbox_ids: list[int | None] = []
    async with transaction(svc.engine) as conn:
        if await email_change.undo(conn, plan, now):
            await auth_sessions.end_for_customer(conn, plan.customer_id)
            key = f"email-undone:{plan.undo_hash}"
            outbox_ids.append(
                await _queue_notice(
                    request,
                    conn,
                    customer,
                    "email_restored",
                    to=plan.old_email,
                    key=f"{key}:restored",
                    now=now,
                    old_email=plan.old_email,
                    new_email=plan.current_email,
                )
            )
            if not email_change.same_address(plan.current_email, plan.old_email):
                outbox_ids.append(
                    await _queue_notice(
                        request,
                        conn,
                        customer,
                        "email_change_undone",
                        to=plan.current_email,
                        key=f"{key}:replaced",
                        now=now,
                        old_email=plan.old_email,
                    )
                )
    response = render(request, "pages/email_undone.html", {"old_email": plan.old_email})
    _send_after(request, response, outbox_ids)
    return response


async def _queue_refused(
    request: Request, customer: Customer, refused: email_change.Refused
) -> int | None:
    """Once per link: the account's current address learns that an old link was tried."""
    if refused.current_email is None:
        return None
    async with transaction(services(request).engine) as conn:
        return await _queue_notice(
            request,
            conn,
            customer,
            "email_undo_refused",
            to=refused.current_email,
            key=f"email-undo-refused:{refused.undo_hash}",
            now=datetime.now(UTC),
            old_email=refused.old_email,
            current_email=refused.current_email,
        )
