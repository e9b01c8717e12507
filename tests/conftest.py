"""Fixtures shared by the whole suite: databases (SQLite and PostgreSQL) and settings."""

from __future__ import annotations

import asyncio
import os
import secrets
from collections.abc import Iterator
from pathlib import Path
from typing import TYPE_CHECKING

import pytest
from sqlalchemy import text
from sqlalchemy.engine import make_url
from sqlalchemy.ext.asyncio import create_async_engine

from portal.settings import Settings, parse_smtp_url

if TYPE_CHECKING:
    from tests.support.servers import SandboxUrls

POSTGRES_ENV = "PORTAL_TEST_POSTGRES_URL"
SANDBOX_KEY = "sk_test_portal"


@pytest.fixture(scope="session")
def anyio_backend() -> str:
    """Async tests (marked `anyio`) run on asyncio, which the portal is served on."""
    return "asyncio"


@pytest.fixture(scope="session")
def sandbox_urls() -> Iterator[SandboxUrls]:
    """The project's Stripe sandbox, served over real HTTP for the whole session, with 3-D
    Secure, Checkout and files on origins other than the API's, as at Stripe."""
    from stripe_sandbox.app import SandboxConfig
    from tests.support.servers import serve_sandbox

    with serve_sandbox(SandboxConfig()) as urls:
        yield urls


@pytest.fixture(scope="session")
def sandbox_url(sandbox_urls: SandboxUrls) -> str:
    """The sandbox's API base (what the portal's `stripe_api_base` points at)."""
    return sandbox_urls.api


def _postgres_admin_url() -> str | None:
    return os.environ.get(POSTGRES_ENV) or None


@pytest.fixture(scope="session")
def postgres_url() -> Iterator[str]:
    """A fresh, empty PostgreSQL database for this test session (dropped afterwards)."""
    admin = _postgres_admin_url()
    if admin is None:
        pytest.skip(
            f"PostgreSQL tests need {POSTGRES_ENV} (e.g. postgresql://postgres@127.0.0.1:5432/test)"
        )
    url = make_url(admin).set(drivername="postgresql+asyncpg")
    name = f"portal_test_{secrets.token_hex(4)}"

    async def admin_sql(sql: str) -> None:
        engine = create_async_engine(url, isolation_level="AUTOCOMMIT")
        async with engine.connect() as conn:
            await conn.execute(text(sql))
        await engine.dispose()

    asyncio.run(admin_sql(f'CREATE DATABASE "{name}"'))
    try:
        yield url.set(database=name).render_as_string(hide_password=False)
    finally:
        asyncio.run(admin_sql(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)'))


@pytest.fixture(params=["sqlite", pytest.param("postgresql", marks=pytest.mark.postgres)])
def database_url(request: pytest.FixtureRequest, tmp_path: Path) -> Iterator[str]:
    """Each storage test runs once on SQLite and once on PostgreSQL (skipped, saying why, when
    PORTAL_TEST_POSTGRES_URL is not set), each time on an empty database."""
    if request.param == "sqlite":
        yield f"sqlite+aiosqlite:///{tmp_path / 'portal.sqlite3'}"
        return
    url: str = request.getfixturevalue("postgres_url")
    yield url
    empty_postgres(url)


@pytest.fixture
def postgres_database_url(postgres_url: str) -> Iterator[str]:
    """The session's PostgreSQL database for one test (skipped, saying why, without
    PORTAL_TEST_POSTGRES_URL), emptied afterwards."""
    yield postgres_url
    empty_postgres(postgres_url)


def empty_postgres(url: str) -> None:
    async def empty() -> None:
        engine = create_async_engine(url, isolation_level="AUTOCOMMIT")
        async with engine.connect() as conn:
            await conn.execute(text("DROP SCHEMA public CASCADE"))
            await conn.execute(text("CREATE SCHEMA public"))
        await engine.dispose()

    asyncio.run(empty())


def make_settings(tmp_path: Path, **overrides: object) -> Settings:
    values: dict[str, object] = {
        "base_url": "http://127.0.0.1:8000",
        "secret_key": "test-secret-" + "x" * 40,
        "stripe_api_key": "sk_test_portal",
        "stripe_api_base": "http://127.0.0.1:12111",
        "stripe_webhook_secret": "whsec_test_secret_value",
        "stripe_max_network_retries": 0,
        # Tests change Stripe behind the portal's back (no webhooks): no cache unless a test
        # is about the cache.
        "stripe_cache_seconds": 0,
        "smtp": parse_smtp_url("smtp://127.0.0.1:2525?tls=none"),
        "mail_from": "Billing <billing@example.com>",
        "database_url": f"sqlite+aiosqlite:///{tmp_path / 'portal.sqlite3'}",
        "data_dir": tmp_path,
    }
    values.update(overrides)
    return Settings(**values)  # type: ignore[arg-type]
