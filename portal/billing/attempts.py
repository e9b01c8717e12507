"""Payment attempts in the database: created when the pay page is shown, claimed once when the
customer presses "Pay", finished with Stripe's outcome.

Claiming is one conditional UPDATE (`status = 'pending'`), so of a double click, two tabs or a
resubmitted form exactly one request goes on to Stripe; the others show that attempt's result.
"""

from __future__ import annotations

import secrets
from dataclasses import dataclass
from datetime import datetime
from typing import Literal

from sqlalchemy import select, update
from sqlalchemy.ext.asyncio import AsyncConnection

from portal.billing.payments import Charge, PaymentKind
from portal.storage.tables import payment_attempts

Status = Literal["pending", "processing", "succeeded", "failed", "changed"]


@dataclass(frozen=True)
class Attempt:
    id: str
    customer_id: str
    invoice_id: str
    kind: PaymentKind
    fingerprint: str
    currency: str
    amount: int
    status: Status
    payment_method_id: str | None
    error_code: str | None

    def idempotency_key(self) -> str:
        return f"portal-payment-{self.id}"


async def create(conn: AsyncConnection, charge: Charge, fingerprint: str, now: datetime) -> str:
    attempt_id = secrets.token_urlsafe(24)
    await conn.execute(
        payment_attempts.insert().values(
            id=attempt_id,
            customer_id=charge.customer_id,
            invoice_id=charge.invoice_id,
            kind=charge.kind,
            fingerprint=fingerprint,
            currency=charge.currency,
            amount=charge.amount,
            status="pending",
            created_at=now,
            updated_at=now,
        )
    )
    return attempt_id


async def get(conn: AsyncConnection, attempt_id: str, customer_id: str) -> Attempt | None:
    """The attempt, if it belongs to this customer."""
    row = (
        await conn.execute(
            select(payment_attempts).where(
                payment_attempts.c.id == attempt_id, payment_attempts.c.customer_id == customer_id
            )
        )
    ).one_or_none()
    if row is None:
        return None
    return Attempt(
        row.id,
        row.customer_id,
        row.invoice_id,
        row.kind,
        row.fingerprint,
        row.currency,
        row.amount,
        row.status,
        row.payment_method_id,
        row.error_code,
    )


async def claim(
    conn: AsyncConnection, attempt_id: str, customer_id: str, payment_method_id: str, now: datetime
) -> bool:
    """Move a pending attempt to `processing`; True for exactly one caller."""
    result = await conn.execute(
        update(payment_attempts)
        .where(
            payment_attempts.c.id == attempt_id,
            payment_attempts.c.customer_id == customer_id,
            payment_attempts.c.status == "pending",
        )
        .values(status="processing", payment_method_id=payment_method_id, updated_at=now)
    )
    return bool(result.rowcount == 1)


async def finish(
    conn: AsyncConnection,
    attempt_id: str,
    status: Status,
    now: datetime,
    *,
    amount: int | None = None,
    error_code: str | None = None,
) -> None:
    values: dict[str, object] = {"status": status, "error_code": error_code, "updated_at": now}
    if amount is not None:
        values["amount"] = amount
    await conn.execute(
        update(payment_attempts).where(payment_attempts.c.id == attempt_id).values(**values)
    )


async def release(conn: AsyncConnection, attempt_id: str, now: datetime) -> None:
    """Back to pending after Stripe could not be reached: pressing "Pay" again repeats the same
    idempotent requests, so whatever Stripe did the first time is not done twice."""
    await conn.execute(
        update(payment_attempts)
        .where(payment_attempts.c.id == attempt_id, payment_attempts.c.status == "processing")
        .values(status="pending", updated_at=now)
    )
