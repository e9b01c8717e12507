from __future__ import annotations

from collections.abc import Iterator

import pytest

from tests.functional.portal_support import Portal
from tests.functional.staff.staff_support import StaffSetup, staff_portal


@pytest.fixture(
    scope="module", params=["sqlite", pytest.param("postgresql", marks=pytest.mark.postgres)]
)
def staff(
    request: pytest.FixtureRequest, sandbox_url: str, tmp_path_factory: pytest.TempPathFactory
) -> Iterator[StaffSetup]:
    """Each staff test module runs on SQLite and on PostgreSQL (skipped, saying why, without
    PORTAL_TEST_POSTGRES_URL): the audit trail and the staff tables are where storage differs."""
    postgres_url = (
        request.getfixturevalue("postgres_url") if request.param == "postgresql" else None
    )
    with staff_portal(
        tmp_path_factory.mktemp("staff"), sandbox_url, postgres_url=postgres_url
    ) as setup:
        yield setup


@pytest.fixture
def portal(staff: StaffSetup) -> Portal:
    return staff.portal
