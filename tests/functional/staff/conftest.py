from __future__ import annotations

from collections.abc import Iterator

import pytest

from tests.functional.portal_support import Portal
from tests.functional.staff.staff_support import StaffSetup, staff_portal


@pytest.fixture(scope="module")
def staff(sandbox_url: str, tmp_path_factory: pytest.TempPathFactory) -> Iterator[StaffSetup]:
    with staff_portal(tmp_path_factory.mktemp("staff"), sandbox_url) as setup:
        yield setup


@pytest.fixture
def portal(staff: StaffSetup) -> Portal:
    return staff.portal
