"""What counts as text the databases cannot store (`portal.storage.database.unstorable`)."""

from __future__ import annotations

import subprocess
import sys

import pytest

from portal.storage import migrate
from portal.storage.database import unstorable


@pytest.mark.parametrize("value", ["\x00", "a\x00b", "\ud800", "x\udfff", "Müller\ud83d"])
def test_a_nul_or_a_lone_surrogate_is_unstorable(value: str) -> None:
    assert unstorable(value)


@pytest.mark.parametrize("value", ["", "cus_123", "Müller & Söhne", "😀", "\u202e", "\x01\x1f\x7f"])
def test_any_other_text_is_storable(value: str) -> None:
    assert not unstorable(value)


def test_the_schema_this_code_expects_is_the_newest_migration() -> None:
    # Serving processes compare the database with `HEAD` without loading Alembic.
    assert migrate.head_revision() == migrate.HEAD


# What a serving process imports only when it needs it: the migrations, the staff sign-in's
# OAuth and JOSE libraries, the tax ID checks, the QR codes of bank transfers and PostgreSQL's
# driver and dialect (on SQLite). Each takes megabytes of every process's memory.
DEFERRED = (
    "alembic",
    "authlib",
    "joserfc",
    "cryptography",
    "stdnum",
    "segno",
    "asyncpg",
    "sqlalchemy.dialects.postgresql",
)


def test_a_serving_process_loads_only_what_it_uses() -> None:
    """The start-up check, `/readyz` and `portal doctor` read the version table with plain SQL;
    Authlib and joserfc wait for the first staff sign-in, python-stdnum for the first tax ID,
    segno for the first QR code, asyncpg for a PostgreSQL database."""
    code = (
        "import sys, portal.app, portal.doctor, portal.health, portal.storage.migrate;"
        "print('\\n'.join(sorted(sys.modules)))"
    )
    loaded = subprocess.run(
        [sys.executable, "-c", code], capture_output=True, text=True, check=True
    ).stdout.split()
    found = sorted({d for d in DEFERRED for m in loaded if m == d or m.startswith(d + ".")})
    assert found == []
