"""Paying on Stripe's Checkout page: the methods the account offers, none built by the portal.

iDEAL, Bancontact, BLIK, Przelewy24, bank transfer, wallets: whatever the Stripe account has
turned on for the currency and the customer is offered by Checkout in payment mode, for the
amount the customer chose here (an invoice's remainder or its installments: one charge). The
money Checkout collects is a PaymentIntent of its own, which the portal then attaches to the
invoice (`invoices.attach_payment`): Stripe credits a PaymentIntent that has succeeded at
once, and one still processing (a bank transfer, a debit) when it succeeds.

Exactly once, whichever way the news arrives (the customer's return to `success_url`, Stripe's
`checkout.session.completed` webhook, the payment page's "check" button):

- Going to Stripe starts the charge like any other (`charging.prepare`: the invoice's claim,
  the invoice re-read, still as the customer saw it), with a claim that lasts as long as the
  session can be paid on (`LEASE`), so no other payment of the portal charges the invoice
  meanwhile. The session expires after Stripe's shortest lifetime (`SESSION_LIFETIME`).
- Each way in moves the charge out of `at_stripe` by a conditional UPDATE; the attach is sent
  with one idempotency key per charge, so two ways at once send one attach (the second gets
  Stripe's first answer, or 409 while it is under way, and tries again later).
- If the invoice cannot take the payment any more (paid, voided or lowered another way while
  the customer was at Stripe; the claim covers the portal's own payments only), the money is
  given back: refunded at once when it has arrived, else when it does (`refund_due`).

A session the customer leaves (back on the payment's page, "pay another way") is expired at
Stripe before the charge goes back to `pending`, so that it cannot be paid afterwards; one
that expires on its own does the same through its webhook or the next look at the page.
"""

from __future__ import annotations

import logging
import secrets
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta

from portal.billing import charging, records
from portal.billing.charging import Outcome
from portal.billing.records import ChargeRecord, Payment
from portal.permissions import Principal
from portal.services import Services
from portal.storage.database import transaction
from portal.stripe.cache import CachingGateway
from portal.stripe.errors import InvalidRequest
from portal.stripe.models import CheckoutSession, Invoice, PaymentIntent

log = logging.getLogger(__name__)

# A Checkout Session's life: Stripe's shortest (`expires_at` 30 minutes to 24 hours after the
# session's creation), and a minute for the clocks and the request's own time, so that Stripe
# does not find it too short.
SESSION_LIFETIME = timedelta(minutes=31)
# The invoice's claim while the customer is at Stripe: the session's life, and time for a
# payment started just before it ends (a bank's confirmation page) to finish.
LEASE = SESSION_LIFETIME + timedelta(minutes=30)
# A completed session's PaymentIntent: the money has arrived, or is on its way.
PAID_ON_STRIPE = ("succeeded", "processing")


# Ways to pay that people in a currency's countries expect and Stripe's page may offer, to name
# a few next to "another way to pay" (which ones are offered is the Stripe account's setting).
EXAMPLES: dict[str, tuple[str, ...]] = {
    "eur": ("ideal", "bancontact", "eps"),
    "pln": ("blik", "p24"),
    "chf": ("twint",),
}


def examples(currency: str) -> tuple[str, ...]:
    """Payment method types to name as examples for paying in `currency` on Stripe's page."""
    return EXAMPLES.get(currency, ())


@dataclass(frozen=True)
class Started:
    # The Checkout Session the customer goes on to; None: not started (the charge's outcome
    # says why).
    session_id: str | None


def offered(payment: Payment) -> bool:
    """Whether the payment can be paid on Stripe's page: one invoice's charge (a PaymentIntent
    is attached to one invoice, whole)."""
    return len(payment.charges) == 1


async def start(
    svc: Services,
    who: Principal,
    payment: Payment,
    invoice: Invoice,
    *,
    success_url: str,
    cancel_url: str,
    locale: str,
) -> Started:
    """Send the customer to Stripe's page for the payment's one charge, the payment having
    been claimed for it (`at_stripe`). Stripe unreachable: the payment is as before, and the
    error goes on to the caller's page."""
    charge = payment.charges[0]
    try:
        prepared = await charging.prepare(svc, who, charge, LEASE)
    except BaseException:
        # The invoice could not be read (the claim is given back): no session, and the
        # payment as before "Pay", not left `at_stripe` with nothing there to pay.
        async with transaction(svc.engine) as conn:
            await records.claim(
                conn, payment, before=("at_stripe",), after="pending", now=datetime.now(UTC)
            )
        raise
    if not prepared:
        await charging.stop(svc.engine, payment)  # not to be made now: recorded why
        return Started(None)
    now = datetime.now(UTC)
    try:
        session = await svc.gateway.start_paying(
            payment.customer_id,
            amount=charge.amount,
            currency=payment.currency,
            name=invoice.number or invoice.id,
            metadata={"portal_payment": payment.id, "invoice": charge.invoice_id},
            success_url=success_url,
            cancel_url=cancel_url,
            locale=locale,
            expires_at=int((now + SESSION_LIFETIME).timestamp()),
            # Per try: a session is no money, and a retry of this call is a new session with
            # its own expiry (same key, other parameters would be refused). Random, not the
            # second: a second try within the same second would get the first, ended session.
            idempotency_key=f"{charge.idempotency_key()}:checkout:{secrets.token_hex(8)}",
        )
    except BaseException:
        async with transaction(svc.engine) as conn:
            await records.back_to_choosing(conn, charge, now, charge_from="processing")
        raise
    async with transaction(svc.engine) as conn:
        await records.update_charge(
            conn,
            charge,
            "at_stripe",
            now,
            only_from=("processing",),
            checkout_session_id=session.id,
        )
    return Started(session.id)


async def settle(svc: Services, charge: ChargeRecord) -> Outcome | None:
    """Find out what the customer did on Stripe's page and record it: the payment counted on
    the invoice (or given back), or the charge back to `pending` when the session ended
    unpaid. None: the session is still open (the customer may be paying)."""
    assert charge.checkout_session_id is not None
    session = await svc.gateway.get_checkout_session(charge.checkout_session_id)
    return await settle_session(svc, charge, session)


async def settle_session(
    svc: Services, charge: ChargeRecord, session: CheckoutSession
) -> Outcome | None:
    now = datetime.now(UTC)
    intent = session.payment_intent
    if session.status == "open":
        return None
    if session.status != "complete" or intent is None or intent.status not in PAID_ON_STRIPE:
        async with transaction(svc.engine) as conn:
            await records.back_to_choosing(conn, charge, now)
        return Outcome("pending")
    outcome = await _count_on_invoice(svc.gateway, charge, intent)
    async with transaction(svc.engine) as conn:
        await charging.record_settled(conn, charge, outcome, now)  # from `at_stripe` only
    if session.customer_id:
        await svc.gateway.changed(session.customer_id)  # the invoice took a payment
    return outcome


async def _count_on_invoice(
    gateway: CachingGateway, charge: ChargeRecord, intent: PaymentIntent
) -> Outcome:
    """Attach the session's PaymentIntent to the invoice (one key per charge), or give the
    money back when the invoice cannot take it any more."""
    key = charge.idempotency_key()
    try:
        await gateway.attach_payment(
            charge.invoice_id, payment_intent_id=intent.id, idempotency_key=f"{key}:attach"
        )
    except InvalidRequest as exc:
        if await _attached(gateway, charge.invoice_id, intent.id):
            pass  # attached already (by the other way in, longer ago than Stripe keeps keys)
        elif intent.status == "succeeded":
            log.warning(
                "payment %s on Stripe's page refused by invoice %s (%s): refunded",
                intent.id,
                charge.invoice_id,
                exc.code,
            )
            await gateway.refund_payment(intent.id, idempotency_key=f"{key}:refund")
            return Outcome("refunded", exc.code, payment_intent_id=intent.id)
        else:
            log.warning(
                "payment %s on Stripe's page refused by invoice %s (%s): refund when it arrives",
                intent.id,
                charge.invoice_id,
                exc.code,
            )
            return Outcome("refund_due", exc.code, payment_intent_id=intent.id)
    if intent.status == "succeeded":
        return Outcome("succeeded", payment_intent_id=intent.id)
    return Outcome("submitted", payment_intent_id=intent.id)


async def _attached(gateway: CachingGateway, invoice_id: str, intent_id: str) -> bool:
    payments = await gateway.uncached().list_invoice_payments(invoice_id)
    return any(p.payment_intent_id == intent_id for p in payments)


async def refund_if_due(
    gateway: CachingGateway, charge: ChargeRecord, intent: PaymentIntent
) -> Outcome | None:
    """A payment the invoice could not take (`refund_due`) that has now arrived is given back;
    one that failed was never collected. None while it is still on its way."""
    if intent.status == "succeeded":
        await gateway.refund_payment(
            intent.id, idempotency_key=f"{charge.idempotency_key()}:refund"
        )
        return Outcome("refunded", charge.error_code, payment_intent_id=intent.id)
    if intent.status == "processing":
        return None
    return Outcome("failed", charge.error_code, payment_intent_id=intent.id)


async def leave(svc: Services, charge: ChargeRecord) -> Outcome | None:
    """The customer chose another way to pay: end the session at Stripe first (so that it
    cannot be paid any more), then the charge is as before. A session already paid on is
    settled instead. Stripe unreachable: nothing changes, the error goes on."""
    assert charge.checkout_session_id is not None
    try:
        session = await svc.gateway.expire_checkout_session(charge.checkout_session_id)
    except InvalidRequest:
        # Only open sessions can be expired: this one is complete (or expired) already.
        session = await svc.gateway.get_checkout_session(charge.checkout_session_id)
    return await settle_session(svc, charge, session)


def opening(payment: Payment) -> bool:
    """Stripe's page is being opened for the payment: its charge started, no session yet."""
    charge = payment.charges[0]
    return (
        payment.status == "at_stripe"
        and charge.status == "processing"
        and charge.checkout_session_id is None
    )


async def abandon_opening(svc: Services, payment: Payment, now: datetime) -> bool:
    """A payment left `opening` by a process that stopped before it could record the session
    (longer than any opening takes, `records.STALE_AFTER`) is as before "Pay": no session was
    handed to the customer, so nothing can have been paid on it, and one Stripe may have
    made expires on its own. True if this call moved it."""
    if not opening(payment) or now - payment.charges[0].updated_at <= records.STALE_AFTER:
        return False
    async with transaction(svc.engine) as conn:
        moved = await records.back_to_choosing(
            conn, payment.charges[0], now, charge_from="processing"
        )
    if moved:
        log.warning("payment %s: Stripe's page was never opened, back to choosing", payment.id)
    return moved
