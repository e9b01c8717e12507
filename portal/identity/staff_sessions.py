"""Staff sessions: their own cookie and table, shorter than a customer's (15 minutes idle, 8
hours at most), and the one place an impersonation lives.

Viewing the portal as a customer is a state of the *staff* session (whom, until when), never a
customer session: ending it, signing out or letting it expire leaves nothing behind in the
browser that a customer signing in there could inherit.
"""

from __future__ import annotations

import json
import secrets
from dataclasses import dataclass
from datetime import datetime, timedelta

from sqlalchemy import delete, select, update
from sqlalchemy.ext.asyncio import AsyncConnection, AsyncEngine

from portal.signing import digest
from portal.storage.database import transaction
from portal.storage.tables import staff_sessions

IDLE_TIMEOUT = timedelta(minutes=15)
ABSOLUTE_TIMEOUT = timedelta(hours=8)
IMPERSONATION = timedelta(minutes=30)
# Starting to view as a customer needs a sign-in at the provider no older than this.
FRESH_LOGIN = timedelta(minutes=15)
TOUCH_AFTER = timedelta(minutes=1)


@dataclass(frozen=True)
class StaffMember:
    issuer: str
    subject: str
    email: str  # lower-cased
    name: str | None
    email_verified: bool = False
    groups: tuple[str, ...] = ()

    def claims(self, groups_claim: str) -> dict[str, object]:
        """What the staff rule looks at, as the ID token said at sign-in."""
        return {
            "email": self.email,
            "email_verified": self.email_verified,
            groups_claim: list(self.groups),
        }


@dataclass(frozen=True)
class Impersonation:
    customer_id: str
    customer_name: str | None
    customer_locale: str | None
    ends_at: datetime


@dataclass(frozen=True)
class StaffSession:
    id_hash: str
    member: StaffMember
    auth_time: datetime
    expires_at: datetime
    impersonation: Impersonation | None

    def login_is_fresh(self, now: datetime) -> bool:
        return now - self.auth_time <= FRESH_LOGIN


async def create(
    conn: AsyncConnection, member: StaffMember, *, auth_time: datetime, now: datetime
) -> str:
    raw_id = secrets.token_urlsafe(32)
    await conn.execute(
        staff_sessions.insert().values(
            id_hash=digest(raw_id),
            issuer=member.issuer,
            subject=member.subject,
            email=member.email.lower(),
            name=member.name,
            groups=json.dumps(list(member.groups)),
            email_verified=int(member.email_verified),
            auth_time=auth_time,
            created_at=now,
            last_seen_at=now,
            expires_at=now + ABSOLUTE_TIMEOUT,
        )
    )
    return raw_id


async def load(engine: AsyncEngine, raw_id: str, now: datetime) -> StaffSession | None:
    """The live staff session for a cookie value; an impersonation past its end is ended."""
    id_hash = digest(raw_id)
    async with engine.connect() as conn:
        row = (
            await conn.execute(select(staff_sessions).where(staff_sessions.c.id_hash == id_hash))
        ).one_or_none()
    if row is None:
        return None
    if row.expires_at <= now or row.last_seen_at + IDLE_TIMEOUT <= now:
        await end(engine, raw_id)
        return None
    if now - row.last_seen_at >= TOUCH_AFTER:
        async with transaction(engine) as conn:
            await conn.execute(
                update(staff_sessions)
                .where(staff_sessions.c.id_hash == id_hash)
                .values(last_seen_at=now)
            )
    impersonation = None
    if row.customer_id and row.impersonation_ends_at:
        impersonation = Impersonation(
            row.customer_id, row.customer_name, row.customer_locale, row.impersonation_ends_at
        )
    return StaffSession(
        id_hash=row.id_hash,
        member=StaffMember(
            row.issuer,
            row.subject,
            row.email,
            row.name,
            bool(row.email_verified),
            tuple(json.loads(row.groups)),
        ),
        auth_time=row.auth_time,
        expires_at=row.expires_at,
        impersonation=impersonation,
    )


async def start_impersonation(
    engine: AsyncEngine,
    session: StaffSession,
    *,
    customer_id: str,
    customer_name: str | None,
    customer_locale: str | None,
    now: datetime,
) -> datetime:
    ends_at = min(now + IMPERSONATION, session.expires_at)
    async with transaction(engine) as conn:
        await conn.execute(
            update(staff_sessions)
            .where(staff_sessions.c.id_hash == session.id_hash)
            .values(
                customer_id=customer_id,
                customer_name=customer_name,
                customer_locale=customer_locale,
                impersonation_ends_at=ends_at,
            )
        )
    return ends_at


async def end_impersonation(engine: AsyncEngine, session: StaffSession) -> None:
    async with transaction(engine) as conn:
        await conn.execute(
            update(staff_sessions)
            .where(staff_sessions.c.id_hash == session.id_hash)
            .values(
                customer_id=None,
                customer_name=None,
                customer_locale=None,
                impersonation_ends_at=None,
            )
        )


async def end(engine: AsyncEngine, raw_id: str) -> None:
    async with transaction(engine) as conn:
        await conn.execute(delete(staff_sessions).where(staff_sessions.c.id_hash == digest(raw_id)))


async def purge_expired(engine: AsyncEngine, now: datetime) -> None:
    async with transaction(engine) as conn:
        await conn.execute(
            delete(staff_sessions).where(
                (staff_sessions.c.expires_at <= now)
                | (staff_sessions.c.last_seen_at <= now - IDLE_TIMEOUT)
            )
        )
