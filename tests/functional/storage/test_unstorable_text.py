"""Text neither database can store (a NUL, a lone surrogate) is refused before the driver sees
it, the same way on SQLite and on PostgreSQL, and its transaction keeps nothing."""

from __future__ import annotations

from collections.abc import AsyncIterator
from datetime import UTC, datetime

import pytest
from sqlalchemy import bindparam, func, select
from sqlalchemy.ext.asyncio import AsyncEngine

from portal.storage import migrate
from portal.storage.database import UnstorableText, create_engine, dispose, read_one, transaction
from portal.storage.tables import webhook_events

pytestmark = pytest.mark.anyio

UNSTORABLE = ["evt_\x00", "evt_\ud800", "Müller\x00"]


@pytest.fixture
async def engine(database_url: str) -> AsyncIterator[AsyncEngine]:
    found = create_engine(database_url)
    await migrate.upgrade(found)
    yield found
    await dispose(found)


def _event(event_id: str) -> dict[str, object]:
    return {"event_id": event_id, "type": "customer.updated", "received_at": datetime.now(UTC)}


async def _count(engine: AsyncEngine) -> int:
    async with engine.connect() as conn:
        found = await conn.execute(select(func.count()).select_from(webhook_events))
        return int(found.scalar_one())


@pytest.mark.parametrize("bad", UNSTORABLE)
async def test_a_write_of_unstorable_text_is_refused_and_its_transaction_keeps_nothing(
    engine: AsyncEngine, bad: str
) -> None:
    async def write() -> None:
        async with transaction(engine) as conn:
            await conn.execute(webhook_events.insert().values(_event("evt_before")))
            await conn.execute(webhook_events.insert().values(_event(bad)))

    with pytest.raises(UnstorableText):
        await write()
    assert await _count(engine) == 0


@pytest.mark.parametrize("bad", UNSTORABLE)
async def test_each_row_of_a_write_of_many_is_checked(engine: AsyncEngine, bad: str) -> None:
    async def write() -> None:
        async with transaction(engine) as conn:
            await conn.execute(webhook_events.insert(), [_event("evt_1"), _event(bad)])

    with pytest.raises(UnstorableText):
        await write()
    assert await _count(engine) == 0


@pytest.mark.parametrize("bad", UNSTORABLE)
async def test_a_lookup_of_unstorable_text_is_refused_on_every_way_of_reading(
    engine: AsyncEngine, bad: str
) -> None:
    query = select(webhook_events).where(webhook_events.c.event_id == bindparam("event_id"))

    async def read() -> None:
        async with engine.connect() as conn:
            await conn.execute(query, {"event_id": bad})

    with pytest.raises(UnstorableText):
        await read_one(engine, query, {"event_id": bad})  # SQLite's quick reads
    with pytest.raises(UnstorableText):
        await read()


async def test_text_beyond_ascii_is_stored_as_it_is(engine: AsyncEngine) -> None:
    text = "Müller & Söhne € 😀 \u202e\t"  # odd, but storable: what to refuse is for the forms
    async with transaction(engine) as conn:
        await conn.execute(webhook_events.insert().values(_event(text)))
    found = await read_one(engine, select(webhook_events.c.event_id))
    assert found is not None
    assert found.event_id == text
