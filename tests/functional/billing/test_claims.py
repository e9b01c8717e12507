"""The claim on an invoice in the database, on both databases: one charge holds it at a time,
its lease lets another take over after a stopped process, and a charge that lost it may not
repeat its requests."""

from __future__ import annotations

import asyncio
from collections.abc import AsyncIterator
from datetime import UTC, datetime, timedelta

import pytest
from sqlalchemy.ext.asyncio import AsyncEngine

from portal.billing import claims
from portal.storage import migrate
from portal.storage.database import create_engine, transaction

pytestmark = pytest.mark.anyio

NOW = datetime(2026, 12, 1, 9, 0, tzinfo=UTC)
LEASE = timedelta(minutes=3)


@pytest.fixture
async def engine(database_url: str) -> AsyncIterator[AsyncEngine]:
    found = create_engine(database_url)
    await migrate.upgrade(found)
    yield found
    await found.dispose()


async def take(engine: AsyncEngine, payment: str, now: datetime = NOW) -> bool:
    async with transaction(engine) as conn:
        return await claims.take(conn, "in_1", payment, 0, now, lasting=LEASE)


async def test_of_many_at_once_exactly_one_takes_the_invoice(engine: AsyncEngine) -> None:
    taken = await asyncio.gather(*(take(engine, f"pay_{n}") for n in range(8)))
    assert sorted(taken) == [False] * 7 + [True]


async def test_the_holder_renews_and_others_wait_until_it_is_released(
    engine: AsyncEngine,
) -> None:
    assert await take(engine, "first")
    assert await take(engine, "first")  # its own: renewed
    assert not await take(engine, "second", NOW + timedelta(minutes=1))
    async with transaction(engine) as conn:
        await claims.release(conn, "in_1", "second", 0)  # not its claim: nothing happens
    assert not await take(engine, "second", NOW + timedelta(minutes=1))
    async with transaction(engine) as conn:
        await claims.release(conn, "in_1", "first", 0)
    assert await take(engine, "second", NOW + timedelta(minutes=1))


async def test_a_lapsed_lease_lets_another_charge_go_and_the_first_may_not_repeat(
    engine: AsyncEngine,
) -> None:
    assert await take(engine, "stopped")
    later = NOW + LEASE + timedelta(seconds=1)
    async with transaction(engine) as conn:  # nobody took it: still the first one's
        assert await claims.keep(conn, "in_1", "stopped", 0, later, lasting=LEASE)
    much_later = later + LEASE + timedelta(seconds=1)
    assert await take(engine, "next", much_later)
    async with transaction(engine) as conn:
        assert not await claims.keep(conn, "in_1", "stopped", 0, much_later, lasting=LEASE)
