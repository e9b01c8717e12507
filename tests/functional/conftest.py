"""Fixtures for functional tests: the real portal, served over HTTP (see portal_support)."""

from collections.abc import Iterator

import pytest

from tests.functional.portal_support import Portal, portal

__all__ = ["portal"]


@pytest.fixture(autouse=True)
def _close_browsers(request: pytest.FixtureRequest) -> Iterator[None]:
    yield
    if "portal" in request.fixturenames:
        found: Portal = request.getfixturevalue("portal")
        found.close_browsers()
