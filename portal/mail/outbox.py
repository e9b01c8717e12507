"""The e-mail outbox: every message is stored before it is sent.

A message is written under a key that names what it is about (`signin:<token id>`, later
`reminder:<invoice>:<installment>:<step>`); the key is unique, so writing it twice stores it once.
Sending claims a row with a conditional UPDATE (a lease), so two processes never send the same row
at once; a failed send stays in the outbox with its error and is tried again later with growing
delays. SMTP and the database cannot commit together: a process killed after the server
accepted a message (its reply to DATA) and before `sent_at` is committed sends that message
again once its lease has passed, the one case of a message sent twice; a message is never lost.
Jobs stop between messages on SIGTERM (`portal send-reminders`), outside that window.
A message this server can never carry (an address needing SMTPUTF8, which it does not offer) is
not tried again: its row keeps the reason, and the log says it as an error.

Rows hold the message as it goes over SMTP (`messages.Outgoing`), so that `deliver`, which
stores a message and sends it at once, does no more than talk to the database and the server.
"""

from __future__ import annotations

import asyncio
import logging
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from email.message import EmailMessage

from sqlalchemy import delete, or_, select, update
from sqlalchemy.ext.asyncio import AsyncConnection, AsyncEngine

from portal.mail import messages
from portal.mail.messages import Outgoing
from portal.mail.smtp import MailDeliveryFailed, MailUndeliverable, send
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
BATCH = 100  # rows one round of sending reads
GIVE_UP_AFTER = 12  # attempts; the row stays, with its last error, for an operator to see


@dataclass(frozen=True)
class SendReport:
    sent: int
    failed: int  # stays in the outbox, for a later round
    taken: int = 0  # sent or being sent by another process meanwhile


async def enqueue(
    conn: AsyncConnection,
    *,
    key: str,
    message: EmailMessage | Outgoing,
    now: datetime,
    expires_at: datetime | None = None,
) -> int | None:
    """Store `message` under `key`; returns its id, or None when that key was stored before.

    A message with `expires_at` (a sign-in link's end) is not sent after it: late, it would
    only carry a dead link.
    """
    return await _store(conn, key, message, now, expires_at, claimed=False)


async def deliver(
    engine: AsyncEngine,
    smtp: SmtpSettings,
    *,
    key: str,
    message: Outgoing,
    expires_at: datetime | None = None,
) -> bool:
    """Store `message` under `key`, already claimed, and send it now; True when it went out.
    If it does not, it stays in the outbox like any other, for the next round to try again."""
    now = datetime.now(UTC)
    async with transaction(engine) as conn:
        outbox_id = await _store(conn, key, message, now, expires_at, claimed=True)
    if outbox_id is None:
        return False
    return await _send_claimed(engine, smtp, outbox_id, message, now)


async def _store(
    conn: AsyncConnection,
    key: str,
    message: EmailMessage | Outgoing,
    now: datetime,
    expires_at: datetime | None,
    *,
    claimed: bool,
) -> int | None:
    prepared = message if isinstance(message, Outgoing) else messages.prepare(message)
    inserted = await insert_once(
        conn,
        mail_outbox,
        {
            "dedupe_key": key,
            "recipient": ", ".join(prepared.recipients)[:320],
            "message": prepared.text,
            "created_at": now,
            "next_attempt_at": now + LEASE if claimed else now,
            "attempts": 1 if claimed else 0,
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


async def _claim(engine: AsyncEngine, outbox_id: int, now: datetime) -> str | None:
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
            .returning(mail_outbox.c.message)
        )
        stored = claimed.scalar_one_or_none()
    return None if stored is None else str(stored)


async def send_one(engine: AsyncEngine, smtp: SmtpSettings, outbox_id: int) -> bool:
    """Send one stored message now if nobody else is; True when it went out."""
    return await _send_row(engine, smtp, outbox_id) is True


async def _send_row(engine: AsyncEngine, smtp: SmtpSettings, outbox_id: int) -> bool | None:
    """True when the message went out, False when it failed, None when another process had
    it (or sent it) first."""
    now = datetime.now(UTC)
    stored = await _claim(engine, outbox_id, now)
    if stored is None:
        return None
    try:
        message = messages.from_stored(stored)
    except ValueError as exc:  # no sender or recipient: it can never go out
        await _give_up(engine, outbox_id, f"{type(exc).__name__}: {exc}")
        return False
    return await _send_claimed(engine, smtp, outbox_id, message, now)


async def _send_claimed(
    engine: AsyncEngine, smtp: SmtpSettings, outbox_id: int, message: Outgoing, now: datetime
) -> bool:
    try:
        await send(smtp, message)
    except MailUndeliverable as exc:
        await _give_up(engine, outbox_id, str(exc))
        return False
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


async def _give_up(engine: AsyncEngine, outbox_id: int, reason: str) -> None:
    """Never try this row again; it keeps why, for an operator to see."""
    async with transaction(engine) as conn:
        await conn.execute(
            update(mail_outbox)
            .where(mail_outbox.c.id == outbox_id)
            .values(attempts=GIVE_UP_AFTER, last_error=f"undeliverable: {reason}"[:1000])
        )
    log.error("e-mail %s can never be sent, given up: %s", outbox_id, reason)


async def send_due(
    engine: AsyncEngine,
    smtp: SmtpSettings,
    *,
    limit: int = BATCH,
    stop: Callable[[], bool] = lambda: False,
) -> SendReport:
    """Send whatever is due (new messages and retries whose delay has passed), at most `limit`;
    `stop` is asked before each message (a job asked to end finishes the one in hand)."""
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
    sent = failed = taken = 0
    for outbox_id in due:
        if stop():
            break
        outcome = await _send_row(engine, smtp, outbox_id)
        if outcome is None:
            taken += 1
        elif outcome:
            sent += 1
        else:
            failed += 1
    return SendReport(sent, failed, taken)


async def send_all_due(
    engine: AsyncEngine, smtp: SmtpSettings, *, stop: Callable[[], bool] = lambda: False
) -> SendReport:
    """`send_due` until nothing is due: a failed message waits for its retry delay, a row
    another process holds waits for its lease, so each batch is new rows only."""
    sent = failed = taken = 0
    while not stop():
        report = await send_due(engine, smtp, limit=BATCH, stop=stop)
        sent, failed, taken = sent + report.sent, failed + report.failed, taken + report.taken
        if report.sent + report.failed + report.taken < BATCH:
            break
    return SendReport(sent, failed, taken)


async def stored(conn: AsyncConnection, keys: Sequence[str]) -> set[str]:
    """Which of these keys the outbox holds already (queued or sent)."""
    if not keys:
        return set()
    found = await conn.execute(
        select(mail_outbox.c.dedupe_key).where(mail_outbox.c.dedupe_key.in_(keys))
    )
    return set(found.scalars())


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
