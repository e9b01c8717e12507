"""At most one charge per invoice in flight, across processes and instances.

Two payment pages on one invoice (two tabs, "next installment" in one and "whole" in the other)
would otherwise each compare the invoice with what their customer saw and then charge: both
comparisons pass before either charge lands. So a charge first takes its invoice's row in
`charge_claims` (one conditional INSERT or UPDATE: exactly one caller wins), then re-reads the
invoice from Stripe and charges; the row goes when the charge is settled (`lifecycle.move`).
A second payment waits a moment for it (`WAIT`) and is otherwise refused (`busy`): nothing of it
is sent.

A claim carries a lease, so that a process stopped mid-charge does not block the invoice for
good. The lease outlasts every request a charge can make (`lease`): once it has run out, the
charge's requests have been answered or given up, and whatever they did shows in the invoice
the next payment re-reads. A charge repeats its own requests (same idempotency keys) only while
it still holds its claim; one whose claim went to another payment meanwhile is settled from
Stripe's records instead (`portal.billing.charging`), since repeating it after another charge
could charge twice.
"""

from __future__ import annotations

from datetime import datetime, timedelta

from sqlalchemy import delete, update
from sqlalchemy.ext.asyncio import AsyncConnection

from portal.storage.database import insert_once
from portal.storage.tables import charge_claims
from portal.stripe.client import longest

# How long a second payment on the same invoice waits for the first one's charge to settle
# before it is refused: a charge with a saved card takes about a second.
WAIT = timedelta(seconds=4)
# The most Stripe requests one charge makes (create, attach, confirm; or pay, then read the
# invoice's payments and their PaymentIntent).
REQUESTS_PER_CHARGE = 4
MARGIN = timedelta(minutes=1)


def lease(timeout_seconds: float, max_network_retries: int) -> timedelta:
    """How long a claim holds without being renewed: longer than all of one charge's requests
    can take, each tried `1 + max_network_retries` times for up to `timeout_seconds`."""
    return (
        longest(
            REQUESTS_PER_CHARGE, timeout=timeout_seconds, max_network_retries=max_network_retries
        )
        + MARGIN
    )


def held_by(payment_id: str, position: int) -> dict[str, object]:
    return {"payment_id": payment_id, "position": position}


async def take(
    conn: AsyncConnection,
    invoice_id: str,
    payment_id: str,
    position: int,
    now: datetime,
    *,
    lasting: timedelta,
) -> bool:
    """Claim the invoice for this charge; True for exactly one of any callers at once.

    Free (no row), lapsed (its lease ran out) or already this charge's: taken (the lease
    renewed). Held by another charge whose lease is running: not.
    """
    values = {**held_by(payment_id, position), "claimed_at": now, "lease_until": now + lasting}
    result = await conn.execute(
        update(charge_claims)
        .where(
            charge_claims.c.invoice_id == invoice_id,
            (charge_claims.c.lease_until <= now)
            | ((charge_claims.c.payment_id == payment_id) & (charge_claims.c.position == position)),
        )
        .values(**values)
    )
    if result.rowcount == 1:
        return True
    return await insert_once(conn, charge_claims, {"invoice_id": invoice_id, **values})


async def keep(
    conn: AsyncConnection,
    invoice_id: str,
    payment_id: str,
    position: int,
    now: datetime,
    *,
    lasting: timedelta,
) -> bool:
    """Renew this charge's claim, lease run out or not: True only if nobody took the invoice
    since (so no other charge can have been made on it meanwhile)."""
    result = await conn.execute(
        update(charge_claims)
        .where(
            charge_claims.c.invoice_id == invoice_id,
            charge_claims.c.payment_id == payment_id,
            charge_claims.c.position == position,
        )
        .values(lease_until=now + lasting)
    )
    return bool(result.rowcount == 1)


async def release(conn: AsyncConnection, invoice_id: str, payment_id: str, position: int) -> None:
    """The charge is settled: the invoice is free for the next one (if this charge held it)."""
    await conn.execute(
        delete(charge_claims).where(
            charge_claims.c.invoice_id == invoice_id,
            charge_claims.c.payment_id == payment_id,
            charge_claims.c.position == position,
        )
    )
