"""Server-side customer sessions: a database row, found by the hash of a random cookie value.

A session ends after 30 minutes without a request or 12 hours after sign-in, whichever comes
first, or on sign-out, which deletes the row (the cookie alone is then worthless). A new session
id is issued at every sign-in, so an id planted before sign-in never becomes a signed-in one.
"""

from __future__ import annotations

import functools
import json
import secrets
from dataclasses import dataclass, replace
from datetime import datetime, timedelta
from typing import Any

from sqlalchemy import Row, bindparam, delete, select, update
from sqlalchemy.ext.asyncio import AsyncConnection, AsyncEngine

from portal.signing import digest
from portal.storage.database import read_one, transaction
from portal.storage.tables import customer_changes, sessions
from portal.stripe import emails
from portal.stripe.cache import remember_version

IDLE_TIMEOUT = timedelta(minutes=30)
ABSOLUTE_TIMEOUT = timedelta(hours=12)
# Writing last_seen_at on every request would make every page view a database write.
TOUCH_AFTER = timedelta(minutes=1)


@dataclass(frozen=True)
class Account:
    """One customer this sign-in opened, as read from Stripe at sign-in (for names and the
    language without a Stripe call on every page)."""

    id: str
    name: str | None
    locales: tuple[str, ...] = ()


@dataclass(frozen=True)
class CustomerSession:
    id_hash: str
    email: str
    accounts: tuple[Account, ...]
    customer_id: str
    created_at: datetime
    last_seen_at: datetime
    expires_at: datetime

    @functools.cached_property
    def customer_ids(self) -> tuple[str, ...]:
        return tuple(a.id for a in self.accounts)

    @functools.cached_property
    def account(self) -> Account:
        return next(a for a in self.accounts if a.id == self.customer_id)


async def create(
    conn: AsyncConnection,
    *,
    email: str,
    accounts: tuple[Account, ...],
    customer_id: str,
    now: datetime,
) -> str:
    """Start a session; returns the raw id for the cookie (only its hash is stored)."""
    if customer_id not in {a.id for a in accounts}:
        raise ValueError("the active customer must be one of the session's customers")
    raw_id = secrets.token_urlsafe(32)
    await conn.execute(
        sessions.insert().values(
            id_hash=digest(raw_id),
            email=email,
            accounts=json.dumps(
                [{"id": a.id, "name": a.name, "locales": list(a.locales)} for a in accounts]
            ),
            customer_id=customer_id,
            created_at=now,
            last_seen_at=now,
            expires_at=now + ABSOLUTE_TIMEOUT,
        )
    )
    return raw_id


# The session of every request with the customer's change counter (one query instead of two:
# the page's Stripe reads check their cache against it, see portal.stripe.cache). Built once.
_WITH_VERSION = (
    select(sessions, customer_changes.c.version)
    .outerjoin(customer_changes, customer_changes.c.customer_id == sessions.c.customer_id)
    .where(sessions.c.id_hash == bindparam("id_hash"))
)


async def load(engine: AsyncEngine, raw_id: str, now: datetime) -> CustomerSession | None:
    """The live session for a cookie value, or None (unknown, idle too long, or too old)."""
    id_hash = digest(raw_id)
    row = await read_one(
        engine, _WITH_VERSION, {"id_hash": id_hash}, keep_as=("customer_session", id_hash)
    )
    if row is None:
        return None
    remember_version(row.customer_id, row.version or 0)
    if row.expires_at <= now or row.last_seen_at + IDLE_TIMEOUT <= now:
        await end(engine, raw_id)
        return None
    if now - row.last_seen_at >= TOUCH_AFTER:
        async with transaction(engine) as conn:
            await conn.execute(
                update(sessions).where(sessions.c.id_hash == id_hash).values(last_seen_at=now)
            )
        return replace(_session_of(row), last_seen_at=now)
    return _session_of(row)


@functools.lru_cache(maxsize=1024)
def _session_of(row: Row[Any]) -> CustomerSession:
    """The session a row holds; the same object for the same (kept) row, so that a kept page
    made with it finds it unchanged at a glance (`portal.pages`)."""
    return CustomerSession(
        id_hash=row.id_hash,
        email=row.email,
        accounts=tuple(
            Account(a["id"], a["name"], tuple(a["locales"])) for a in json.loads(row.accounts)
        ),
        customer_id=row.customer_id,
        created_at=row.created_at,
        last_seen_at=row.last_seen_at,
        expires_at=row.expires_at,
    )


async def switch_customer(engine: AsyncEngine, session: CustomerSession, customer_id: str) -> bool:
    """View another of the session's own customers; any other id is refused."""
    if customer_id not in session.customer_ids:
        return False
    async with transaction(engine) as conn:
        await conn.execute(
            update(sessions)
            .where(sessions.c.id_hash == session.id_hash)
            .values(customer_id=customer_id)
        )
    return True


async def end_for_customer(
    conn: AsyncConnection,
    customer_id: str,
    *,
    keep: str | None = None,
    kept_email: str | None = None,
    unless_email: str | None = None,
) -> int:
    """End every session that opened `customer_id`, but the one whose cookie value is `keep`
    (which goes on under `kept_email`, when given) and, when `unless_email` is given, those
    signed in under that address: after the account's address changed, sessions signed in
    under another one must not go on. Returns how many ended."""
    # Accounts are stored as JSON; LIKE narrows the rows to read, the JSON decides.
    rows = (
        await conn.execute(
            select(sessions.c.id_hash, sessions.c.accounts, sessions.c.email).where(
                sessions.c.accounts.contains(json.dumps(customer_id), autoescape=True)
            )
        )
    ).all()
    kept = digest(keep) if keep else None
    ended = [
        row.id_hash
        for row in rows
        if row.id_hash != kept
        and customer_id in (a["id"] for a in json.loads(row.accounts))
        and not (unless_email is not None and emails.same(row.email, unless_email))
    ]
    if ended:
        await conn.execute(delete(sessions).where(sessions.c.id_hash.in_(ended)))
    if kept is not None and kept_email is not None:
        await conn.execute(
            update(sessions).where(sessions.c.id_hash == kept).values(email=kept_email)
        )
    return len(ended)


async def end(engine: AsyncEngine, raw_id: str) -> None:
    async with transaction(engine) as conn:
        await conn.execute(delete(sessions).where(sessions.c.id_hash == digest(raw_id)))


async def purge_expired(engine: AsyncEngine, now: datetime) -> None:
    async with transaction(engine) as conn:
        await conn.execute(
            delete(sessions).where(
                (sessions.c.expires_at <= now) | (sessions.c.last_seen_at <= now - IDLE_TIMEOUT)
            )
        )
