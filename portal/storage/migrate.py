"""Applying and checking migrations from code (`portal migrate`, start-up checks, tests).

Alembic is imported only to apply migrations or to read the migrations folder: the checks every
serving process makes (at start, `/readyz`, `portal doctor`) read Alembic's version table with
plain SQL and compare it with `HEAD`, so a serving process never loads Alembic (about 10 MB of
resident memory). tests/functional/storage/test_database.py checks `HEAD` against the folder.
"""

from __future__ import annotations

from pathlib import Path
from typing import TYPE_CHECKING

from sqlalchemy import Connection, text
from sqlalchemy.ext.asyncio import AsyncEngine

from portal.storage.database import transaction

if TYPE_CHECKING:
    from alembic.config import Config

MIGRATIONS = Path(__file__).parent / "migrations"
# The newest migration's revision: the schema this code expects.
HEAD = "0016"

# Any constant will do; it only has to be the same in every portal process.
_PG_MIGRATION_LOCK = 727_366_001


def _config(connection: Connection | None = None) -> Config:
    from alembic.config import Config

    config = Config()
    config.set_main_option("script_location", str(MIGRATIONS))
    config.attributes["connection"] = connection
    return config


def head_revision() -> str:
    """The newest revision in the migrations folder (what `HEAD` must say)."""
    from alembic.script import ScriptDirectory

    head = ScriptDirectory.from_config(_config()).get_current_head()
    assert head is not None
    return head


async def upgrade(engine: AsyncEngine, revision: str = "head") -> None:
    """Bring the database to the newest schema (or `revision`, for tests of a migration); safe
    to run from several processes at once."""

    from alembic import command

    def run(connection: Connection) -> None:
        if connection.dialect.name == "postgresql":
            # Two instances starting together must not both create the same tables.
            connection.execute(text("SELECT pg_advisory_xact_lock(:k)"), {"k": _PG_MIGRATION_LOCK})
        command.upgrade(_config(connection), revision)

    async with transaction(engine) as conn:
        await conn.run_sync(run)


async def current_revision(engine: AsyncEngine) -> str | None:
    """The revision the database is at (Alembic's `alembic_version` table), None when it has
    none yet."""

    def read(connection: Connection) -> str | None:
        if not connection.dialect.has_table(connection, "alembic_version"):
            return None
        rows = connection.execute(text("SELECT version_num FROM alembic_version")).all()
        return str(rows[0][0]) if len(rows) == 1 else None

    async with engine.connect() as conn:
        return await conn.run_sync(read)


async def is_current(engine: AsyncEngine) -> bool:
    return await current_revision(engine) == HEAD
