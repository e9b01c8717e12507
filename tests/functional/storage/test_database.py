"""Storage against real databases: every test runs on SQLite and on PostgreSQL."""

from __future__ import annotations

import asyncio
import sqlite3
from datetime import UTC, datetime, timedelta, timezone
from pathlib import Path

import pytest
import sqlalchemy.exc
from alembic.autogenerate import compare_metadata
from alembic.runtime.migration import MigrationContext
from sqlalchemy import Connection, select, text

from portal.storage import database, migrate
from portal.storage.database import create_engine, dispose, insert_once, read_one, transaction
from portal.storage.tables import (
    mail_outbox,
    metadata,
    payment_charges,
    payments,
    webhook_events,
)

pytestmark = pytest.mark.anyio


async def test_migrations_reach_head_and_match_the_tables(database_url: str) -> None:
    engine = create_engine(database_url)
    try:
        assert await migrate.current_revision(engine) is None
        await migrate.upgrade(engine)
        assert await migrate.is_current(engine)

        def diff(conn: Connection) -> list[object]:
            return list(compare_metadata(MigrationContext.configure(conn), metadata))

        async with engine.connect() as conn:
            assert await conn.run_sync(diff) == []
    finally:
        await engine.dispose()


async def test_upgrade_twice_at_once_is_harmless(database_url: str) -> None:
    engine = create_engine(database_url)
    other = create_engine(database_url)
    try:
        await asyncio.gather(migrate.upgrade(engine), migrate.upgrade(other))
        assert await migrate.is_current(engine)
    finally:
        await engine.dispose()
        await other.dispose()


async def test_insert_once_lets_exactly_one_of_many_concurrent_callers_win(
    database_url: str,
) -> None:
    engine = create_engine(database_url)
    try:
        await migrate.upgrade(engine)

        async def record() -> bool:
            async with transaction(engine) as conn:
                return await insert_once(
                    conn,
                    webhook_events,
                    {"event_id": "evt_1", "type": "invoice.paid", "received_at": datetime.now(UTC)},
                )

        results = await asyncio.gather(*(record() for _ in range(8)))
        assert sorted(results) == [False] * 7 + [True]
        async with engine.connect() as conn:
            rows = (await conn.execute(select(webhook_events))).all()
        assert len(rows) == 1
    finally:
        await engine.dispose()


async def test_failed_transaction_leaves_nothing_behind(database_url: str) -> None:
    engine = create_engine(database_url)
    try:
        await migrate.upgrade(engine)

        async def record_then_fail() -> None:
            async with transaction(engine) as conn:
                await insert_once(
                    conn,
                    webhook_events,
                    {"event_id": "evt_2", "type": "x", "received_at": datetime.now(UTC)},
                )
                raise RuntimeError("handler failed")

        with pytest.raises(RuntimeError):
            await record_then_fail()
        async with engine.connect() as conn:
            assert (await conn.execute(select(webhook_events))).all() == []
    finally:
        await engine.dispose()


async def test_times_come_back_as_the_same_aware_utc_instant(database_url: str) -> None:
    engine = create_engine(database_url)
    try:
        await migrate.upgrade(engine)
        cest = timezone(timedelta(hours=2))
        sent = datetime(2026, 7, 1, 14, 30, 15, 123456, tzinfo=cest)
        async with transaction(engine) as conn:
            await conn.execute(
                mail_outbox.insert().values(
                    dedupe_key="k",
                    recipient="a@example.com",
                    message="Subject: x\n\nbody",
                    created_at=sent,
                    next_attempt_at=sent,
                )
            )
        async with engine.connect() as conn:
            row = (await conn.execute(select(mail_outbox))).one()
        assert row.created_at == sent
        assert row.created_at.tzinfo is UTC
        assert row.attempts == 0
    finally:
        await engine.dispose()


async def test_naive_times_are_refused(database_url: str) -> None:
    engine = create_engine(database_url)
    try:
        await migrate.upgrade(engine)
        with pytest.raises(Exception, match="naive datetime"):
            async with transaction(engine) as conn:
                await conn.execute(
                    webhook_events.insert().values(
                        event_id="evt_3", type="x", received_at=datetime(2026, 1, 1)
                    )
                )
    finally:
        await engine.dispose()


async def test_payment_attempts_become_one_charge_payments(database_url: str) -> None:
    engine = create_engine(database_url)
    now = datetime.now(UTC)
    try:
        await migrate.upgrade(engine, "0003")
        async with transaction(engine) as conn:
            await conn.execute(
                text(
                    "INSERT INTO payment_attempts (id, customer_id, invoice_id, kind, fingerprint,"
                    " currency, amount, status, created_at, updated_at) VALUES ('att_1', 'cus_1',"
                    " 'in_1', 'whole', 'fp', 'eur', 1200, 'succeeded', :now, :now)"
                ),
                {"now": now},
            )
        await migrate.upgrade(engine)
        async with engine.connect() as conn:
            (row,) = (await conn.execute(select(payments))).all()
            (part,) = (await conn.execute(select(payment_charges))).all()
        assert (row.id, row.customer_id, row.status) == ("att_1", "cus_1", "done")
        assert (part.payment_id, part.invoice_id, part.amount, part.status) == (
            "att_1",
            "in_1",
            1200,
            "succeeded",
        )
    finally:
        await engine.dispose()


async def test_charges_under_way_count_from_their_payments_creation(database_url: str) -> None:
    """0007 records when a charge's requests were first sent; charges under way before it get
    their payment's creation time, earlier than their first request (so never younger than
    they are, for the 24 hours Stripe keeps idempotency keys), and pending ones none."""
    engine = create_engine(database_url)
    created = datetime(2026, 11, 30, 8, 0, tzinfo=UTC)
    try:
        await migrate.upgrade(engine, "0006")
        async with transaction(engine) as conn:
            await conn.execute(
                payments.insert().values(
                    id="pay_1",
                    customer_id="cus_1",
                    currency="eur",
                    status="processing",
                    created_at=created,
                    updated_at=created + timedelta(hours=1),
                )
            )
            for position, status in enumerate(("interrupted", "pending")):
                await conn.execute(
                    payment_charges.insert().values(
                        payment_id="pay_1",
                        position=position,
                        invoice_id="in_1",
                        kind="whole",
                        fingerprint="fp",
                        amount=1200,
                        status=status,
                        updated_at=created + timedelta(hours=1),
                    )
                )
        await migrate.upgrade(engine)
        async with engine.connect() as conn:
            rows = (
                await conn.execute(select(payment_charges).order_by(payment_charges.c.position))
            ).all()
        assert [(r.status, r.sent_at) for r in rows] == [
            ("interrupted", created),
            ("pending", None),
        ]
    finally:
        await engine.dispose()


@pytest.mark.parametrize("keep_as", [None, ("event", "evt_quick")])
async def test_a_quick_read_sees_each_commit_at_once_on_both_databases(
    database_url: str, keep_as: tuple[str, str] | None
) -> None:
    """`read_one` (the session of every request): on SQLite on the loop's own thread, through
    a second connection; whatever the way, it sees what was committed the moment before,
    a change and a delete included, and holds nothing open between reads; a row kept
    (`keep_as`) is given again only until the next commit."""
    engine = create_engine(database_url)
    try:
        await migrate.upgrade(engine)
        query = select(webhook_events.c.type).where(webhook_events.c.event_id == "evt_quick")
        assert await read_one(engine, query, keep_as=keep_as) is None
        now = datetime.now(UTC)
        async with transaction(engine) as conn:
            await conn.execute(
                webhook_events.insert().values(event_id="evt_quick", type="a", received_at=now)
            )
        found = await read_one(engine, query, keep_as=keep_as)
        assert found is not None
        assert found.type == "a"
        again = await read_one(engine, query, keep_as=keep_as)  # nothing committed since
        assert again is not None
        assert again.type == "a"
        async with transaction(engine) as conn:  # a writer is not kept waiting by the reads
            await conn.execute(webhook_events.update().values(type="b"))
        assert (await read_one(engine, query, keep_as=keep_as)).type == "b"  # type: ignore[union-attr]
        async with transaction(engine) as conn:
            await conn.execute(webhook_events.delete())
        assert await read_one(engine, query, keep_as=keep_as) is None
    finally:
        await dispose(engine)


async def test_a_quick_read_of_a_busy_sqlite_goes_the_usual_way(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """Should SQLite be busy for the loop's own connection, the read waits in the driver's
    thread instead, so the loop never stalls on a lock."""
    engine = create_engine(f"sqlite+aiosqlite:///{tmp_path / 'busy.sqlite3'}")
    try:
        await migrate.upgrade(engine)
        quick = database._quick_reads(engine)
        assert quick is not None

        def busy(*_args: object, **_kwargs: object) -> None:
            locked = sqlite3.OperationalError("database is locked")
            raise sqlalchemy.exc.OperationalError("SELECT 1", {}, locked)

        monkeypatch.setattr(quick, "connection", busy)
        with pytest.raises(sqlalchemy.exc.OperationalError):
            quick.connection()
        assert await read_one(engine, select(text("1"))) is not None
    finally:
        await dispose(engine)
