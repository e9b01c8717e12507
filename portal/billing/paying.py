"""The pages of paying: start a payment, choose how to pay, come back from Stripe, see the result.

Every payment has one page, `/payments/{id}`: while nothing has been charged it shows what will
be paid and the methods to pay with; afterwards it shows what became of each charge. Starting a
payment (an invoice's pay button, "pay all overdue") plans its charges from Stripe's invoices as
they are now and redirects there. The charging itself is `portal.billing.charging`.
"""

from __future__ import annotations

import asyncio
from collections.abc import Mapping
from datetime import UTC, datetime

from starlette.requests import Request
from starlette.responses import RedirectResponse, Response

from portal.auth.current import principal, principal_for
from portal.billing import charging, records
from portal.billing import invoices as rules
from portal.billing.messages import cannot_pay_message, charge_message
from portal.billing.models import Invoice, PaymentMethod
from portal.billing.payments import KINDS, CannotPay, Charge, fingerprint, plan_charge, plan_overdue
from portal.billing.records import Payment
from portal.billing.views import own_invoice
from portal.csrf import verified_form
from portal.i18n import _, current_locale
from portal.permissions import Action, NotFound, Principal, require
from portal.services import services
from portal.storage.database import transaction
from portal.templating import render

NEW_METHOD = "new"


def usable(method: PaymentMethod, now: datetime, currency: str | None = None) -> bool:
    """Cards past their expiry month cannot be charged; SEPA Direct Debit pays only euros."""
    if currency is not None and method.type == "sepa_debit" and currency != "eur":
        return False
    if method.exp_year is None or method.exp_month is None:
        return True
    return (method.exp_year, method.exp_month) >= (now.year, now.month)


async def _start(
    request: Request, who: Principal, currency: str, charges: list[Charge], seen: list[Invoice]
) -> Response:
    prints = {invoice.id: fingerprint(invoice) for invoice in seen}
    async with transaction(services(request).engine) as conn:
        payment_id = await records.create(
            conn,
            who.customer_id,
            currency,
            [(charge, prints[charge.invoice_id]) for charge in charges],
            datetime.now(UTC),
        )
    return RedirectResponse(request.url_for("billing:payment", payment_id=payment_id), 303)


async def pay_invoice(request: Request) -> Response:
    """An invoice's pay button: the whole remainder, the next or the overdue installments."""
    who = await principal_for(request, request.path_params["invoice_id"])
    kind = request.query_params.get("what", "whole")
    if kind not in KINDS:
        raise NotFound(kind)
    invoice = await own_invoice(request, Action.PAY, who=who)
    try:
        charge = plan_charge(invoice, kind, datetime.now(UTC))
    except CannotPay as exc:
        return render(
            request,
            "pages/cannot_pay.html",
            {"invoice": invoice, "message": cannot_pay_message(exc)},
            status=409,
        )
    return await _start(request, who, invoice.currency, [charge], [invoice])


async def pay_overdue(request: Request) -> Response:
    """ "Pay all overdue" in one currency: every overdue invoice, the longest overdue first."""
    who = await principal(request)
    require(who, Action.PAY)
    currency = request.path_params["currency"]
    gateway = services(request).gateway
    still_open, written_off = await asyncio.gather(
        gateway.list_invoices(who.customer_id, status="open"),
        gateway.list_invoices(who.customer_id, status="uncollectible"),
    )
    unpaid = [*still_open.items, *written_off.items]
    for invoice in unpaid:
        require(who, Action.PAY, invoice=invoice)
    charges = plan_overdue(unpaid, currency, datetime.now(UTC))
    if not charges:
        return render(request, "pages/nothing_overdue.html", {}, status=409)
    return await _start(request, who, currency, charges, unpaid)


async def _payment(request: Request, who: Principal) -> Payment:
    async with services(request).engine.connect() as conn:
        payment = await records.get(conn, request.path_params["payment_id"], who.customer_id)
    if payment is None:
        raise NotFound("payment")
    if who.invoice_id is not None and any(c.invoice_id != who.invoice_id for c in payment.charges):
        raise NotFound("payment")  # an invoice link reaches payments of its invoice only
    return payment


async def _paying(request: Request) -> tuple[Principal, Payment]:
    """The signed-in customer (or an invoice link's holder), allowed to pay, and their payment
    named in the URL."""
    who = await principal_for(request)
    require(who, Action.PAY)
    return who, await _payment(request, who)


def _page_of(request: Request, payment: Payment) -> Response:
    return RedirectResponse(request.url_for("billing:payment", payment_id=payment.id), 303)


def _stripe_returns_to(request: Request, name: str, payment: Payment) -> str:
    # Addresses Stripe sends the customer back to come from PORTAL_BASE_URL, never the request.
    path = request.app.url_path_for(name, payment_id=payment.id)
    return services(request).settings.base_url + str(path)


async def _charge(
    request: Request,
    who: Principal,
    payment: Payment,
    *,
    method_id: str,
    invoices: Mapping[str, Invoice],
    before: tuple[records.PaymentStatus, ...],
) -> Response:
    """Claim the payment (from one of `before`) and make its charges; then its page, or the
    bank's confirmation page when the bank wants the customer."""
    svc = services(request)
    async with transaction(svc.engine) as conn:
        claimed = await records.claim(
            conn,
            payment,
            before=before,
            after="processing",
            now=datetime.now(UTC),
            payment_method_id=method_id,
        )
    if not claimed:  # a double click, a resubmitted form, a reload: the first one is on it
        return _page_of(request, payment)
    action_url = await charging.run(
        svc,
        who,
        payment,
        method_id,
        invoices,
        return_url=_stripe_returns_to(request, "billing:payment_authenticated", payment),
    )
    if action_url is not None:  # off to the bank's confirmation, hosted by Stripe
        return RedirectResponse(action_url, 303)
    return _page_of(request, payment)


async def payment_page(request: Request) -> Response:
    who = await principal_for(request)
    payment = await _payment(request, who)
    if payment.status == "processing" and _stopped(payment):
        payment = await _resume(request, who, payment)
    return await _show(request, who, payment)


async def _show(
    request: Request,
    who: Principal,
    payment: Payment,
    *,
    method_error: str | None = None,
    status: int = 200,
) -> Response:
    svc = services(request)
    now = datetime.now(UTC)
    choosing = payment.status in ("pending", "awaiting_method")
    reading = asyncio.gather(*(svc.gateway.get_invoice(c.invoice_id) for c in payment.charges))
    methods: list[PaymentMethod] = []
    default_id = None
    if choosing and who.invoice_id is None:
        methods, customer, found = await asyncio.gather(
            svc.gateway.list_payment_methods(who.customer_id),
            svc.gateway.get_customer(who.customer_id),
            reading,
        )
        default_id = customer.default_payment_method_id
    else:
        found = await reading
    invoices = {invoice.id: invoice for invoice in found}
    for invoice in found:
        require(who, Action.VIEW_INVOICE, invoice=invoice)
    options = [(m, usable(m, now, payment.currency)) for m in methods]
    preselected = next(
        (m.id for m, ok in options if ok and m.id == default_id),
        next((m.id for m, ok in options if ok), NEW_METHOD),
    )
    return render(
        request,
        "pages/payment.html",
        {
            "payment": payment,
            "invoices": invoices,
            "choosing": choosing,
            "methods": options,
            "default_id": default_id,
            "preselected": preselected,
            "messages": {c.position: charge_message(c) for c in payment.charges},
            "unpaid_left": any(rules.needs_payment(i) for i in found),
            "method_error": method_error,
            "link_mode": who.invoice_id is not None,
        },
        status=status,
    )


def _stopped(payment: Payment) -> bool:
    """Work on the payment was cut off: Stripe was unreachable, or the process stopped."""
    if any(c.status == "interrupted" for c in payment.charges):
        return True
    return datetime.now(UTC) - payment.updated_at > records.STALE_AFTER


async def _resume(request: Request, who: Principal, payment: Payment) -> Payment:
    svc = services(request)
    async with transaction(svc.engine) as conn:
        mine = await records.take_over(conn, payment, datetime.now(UTC))
    if mine and payment.payment_method_id:
        invoices = await charging.read_invoices(svc.gateway, payment)
        await charging.run(
            svc,
            who,
            payment,
            payment.payment_method_id,
            invoices,
            return_url=_stripe_returns_to(request, "billing:payment_authenticated", payment),
        )
    return await _payment(request, who)


async def pay(request: Request) -> Response:
    """ "Pay" pressed: with a saved method now, or first to Stripe to add a new one."""
    form = await verified_form(request)
    who, payment = await _paying(request)
    svc = services(request)
    choice = str(form.get("payment_method", ""))
    now = datetime.now(UTC)
    if choice == NEW_METHOD:
        async with transaction(svc.engine) as conn:
            claimed = await records.claim(
                conn,
                payment,
                before=("pending", "awaiting_method"),
                after="awaiting_method",
                now=now,
            )
        if not claimed:
            return _page_of(request, payment)
        url = await svc.gateway.start_adding_payment_method(
            who.customer_id,
            success_url=_stripe_returns_to(request, "billing:payment_method_added", payment)
            + "?session_id={CHECKOUT_SESSION_ID}",
            cancel_url=_stripe_returns_to(request, "billing:payment", payment),
            locale=current_locale(),
            for_currency=payment.currency,
        )
        return RedirectResponse(url, 303)
    methods, invoices = await asyncio.gather(
        svc.gateway.list_payment_methods(who.customer_id),
        charging.read_invoices(svc.gateway, payment),
    )
    # An invoice link pays with a new method only: it shows nothing of the saved ones.
    if who.invoice_id is not None or not any(
        m.id == choice and usable(m, now, payment.currency) for m in methods
    ):
        # Nothing chosen, or not one of this customer's usable methods: choose again.
        return await _show(
            request, who, payment, method_error=_("Please choose how to pay."), status=400
        )
    return await _charge(
        request,
        who,
        payment,
        method_id=choice,
        invoices=invoices,
        before=("pending", "awaiting_method"),
    )


async def method_added(request: Request) -> Response:
    """Back from Stripe Checkout with a new method: it pays this payment (once: a reload, or
    a payment made meanwhile in another tab, finds the payment claimed; the method stays)."""
    who, payment = await _paying(request)
    gateway = services(request).gateway
    session_id = request.query_params.get("session_id", "")
    if not session_id.startswith("cs_"):
        raise NotFound(session_id)
    method_id, customer, invoices = await asyncio.gather(
        gateway.added_payment_method(session_id, who.customer_id),
        gateway.get_customer(who.customer_id),
        charging.read_invoices(gateway, payment),
    )
    if method_id is None:
        raise NotFound(session_id)
    if customer.default_payment_method_id is None:
        await gateway.set_default_payment_method(who.customer_id, method_id)
    return await _charge(
        request, who, payment, method_id=method_id, invoices=invoices, before=("awaiting_method",)
    )


def _waiting(payment: Payment) -> records.ChargeRecord:
    charge = next((c for c in payment.charges if c.status == "requires_action"), None)
    if payment.status != "requires_action" or charge is None or not charge.payment_intent_id:
        raise NotFound("authentication")
    return charge


async def authenticate(request: Request) -> Response:
    """The payment page's "confirm with your bank" button: to Stripe's page again."""
    who, payment = await _paying(request)
    svc = services(request)
    try:
        charge = _waiting(payment)
    except NotFound:
        return _page_of(request, payment)
    outcome = await charging.settle_action(svc.engine, svc.gateway, charge)
    if outcome.action_url:
        return RedirectResponse(outcome.action_url, 303)
    return await _continue(request, who)


async def authenticated(request: Request) -> Response:
    """Back from the bank's confirmation: record what Stripe says, then go on."""
    who, payment = await _paying(request)
    svc = services(request)
    try:
        charge = _waiting(payment)
    except NotFound:  # reloaded: already settled
        return _page_of(request, payment)
    outcome = await charging.settle_action(svc.engine, svc.gateway, charge)
    await svc.gateway.changed(who.customer_id)  # the bank's answer changed the invoice
    if outcome.status == "requires_action":  # came back without confirming: the page offers it
        return _page_of(request, payment)
    return await _continue(request, who)


async def _continue(request: Request, who: Principal) -> Response:
    """After a charge waiting for the bank settled: the payment's other charges, unless that
    one failed."""
    svc = services(request)
    payment = await _payment(request, who)
    method_id = payment.payment_method_id
    if payment.status != "requires_action" or method_id is None:
        return _page_of(request, payment)
    if any(c.status == "failed" for c in payment.charges):
        await charging.stop(svc.engine, payment)
        return _page_of(request, payment)
    invoices = await charging.read_invoices(svc.gateway, payment)
    return await _charge(
        request, who, payment, method_id=method_id, invoices=invoices, before=("requires_action",)
    )
