"""Every move of the state table, made in the database on both databases: each move the table
allows happens (with its history), each it does not is refused and changes nothing, and a
move from a state the charge has left does nothing."""

from __future__ import annotations

from collections.abc import AsyncIterator
from datetime import UTC, datetime, timedelta

import pytest
from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncEngine

from portal.billing import lifecycle
from portal.billing.lifecycle import CHARGE_STATUSES, PAYMENT_STATUSES, RefusedMove
from portal.billing.payments import Charge
from portal.billing.records import ChargeRecord, ChargeStatus, Payment, PaymentStatus
from portal.storage import migrate
from portal.storage.database import create_engine, transaction
from portal.storage.tables import payment_charges, payments

pytestmark = pytest.mark.anyio

NOW = datetime(2026, 12, 6, 9, 0, tzinfo=UTC)


@pytest.fixture
async def engine(database_url: str) -> AsyncIterator[AsyncEngine]:
    found = create_engine(database_url)
    await migrate.upgrade(found)
    yield found
    await found.dispose()


async def a_payment(
    engine: AsyncEngine, *, payment: PaymentStatus = "pending", charge: ChargeStatus = "pending"
) -> Payment:
    payment_id = await lifecycle.start(
        engine, "cus_1", "eur", [(Charge("in_1", "cus_1", "eur", 1000, "whole"), "print")], NOW
    )
    async with transaction(engine) as conn:
        await conn.execute(
            payments.update().where(payments.c.id == payment_id).values(status=payment)
        )
        await conn.execute(
            payment_charges.update()
            .where(payment_charges.c.payment_id == payment_id)
            .values(status=charge)
        )
    found = await lifecycle.find(engine, payment_id, "cus_1")
    assert found is not None
    return found


async def status_of(engine: AsyncEngine, charge: ChargeRecord) -> str:
    async with engine.connect() as conn:
        found = await conn.execute(
            select(payment_charges.c.status).where(
                payment_charges.c.payment_id == charge.payment_id
            )
        )
        return str(found.scalar_one())


async def test_every_charge_move_the_table_allows_happens_and_every_other_is_refused(
    engine: AsyncEngine,
) -> None:
    wrong: list[str] = []
    for before in CHARGE_STATUSES:
        for after in CHARGE_STATUSES:
            charge = (await a_payment(engine, charge=before)).charges[0]
            allowed = after in lifecycle.CHARGE_MOVES[before]
            try:
                moved = await lifecycle.move_now(engine, charge, after, NOW + timedelta(1))
            except RefusedMove:
                moved = None
                if allowed:
                    wrong.append(f"{before} -> {after} refused")
            else:
                if not allowed:
                    wrong.append(f"{before} -> {after} made")
            now = await status_of(engine, charge)
            if now != (after if allowed else before):
                wrong.append(f"{before} -> {after}: the row is {now}")
            if allowed and (moved is None or moved.status != after):
                wrong.append(f"{before} -> {after}: not answered as moved")
            if allowed:
                history = await lifecycle.history(engine, charge.payment_id)
                if history[-1][1:3] != (before, after):
                    wrong.append(f"{before} -> {after}: history {history}")
    assert wrong == []


async def test_a_charge_that_moved_meanwhile_is_not_moved_again(engine: AsyncEngine) -> None:
    charge = (await a_payment(engine, charge="processing")).charges[0]
    assert await lifecycle.move_now(engine, charge, "succeeded", NOW) is not None
    # A second caller, having read it `processing`, learns that it moved: nothing changes.
    assert await lifecycle.move_now(engine, charge, "failed", NOW) is None
    assert await status_of(engine, charge) == "succeeded"
    assert [h[1:3] for h in await lifecycle.history(engine, charge.payment_id)] == [
        ("processing", "succeeded")
    ]


async def test_every_payment_move_the_table_allows_happens_and_every_other_is_refused(
    engine: AsyncEngine,
) -> None:
    wrong: list[str] = []
    for before in PAYMENT_STATUSES:
        for after in PAYMENT_STATUSES:
            payment = await a_payment(engine, payment=before)
            allowed = after in lifecycle.PAYMENT_MOVES[before]
            try:
                claimed = await lifecycle.claim(
                    engine, payment, before=(before,), after=after, now=NOW
                )
            except RefusedMove:
                claimed = False
                if allowed:
                    wrong.append(f"{before} -> {after} refused")
            else:
                if not allowed:
                    wrong.append(f"{before} -> {after} made")
            found = await lifecycle.find(engine, payment.id, "cus_1")
            assert found is not None
            if found.status != (after if allowed else before) or claimed != allowed:
                wrong.append(f"{before} -> {after}: the payment is {found.status}")
    assert wrong == []


async def test_ending_a_payment_skips_its_charges_not_yet_tried(engine: AsyncEngine) -> None:
    payment = await a_payment(engine, payment="processing")
    await lifecycle.stop(engine, payment, NOW)
    found = await lifecycle.find(engine, payment.id, "cus_1")
    assert found is not None
    assert (found.status, found.charges[0].status) == ("done", "skipped")
