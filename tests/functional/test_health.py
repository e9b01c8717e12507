"""`/readyz` says "not ready" when the database can be read but not written: every page writes
(sessions, sign-ins, payments), so such an instance must leave the load balancer."""

from __future__ import annotations

import asyncio
import sqlite3
import time
from pathlib import Path

import pytest
from sqlalchemy import make_url, text
from sqlalchemy.ext.asyncio import create_async_engine

from tests.conftest import make_settings
from tests.functional.app_support import portal_client


def test_ready_when_the_database_takes_writes(tmp_path: Path, database_url: str) -> None:
    with portal_client(make_settings(tmp_path, database_url=database_url)) as client:
        assert client.get("/readyz").json() == {"database": "ok"}


def test_a_locked_sqlite_database_is_not_ready_and_the_check_answers_soon(
    tmp_path: Path,
) -> None:
    settings = make_settings(tmp_path)
    with portal_client(settings) as client:
        assert client.get("/readyz").status_code == 200
        holder = sqlite3.connect(make_url(settings.database_url).database or "", timeout=0)
        holder.isolation_level = None
        holder.execute("BEGIN EXCLUSIVE")
        try:
            started = time.monotonic()
            response = client.get("/readyz")
            waited = time.monotonic() - started
        finally:
            holder.execute("ROLLBACK")
            holder.close()
        assert response.status_code == 503
        assert response.json() == {"database": "not writable"}
        assert waited < 5  # not the 30 s a request would wait for the lock
        assert client.get("/readyz").status_code == 200


def test_a_read_only_database_is_not_ready(tmp_path: Path, database_url: str) -> None:
    if database_url.startswith("sqlite"):
        pytest.skip("SQLite: a lock stands for read-only (root ignores file modes), above")
    url = make_url(database_url)

    async def read_only(on: bool) -> None:
        engine = create_async_engine(url.set(database="postgres"), isolation_level="AUTOCOMMIT")
        async with engine.connect() as conn:
            await conn.execute(
                text(
                    f'ALTER DATABASE "{url.database}" SET default_transaction_read_only = '
                    + ("on" if on else "off")
                )
            )
        await engine.dispose()

    settings = make_settings(tmp_path, database_url=database_url)
    with portal_client(settings):
        pass  # migrated while writable
    asyncio.run(read_only(True))
    try:
        with portal_client(settings) as client:
            response = client.get("/readyz")
    finally:
        asyncio.run(read_only(False))
    assert response.status_code == 503
    assert response.json() == {"database": "not writable"}
