"""Placing money that reached Stripe: on its invoice, or back with the customer.

Money paid on Stripe's page is a PaymentIntent of its own that the invoice has to take
(`invoices.attach_payment`). When the invoice refuses it, what happens depends on what the
invoice still owes, read again from Stripe (uncached), never on the refusal alone:

- it still owes at least the payment (Stripe refused for another reason, e.g. partial
  payments on an invoice Stripe charges itself): the money is kept (`unattached`), the
  customer is told it arrived and is being credited, and attaching is tried again (the
  invoice's webhooks, the payment's "check" button, the periodic sweep), each try with its
  own idempotency key, since Stripe replays a refusal for the same key;
- it is paid, void, or owes less than the payment: nothing of it belongs there any more and it
  is given back, refunded at once when it has arrived, else when it does (`refund_due`).

A refund is followed until Stripe says how it ended (`refund_pending` until then): its
webhooks (`refund.updated`, `refund.failed`), the payment's page and the sweep read it. One
that succeeded may still fail later (the customer's bank returns it): its webhook says so.
Only `refunded` says the money went back; a refund that failed or was canceled
(`refund_failed`) leaves the money with the company, and the page says so.
"""

from __future__ import annotations

import logging
from datetime import UTC, datetime

from portal.billing import lifecycle
from portal.billing.charging import Outcome, cancel_left, values_of
from portal.billing.records import ChargeRecord, ChargeStatus
from portal.services import Services
from portal.storage.database import transaction
from portal.stripe.errors import GatewayError, InvalidRequest
from portal.stripe.models import Invoice, PaymentIntent, Refund

log = logging.getLogger(__name__)

# After this many refused tries the money stays `unattached` and only the payment's "check"
# button tries again: the company has to look at the invoice (the log says which).
ATTACH_TRIES = 24

REFUND_STATUS: dict[str, ChargeStatus] = {
    "pending": "refund_pending",
    "requires_action": "refund_pending",
    "succeeded": "refunded",
    "failed": "refund_failed",
    "canceled": "refund_failed",
}


def still_owes(invoice: Invoice, amount: int) -> bool:
    """Whether the invoice can still take a payment of `amount` whole."""
    return invoice.status in ("open", "uncollectible") and invoice.amount_remaining >= amount


async def count_on_invoice(svc: Services, charge: ChargeRecord, intent: PaymentIntent) -> Outcome:
    """Attach the PaymentIntent paid on Stripe's page to the charge's invoice (its first
    try's key), or decide what becomes of the money when the invoice refuses it."""
    return await _attach(svc, charge, intent, key=f"{charge.idempotency_key()}:attach")


async def _attach(
    svc: Services, charge: ChargeRecord, intent: PaymentIntent, *, key: str
) -> Outcome:
    gateway = svc.gateway
    try:
        await gateway.attach_payment(
            charge.invoice_id, payment_intent_id=intent.id, idempotency_key=key
        )
    except InvalidRequest as exc:
        if not await _attached(svc, charge.invoice_id, intent.id):
            return await _refused(svc, charge, intent, exc.code)
        # attached already (by the other way in, longer ago than Stripe keeps keys)
    return arrived(intent)


def arrived(intent: PaymentIntent) -> Outcome:
    """What a PaymentIntent on its invoice means for the charge: paid, on its way (a debit),
    or waiting for the customer to send the money (a transfer, a voucher)."""
    if intent.status == "succeeded":
        return Outcome("succeeded", payment_intent_id=intent.id)
    if intent.status == "processing":
        return Outcome("submitted", payment_intent_id=intent.id)
    return Outcome("awaiting_payment", payment_intent_id=intent.id)


def awaited(charge: ChargeRecord, intent: PaymentIntent) -> Outcome | None:
    """What became of money the customer was to send (`awaiting_payment`); None while it
    has not come. A voucher that expired, a PaymentIntent canceled: it never will."""
    if intent.status == "requires_action":
        return None
    if intent.status in ("succeeded", "processing"):
        return arrived(intent)
    return Outcome("failed", intent.decline_code or intent.status, payment_intent_id=intent.id)


async def _attached(svc: Services, invoice_id: str, intent_id: str) -> bool:
    payments = await svc.gateway.uncached().list_invoice_payments(invoice_id)
    return any(p.payment_intent_id == intent_id for p in payments)


async def _refused(
    svc: Services, charge: ChargeRecord, intent: PaymentIntent, code: str | None
) -> Outcome:
    invoice = await svc.gateway.uncached().get_invoice(charge.invoice_id)
    if still_owes(invoice, intent.amount):
        log.warning(
            "payment %s refused by invoice %s (%s) while it still owes %s: kept, tried again",
            intent.id,
            invoice.id,
            code,
            invoice.amount_remaining,
        )
        return Outcome("unattached", code, payment_intent_id=intent.id)
    log.warning(
        "payment %s refused by invoice %s (%s, %s, owes %s): given back",
        intent.id,
        invoice.id,
        code,
        invoice.status,
        invoice.amount_remaining,
    )
    return await give_back(svc, charge, intent, code, paid_otherwise=invoice.status == "paid")


async def give_back(
    svc: Services,
    charge: ChargeRecord,
    intent: PaymentIntent,
    code: str | None,
    *,
    paid_otherwise: bool = True,
) -> Outcome:
    """Refund money its invoice does not owe any more: at once when it has arrived, else
    when it does (`refund_due`). Money the customer has still to send (a transfer, a voucher)
    is not wanted any more: its PaymentIntent is canceled, so that it cannot be paid."""
    if intent.status == "processing":
        return Outcome("refund_due", code, payment_intent_id=intent.id)
    if intent.status == "requires_action":
        return Outcome("failed", code, payment_intent_id=intent.id, cancel_intent=intent.id)
    if intent.status != "succeeded":
        return Outcome("failed", code, payment_intent_id=intent.id)
    refund = await svc.gateway.refund_payment(
        intent.id,
        reason="duplicate" if paid_otherwise else None,
        idempotency_key=f"{charge.idempotency_key()}:refund",
    )
    return from_refund(refund, code)


def from_refund(refund: Refund, code: str | None) -> Outcome:
    return Outcome(
        REFUND_STATUS.get(refund.status, "refund_pending"),
        refund.failure_reason or code,
        refund.payment_intent_id,
        refund_id=refund.id,
    )


async def record(svc: Services, charge: ChargeRecord, outcome: Outcome) -> None:
    """Record where the money went: the payment ends there (`lifecycle.settle`)."""
    async with transaction(svc.engine) as conn:
        moved = await lifecycle.settle(
            conn, charge, outcome.status, datetime.now(UTC), **values_of(outcome)
        )
    if moved is not None and moved.cancel_intent:
        await cancel_left(svc, moved)
    if charge.customer_id:
        await svc.gateway.changed(charge.customer_id)


async def when_arrived(svc: Services, charge: ChargeRecord, intent: PaymentIntent) -> None:
    """The PaymentIntent of money waiting to be placed moved: an `unattached` payment is
    attached again (or given back), a `refund_due` one is refunded once it has arrived, an
    awaited one recorded once it has come (or will not)."""
    if charge.status == "awaiting_payment":
        outcome = awaited(charge, intent)
        if outcome is not None:
            await record(svc, charge, outcome)
    elif charge.status == "unattached":
        await attach_again(svc, charge, intent)
    elif charge.status == "refund_due":
        if intent.status == "processing":
            return
        outcome = await give_back(svc, charge, intent, charge.error_code)
        await record(svc, charge, outcome)


async def attach_again(
    svc: Services, charge: ChargeRecord, intent: PaymentIntent | None = None
) -> ChargeStatus:
    """Try once more to count `unattached` money on its invoice; what the charge became."""
    assert charge.payment_intent_id is not None
    if intent is None:
        intent = await svc.gateway.uncached().get_payment_intent(charge.payment_intent_id)
    if intent.status not in ("succeeded", "processing", "requires_action"):
        await record(svc, charge, Outcome("failed", charge.error_code, intent.id))
        return "failed"
    tries = await lifecycle.tried_attach(svc.engine, charge)
    outcome = await _attach(svc, charge, intent, key=f"{charge.idempotency_key()}:attach:{tries}")
    if outcome.status == "unattached":
        if tries >= ATTACH_TRIES:
            log.error(
                "payment %s still refused by invoice %s after %s tries: look at the invoice",
                intent.id,
                charge.invoice_id,
                tries,
            )
        return "unattached"
    await record(svc, charge, outcome)
    return outcome.status


async def follow_refund(svc: Services, charge: ChargeRecord) -> ChargeStatus:
    """Read a pending refund again and record how it ended, if it has."""
    assert charge.refund_id is not None
    refund = await svc.gateway.uncached().get_refund(charge.refund_id)
    return await refund_moved(svc, charge, refund)


async def refund_moved(svc: Services, charge: ChargeRecord, refund: Refund) -> ChargeStatus:
    outcome = from_refund(refund, charge.error_code)
    if outcome.status != charge.status:
        await record(svc, charge, outcome)
    return outcome.status


async def tidy(svc: Services) -> None:
    """Money still to place, in case no webhook or page came back to it."""
    for charge in await lifecycle.money_to_place(svc.engine):
        try:
            if charge.status == "refund_pending" and charge.refund_id:
                await follow_refund(svc, charge)
            elif charge.status == "unattached" and charge.attach_tries < ATTACH_TRIES:
                await attach_again(svc, charge)
            elif charge.status in ("refund_due", "awaiting_payment") and charge.payment_intent_id:
                intent = await svc.gateway.uncached().get_payment_intent(charge.payment_intent_id)
                await when_arrived(svc, charge, intent)
        except GatewayError as exc:
            log.info("charge %s not placed yet: %r", charge.idempotency_key(), exc)
