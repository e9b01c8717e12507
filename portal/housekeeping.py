"""Forgetting what is no longer needed: expired customer and staff sessions, sign-in tokens, old rate-limit
windows, payments that were shown and never paid, old webhook event ids, e-mails whose links
expired before they could be sent.

Each instance runs it every hour in the background (`run_periodically`), and `portal purge`
runs it once; the DELETEs are idempotent, so instances running it at the same time only repeat
each other's work.
"""

from __future__ import annotations

import asyncio
import logging
from datetime import UTC, datetime, timedelta

from sqlalchemy import delete
from sqlalchemy.ext.asyncio import AsyncEngine

from portal import ratelimit
from portal.account import email_change
from portal.auth import tokens
from portal.billing import records
from portal.identity import customer_sessions as sessions
from portal.identity import staff_sessions
from portal.mail import outbox
from portal.storage.database import transaction
from portal.storage.tables import charge_claims, staff_logins, webhook_events

log = logging.getLogger(__name__)

EVERY = timedelta(hours=1)
# A payment page left open for a day is planned from an invoice that may have changed anyway.
UNPAID_PAYMENTS_KEPT = timedelta(days=1)
# Finished payments keep their result page for a while (a bookmarked confirmation).
FINISHED_PAYMENTS_KEPT = timedelta(days=90)
# Stripe retries a delivery for up to three days; ids older than that cannot come again.
WEBHOOK_IDS_KEPT = timedelta(days=30)
RATE_WINDOWS_KEPT = timedelta(days=1)
# A charge's claim on its invoice whose lease ran out a day ago: its charge, if still unsettled,
# is past Stripe's idempotency keys (`charging.KEYS_LIVE`) and is read from Stripe's records
# without its claim anyway.
LAPSED_CLAIMS_KEPT = timedelta(days=1)


async def purge(engine: AsyncEngine, now: datetime) -> None:
    await sessions.purge_expired(engine, now)
    await staff_sessions.purge_expired(engine, now)
    await tokens.purge(engine, now)
    await ratelimit.purge(engine, now - RATE_WINDOWS_KEPT)
    async with transaction(engine) as conn:
        await records.purge(
            conn,
            unpaid_before=now - UNPAID_PAYMENTS_KEPT,
            done_before=now - FINISHED_PAYMENTS_KEPT,
        )
        await conn.execute(
            delete(webhook_events).where(webhook_events.c.received_at < now - WEBHOOK_IDS_KEPT)
        )
        await email_change.purge(conn, now - tokens.KEPT_AFTER_EXPIRY)
        await outbox.purge_expired(conn, now)
        await conn.execute(delete(staff_logins).where(staff_logins.c.expires_at < now))
        await conn.execute(
            delete(charge_claims).where(charge_claims.c.lease_until < now - LAPSED_CLAIMS_KEPT)
        )


async def run_periodically(engine: AsyncEngine) -> None:
    """Purge every hour until cancelled; a failure is logged and tried again next time."""
    while True:
        await asyncio.sleep(EVERY.total_seconds())
        try:
            await purge(engine, datetime.now(UTC))
        except Exception:
            log.exception("housekeeping failed; trying again in an hour")
