"""Changing the e-mail address: confirmed from the new address before anything changes, told to
the old address with a way back that stays with the owner.

The link sent to the new address carries a random token (256 bits); only its SHA-256 is stored.
It works once, for 10 minutes, and a newer request supersedes older ones, like a sign-in link.
Once it is used, the old address gets a notice with an undo link (its own random token, hashed
likewise, for a week).

Changes confirmed one after another, each while the one before can still be undone, form a
chain. Whoever holds a session can go on changing the address, and each change's undo link goes
to the address it replaced, so the second link of a chain may be the intruder's. What keeps the
owner in control (`undo_plan`):

- an undo link works only while the address at Stripe is still where its change, or a later
  change of its chain, put it (not after a change made elsewhere, e.g. in Stripe's Dashboard);
- it restores the address its change replaced and voids every later change of the chain with
  their undo links, so the first link of a chain restores the owner's address and nothing
  the intruder received can move it again;
- a later link used first leaves the earlier ones working.

One change or undo runs at a time per customer (`hold`): each reads Stripe's address, sets
another and records it, and two interleaved would record what Stripe no longer has.
"""

from __future__ import annotations

import secrets
from collections.abc import Sequence
from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Literal

from sqlalchemy import ColumnElement, delete, or_, select, update
from sqlalchemy.ext.asyncio import AsyncConnection

from portal.signing import digest
from portal.storage.database import insert_once
from portal.storage.tables import email_change_holds, email_changes
from portal.stripe import emails

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


async def replaced_address(
    conn: AsyncConnection, token: str, *, current: str | None, new_email: str
) -> str | None:
    """The address a change replaces: Stripe's current one, noted on the change before Stripe
    is asked to set the new one. When Stripe has the new one already, a try that stopped after
    setting it (its answer lost, say) noted the address it replaced: that one, not the new one,
    is told and can undo."""
    token_hash = digest(token)
    if same_address(current, new_email):
        noted = (
            await conn.execute(
                select(email_changes.c.old_email).where(email_changes.c.token_hash == token_hash)
            )
        ).scalar_one_or_none()
        if noted is not None:
            return str(noted)
    await conn.execute(
        update(email_changes)
        .where(email_changes.c.token_hash == token_hash, email_changes.c.consumed_at.is_(None))
        .values(old_email=current)
    )
    return current


def same_address(a: str | None, b: str | None) -> bool:
    """Stripe keeps an address as it was typed; one address in two spellings is still one
    (`portal.stripe.emails`)."""
    return a is not None and b is not None and emails.same(a, b)


async def confirm(
    conn: AsyncConnection, token: str, *, old_email: str | None, now: datetime
) -> str | None:
    """Use the link up and keep what the change replaced; for exactly one caller, the token of
    the undo link (None for everybody else, or when there was no old address to tell).

    The change joins the chain of the customer's last change when that one put the address it
    replaces and can still be undone."""
    token_hash = digest(token)
    customer = (
        await conn.execute(
            select(email_changes.c.customer_id).where(email_changes.c.token_hash == token_hash)
        )
    ).scalar_one_or_none()
    chain = token_hash
    if customer is not None and old_email is not None:
        last = (
            await conn.execute(
                select(email_changes.c.chain, email_changes.c.new_email)
                .where(
                    email_changes.c.customer_id == customer,
                    email_changes.c.chain.is_not(None),
                    email_changes.c.undone_at.is_(None),
                    email_changes.c.undo_expires_at > now,
                )
                .order_by(email_changes.c.consumed_at.desc())
                .limit(1)
            )
        ).one_or_none()
        if last is not None and same_address(last.new_email, old_email):
            chain = last.chain
    undo = secrets.token_urlsafe(32) if old_email else None
    result = await conn.execute(
        update(email_changes)
        .where(
            email_changes.c.token_hash == token_hash,
            email_changes.c.consumed_at.is_(None),
            email_changes.c.expires_at > now,
        )
        .values(
            consumed_at=now,
            old_email=old_email,
            undo_hash=digest(undo) if undo else None,
            undo_expires_at=now + UNDO_TTL if undo else None,
            chain=chain if undo else None,
        )
    )
    if result.rowcount != 1:
        raise ChangeGone()
    return undo


class ChangeGone(Exception):
    """The link was used meanwhile (a second click, another tab) or has expired."""


# --- undoing -------------------------------------------------------------------------------


@dataclass(frozen=True)
class ConfirmedChange:
    """A change of a chain, as recorded when it was confirmed."""

    token_hash: str
    customer_id: str
    old_email: str
    new_email: str
    undo_hash: str
    undo_expires_at: datetime
    undone_by: str | None
    chain: str


@dataclass(frozen=True)
class Undoable:
    """What an undo link would do: restore `old_email` in place of `current_email` (the address
    the chain put last), voiding `voids` (the link's change and the chain's later ones)."""

    customer_id: str
    old_email: str
    new_email: str
    current_email: str
    undo_hash: str
    voids: tuple[str, ...]


Refusal = Literal["unknown", "expired", "used", "voided", "moved"]


@dataclass(frozen=True)
class Refused:
    """Why an undo link does nothing: unknown, expired or already used (nobody to tell), or
    voided by an earlier link of its chain or outrun by a change made elsewhere (`moved`): the
    account's current address is told (`current_email`), since the one trying may be an
    intruder holding a later link."""

    reason: Refusal
    customer_id: str | None = None
    old_email: str | None = None
    current_email: str | None = None
    undo_hash: str | None = None

    @property
    def tell(self) -> bool:
        return self.reason in ("voided", "moved") and self.current_email is not None


def undo_plan(
    link: ConfirmedChange | None,
    chain: Sequence[ConfirmedChange],
    current_email: str | None,
    now: datetime,
) -> Undoable | Refused:
    """What using the undo link of `link` does, its chain (in order of confirmation) and the
    address Stripe has now being as they are."""
    if link is None:
        return Refused("unknown")
    if link.undone_by == link.undo_hash:
        return Refused("used", link.customer_id)
    refused = Refused("voided", link.customer_id, link.old_email, current_email, link.undo_hash)
    if link.undone_by is not None:
        return refused
    if link.undo_expires_at <= now:
        return Refused("expired", link.customer_id)
    position = next(i for i, change in enumerate(chain) if change.token_hash == link.token_hash)
    in_effect = [change for change in chain[position:] if change.undone_by is None]
    latest = in_effect[-1]
    if same_address(current_email, latest.new_email) or same_address(current_email, link.old_email):
        # The second: Stripe has the address back already (a try that stopped after setting
        # it); recording the undo is what is left to do.
        return Undoable(
            customer_id=link.customer_id,
            old_email=link.old_email,
            new_email=link.new_email,
            current_email=current_email or latest.new_email,
            undo_hash=link.undo_hash,
            voids=tuple(change.token_hash for change in in_effect),
        )
    return Refused("moved", link.customer_id, link.old_email, current_email, link.undo_hash)


async def undo_link(
    conn: AsyncConnection, undo_token: str
) -> tuple[ConfirmedChange | None, list[ConfirmedChange]]:
    """The change an undo link belongs to, and its chain in the order it was confirmed."""
    link = await _confirmed(conn, email_changes.c.undo_hash == digest(undo_token))
    if not link:
        return None, []
    return link[0], await _confirmed(conn, email_changes.c.chain == link[0].chain)


async def _confirmed(
    conn: AsyncConnection, condition: ColumnElement[bool]
) -> list[ConfirmedChange]:
    rows = (
        await conn.execute(
            select(email_changes)
            .where(condition, email_changes.c.undo_hash.is_not(None))
            .order_by(email_changes.c.consumed_at, email_changes.c.created_at)
        )
    ).all()
    return [
        ConfirmedChange(
            token_hash=row.token_hash,
            customer_id=row.customer_id,
            old_email=row.old_email,
            new_email=row.new_email,
            undo_hash=row.undo_hash,
            undo_expires_at=row.undo_expires_at,
            undone_by=row.undone_by,
            chain=row.chain or row.token_hash,
        )
        for row in rows
    ]


async def undo(conn: AsyncConnection, plan: Undoable, now: datetime) -> bool:
    """Record the undo, once: the link's change and the chain's later ones are voided, and so
    are changes asked for but not confirmed yet."""
    result = await conn.execute(
        update(email_changes)
        .where(email_changes.c.token_hash.in_(plan.voids), email_changes.c.undone_at.is_(None))
        .values(undone_at=now, undone_by=plan.undo_hash)
    )
    if result.rowcount != len(plan.voids):
        return False
    await conn.execute(
        update(email_changes)
        .where(
            email_changes.c.customer_id == plan.customer_id, email_changes.c.consumed_at.is_(None)
        )
        .values(consumed_at=now)
    )
    return True


# --- one at a time per customer --------------------------------------------------------------

# How long a second change or undo of the same customer waits for the first one.
WAIT = timedelta(seconds=4)


async def hold(
    conn: AsyncConnection, customer_id: str, holder: str, now: datetime, *, lasting: timedelta
) -> bool:
    """Take the customer for one change or undo; True for exactly one of any callers at once
    (a lease that ran out counts as free)."""
    values = {"holder": holder, "lease_until": now + lasting}
    result = await conn.execute(
        update(email_change_holds)
        .where(
            email_change_holds.c.customer_id == customer_id,
            (email_change_holds.c.lease_until <= now) | (email_change_holds.c.holder == holder),
        )
        .values(**values)
    )
    if result.rowcount == 1:
        return True
    return await insert_once(conn, email_change_holds, {"customer_id": customer_id, **values})


async def let_go(conn: AsyncConnection, customer_id: str, holder: str) -> None:
    await conn.execute(
        delete(email_change_holds).where(
            email_change_holds.c.customer_id == customer_id,
            email_change_holds.c.holder == holder,
        )
    )


async def purge(conn: AsyncConnection, before: datetime) -> None:
    """Forget changes whose links are long dead, keeping those that can still be undone, and
    the holds of changes that stopped midway."""
    await conn.execute(delete(email_change_holds).where(email_change_holds.c.lease_until < before))
    await conn.execute(
        delete(email_changes).where(
            email_changes.c.expires_at < before,
            or_(
                email_changes.c.undo_expires_at.is_(None), email_changes.c.undo_expires_at < before
            ),
        )
    )
