"""Applying and checking migrations from code (`portal migrate`, start-up checks, tests)."""

from __future__ import annotations

from pathlib import Path

from alembic import command
from alembic.config import Config
from alembic.runtime.migration import MigrationContext
from alembic.script import ScriptDirectory
from sqlalchemy import Connection, text
from sqlalchemy.ext.asyncio import AsyncEngine

from portal.storage.database import transaction

MIGRATIONS = Path(__file__).parent / "migrations"

# Any constant will do; it only has to be the same in every portal process.
_PG_MIGRATION_LOCK = 727_366_001


def _config(connection: Connection | None = None) -> Config:
    config = Config()
    config.set_main_option("script_location", str(MIGRATIONS))
    config.attributes["connection"] = connection
    return config


def head_revision() -> str:
    head = ScriptDirectory.from_config(_config()).get_current_head()
    assert head is not None
    return head


async def upgrade(engine: AsyncEngine, revision: str = "head") -> None:
    """Bring the database to the newest schema (or `revision`, for tests of a migration); safe
    to run from several processes at once."""

    def run(connection: Connection) -> None:
        if connection.dialect.name == "postgresql":
            # Two instances starting together must not both create the same tables.
            connection.execute(text("SELECT pg_advisory_xact_lock(:k)"), {"k": _PG_MIGRATION_LOCK})
        command.upgrade(_config(connection), revision)

    async with transaction(engine) as conn:
        await conn.run_sync(run)


async def current_revision(engine: AsyncEngine) -> str | None:
    def read(connection: Connection) -> str | None:
        return MigrationContext.configure(connection).get_current_revision()

    async with engine.connect() as conn:
        return await conn.run_sync(read)


async def is_current(engine: AsyncEngine) -> bool:
    return await current_revision(engine) == head_revision()
