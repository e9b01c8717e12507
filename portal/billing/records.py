"""Payments in the database: what the customer set out to pay, and what became of each charge.

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
from datetime import datetime, timedelta
from typing import Any, Literal

from sqlalchemy import Row, delete, select, update
from sqlalchemy.ext.asyncio import AsyncConnection

from portal.billing import claims
from portal.billing.payments import Charge, PaymentKind
from portal.storage.tables import payment_charges, payments

# pending: shown, not yet paid; awaiting_method: the customer is adding a method at Stripe;
# at_stripe: the customer is paying on Stripe's Checkout page (`portal.billing.at_stripe`);
# processing: charges under way; requires_action: the customer is confirming with their bank.
PaymentStatus = Literal[
    "pending", "awaiting_method", "at_stripe", "processing", "requires_action", "done"
]
ChargeStatus = Literal[
    "pending",
    "processing",  # requests sent to Stripe, answer not yet recorded
    "interrupted",  # Stripe could not be reached mid-way: to be repeated with the same keys
    "requires_action",
    "succeeded",
    "submitted",  # a SEPA debit on its way: Stripe settles it in a few days
    "failed",
    "changed",  # the invoice changed after the page was shown: not charged
    "skipped",  # not tried because an earlier charge of the payment failed
    # cut off so long ago that Stripe has forgotten its idempotency keys, and Stripe's records
    # show it did not go through: not repeated (a repeat would be a new charge)
    "lapsed",
    # not made: another payment's charge on the same invoice was under way (`claims`)
    "busy",
    # being paid on Stripe's Checkout page (its session in `checkout_session_id`)
    "at_stripe",
    # paid on Stripe's page, but the invoice had been paid another way meanwhile and could not
    # take it: the money was given back (refunded), or will be once it has arrived
    "refunded",
    "refund_due",
]
UNSETTLED: tuple[ChargeStatus, ...] = ("processing", "interrupted")
# While a charge is in one of these it keeps its invoice's claim (`portal.billing.claims`):
# its outcome is not known yet, or the customer's bank may still complete it.
HOLDS_CLAIM: tuple[ChargeStatus, ...] = ("pending", *UNSETTLED, "requires_action", "at_stripe")
# Waiting for the customer's bank: a 3-D Secure confirmation, or a debit being collected.
AT_THE_BANK: tuple[ChargeStatus, ...] = ("requires_action", "submitted")

# A charge "processing" for longer than this was left behind by a stopped process.
STALE_AFTER = timedelta(minutes=2)


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


def _charge(row: Row[Any]) -> ChargeRecord:
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
            select(payment_charges)
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
        tuple(_charge(c) for c in charges),
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
    conn: AsyncConnection, payment_id: str, status: PaymentStatus, now: datetime
) -> None:
    await conn.execute(
        update(payments).where(payments.c.id == payment_id).values(status=status, updated_at=now)
    )


async def update_charge(
    conn: AsyncConnection,
    charge: ChargeRecord,
    status: ChargeStatus,
    now: datetime,
    *,
    error_code: str | None = None,
    payment_intent_id: str | None = None,
    only_from: Iterable[ChargeStatus] | None = None,
    sent_at: datetime | None = None,
    checkout_session_id: str | None = None,
) -> bool:
    """Record a charge's new status; with `only_from`, only if it is still in one of those.
    A charge settled for good gives up its invoice's claim in the same transaction."""
    values: dict[str, object] = {"status": status, "error_code": error_code, "updated_at": now}
    if payment_intent_id is not None:
        values["payment_intent_id"] = payment_intent_id
    if sent_at is not None:
        values["sent_at"] = sent_at
    if checkout_session_id is not None:
        values["checkout_session_id"] = checkout_session_id
    query = update(payment_charges).where(
        payment_charges.c.payment_id == charge.payment_id,
        payment_charges.c.position == charge.position,
    )
    if only_from is not None:
        query = query.where(payment_charges.c.status.in_(tuple(only_from)))
    result = await conn.execute(query.values(**values))
    if result.rowcount != 1:
        return False
    if status not in HOLDS_CLAIM:
        await claims.release(conn, charge.invoice_id, charge.payment_id, charge.position)
    return True


async def awaiting_bank(conn: AsyncConnection, invoice_id: str) -> list[ChargeRecord]:
    """Charges on this invoice waiting for the customer's bank (`AT_THE_BANK`)."""
    rows = (
        await conn.execute(
            select(payment_charges).where(
                payment_charges.c.invoice_id == invoice_id,
                payment_charges.c.status.in_(AT_THE_BANK),
            )
        )
    ).all()
    return [_charge(r) for r in rows]


async def paid_by(conn: AsyncConnection, payment_intent_id: str) -> list[ChargeRecord]:
    """The charges a PaymentIntent pays that still wait for the customer's bank, or for the
    money to arrive so that it can be given back (`refund_due`)."""
    rows = (
        await conn.execute(
            select(payment_charges).where(
                payment_charges.c.payment_intent_id == payment_intent_id,
                payment_charges.c.status.in_((*AT_THE_BANK, "refund_due")),
            )
        )
    ).all()
    return [_charge(r) for r in rows]


async def on_checkout_session(conn: AsyncConnection, session_id: str) -> ChargeRecord | None:
    """The charge being paid on this Checkout Session, if it still is."""
    row = (
        await conn.execute(
            select(payment_charges).where(
                payment_charges.c.checkout_session_id == session_id,
                payment_charges.c.status == "at_stripe",
            )
        )
    ).one_or_none()
    return _charge(row) if row is not None else None


async def back_to_choosing(
    conn: AsyncConnection,
    charge: ChargeRecord,
    now: datetime,
    *,
    charge_from: ChargeStatus = "at_stripe",
) -> bool:
    """Nothing was paid on Stripe's page (the session expired, the customer chose another
    way, or it could not be opened: the charge still `processing`): the charge and its
    payment are as before "Pay", the invoice free for others. True for exactly one caller."""
    result = await conn.execute(
        update(payment_charges)
        .where(
            payment_charges.c.payment_id == charge.payment_id,
            payment_charges.c.position == charge.position,
            payment_charges.c.status == charge_from,
        )
        .values(status="pending", error_code=None, updated_at=now)
    )
    if result.rowcount != 1:
        return False
    await claims.release(conn, charge.invoice_id, charge.payment_id, charge.position)
    await conn.execute(
        update(payments)
        .where(payments.c.id == charge.payment_id, payments.c.status == "at_stripe")
        .values(status="pending", updated_at=now)
    )
    return True


async def collecting(conn: AsyncConnection, invoice_ids: Iterable[str]) -> list[ChargeRecord]:
    """Debits still being collected (`submitted`) on any of these invoices."""
    ids = tuple(invoice_ids)
    if not ids:
        return []
    rows = (
        await conn.execute(
            select(payment_charges).where(
                payment_charges.c.invoice_id.in_(ids), payment_charges.c.status == "submitted"
            )
        )
    ).all()
    return [_charge(r) for r in rows]


async def stop(conn: AsyncConnection, payment_id: str, now: datetime) -> None:
    """The payment is over: its charges not yet tried are not made."""
    await conn.execute(
        update(payment_charges)
        .where(payment_charges.c.payment_id == payment_id, payment_charges.c.status == "pending")
        .values(status="skipped", updated_at=now)
    )
    await set_status(conn, payment_id, "done", now)


async def purge(conn: AsyncConnection, *, unpaid_before: datetime, done_before: datetime) -> int:
    """Forget payments never paid (shown and left) and old finished ones."""
    stale = select(payments.c.id).where(
        (
            payments.c.status.in_(("pending", "awaiting_method"))
            & (payments.c.updated_at < unpaid_before)
        )
        | ((payments.c.status == "done") & (payments.c.updated_at < done_before))
    )
    ids = [row.id for row in (await conn.execute(stale)).all()]
    if not ids:
        return 0
    await conn.execute(delete(payment_charges).where(payment_charges.c.payment_id.in_(ids)))
    await conn.execute(delete(payments).where(payments.c.id.in_(ids)))
    return len(ids)
