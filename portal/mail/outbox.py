"""The e-mail outbox: every message is stored before it is sent.

A message is written under a key that names what it is about (`signin:<token id>`, later
`reminder:<invoice>:<installment>:<step>`); the key is unique, so writing it twice stores it once.
Sending claims a row with a conditional UPDATE (a lease), so two processes never send the same row
at once; a failed send stays in the outbox with its error and is tried again later with growing
delays. A crash between sending and marking sent can at worst send a message twice, never lose it.
"""

from __future__ import annotations

import asyncio
import email
import email.policy
import logging
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from email.message import EmailMessage

from sqlalchemy import delete, or_, select, update
from sqlalchemy.ext.asyncio import AsyncConnection, AsyncEngine

from portal.mail.smtp import MailDeliveryFailed, send
from portal.settings import SmtpSettings
from portal.storage.database import insert_once, transaction
from portal.storage.tables import mail_outbox

log = logging.getLogger(__name__)

LEASE = timedelta(minutes=2)
RETRY_DELAYS = (
    timedelta(minutes=1),
    timedelta(minutes=5),
    timedelta(minutes=30),
    timedelta(hours=2),
)
GIVE_UP_AFTER = 12  # attempts; the row stays, with its last error, for an operator to see


@dataclass(frozen=True)
class SendReport:
    sent: int
    failed: int


async def enqueue(
    conn: AsyncConnection,
    *,
    key: str,
    message: EmailMessage,
    now: datetime,
    expires_at: datetime | None = None,
) -> int | None:
    """Store `message` under `key`; returns its id, or None when that key was stored before.

    A message with `expires_at` (a sign-in link's end) is not sent after it: late, it would
    only carry a dead link.
    """
    inserted = await insert_once(
        conn,
        mail_outbox,
        {
            "dedupe_key": key,
            "recipient": str(message["To"]),
            "message": message.as_string(),
            "created_at": now,
            "next_attempt_at": now,
            "expires_at": expires_at,
        },
    )
    if not inserted:
        return None
    return int(
        (
            await conn.execute(select(mail_outbox.c.id).where(mail_outbox.c.dedupe_key == key))
        ).scalar_one()
    )


def _retry_delay(attempts: int) -> timedelta:
    return RETRY_DELAYS[min(attempts, len(RETRY_DELAYS)) - 1]


async def _claim(engine: AsyncEngine, outbox_id: int, now: datetime) -> EmailMessage | None:
    async with transaction(engine) as conn:
        claimed = await conn.execute(
            update(mail_outbox)
            .where(
                mail_outbox.c.id == outbox_id,
                mail_outbox.c.sent_at.is_(None),
                mail_outbox.c.next_attempt_at <= now,
                mail_outbox.c.attempts < GIVE_UP_AFTER,
                or_(mail_outbox.c.expires_at.is_(None), mail_outbox.c.expires_at > now),
            )
            .values(next_attempt_at=now + LEASE, attempts=mail_outbox.c.attempts + 1)
            .returning(mail_outbox.c.message, mail_outbox.c.attempts)
        )
        row = claimed.one_or_none()
    if row is None:
        return None
    parsed = email.message_from_string(row.message, policy=email.policy.default)
    assert isinstance(parsed, EmailMessage)
    return parsed


async def send_one(engine: AsyncEngine, smtp: SmtpSettings, outbox_id: int) -> bool:
    """Send one stored message now if nobody else is; True when it went out."""
    now = datetime.now(UTC)
    message = await _claim(engine, outbox_id, now)
    if message is None:
        return False
    try:
        await send(smtp, message)
    except MailDeliveryFailed as exc:
        async with transaction(engine) as conn:
            attempts = (
                await conn.execute(
                    select(mail_outbox.c.attempts).where(mail_outbox.c.id == outbox_id)
                )
            ).scalar_one()
            await conn.execute(
                update(mail_outbox)
                .where(mail_outbox.c.id == outbox_id)
                .values(last_error=str(exc)[:1000], next_attempt_at=now + _retry_delay(attempts))
            )
        log.warning("e-mail %s not sent (attempt %s): %s", outbox_id, attempts, exc)
        return False
    async with transaction(engine) as conn:
        await conn.execute(
            update(mail_outbox)
            .where(mail_outbox.c.id == outbox_id)
            .values(sent_at=datetime.now(UTC), last_error=None)
        )
    return True


async def send_due(engine: AsyncEngine, smtp: SmtpSettings, *, limit: int = 100) -> SendReport:
    """Send whatever is due (new messages and retries whose delay has passed)."""
    now = datetime.now(UTC)
    async with engine.connect() as conn:
        due = (
            (
                await conn.execute(
                    select(mail_outbox.c.id)
                    .where(
                        mail_outbox.c.sent_at.is_(None),
                        mail_outbox.c.next_attempt_at <= now,
                        mail_outbox.c.attempts < GIVE_UP_AFTER,
                        or_(mail_outbox.c.expires_at.is_(None), mail_outbox.c.expires_at > now),
                    )
                    .order_by(mail_outbox.c.id)
                    .limit(limit)
                )
            )
            .scalars()
            .all()
        )
    sent = failed = 0
    for outbox_id in due:
        if await send_one(engine, smtp, outbox_id):
            sent += 1
        else:
            failed += 1
    return SendReport(sent, failed)


# While a portal runs, what could not be sent is tried again this often: a sign-in e-mail's
# retries (after 1 and 5 minutes) then come within its link's ten minutes.
SEND_EVERY = timedelta(seconds=30)


async def send_periodically(engine: AsyncEngine, smtp: SmtpSettings) -> None:
    """Send what is due every SEND_EVERY until cancelled; failures wait for the next round."""
    while True:
        await asyncio.sleep(SEND_EVERY.total_seconds())
        try:
            await send_due(engine, smtp)
        except Exception:
            log.exception("the outbox could not be worked through; trying again shortly")


async def purge_expired(conn: AsyncConnection, now: datetime) -> None:
    """Forget messages that expired unsent: their links are dead and will never go out."""
    await conn.execute(
        delete(mail_outbox).where(mail_outbox.c.sent_at.is_(None), mail_outbox.c.expires_at < now)
    )
