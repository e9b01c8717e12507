"""Per-customer change counters, moved by Stripe's webhooks.

Anything the portal keeps of a customer's Stripe data (`portal.stripe.cache`) remembers the
counter it was read at, and is stale once the counter has moved: an instance that did not receive
the webhook sees the change through the shared database.
"""

from __future__ import annotations

from datetime import datetime

from sqlalchemy import select, update
from sqlalchemy.ext.asyncio import AsyncConnection

from portal.storage.database import insert_once
from portal.storage.tables import customer_changes


async def bump(conn: AsyncConnection, customer_id: str, now: datetime) -> None:
    moved = await conn.execute(
        update(customer_changes)
        .where(customer_changes.c.customer_id == customer_id)
        .values(version=customer_changes.c.version + 1, changed_at=now)
    )
    if moved.rowcount == 1:
        return
    inserted = await insert_once(
        conn, customer_changes, {"customer_id": customer_id, "version": 1, "changed_at": now}
    )
    if not inserted:  # another transaction inserted it meanwhile
        await bump(conn, customer_id, now)


async def version(conn: AsyncConnection, customer_id: str) -> int:
    found = await conn.execute(
        select(customer_changes.c.version).where(customer_changes.c.customer_id == customer_id)
    )
    return int(found.scalar() or 0)
