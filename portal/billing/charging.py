"""Carrying out a payment's charges against Stripe, once each.

`run` goes through a payment's charges in order. A charge still `pending` goes ahead only while
its invoice matches what the customer saw (its fingerprint) and only after it has been moved to
`processing` by a conditional UPDATE; a charge left `processing` or `interrupted` (a stopped
process, Stripe unreachable mid-way) is repeated with the same idempotency keys, so Stripe
replays its first answer instead of charging again. The amount is the one planned from Stripe's
invoice when the page was shown, never one from the form.

When the bank wants the customer (3-D Secure), the charge waits in `requires_action` and `run`
returns Stripe's page for it; the customer comes back to `resume_after_authentication`.
"""

from __future__ import annotations

import asyncio
import logging
from collections.abc import Mapping
from dataclasses import dataclass
from datetime import UTC, datetime
from typing import cast

from sqlalchemy.ext.asyncio import AsyncConnection, AsyncEngine

from portal.billing import records
from portal.billing.models import Invoice, PaymentIntent
from portal.billing.payments import fingerprint
from portal.billing.records import ChargeRecord, ChargeStatus, Payment
from portal.permissions import Action, Principal, require
from portal.services import Services
from portal.storage.database import transaction
from portal.stripe_gateway import InvalidRequest, PaymentDeclined, StripeGateway, StripeUnavailable

log = logging.getLogger(__name__)

# Stripe's error when `invoices.pay` stopped at 3-D Secure; the invoice's PaymentIntent waits.
REQUIRES_ACTION = "invoice_payment_intent_requires_action"


@dataclass(frozen=True)
class Outcome:
    status: ChargeStatus
    error_code: str | None = None
    payment_intent_id: str | None = None
    action_url: str | None = None


def from_intent(intent: PaymentIntent) -> Outcome:
    """What a PaymentIntent's state means for the charge it pays."""
    if intent.status == "succeeded":
        return Outcome("succeeded", payment_intent_id=intent.id)
    if intent.status == "processing":  # a SEPA debit: submitted, settles in a few days
        return Outcome("submitted", payment_intent_id=intent.id)
    if intent.status == "requires_action" and intent.action_url:
        return Outcome("requires_action", payment_intent_id=intent.id, action_url=intent.action_url)
    return Outcome("failed", intent.decline_code or intent.status, payment_intent_id=intent.id)


async def attempt(
    gateway: StripeGateway,
    payment: Payment,
    charge: ChargeRecord,
    method_id: str,
    *,
    return_url: str,
) -> Outcome:
    """Send one charge's requests to Stripe (raises StripeUnavailable when it cannot tell)."""
    key = charge.idempotency_key()
    try:
        if charge.kind == "whole":
            invoice = await gateway.pay_invoice(
                charge.invoice_id, payment_method_id=method_id, idempotency_key=key
            )
            return Outcome("succeeded" if invoice.status == "paid" else "submitted")
        intent = await gateway.pay_part_of_invoice(
            invoice_id=charge.invoice_id,
            customer_id=payment.customer_id,
            currency=payment.currency,
            amount=charge.amount,
            payment_method_id=method_id,
            idempotency_key=key,
            return_url=return_url,
        )
    except PaymentDeclined as exc:
        if exc.code != REQUIRES_ACTION or exc.payment_intent_id is None:
            return Outcome("failed", exc.decline_code or exc.code, exc.payment_intent_id)
        intent = await gateway.authenticate_payment(
            exc.payment_intent_id, return_url=return_url, idempotency_key=f"{key}:authenticate"
        )
    except InvalidRequest as exc:
        # Stripe refuses the payment itself: the invoice was paid, voided or lowered since
        # the customer's page was shown. Nothing was charged.
        log.info("charge %s refused by Stripe: %s", key, exc.code)
        return Outcome("changed", exc.code)
    return from_intent(intent)


async def read_invoices(gateway: StripeGateway, payment: Payment) -> dict[str, Invoice]:
    """The invoices of the payment's charges still to be made, read at once."""
    ids = sorted({c.invoice_id for c in payment.charges if c.status == "pending"})
    found = await asyncio.gather(*(gateway.get_invoice(i) for i in ids))
    return dict(zip(ids, found, strict=True))


async def run(
    svc: Services,
    who: Principal,
    payment: Payment,
    method_id: str,
    invoices: Mapping[str, Invoice],
    *,
    return_url: str,
) -> str | None:
    """Make the payment's outstanding charges, the caller having claimed it (`processing`).

    Returns the URL of Stripe's authentication page when the bank wants the customer, else
    None with the payment `done`. A failed charge stops the rest: the customer sees what went
    through and chooses again.
    """
    engine = svc.engine
    for charge in payment.charges:
        if charge.status in records.UNSETTLED:
            pass  # repeated with the same keys: Stripe answers as the first time
        elif charge.status != "pending":
            continue
        else:
            invoice = invoices[charge.invoice_id]
            require(who, Action.PAY, invoice=invoice)
            if fingerprint(invoice) != charge.fingerprint:
                await _record(engine, charge, Outcome("changed"), only_from=("pending",))
                continue
            if not await _record(engine, charge, Outcome("processing"), only_from=("pending",)):
                continue
        try:
            outcome = await attempt(svc.gateway, payment, charge, method_id, return_url=return_url)
        except StripeUnavailable:
            await _record(engine, charge, Outcome("interrupted"))
            raise
        await _record(engine, charge, outcome)
        if outcome.status == "requires_action":
            await _set_status(engine, payment, "requires_action")
            return outcome.action_url
        if outcome.status == "failed":
            break
    await stop(engine, payment)
    return None


async def settle_action(
    engine: AsyncEngine, gateway: StripeGateway, charge: ChargeRecord
) -> Outcome:
    """Read what became of a charge that waited for the customer's bank, and record it."""
    assert charge.payment_intent_id is not None
    outcome = from_intent(await gateway.get_payment_intent(charge.payment_intent_id))
    if outcome.status != "requires_action":
        await _record(engine, charge, outcome, only_from=("requires_action",))
    return outcome


async def _record(
    engine: AsyncEngine,
    charge: ChargeRecord,
    outcome: Outcome,
    *,
    only_from: tuple[ChargeStatus, ...] | None = None,
) -> bool:
    async with transaction(engine) as conn:
        return await records.update_charge(
            conn,
            charge,
            outcome.status,
            datetime.now(UTC),
            error_code=outcome.error_code,
            payment_intent_id=outcome.payment_intent_id,
            only_from=only_from,
        )


async def _set_status(engine: AsyncEngine, payment: Payment, status: records.PaymentStatus) -> None:
    async with transaction(engine) as conn:
        await records.set_status(conn, payment.id, status, datetime.now(UTC))


async def stop(engine: AsyncEngine, payment: Payment) -> None:
    """The payment is over: charges not yet tried (after a failed one) are not made."""
    async with transaction(engine) as conn:
        await records.stop(conn, payment.id, datetime.now(UTC))


async def settled_by_bank(
    engine: AsyncEngine, gateway: StripeGateway, invoice_id: str
) -> list[tuple[ChargeRecord, Outcome]]:
    """Charges on this invoice that waited for the customer's bank and are now decided at
    Stripe (the customer confirmed, or failed to, and did not come back to the portal)."""
    async with engine.connect() as conn:
        waiting = [c for c in await records.awaiting_bank(conn, invoice_id) if c.payment_intent_id]
    intents = await asyncio.gather(
        *(gateway.get_payment_intent(cast(str, c.payment_intent_id)) for c in waiting)
    )
    decided = [(c, from_intent(intent)) for c, intent in zip(waiting, intents, strict=True)]
    return [(c, outcome) for c, outcome in decided if outcome.status != "requires_action"]


async def record_settled(
    conn: AsyncConnection, charge: ChargeRecord, outcome: Outcome, now: datetime
) -> None:
    """Record a charge the bank decided without the customer coming back: the payment ends
    there, since charging further invoices while the customer is away would surprise them."""
    if await records.update_charge(
        conn,
        charge,
        outcome.status,
        now,
        error_code=outcome.error_code,
        only_from=("requires_action",),
    ):
        await records.stop(conn, charge.payment_id, now)
