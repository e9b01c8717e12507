"""The pages of paying: start a payment, choose how to pay, come back from Stripe, see the result.

Every payment has one page, `/payments/{id}`: while nothing has been charged it shows what will
be paid and the methods to pay with; afterwards it shows what became of each charge. Starting a
payment (an invoice's pay button, "pay all overdue": a form, POST) plans its charges from
Stripe's invoices as they are now and redirects there; the same addresses opened with GET only
show the choice, with the button, and write nothing. The charging itself is
`portal.billing.charging`.

Opening a page never moves money: a payment whose work was cut off (Stripe's answer lost, a
process stopped) is shown as being checked, and only someone who may pay goes on with it, by
the page's button (POST, `check`); a read-only view (support) sees the state and nothing more.
"""

from __future__ import annotations

from collections import Counter
from dataclasses import dataclass
from datetime import UTC, datetime
from typing import cast

from babel.lists import format_list
from starlette.requests import Request
from starlette.responses import RedirectResponse, Response

from portal import continuing
from portal.billing import at_stripe, charging, lifecycle, placing, rate_limits
from portal.billing import invoices as rules
from portal.billing.lifecycle import CHOOSING
from portal.billing.messages import cannot_pay_message, charge_message
from portal.billing.method_order import default_first
from portal.billing.payments import (
    KINDS,
    CannotPay,
    Charge,
    PaymentKind,
    fingerprint,
    plan_charge,
    plan_overdue,
)
from portal.billing.records import ChargeRecord, Payment, PaymentStatus
from portal.billing.unpaid import unpaid_invoices
from portal.billing.views import own_invoice
from portal.concurrency import at_once
from portal.i18n import _, current_locale
from portal.permissions import Action, NotFound, Principal, can, require
from portal.principals import principal
from portal.services import Services, services
from portal.state import request_state
from portal.stripe.brands import method_name
from portal.stripe.errors import NotFound as StripeNotFound
from portal.stripe.errors import StripeUnavailable
from portal.stripe.models import CheckoutSession, Invoice, InvoicePayment, PaymentMethod
from portal.templating import render

NEW_METHOD = "new"
AT_STRIPE = "stripe"  # another way to pay, on Stripe's Checkout page (`portal.billing.at_stripe`)


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
    await rate_limits.count_start(request, who, (charge.invoice_id for charge in charges))
    prints = {invoice.id: fingerprint(invoice) for invoice in seen}
    payment_id = await lifecycle.start(
        services(request).engine,
        who.customer_id,
        currency,
        [(charge, prints[charge.invoice_id]) for charge in charges],
        datetime.now(UTC),
    )
    return RedirectResponse(request.url_for("billing:payment", payment_id=payment_id), 303)


def _kind(value: str) -> PaymentKind:
    for kind in KINDS:
        if kind == value:
            return kind
    raise NotFound(value)


async def pay_invoice(request: Request) -> Response:
    """The address of an invoice's pay button opened with GET (an old link, a reload): the
    choice and its amount with the button that starts the payment; nothing is written."""
    kind = _kind(request.query_params.get("what", "whole"))
    invoice = await own_invoice(request, Action.PAY)
    try:
        charge = plan_charge(invoice, kind, datetime.now(UTC))
    except CannotPay as exc:
        return _cannot_pay(request, invoice, exc)
    return render(
        request,
        "pages/pay_start.html",
        {"invoice": invoice, "what": kind, "charges": [charge], "invoices": {invoice.id: invoice}},
    )


async def start_invoice_payment(request: Request) -> Response:
    """An invoice's pay button (POST): the whole remainder, the next or the overdue
    installments, planned from the invoice as Stripe has it now."""
    form = await request.form()
    who = principal(request)
    kind = _kind(str(form.get("what", "whole")))
    invoice = await own_invoice(request, Action.PAY, who=who)
    try:
        charge = plan_charge(invoice, kind, datetime.now(UTC))
    except CannotPay as exc:
        return _cannot_pay(request, invoice, exc)
    return await _start(request, who, invoice.currency, [charge], [invoice])


def _cannot_pay(request: Request, invoice: Invoice, exc: CannotPay) -> Response:
    return render(
        request,
        "pages/cannot_pay.html",
        {"invoice": invoice, "message": cannot_pay_message(exc)},
        status=409,
    )


async def pay_overdue(request: Request) -> Response:
    """ "Pay all overdue" opened with GET: what it would pay, with the button; no writes."""
    who = principal(request)
    currency, charges, unpaid = await _overdue(request, who)
    if not charges:
        return render(request, "pages/nothing_overdue.html", {}, status=409)
    return render(
        request,
        "pages/pay_start.html",
        {
            "currency": currency,
            "charges": charges,
            "invoices": {invoice.id: invoice for invoice in unpaid},
        },
    )


async def start_overdue_payment(request: Request) -> Response:
    """ "Pay all overdue" in one currency (POST): every overdue invoice, the longest overdue
    first."""
    who = principal(request)
    currency, charges, unpaid = await _overdue(request, who)
    if not charges:
        return render(request, "pages/nothing_overdue.html", {}, status=409)
    return await _start(request, who, currency, charges, unpaid)


async def _overdue(request: Request, who: Principal) -> tuple[str, list[Charge], list[Invoice]]:
    currency = request.path_params["currency"]
    gateway = services(request).gateway
    unpaid = await unpaid_invoices(gateway, who.customer_id)
    for invoice in unpaid:
        require(who, Action.PAY, invoice=invoice)
    return currency, plan_overdue(unpaid, currency, datetime.now(UTC)), unpaid


async def _payment(request: Request, who: Principal) -> Payment:
    payment = await lifecycle.find(
        services(request).engine, request.path_params["payment_id"], who.customer_id
    )
    if payment is None:
        raise NotFound("payment")
    if who.invoice_id is not None and any(c.invoice_id != who.invoice_id for c in payment.charges):
        raise NotFound("payment")  # an invoice link reaches payments of its invoice only
    state = request_state(request)
    if any(c.status in (*lifecycle.UNSETTLED, "requires_action") for c in payment.charges):
        # Stripe may have made one of its charges (an answer lost, a bank confirmation under
        # way): whatever goes wrong on this request, its error page must not say otherwise.
        state.charging = True
    # The customer may have paid on Stripe's page (its session open or completed, not yet
    # counted): the same, and the error page leads back here to check again. As last read:
    # a session found expired unpaid has charged nothing.
    state.at_stripe = payment.status == "at_stripe" or any(
        c.status == "at_stripe" for c in payment.charges
    )
    return payment


async def invoice_of_payment(request: Request) -> str | None:
    """The invoice whose page the payment named in the URL acts on (`Access.INVOICE` in the
    route table): its one invoice; none for a payment of several ("pay all overdue"). So a
    link to another customer's invoice, opened in a browser signed in as someone else, pays
    from the link rather than meeting the session's customer, to whom the payment does not
    belong."""
    invoice_ids = await lifecycle.invoices_of(
        services(request).engine, request.path_params["payment_id"]
    )
    return invoice_ids[0] if len(invoice_ids) == 1 else None


async def _paying(request: Request) -> tuple[Principal, Payment]:
    """The signed-in customer (or an invoice link's holder), allowed to pay, and their payment
    named in the URL."""
    who = principal(request)
    return who, await _payment(request, who)


def _page_of(request: Request, payment: Payment) -> Response:
    return RedirectResponse(request.url_for("billing:payment", payment_id=payment.id), 303)


def _stripe_returns_to(request: Request, name: str, payment: Payment) -> str:
    # Addresses Stripe sends the customer back to come from PORTAL_BASE_URL, never the request.
    return services(request).link(name, payment_id=payment.id)


async def _charge(
    request: Request,
    who: Principal,
    payment: Payment,
    *,
    method_id: str,
    before: tuple[PaymentStatus, ...],
) -> Response:
    """Claim the payment (from one of `before`) and make its charges; then its page, or the
    bank's confirmation page when the bank wants the customer."""
    svc = services(request)
    claimed = await lifecycle.claim(
        svc.engine,
        payment,
        before=before,
        after="processing",
        now=datetime.now(UTC),
        payment_method_id=method_id,
    )
    if not claimed:  # a double click, a resubmitted form, a reload: the first one is on it
        return _page_of(request, payment)
    action_url = await _run(request, who, payment, method_id)
    if action_url is not None:  # off to the bank's confirmation, by the portal's GET step
        return RedirectResponse(
            request.url_for("billing:payment_authenticate", payment_id=payment.id), 303
        )
    return _page_of(request, payment)


async def _run(request: Request, who: Principal, payment: Payment, method_id: str) -> str | None:
    """`charging.run`, for a page: Stripe unreachable before anything was sent gives the
    "unavailable" page (nothing was charged, and the payment can be paid again); once a charge
    was sent, its answer lost, the payment's page says it is being checked, never that nothing
    happened."""
    svc = services(request)
    # Read by the error pages: an unexpected error from here on must not claim that nothing
    # was charged.
    request_state(request).charging = True
    try:
        return await charging.run(
            svc,
            who,
            payment,
            method_id,
            return_url=_stripe_returns_to(request, "billing:payment_authenticated", payment),
        )
    except StripeUnavailable:
        after = await _payment(request, who)
        if after.status == "processing" and all(c.status == "pending" for c in after.charges):
            await lifecycle.claim(  # nothing sent: as before "Pay"
                svc.engine, after, before=("processing",), after="pending", now=datetime.now(UTC)
            )
            request_state(request).charging = False
            raise
        # A charge's answer was lost, or later charges wait: the payment's page says that it
        # is being checked, and its button goes on.
        return None


async def payment_page(request: Request) -> Response:
    """The payment's page: what will be paid, or what became of it. Reading it changes
    nothing at Stripe, whoever reads it (support's read-only view too)."""
    who = principal(request)
    payment = await _payment(request, who)
    session = None
    if await at_stripe.abandon_opening(services(request), payment, datetime.now(UTC)):
        payment = await _payment(request, who)  # a record here, nothing at Stripe
    if payment.status == "at_stripe" and payment.charges[0].status == "at_stripe":
        # Still paying at Stripe, or back without finishing: what the session says. One that
        # ended unpaid lets the customer choose again (a record here, nothing at Stripe).
        svc = services(request)
        session = await svc.gateway.get_checkout_session(
            cast(str, payment.charges[0].checkout_session_id)
        )
        if session.status == "expired":
            await at_stripe.settle_session(svc, payment.charges[0], session)
            payment = await _payment(request, who)
            session = None
    if any(c.status == "submitted" for c in payment.charges):
        # A debit takes days: the page asks Stripe, in case its webhook is late or lost.
        svc = services(request)
        if await charging.settle_debits(svc, payment):
            await svc.gateway.changed(who.customer_id)
            payment = await _payment(request, who)
    if await _follow_refunds(request, payment):
        payment = await _payment(request, who)
    awaited = await _awaited(request, payment)
    if awaited is None:
        payment = await _payment(request, who)
        awaited = {}
    return await _show(request, who, payment, session=session, awaited=awaited)


async def _show(
    request: Request,
    who: Principal,
    payment: Payment,
    *,
    method_error: str | None = None,
    status: int = 200,
    session: CheckoutSession | None = None,
    awaited: dict[int, str | None] | None = None,
) -> Response:
    svc = services(request)
    now = datetime.now(UTC)
    choosing = payment.status in CHOOSING
    reading = at_once(*(svc.gateway.get_invoice(c.invoice_id) for c in payment.charges))
    methods: list[PaymentMethod] = []
    default_id = None
    receipts: dict[int, InvoicePayment] = {}
    overdue_left: list[OverdueLeft] = []
    if choosing and who.invoice_id is None:
        methods, customer, found = await at_once(
            svc.gateway.list_payment_methods(who.customer_id),
            svc.gateway.get_customer(who.customer_id),
            reading,
        )
        default_id = customer.default_payment_method_id
    else:
        # Done: how each charge that went through was paid, and its receipt, read alongside;
        # and what else is overdue, for the next step (a link opens one invoice only).
        found, receipts, others = await at_once(
            reading,
            _receipts(svc, payment),
            unpaid_invoices(svc.gateway, who.customer_id) if who.invoice_id is None else _none(),
        )
        overdue_left = _overdue_left(others, {c.invoice_id for c in payment.charges}, now)
    invoices = {invoice.id: invoice for invoice in found}
    for invoice in found:
        require(who, Action.VIEW_INVOICE, invoice=invoice)
    options = [(m, usable(m, now, payment.currency)) for m in default_first(methods, default_id)]
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
            "receipts": receipts,
            "overdue_left": overdue_left,
            "unpaid_left": any(rules.needs_payment(i) for i in found),
            "method_error": method_error,
            "link_mode": who.invoice_id is not None,
            "stopped": payment.status == "processing" and stopped(payment, now),
            "may_pay": can(who, Action.PAY),
            "at_stripe_offered": at_stripe.offered(payment),
            "opening_stripe": at_stripe.opening(payment),
            "local_examples": _examples(_billed_in(invoices, payment), payment.currency),
            # at Stripe: paying there (open) or paid there, not yet counted (complete)
            "checkout_session": session,
            # money the customer is to send: Stripe's page with the instructions, by charge
            "awaited": awaited or {},
        },
        status=status,
    )


async def _awaited(request: Request, payment: Payment) -> dict[int, str | None] | None:
    """For each charge waiting for money the customer is to send (a transfer, a voucher):
    Stripe's page with the instructions, read now. None: one of them has come (or will not),
    recorded, and the payment is to be read again. Stripe unreachable: no link, as it was."""
    svc = services(request)
    found: dict[int, str | None] = {}
    for charge in payment.charges:
        if charge.status != "awaiting_payment" or not charge.payment_intent_id:
            continue
        try:
            intent = await svc.gateway.uncached().get_payment_intent(charge.payment_intent_id)
        except StripeUnavailable:
            found[charge.position] = None
            continue
        if placing.awaited(charge, intent) is not None:
            await placing.when_arrived(svc, charge, intent)
            return None
        found[charge.position] = intent.instructions_url
    return found


async def _follow_refunds(request: Request, payment: Payment) -> bool:
    """A refund is read again (its webhook may be late or lost; one that succeeded may still
    fail): True if one of them moved. Stripe unreachable: the page shows it as it was."""
    svc = services(request)
    moved = False
    for charge in payment.charges:
        if charge.status in ("refund_pending", "refunded") and charge.refund_id:
            try:
                moved |= await placing.follow_refund(svc, charge) != charge.status
            except StripeUnavailable:
                return moved
    return moved


@dataclass(frozen=True)
class OverdueLeft:
    currency: str
    count: int


def _overdue_left(invoices: list[Invoice], paid_now: set[str], now: datetime) -> list[OverdueLeft]:
    """The customer's other overdue invoices that can be paid here, by currency (paying all
    overdue is done per currency), the currency with most first."""
    counts = Counter(
        invoice.currency
        for invoice in invoices
        if invoice.id not in paid_now
        and rules.payable_here(invoice)
        and rules.is_overdue(invoice, now)
    )
    return [OverdueLeft(currency, count) for currency, count in counts.most_common()]


async def _none() -> list[Invoice]:
    return []


def _billed_in(invoices: dict[str, Invoice], payment: Payment) -> str | None:
    """The country the payment's (first) invoice is billed to, as Stripe froze it."""
    first = invoices.get(payment.charges[0].invoice_id) if payment.charges else None
    address = first.customer_address if first is not None else None
    return address.country if address is not None else None


def _examples(country: str | None, currency: str) -> str:
    names = [method_name(t) or t for t in at_stripe.examples(country, currency)]
    return format_list(names, style="or", locale=current_locale()) if names else ""


async def _receipts(svc: Services, payment: Payment) -> dict[int, InvoicePayment]:
    """For each charge that went through (by position): Stripe's record of it on its invoice,
    with how it was paid and the receipt (the invoice's payments, all read at the same time).
    A charge made by paying the invoice (`invoices.pay`) has no PaymentIntent of ours: it is
    the invoice's latest paid payment of that amount."""
    through = [c for c in payment.charges if c.status == "succeeded"]
    listed = await at_once(*(svc.gateway.list_invoice_payments(c.invoice_id) for c in through))
    found: dict[int, InvoicePayment] = {}
    for charge, payments in zip(through, listed, strict=True):
        paid = sorted(
            (p for p in payments if p.status == "paid"),
            key=lambda p: p.paid_at or p.created,
            reverse=True,
        )
        match = next((p for p in paid if p.payment_intent_id == charge.payment_intent_id), None)
        if match is None and charge.payment_intent_id is None:
            match = next((p for p in paid if p.amount_paid == charge.amount), None)
        if match is not None:
            found[charge.position] = match
    return found


def stopped(payment: Payment, now: datetime) -> bool:
    """Work on the payment was cut off: Stripe's answer was lost, or the process stopped."""
    if any(c.status == "interrupted" for c in payment.charges):
        return True
    return now - payment.updated_at > lifecycle.STALE_AFTER


async def check(request: Request) -> Response:
    """ "Check the payment" (POST): go on with a payment whose work was cut off, finding out
    from Stripe what became of its charges (their requests repeated with the same keys within
    Stripe's 24 hours, else read from Stripe's records). Only for someone who may pay."""
    who, payment = await _paying(request)
    svc = services(request)
    if payment.status == "at_stripe" and payment.charges[0].status == "at_stripe":
        # Paid on Stripe's page, and neither the return nor the webhook has counted it yet.
        await at_stripe.settle(svc, payment.charges[0])
        return _page_of(request, payment)
    for charge in payment.charges:
        if charge.status == "unattached":  # paid at Stripe, refused by its invoice: again
            await placing.attach_again(svc, charge)
    if payment.status != "processing" or not stopped(payment, datetime.now(UTC)):
        return _page_of(request, payment)
    mine = await lifecycle.take_over(svc.engine, payment, datetime.now(UTC))
    if mine and payment.payment_method_id:
        action_url = await _run(request, who, payment, payment.payment_method_id)
        await svc.gateway.changed(who.customer_id)
        if action_url is not None:
            return RedirectResponse(
                request.url_for("billing:payment_authenticate", payment_id=payment.id), 303
            )
    return _page_of(request, payment)


async def pay(request: Request) -> Response:
    """ "Pay" pressed: with a saved method now, or first to Stripe to add a new one."""
    form = await request.form()
    who, payment = await _paying(request)
    svc = services(request)
    choice = str(form.get("payment_method", ""))
    now = datetime.now(UTC)
    if choice == AT_STRIPE and at_stripe.offered(payment):
        return await _to_stripe(request, who, payment)
    if choice == NEW_METHOD:
        await _count_checkout(request, who, payment)
        claimed = await lifecycle.claim(
            svc.engine, payment, before=CHOOSING, after="awaiting_method", now=now
        )
        if not claimed:
            return _page_of(request, payment)
        session = await svc.gateway.start_adding_payment_method(
            who.customer_id,
            success_url=_stripe_returns_to(request, "billing:payment_method_added", payment)
            + "?session_id={CHECKOUT_SESSION_ID}",
            cancel_url=_stripe_returns_to(request, "billing:payment", payment),
            locale=current_locale(),
            for_currency=payment.currency,
        )
        return _on_to_checkout(request, payment, session.id)
    methods = await svc.gateway.list_payment_methods(who.customer_id)
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
        before=CHOOSING,
    )


async def _to_stripe(request: Request, who: Principal, payment: Payment) -> Response:
    """ "Pay" with another way on Stripe's page: the payment is claimed for it, its charge
    started (`at_stripe.start`), and the customer sent on through the portal's own page."""
    svc = services(request)
    await _count_checkout(request, who, payment)
    # Its number names the payment on Stripe's page; read before anything is claimed.
    invoice = await svc.gateway.get_invoice(payment.charges[0].invoice_id)
    claimed = await lifecycle.claim(
        svc.engine, payment, before=CHOOSING, after="at_stripe", now=datetime.now(UTC)
    )
    if not claimed:
        return _page_of(request, payment)
    started = await at_stripe.start(
        svc,
        who,
        payment,
        invoice,
        success_url=_stripe_returns_to(request, "billing:payment_paid_at_stripe", payment)
        + "?session_id={CHECKOUT_SESSION_ID}",
        cancel_url=_stripe_returns_to(request, "billing:payment", payment),
        locale=current_locale(),
    )
    if started.session_id is None:  # not started: the invoice changed, or is being paid elsewhere
        return _page_of(request, payment)
    return _on_to_checkout(request, payment, started.session_id)


async def _count_checkout(request: Request, who: Principal, payment: Payment) -> None:
    """Count the Checkout Session about to be opened for the payment (`rate_limits`). Only
    while choosing: a resubmitted form on a payment under way opens nothing (its claim is
    refused), and a refusal could not say that nothing was charged."""
    if payment.status in CHOOSING:
        await rate_limits.count_checkout(request, who, [c.invoice_id for c in payment.charges])


def _on_to_checkout(request: Request, payment: Payment, session_id: str) -> Response:
    """To Stripe's Checkout through the portal's own page (`checkout`): a form's answer
    stays on the site."""
    return RedirectResponse(
        request.url_for("billing:payment_checkout", payment_id=payment.id, session_id=session_id),
        303,
    )


async def paid_at_stripe(request: Request) -> Response:
    """Back from paying on Stripe's page: count the payment on the invoice (once, however
    often this is opened: only a charge still `at_stripe` on this very session is settled)."""
    _, payment = await _paying(request)
    session_id = request.query_params.get("session_id", "")
    charge = payment.charges[0]
    if not session_id.startswith("cs_") or charge.checkout_session_id != session_id:
        raise NotFound(session_id)
    if charge.status == "at_stripe":  # the money may have been taken at Stripe (`_payment`)
        await at_stripe.settle(services(request), charge)
    return _page_of(request, payment)


async def another_way(request: Request) -> Response:
    """ "Choose another way to pay" while a session at Stripe is open: it is ended there
    first, so that it cannot be paid on as well; a session paid on meanwhile is settled.
    While the bank waits for a confirmation: the charge is abandoned (`charging.abandon`),
    its PaymentIntent canceled so that the bank cannot complete it afterwards."""
    _, payment = await _paying(request)
    svc = services(request)
    charge = payment.charges[0]
    if payment.status == "at_stripe" and charge.status == "at_stripe":
        await at_stripe.leave(svc, charge)
    elif payment.status == "requires_action":
        try:
            waiting = _waiting(payment)
        except NotFound:
            return _page_of(request, payment)
        await charging.abandon(svc, waiting)
    return _page_of(request, payment)


async def checkout(request: Request) -> Response:
    """On to Stripe's Checkout: to add the method this payment is waiting for (from `pay`),
    or to pay on Stripe's page. The address is the Checkout Session's at Stripe, and the
    session must be this customer's, this payment's and still open; anything else leads back
    to the payment's page."""
    who, payment = await _paying(request)
    session_id = request.path_params["session_id"]
    if not session_id.startswith("cs_"):
        raise NotFound(session_id)
    paying_there = payment.status == "at_stripe"
    if paying_there and payment.charges[0].checkout_session_id != session_id:
        raise NotFound(session_id)
    if payment.status != "awaiting_method" and not paying_there:
        return _page_of(request, payment)
    try:
        session = await services(request).gateway.get_checkout_session(session_id)
    except StripeNotFound as exc:
        raise NotFound(session_id) from exc
    if session.customer_id != who.customer_id:
        raise NotFound(session_id)
    if session.status != "open" or not session.url:
        return _page_of(request, payment)
    return continuing.to_stripe(request, session.url, to="stripe")


async def method_added(request: Request) -> Response:
    """Back from Stripe Checkout with a new method: it pays this payment (once: a reload, or
    a payment made meanwhile in another tab, finds the payment claimed; the method stays)."""
    who, payment = await _paying(request)
    gateway = services(request).gateway
    session_id = request.query_params.get("session_id", "")
    if not session_id.startswith("cs_"):
        raise NotFound(session_id)
    method_id, customer = await at_once(
        gateway.added_payment_method(session_id, who.customer_id),
        gateway.get_customer(who.customer_id),
    )
    if method_id is None:
        raise NotFound(session_id)
    if customer.default_payment_method_id is None:
        await gateway.set_default_payment_method(who.customer_id, method_id)
    return await _charge(request, who, payment, method_id=method_id, before=("awaiting_method",))


def _waiting(payment: Payment) -> ChargeRecord:
    charge = next((c for c in payment.charges if c.status == "requires_action"), None)
    if payment.status != "requires_action" or charge is None or not charge.payment_intent_id:
        raise NotFound("authentication")
    return charge


async def authenticate(request: Request) -> Response:
    """On to the bank's confirmation (3-D Secure, hosted by Stripe): where the pay form's
    answer leads when the bank wants the customer, and the payment page's "confirm with your
    bank" button."""
    who, payment = await _paying(request)
    svc = services(request)
    try:
        charge = _waiting(payment)
    except NotFound:
        return _page_of(request, payment)
    outcome = await charging.settle_action(svc, charge)
    if outcome.action_url:  # Stripe's address, read from the PaymentIntent just now
        return continuing.to_stripe(request, outcome.action_url, to="bank")
    return await _continue(request, who)


async def authenticated(request: Request) -> Response:
    """Back from the bank's confirmation: record what Stripe says, then go on."""
    who, payment = await _paying(request)
    svc = services(request)
    try:
        charge = _waiting(payment)
    except NotFound:  # reloaded: already settled
        return _page_of(request, payment)
    outcome = await charging.settle_action(svc, charge)
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
    return await _charge(request, who, payment, method_id=method_id, before=("requires_action",))
