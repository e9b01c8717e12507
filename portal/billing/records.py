"""Payments in the database: what the customer set out to pay, and what became of each charge.

Only `portal.billing.lifecycle` writes through this module: it decides which moves are
allowed; these are the statements that make them.

A payment is created when the customer starts it (a POST: an invoice's pay button, "pay all
overdue"), with one charge per invoice (one for an invoice's pay button, several for "pay all
overdue"). Pressing "Pay" claims it with one conditional UPDATE
on its status, so of a double click, two tabs or a resubmitted form exactly one request goes on
to Stripe; the others show that payment's page. Each charge's Stripe requests use idempotency
keys derived from the payment's id and the charge's position, so repeating them after an
interruption replays Stripe's answer instead of charging twice, for as long as Stripe keeps the
keys (24 hours from `sent_at`; after that `portal.billing.charging` reads Stripe's records).
"""

from __future__ import annotations

import secrets
from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from datetime import datetime
from typing import Any, Literal

from sqlalchemy import Row, bindparam, delete, select, update
from sqlalchemy.ext.asyncio import AsyncConnection, AsyncEngine

from portal.billing.payments import Charge, PaymentKind
from portal.storage.database import read_all
from portal.storage.tables import payment_charges, payment_history, payments

# The values of the status columns; which moves between them are allowed, and what each
# means, is `portal.billing.lifecycle`'s table.
PaymentStatus = Literal[
    "pending",  # shown, nothing charged: the customer chooses how to pay
    "awaiting_method",  # the customer is adding a method on Stripe's page
    "at_stripe",  # the customer is paying on Stripe's Checkout page (`at_stripe`)
    "processing",  # its charges are being made
    "requires_action",  # the customer is confirming a charge with their bank
    "done",  # nothing more will be charged
]
ChargeStatus = Literal[
    "pending",
    "processing",
    "interrupted",
    "requires_action",
    "submitted",
    "at_stripe",
    "awaiting_payment",
    "succeeded",
    "failed",
    "refused",
    "changed",
    "busy",
    "skipped",
    "lapsed",
    "abandoned",
    "unattached",
    "refund_due",
    "refund_pending",
    "refunded",
    "refund_failed",
]


@dataclass(frozen=True)
class ChargeRecord:
    payment_id: str
    position: int
    invoice_id: str
    kind: PaymentKind
    fingerprint: str
    amount: int
    status: ChargeStatus
    error_code: str | None
    payment_intent_id: str | None
    updated_at: datetime
    sent_at: datetime | None = None  # when its requests first went to Stripe
    checkout_session_id: str | None = None  # paid on Stripe's page: that session
    refund_id: str | None = None  # its money given back by this refund
    cancel_intent: str | None = None  # a PaymentIntent it left, to be canceled at Stripe
    attach_tries: int = 0
    customer_id: str | None = None  # its payment's customer, where read along

    def idempotency_key(self) -> str:
        return f"portal-payment-{self.payment_id}-{self.position}"


@dataclass(frozen=True)
class Payment:
    id: str
    customer_id: str
    currency: str
    status: PaymentStatus
    payment_method_id: str | None
    updated_at: datetime
    charges: tuple[ChargeRecord, ...]

    @property
    def amount(self) -> int:
        return sum(c.amount for c in self.charges)

    @property
    def paid(self) -> int:
        return sum(c.amount for c in self.charges if c.status == "succeeded")

    def charge(self, position: int) -> ChargeRecord:
        return next(c for c in self.charges if c.position == position)


def charge_from_row(row: Row[Any]) -> ChargeRecord:
    return ChargeRecord(
        row.payment_id,
        row.position,
        row.invoice_id,
        row.kind,
        row.fingerprint,
        row.amount,
        row.status,
        row.error_code,
        row.payment_intent_id,
        row.updated_at,
        row.sent_at,
        row.checkout_session_id,
        row.refund_id,
        row.cancel_intent,
        row.attach_tries,
        getattr(row, "customer_id", None),
    )


async def create(
    conn: AsyncConnection,
    customer_id: str,
    currency: str,
    charges: Sequence[tuple[Charge, str]],
    now: datetime,
) -> str:
    """A pending payment of `charges` (each with the fingerprint of its invoice)."""
    payment_id = secrets.token_urlsafe(24)
    await conn.execute(
        payments.insert().values(
            id=payment_id,
            customer_id=customer_id,
            currency=currency,
            status="pending",
            created_at=now,
            updated_at=now,
        )
    )
    await conn.execute(
        payment_charges.insert(),
        [
            {
                "payment_id": payment_id,
                "position": position,
                "invoice_id": charge.invoice_id,
                "kind": charge.kind,
                "fingerprint": fingerprint,
                "amount": charge.amount,
                "status": "pending",
                "updated_at": now,
            }
            for position, (charge, fingerprint) in enumerate(charges)
        ],
    )
    return payment_id


async def get(conn: AsyncConnection, payment_id: str, customer_id: str) -> Payment | None:
    """The payment, if it belongs to this customer."""
    row = (
        await conn.execute(
            select(payments).where(
                payments.c.id == payment_id, payments.c.customer_id == customer_id
            )
        )
    ).one_or_none()
    if row is None:
        return None
    charges = (
        await conn.execute(
            select(payment_charges, payments.c.customer_id)
            .join(payments, payments.c.id == payment_charges.c.payment_id)
            .where(payment_charges.c.payment_id == payment_id)
            .order_by(payment_charges.c.position)
        )
    ).all()
    return Payment(
        row.id,
        row.customer_id,
        row.currency,
        row.status,
        row.payment_method_id,
        row.updated_at,
        tuple(charge_from_row(c) for c in charges),
    )


async def invoices_of(conn: AsyncConnection, payment_id: str) -> list[str]:
    """The invoices a payment's charges are on, whoever's payment it is: which invoice link
    may act on its pages (the payment itself is then read for that principal, `get`)."""
    rows = await conn.execute(
        select(payment_charges.c.invoice_id)
        .where(payment_charges.c.payment_id == payment_id)
        .distinct()
    )
    return sorted(row.invoice_id for row in rows)


async def claim(
    conn: AsyncConnection,
    payment: Payment,
    *,
    before: Iterable[PaymentStatus],
    after: PaymentStatus,
    now: datetime,
    payment_method_id: str | None = None,
) -> bool:
    """Move the payment from one of `before` to `after`; True for exactly one caller."""
    values: dict[str, object] = {"status": after, "updated_at": now}
    if payment_method_id is not None:
        values["payment_method_id"] = payment_method_id
    result = await conn.execute(
        update(payments)
        .where(
            payments.c.id == payment.id,
            payments.c.customer_id == payment.customer_id,
            payments.c.status.in_(tuple(before)),
        )
        .values(**values)
    )
    return bool(result.rowcount == 1)


async def take_over(conn: AsyncConnection, payment: Payment, now: datetime) -> bool:
    """Resume a payment whose work stopped (`payment` as read): True for exactly one caller."""
    result = await conn.execute(
        update(payments)
        .where(payments.c.id == payment.id, payments.c.updated_at == payment.updated_at)
        .values(updated_at=now)
    )
    return bool(result.rowcount == 1)


async def set_status(
    conn: AsyncConnection,
    payment_id: str,
    status: PaymentStatus,
    now: datetime,
    *,
    only_from: Iterable[PaymentStatus],
) -> bool:
    result = await conn.execute(
        update(payments)
        .where(payments.c.id == payment_id, payments.c.status.in_(tuple(only_from)))
        .values(status=status, updated_at=now)
    )
    return bool(result.rowcount == 1)


async def update_charge(
    conn: AsyncConnection,
    charge: ChargeRecord,
    status: ChargeStatus,
    now: datetime,
    *,
    error_code: str | None = None,
    payment_intent_id: str | None = None,
    sent_at: datetime | None = None,
    checkout_session_id: str | None = None,
    refund_id: str | None = None,
    cancel_intent: str | None = None,
) -> bool:
    """Record a charge's new status, only if it is still in the status it was read in."""
    values: dict[str, object] = {
        "status": status,
        "error_code": error_code,
        "updated_at": now,
        "cancel_intent": cancel_intent,
    }
    if payment_intent_id is not None:
        values["payment_intent_id"] = payment_intent_id
    if sent_at is not None:
        values["sent_at"] = sent_at
    if checkout_session_id is not None:
        values["checkout_session_id"] = checkout_session_id
    if refund_id is not None:
        values["refund_id"] = refund_id
    result = await conn.execute(
        update(payment_charges)
        .where(
            payment_charges.c.payment_id == charge.payment_id,
            payment_charges.c.position == charge.position,
            payment_charges.c.status == charge.status,
        )
        .values(**values)
    )
    return bool(result.rowcount == 1)


async def clear_cancel_intent(conn: AsyncConnection, charge: ChargeRecord) -> None:
    await conn.execute(
        update(payment_charges)
        .where(
            payment_charges.c.payment_id == charge.payment_id,
            payment_charges.c.position == charge.position,
            payment_charges.c.cancel_intent == charge.cancel_intent,
        )
        .values(cancel_intent=None)
    )


async def count_attach_try(conn: AsyncConnection, charge: ChargeRecord) -> int:
    where = (
        payment_charges.c.payment_id == charge.payment_id,
        payment_charges.c.position == charge.position,
    )
    await conn.execute(
        update(payment_charges)
        .where(*where)
        .values(attach_tries=payment_charges.c.attach_tries + 1)
    )
    found = await conn.execute(select(payment_charges.c.attach_tries).where(*where))
    return int(found.scalar_one())


async def with_status(
    conn: AsyncConnection,
    statuses: Iterable[ChargeStatus],
    *,
    invoice_id: str | None = None,
    invoice_ids: Sequence[str] | None = None,
    payment_intent_id: str | None = None,
    refund_id: str | None = None,
    checkout_session_id: str | None = None,
    updated_before: datetime | None = None,
    limit: int | None = None,
) -> list[ChargeRecord]:
    """Charges in one of `statuses`, narrowed by what else is given."""
    query = (
        select(payment_charges, payments.c.customer_id)
        .join(payments, payments.c.id == payment_charges.c.payment_id)
        .where(payment_charges.c.status.in_(tuple(statuses)))
    )
    if invoice_id is not None:
        query = query.where(payment_charges.c.invoice_id == invoice_id)
    if invoice_ids is not None:
        query = query.where(payment_charges.c.invoice_id.in_(tuple(invoice_ids)))
    if payment_intent_id is not None:
        query = query.where(payment_charges.c.payment_intent_id == payment_intent_id)
    if refund_id is not None:
        query = query.where(payment_charges.c.refund_id == refund_id)
    if checkout_session_id is not None:
        query = query.where(payment_charges.c.checkout_session_id == checkout_session_id)
    if updated_before is not None:
        query = query.where(payment_charges.c.updated_at < updated_before)
    if limit is not None:
        query = query.order_by(payment_charges.c.updated_at).limit(limit)
    return [charge_from_row(r) for r in (await conn.execute(query)).all()]


# An invoice's charges in given states, built once (every view of an invoice's page asks).
_ON_INVOICE = (
    select(payment_charges, payments.c.customer_id)
    .join(payments, payments.c.id == payment_charges.c.payment_id)
    .where(payment_charges.c.invoice_id == bindparam("invoice_id"))
    .where(payment_charges.c.status.in_(bindparam("statuses", expanding=True)))
)


async def on_invoice(
    engine: AsyncEngine, invoice_id: str, statuses: tuple[ChargeStatus, ...]
) -> list[ChargeRecord]:
    """The invoice's charges in one of `statuses`, read as the session is (`read_all`: on
    SQLite on the loop's own thread, kept until the next change)."""
    rows = await read_all(
        engine,
        _ON_INVOICE,
        {"invoice_id": invoice_id, "statuses": list(statuses)},
        keep_as=("charges_on_invoice", invoice_id, statuses),
    )
    return [charge_from_row(r) for r in rows]


async def left_intents(conn: AsyncConnection, *, limit: int) -> list[ChargeRecord]:
    rows = await conn.execute(
        select(payment_charges, payments.c.customer_id)
        .join(payments, payments.c.id == payment_charges.c.payment_id)
        .where(payment_charges.c.cancel_intent.is_not(None))
        .order_by(payment_charges.c.updated_at)
        .limit(limit)
    )
    return [charge_from_row(r) for r in rows.all()]


async def purge(conn: AsyncConnection, *, unpaid_before: datetime, done_before: datetime) -> int:
    """Forget payments never paid (shown and left) and old finished ones; never one whose
    money is still to be placed (`lifecycle.MONEY_TO_PLACE`) or that left a PaymentIntent to
    cancel."""
    unfinished = select(payment_charges.c.payment_id).where(
        payment_charges.c.status.in_(("unattached", "refund_due", "refund_pending"))
        | payment_charges.c.cancel_intent.is_not(None)
    )
    stale = select(payments.c.id).where(
        (
            (
                payments.c.status.in_(("pending", "awaiting_method"))
                & (payments.c.updated_at < unpaid_before)
            )
            | ((payments.c.status == "done") & (payments.c.updated_at < done_before))
        )
        & payments.c.id.not_in(unfinished)
    )
    ids = [row.id for row in (await conn.execute(stale)).all()]
    if not ids:
        return 0
    await conn.execute(delete(payment_history).where(payment_history.c.payment_id.in_(ids)))
    await conn.execute(delete(payment_charges).where(payment_charges.c.payment_id.in_(ids)))
    await conn.execute(delete(payments).where(payments.c.id.in_(ids)))
    return len(ids)
