"""Fixtures for functional tests: the real portal, served over HTTP (see portal_support)."""

from collections.abc import Iterator

import httpx
import pytest

from tests.functional.portal_support import Portal, portal, utf8_portal

__all__ = ["portal", "utf8_portal"]


@pytest.fixture(autouse=True)
def _close_browsers(request: pytest.FixtureRequest) -> Iterator[None]:
    yield
    if "portal" in request.fixturenames:
        found: Portal = request.getfixturevalue("portal")
        found.close_browsers()


@pytest.fixture
def stripe_faults(portal: Portal) -> Iterator[httpx.Client]:
    """The sandbox's control endpoints (faults, stats); faults are cleared afterwards, as the
    sandbox is shared by the whole run."""
    control = httpx.Client(base_url=portal.settings.stripe_api_base)
    yield control
    control.post("/_sandbox/faults/clear")
    control.close()
