"""Changing the e-mail address: confirmed from the new address before anything changes, told to
the old address with a way back.

The link sent to the new address carries a random token (256 bits); only its SHA-256 is stored.
It works once, for 10 minutes, and a newer request supersedes older ones, like a sign-in link.
Once it is used, the old address gets a notice with an undo link (its own random token, hashed
likewise, for a week): someone who took over a session cannot move the account away for good,
since the owner can move it back, which also signs everybody out.
"""

from __future__ import annotations

import secrets
from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Any

from sqlalchemy import delete, or_, select, update
from sqlalchemy.ext.asyncio import AsyncConnection

from portal.signing import digest
from portal.storage.tables import email_changes

TTL = timedelta(minutes=10)
UNDO_TTL = timedelta(days=7)


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
            token_hash=digest(token),
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
                email_changes.c.token_hash == digest(token),
                email_changes.c.consumed_at.is_(None),
                email_changes.c.expires_at > now,
            )
        )
    ).one_or_none()
    return EmailChange(row.customer_id, row.new_email) if row else None


async def confirm(
    conn: AsyncConnection, token: str, *, old_email: str | None, now: datetime
) -> str | None:
    """Use the link up and keep what the change replaced; for exactly one caller, the token of
    the undo link (None for everybody else, or when there was no old address to tell)."""
    undo = secrets.token_urlsafe(32) if old_email else None
    result = await conn.execute(
        update(email_changes)
        .where(
            email_changes.c.token_hash == digest(token),
            email_changes.c.consumed_at.is_(None),
            email_changes.c.expires_at > now,
        )
        .values(
            consumed_at=now,
            old_email=old_email,
            undo_hash=digest(undo) if undo else None,
            undo_expires_at=now + UNDO_TTL if undo else None,
        )
    )
    if result.rowcount != 1:
        raise ChangeGone()
    return undo


class ChangeGone(Exception):
    """The link was used meanwhile (a second click, another tab) or has expired."""


@dataclass(frozen=True)
class Undoable:
    customer_id: str
    old_email: str
    new_email: str


def _undo_open(undo_token: str, now: datetime) -> list[Any]:
    return [
        email_changes.c.undo_hash == digest(undo_token),
        email_changes.c.undone_at.is_(None),
        email_changes.c.undo_expires_at > now,
    ]


async def undoable(conn: AsyncConnection, undo_token: str, now: datetime) -> Undoable | None:
    """The change an undo link can still take back."""
    row = (
        await conn.execute(
            select(
                email_changes.c.customer_id, email_changes.c.old_email, email_changes.c.new_email
            ).where(*_undo_open(undo_token, now))
        )
    ).one_or_none()
    return Undoable(row.customer_id, row.old_email, row.new_email) if row else None


async def undo(conn: AsyncConnection, undo_token: str, now: datetime) -> bool:
    """Take the change back, once; changes asked for since then stop working too."""
    row = (
        await conn.execute(
            update(email_changes)
            .where(*_undo_open(undo_token, now))
            .values(undone_at=now)
            .returning(email_changes.c.customer_id)
        )
    ).one_or_none()
    if row is None:
        return False
    await conn.execute(
        update(email_changes)
        .where(
            email_changes.c.customer_id == row.customer_id, email_changes.c.consumed_at.is_(None)
        )
        .values(consumed_at=now)
    )
    return True


async def purge(conn: AsyncConnection, before: datetime) -> None:
    """Forget changes whose links are long dead, keeping those that can still be undone."""
    await conn.execute(
        delete(email_changes).where(
            email_changes.c.expires_at < before,
            or_(
                email_changes.c.undo_expires_at.is_(None), email_changes.c.undo_expires_at < before
            ),
        )
    )
