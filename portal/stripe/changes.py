"""Per-customer change counters, moved by Stripe's webhooks.

Anything the portal keeps of a customer's Stripe data (`portal.stripe.cache`) remembers the
counter it was read at, and is stale once the counter has moved: an instance that did not receive
the webhook sees the change through the shared database.
"""

from __future__ import annotations

from datetime import datetime

from sqlalchemy import bindparam, select, update
from sqlalchemy.ext.asyncio import AsyncConnection, AsyncEngine

from portal.storage.database import insert_once, read_one
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


# Built once: read on every request that has not read the counter with its session (an
# invoice link's holder, support's view), see `version`.
_VERSION = select(customer_changes.c.version).where(
    customer_changes.c.customer_id == bindparam("customer_id")
)


async def version(engine: AsyncEngine, customer_id: str) -> int:
    """The customer's counter as committed now, kept until the next change anywhere, as the
    session is (`storage.database.read_one`: SQLite's `data_version`, PostgreSQL's notices)."""
    found = await read_one(
        engine, _VERSION, {"customer_id": customer_id}, keep_as=("customer_version", customer_id)
    )
    return int(found.version) if found is not None else 0
