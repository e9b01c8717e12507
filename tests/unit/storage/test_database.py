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


def test_a_serving_process_loads_neither_alembic_nor_authlib() -> None:
    """The start-up check, `/readyz` and `portal doctor` read the version table with plain SQL;
    Authlib waits for the first staff sign-in."""
    code = (
        "import sys, portal.app, portal.doctor, portal.health, portal.storage.migrate;"
        "print(sorted(m for m in sys.modules if m.split('.')[0] in ('alembic', 'authlib')))"
    )
    found = subprocess.run(
        [sys.executable, "-c", code], capture_output=True, text=True, check=True
    ).stdout
    assert found.strip() == "[]"
