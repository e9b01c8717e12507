"""Rate limits kept in the database, so that they hold across every portal process.

Fixed windows: one counter row per key and window, incremented with a single upsert that
returns the new count, so concurrent requests in several processes count exactly.
"""

from __future__ import annotations

import hashlib
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from typing import Any, Literal

from sqlalchemy import delete
from sqlalchemy.ext.asyncio import AsyncConnection, AsyncEngine

from portal.storage.database import transaction
from portal.storage.tables import rate_limits


@dataclass(frozen=True)
class Limit:
    name: str
    count: int
    window: timedelta
    # What a refusal holds back, for its page to say: e-mails and sign-in tries ("nothing was
    # sent"), or payments and Stripe's pages ("nothing was charged").
    about: Literal["sending", "paying"] = "sending"


class RateLimited(Exception):
    """Too many attempts; `retry_after` is the number of seconds until the window ends."""

    def __init__(self, limit: Limit, retry_after: int) -> None:
        super().__init__(f"rate limit {limit.name} exceeded")
        self.limit = limit
        self.retry_after = retry_after


def _key(limit: Limit, subject: str) -> str:
    # Subjects are e-mail addresses and IP addresses: hashed so the table holds no personal data.
    digest = hashlib.sha256(subject.strip().lower().encode()).hexdigest()[:32]
    return f"{limit.name}:{digest}"


def _window_start(now: datetime, window: timedelta) -> datetime:
    seconds = int(window.total_seconds())
    epoch = int(now.timestamp())
    return datetime.fromtimestamp(epoch - epoch % seconds, UTC)


async def hit(conn: AsyncConnection, limit: Limit, subject: str, now: datetime) -> int:
    """Count one attempt and return the count in this window (including this one)."""
    values = {
        "key": _key(limit, subject),
        "window_start": _window_start(now, limit.window),
        "count": 1,
    }
    # Each dialect's module is loaded by its engine already: one database's, not both.
    stmt: Any  # PostgreSQL's or SQLite's INSERT, the same upsert on either
    if conn.dialect.name == "postgresql":
        from sqlalchemy.dialects.postgresql import insert

        stmt = insert(rate_limits)
    else:
        from sqlalchemy.dialects.sqlite import insert as sqlite_insert

        stmt = sqlite_insert(rate_limits)
    stmt = (
        stmt.values(values)
        .on_conflict_do_update(
            index_elements=[rate_limits.c.key, rate_limits.c.window_start],
            set_={"count": rate_limits.c.count + 1},
        )
        .returning(rate_limits.c.count)
    )
    return int((await conn.execute(stmt)).scalar_one())


async def check(
    engine: AsyncEngine, checks: list[tuple[Limit, str]], now: datetime | None = None
) -> None:
    """Count an attempt against every (limit, subject); raise `RateLimited` if any is exceeded.

    Every counter is incremented even when an earlier one is over, so that hammering one key
    keeps counting against the others too.
    """
    now = now or datetime.now(UTC)
    exceeded: Limit | None = None
    async with transaction(engine) as conn:
        for limit, subject in checks:
            if await hit(conn, limit, subject, now) > limit.count and exceeded is None:
                exceeded = limit
    if exceeded is not None:
        end = _window_start(now, exceeded.window) + exceeded.window
        raise RateLimited(exceeded, max(1, int((end - now).total_seconds())))


async def purge(engine: AsyncEngine, older_than: datetime) -> None:
    async with transaction(engine) as conn:
        await conn.execute(delete(rate_limits).where(rate_limits.c.window_start < older_than))
