"""Housekeeping on both databases: what has expired goes, what is still needed stays."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

import pytest
from sqlalchemy import func, insert, select

from portal import housekeeping
from portal.storage import migrate
from portal.storage.database import create_engine, transaction
from portal.storage.tables import (
    charge_claims,
    login_tokens,
    payment_charges,
    payments,
    rate_limits,
    sessions,
    webhook_events,
)

pytestmark = pytest.mark.anyio

NOW = datetime(2026, 11, 22, 12, 0, tzinfo=UTC)


def session(name: str, expires_at: datetime, last_seen_at: datetime) -> dict[str, object]:
    return {
        "id_hash": name,
        "email": "a@example.de",
        "accounts": "[]",
        "customer_id": "cus_1",
        "created_at": last_seen_at,
        "last_seen_at": last_seen_at,
        "expires_at": expires_at,
    }


def token(name: str, expires_at: datetime) -> dict[str, object]:
    return {
        "email": "a@example.de",
        "link_hash": name,
        "code_hash": name,
        "browser_hash": name,
        "customer_ids": "[]",
        "locale": "de",
        "created_at": expires_at - timedelta(minutes=10),
        "expires_at": expires_at,
    }


def payment(name: str, status: str, updated_at: datetime) -> dict[str, object]:
    return {
        "id": name,
        "customer_id": "cus_1",
        "currency": "eur",
        "status": status,
        "created_at": updated_at,
        "updated_at": updated_at,
    }


def charge(name: str, updated_at: datetime) -> dict[str, object]:
    return {
        "payment_id": name,
        "position": 0,
        "invoice_id": "in_1",
        "kind": "whole",
        "fingerprint": "f",
        "amount": 100,
        "status": "pending",
        "updated_at": updated_at,
    }


def claim(invoice_id: str, lease_until: datetime) -> dict[str, object]:
    return {
        "invoice_id": invoice_id,
        "payment_id": "pay",
        "position": 0,
        "claimed_at": lease_until - timedelta(minutes=3),
        "lease_until": lease_until,
    }


async def test_purge_forgets_only_what_has_expired(database_url: str) -> None:
    engine = create_engine(database_url)
    hour, day = timedelta(hours=1), timedelta(days=1)
    try:
        await migrate.upgrade(engine)
        async with transaction(engine) as conn:
            await conn.execute(
                insert(sessions),
                [
                    session("live", NOW + hour, NOW - timedelta(minutes=5)),
                    session("idle", NOW + hour, NOW - hour),
                    session("over", NOW - timedelta(seconds=1), NOW - timedelta(minutes=1)),
                ],
            )
            await conn.execute(
                insert(login_tokens), [token("fresh", NOW - hour), token("old", NOW - 2 * day)]
            )
            await conn.execute(
                insert(rate_limits),
                [
                    {"key": "k", "window_start": NOW - hour, "count": 1},
                    {"key": "k", "window_start": NOW - 2 * day, "count": 1},
                ],
            )
            shown = [
                payment("left", "pending", NOW - 2 * day),
                payment("open", "pending", NOW - hour),
                payment("paid-recently", "done", NOW - 10 * day),
                payment("paid-long-ago", "done", NOW - 100 * day),
                payment("stuck", "processing", NOW - 100 * day),  # needs a look, kept
            ]
            await conn.execute(insert(payments), shown)
            await conn.execute(
                insert(payment_charges),
                [charge(str(p["id"]), NOW) for p in shown],
            )
            await conn.execute(
                insert(charge_claims),
                [  # a lease running, one just over (a stopped process), one over for days
                    claim("in_running", NOW + 3 * timedelta(minutes=1)),
                    claim("in_lapsed", NOW - hour),
                    claim("in_forgotten", NOW - 2 * day),
                ],
            )
            await conn.execute(
                insert(webhook_events),
                [
                    {"event_id": "evt_new", "type": "t", "received_at": NOW - day},
                    {"event_id": "evt_old", "type": "t", "received_at": NOW - 31 * day},
                ],
            )
        await housekeeping.purge(engine, NOW)
        async with engine.connect() as conn:
            assert set((await conn.execute(select(sessions.c.id_hash))).scalars()) == {"live"}
            assert set((await conn.execute(select(login_tokens.c.link_hash))).scalars()) == {
                "fresh"
            }
            assert (await conn.execute(select(func.count()).select_from(rate_limits))).scalar() == 1
            assert set((await conn.execute(select(charge_claims.c.invoice_id))).scalars()) == {
                "in_running",
                "in_lapsed",
            }
            assert set((await conn.execute(select(payments.c.id))).scalars()) == {
                "open",
                "paid-recently",
                "stuck",
            }
            assert set((await conn.execute(select(payment_charges.c.payment_id))).scalars()) == {
                "open",
                "paid-recently",
                "stuck",
            }
            assert set((await conn.execute(select(webhook_events.c.event_id))).scalars()) == {
                "evt_new"
            }
    finally:
        await engine.dispose()
