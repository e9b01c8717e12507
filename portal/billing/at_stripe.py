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
- If the invoice refuses the payment, `portal.billing.placing` decides from the invoice as it
  is now: kept and attached again while it still owes the money, else given back (paid,
  voided or lowered another way while the customer was at Stripe; the claim covers the
  portal's own payments only).

A session the customer leaves (back on the payment's page, "pay another way") is expired at
Stripe before the charge goes back to `pending`, so that it cannot be paid afterwards; one
that expires on its own does the same through its webhook or the next look at the page.
"""

from __future__ import annotations

import logging
import secrets
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta

from portal.billing import charging, lifecycle, placing
from portal.billing.charging import Outcome
from portal.billing.records import ChargeRecord, Payment
from portal.permissions import Principal
from portal.services import Services
from portal.stripe.errors import InvalidRequest
from portal.stripe.models import CheckoutSession, Invoice

log = logging.getLogger(__name__)

# A Checkout Session's life: Stripe's shortest (`expires_at` 30 minutes to 24 hours after the
# session's creation), and a minute for the clocks and the request's own time, so that Stripe
# does not find it too short.
SESSION_LIFETIME = timedelta(minutes=31)
# The invoice's claim while the customer is at Stripe: the session's life, and time for a
# payment started just before it ends (a bank's confirmation page) to finish.
LEASE = SESSION_LIFETIME + timedelta(minutes=30)
# A completed session's PaymentIntent: the money has arrived, is on its way, or is to be sent
# by the customer (a bank transfer's or a voucher's instructions: Checkout completes the
# session before the money comes).
PAID_ON_STRIPE = ("succeeded", "processing", "requires_action")


# Ways to pay that businesses in a country use and Stripe's page may offer, named as examples
# next to "another way to pay" (which ones are offered is the Stripe account's setting), each
# with the currencies Stripe takes it in (docs.stripe.com/payments/payment-methods/overview:
# iDEAL Netherlands, Bancontact Belgium, EPS Austria, BLIK and Przelewy24 Poland, TWINT
# Switzerland). A country without a local way of its own gets no examples: "iDEAL" means nothing
# to a German or Croatian customer, who cannot use it.
EXAMPLES: dict[str, tuple[tuple[str, frozenset[str]], ...]] = {
    "NL": (("ideal", frozenset({"eur"})),),
    "BE": (("bancontact", frozenset({"eur"})),),
    "AT": (("eps", frozenset({"eur"})),),
    "PL": (("blik", frozenset({"pln"})), ("p24", frozenset({"pln", "eur"}))),
    "CH": (("twint", frozenset({"chf"})),),
}


def examples(country: str | None, currency: str) -> tuple[str, ...]:
    """Payment method types to name as examples for a customer billed in `country` paying in
    `currency` on Stripe's page."""
    return tuple(
        kind
        for kind, currencies in EXAMPLES.get((country or "").upper(), ())
        if currency in currencies
    )


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
    try:
        charge = await charging.prepare(svc, who, payment.charges[0], LEASE)
    except BaseException:
        # The invoice could not be read (the claim is given back): no session, and the
        # payment as before "Pay", not left `at_stripe` with nothing there to pay.
        await lifecycle.claim(
            svc.engine, payment, before=("at_stripe",), after="pending", now=datetime.now(UTC)
        )
        raise
    if charge is None:
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
            # An invoice payable by transfer shows its own instructions (the same account, its
            # own reference); a second PaymentIntent waiting for the customer's transfers
            # would compete with the invoice's for the same money in their cash balance.
            without_bank_transfer="customer_balance" in invoice.payment_method_types,
        )
    except BaseException:
        await lifecycle.back_to_choosing(svc.engine, charge, now, detail="page not opened")
        raise
    await lifecycle.move_now(svc.engine, charge, "at_stripe", now, checkout_session_id=session.id)
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
        await lifecycle.back_to_choosing(
            svc.engine, charge, now, detail=f"session {session.status}"
        )
        return Outcome("pending")
    outcome = await placing.count_on_invoice(svc, charge, intent)
    # From `at_stripe` only: of two ways in, one. It marks the customer's data changed.
    await placing.record(svc, charge, outcome)
    return outcome


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
    (longer than any opening takes, `lifecycle.STALE_AFTER`) is as before "Pay": no session was
    handed to the customer, so nothing can have been paid on it, and one Stripe may have
    made expires on its own. True if this call moved it."""
    if not opening(payment) or now - payment.charges[0].updated_at <= lifecycle.STALE_AFTER:
        return False
    moved = await lifecycle.back_to_choosing(
        svc.engine, payment.charges[0], now, detail="page never opened"
    )
    if moved:
        log.warning("payment %s: Stripe's page was never opened, back to choosing", payment.id)
    return moved
