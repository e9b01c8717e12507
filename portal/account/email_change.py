"""Changing the e-mail address: confirmed from the new address before anything changes.

The link sent to the new address carries a random token (256 bits); only its SHA-256 is stored.
It works once, for 10 minutes, and a newer request supersedes older ones, like a sign-in link.
"""

from __future__ import annotations

import secrets
from dataclasses import dataclass
from datetime import datetime, timedelta

from sqlalchemy import delete, select, update
from sqlalchemy.ext.asyncio import AsyncConnection

from portal.auth.tokens import sha256
from portal.storage.tables import email_changes

TTL = timedelta(minutes=10)


@dataclass(frozen=True)
class EmailChange:
    customer_id: str
    new_email: str


async def request(conn: AsyncConnection, *, customer_id: str, new_email: str, now: datetime) -> str:
    """Record a change to confirm; returns the token for the link (never stored as such)."""
    await conn.execute(
        update(email_changes)
        .where(email_changes.c.customer_id == customer_id, email_changes.c.consumed_at.is_(None))
        .values(consumed_at=now)  # superseded
    )
    token = secrets.token_urlsafe(32)
    await conn.execute(
        email_changes.insert().values(
            token_hash=sha256(token),
            customer_id=customer_id,
            new_email=new_email,
            created_at=now,
            expires_at=now + TTL,
        )
    )
    return token


async def pending(conn: AsyncConnection, token: str, now: datetime) -> EmailChange | None:
    """The change a link asks for, while it can still be confirmed."""
    row = (
        await conn.execute(
            select(email_changes.c.customer_id, email_changes.c.new_email).where(
                email_changes.c.token_hash == sha256(token),
                email_changes.c.consumed_at.is_(None),
                email_changes.c.expires_at > now,
            )
        )
    ).one_or_none()
    return EmailChange(row.customer_id, row.new_email) if row else None


async def consume(conn: AsyncConnection, token: str, now: datetime) -> bool:
    """Use the link up; True for exactly one caller."""
    result = await conn.execute(
        update(email_changes)
        .where(
            email_changes.c.token_hash == sha256(token),
            email_changes.c.consumed_at.is_(None),
            email_changes.c.expires_at > now,
        )
        .values(consumed_at=now)
    )
    return bool(result.rowcount == 1)


async def purge(conn: AsyncConnection, before: datetime) -> None:
    await conn.execute(delete(email_changes).where(email_changes.c.expires_at < before))
