"""Rows kept between requests on PostgreSQL (`storage.kept`), against a real server: kept while
this instance hears every change, forgotten when another instance commits one, and read from
the database again whenever the listener cannot be known to hear."""

from __future__ import annotations

import asyncio
import os
import time
from collections.abc import AsyncIterator, Callable
from dataclasses import dataclass
from datetime import UTC, datetime
from typing import Any

import pytest
from sqlalchemy import bindparam, event, select, text, update
from sqlalchemy.ext.asyncio import AsyncEngine

from portal.storage import kept as kept_rows
from portal.storage import migrate
from portal.storage.database import create_engine, dispose, listen, read_one, transaction
from portal.storage.tables import customer_changes

pytestmark = [
    pytest.mark.anyio,
    pytest.mark.parametrize("database_url", ["postgresql"], indirect=True),
]

VERSION = select(customer_changes.c.version).where(
    customer_changes.c.customer_id == bindparam("customer_id")
)


@dataclass
class Instance:
    engine: AsyncEngine
    listener: kept_rows.Listener
    task: asyncio.Task[None]
    queries: Callable[[], int]

    async def version(self) -> int:
        row = await read_one(
            self.engine, VERSION, {"customer_id": "cus_1"}, keep_as=("version", "cus_1")
        )
        return int(row.version) if row is not None else 0


def counted(engine: AsyncEngine) -> Callable[[], int]:
    """How many statements `engine` has sent so far."""
    sent = [0]

    def count(*_args: Any) -> None:
        sent[0] += 1

    event.listen(engine.sync_engine, "before_cursor_execute", count)
    return lambda: sent[0]


async def hears(instance: Instance, within: float = 2.0) -> None:
    deadline = time.monotonic() + within
    while not instance.listener.kept.current():
        assert time.monotonic() < deadline, "the listener did not start hearing"
        await asyncio.sleep(0.02)


async def caught_up(instance: Instance, within: float = 2.0) -> None:
    """Until a ping sent from now on has come back: every change committed before it has been
    heard (notices come in commit order), so a row read after this is kept until the next."""
    since = time.monotonic()
    deadline = since + within
    while instance.listener.kept.heard_until < since:
        assert time.monotonic() < deadline, "no ping came back"
        await asyncio.sleep(0.01)


@pytest.fixture
async def instance(database_url: str) -> AsyncIterator[Instance]:
    engine = create_engine(database_url)
    await migrate.upgrade(engine)
    async with transaction(engine) as conn:
        await conn.execute(
            customer_changes.insert().values(
                customer_id="cus_1", version=1, changed_at=datetime.now(UTC)
            )
        )
    listener = listen(engine)
    assert listener is not None
    task = asyncio.create_task(listener.run())
    found = Instance(engine, listener, task, counted(engine))
    await hears(found)
    yield found
    task.cancel()
    with pytest.raises(asyncio.CancelledError):
        await task
    await dispose(engine)


async def other_instance_bumps(database_url: str) -> float:
    """Another instance (another engine) moves the counter; returns when it committed."""
    other = create_engine(database_url)
    try:
        async with transaction(other) as conn:
            await conn.execute(
                update(customer_changes)
                .where(customer_changes.c.customer_id == "cus_1")
                .values(version=customer_changes.c.version + 1)
            )
        return time.monotonic()
    finally:
        await dispose(other)


async def test_a_kept_row_is_given_without_a_query_while_nothing_changes(
    instance: Instance,
) -> None:
    assert await instance.version() == 1
    before = instance.queries()
    for _ in range(20):
        assert await instance.version() == 1
    assert instance.queries() == before


async def test_another_instances_change_is_seen_within_a_second(
    instance: Instance, database_url: str
) -> None:
    assert await instance.version() == 1
    committed = await other_instance_bumps(database_url)
    while await instance.version() == 1:
        assert time.monotonic() - committed < 1.0, "the change went unheard"
        await asyncio.sleep(0.01)


async def test_this_instances_own_write_is_seen_at_once(instance: Instance) -> None:
    assert await instance.version() == 1
    async with transaction(instance.engine) as conn:
        await conn.execute(update(customer_changes).values(version=customer_changes.c.version + 1))
    assert await instance.version() == 2  # no waiting for the notice


async def test_a_lost_listening_connection_makes_every_read_go_to_the_database(
    instance: Instance, database_url: str
) -> None:
    assert await instance.version() == 1
    async with instance.engine.connect() as conn:
        await conn.execute(
            text(
                "SELECT pg_terminate_backend(pid) FROM pg_stat_activity"
                " WHERE application_name = :name"
            ),
            {"name": kept_rows.application_name(os.getpid())},
        )
    deadline = time.monotonic() + 1
    while instance.listener.kept.current():
        assert time.monotonic() < deadline, "the loss went unnoticed"
        await asyncio.sleep(0.01)
    # Meanwhile kept rows are not given: each read asks the database.
    before = instance.queries()
    await instance.version()
    await instance.version()
    assert instance.queries() >= before + 2
    # And the listener connects again, hearing again.
    await hears(instance, within=3.0)
    await other_instance_bumps(database_url)
    committed = time.monotonic()
    while await instance.version() < 2:
        assert time.monotonic() - committed < 1.0
        await asyncio.sleep(0.01)


async def test_a_silent_listener_stops_kept_rows_being_given(instance: Instance) -> None:
    """The connection hangs without closing (a network gone quiet): once no ping has come back
    for `STALE_AFTER`, rows are read again."""
    assert await instance.version() == 1
    instance.task.cancel()  # stops pinging without closing the way a loss does
    with pytest.raises(asyncio.CancelledError):
        await instance.task
    await asyncio.sleep(kept_rows.STALE_AFTER + 0.1)
    before = instance.queries()
    await instance.version()
    assert instance.queries() == before + 1
    instance.task = asyncio.create_task(instance.listener.run())  # for the fixture's cleanup


async def test_an_invoices_charges_are_kept_and_forgotten_when_another_instance_moves_one(
    instance: Instance, database_url: str
) -> None:
    """The invoice page's read of charges to place (`records.on_invoice`): kept while nothing
    changes, seen anew within a second once another instance writes a charge."""
    from portal.billing import records
    from portal.storage.tables import payment_charges, payments

    now = datetime.now(UTC)
    other = create_engine(database_url)
    try:
        async with transaction(other) as conn:
            await conn.execute(
                payments.insert().values(
                    id="pay_1",
                    customer_id="cus_1",
                    currency="eur",
                    status="done",
                    created_at=now,
                    updated_at=now,
                )
            )
        # The notice of that insert may come after a first read and forget what it kept.
        await caught_up(instance)
        assert await records.on_invoice(instance.engine, "in_1", ("unattached",)) == []
        before = instance.queries()
        assert await records.on_invoice(instance.engine, "in_1", ("unattached",)) == []
        assert instance.queries() == before  # kept
        async with transaction(other) as conn:
            await conn.execute(
                payment_charges.insert().values(
                    payment_id="pay_1",
                    position=0,
                    invoice_id="in_1",
                    kind="whole",
                    fingerprint="f",
                    amount=100,
                    status="unattached",
                    updated_at=now,
                )
            )
        committed = time.monotonic()
        while not await records.on_invoice(instance.engine, "in_1", ("unattached",)):
            assert time.monotonic() - committed < 1.0, "the new charge went unheard"
            await asyncio.sleep(0.01)
    finally:
        await dispose(other)
