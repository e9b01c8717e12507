"""Wrong codes sent at the same moment are counted exactly, up to the lock, on SQLite and on
PostgreSQL; the right code after them is refused."""

from __future__ import annotations

import asyncio
from datetime import UTC, datetime

import pytest
from sqlalchemy import select

from portal.auth import tokens
from portal.storage import migrate
from portal.storage.database import create_engine, transaction
from portal.storage.tables import login_tokens

pytestmark = pytest.mark.anyio

SECRET = "s" * 40
BROWSER = "browser-1"


async def test_parallel_wrong_codes_lock_after_exactly_five(database_url: str) -> None:
    engine = create_engine(database_url)
    try:
        await migrate.upgrade(engine)
        now = datetime.now(UTC)
        async with transaction(engine) as conn:
            issued = await tokens.issue(
                conn,
                secret=SECRET,
                email="kunde@example.de",
                customer_ids=("cus_1",),
                browser_id=BROWSER,
                locale="de",
                now=now,
            )
        wrong = "AAAA-AAAA" if issued.code != "AAAAAAAA" else "BBBB-BBBB"

        async def guess(code: str) -> tokens.Redemption:
            async with transaction(engine) as conn:
                return await tokens.redeem_code(
                    conn, secret=SECRET, browser_id=BROWSER, code=code, now=now
                )

        results = await asyncio.gather(*(guess(wrong) for _ in range(10)))
        outcomes = sorted(r.refusal or "ok" for r in results)
        assert "ok" not in outcomes
        assert outcomes.count("wrong_code") == tokens.MAX_CODE_ATTEMPTS - 1
        async with engine.connect() as conn:
            failed = (
                await conn.execute(
                    select(login_tokens.c.failed_attempts).where(login_tokens.c.id == issued.id)
                )
            ).scalar_one()
        assert failed == tokens.MAX_CODE_ATTEMPTS
        assert (await guess(issued.code)).refusal == "locked"
    finally:
        await engine.dispose()
