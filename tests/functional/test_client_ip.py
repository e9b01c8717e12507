"""Per-IP sign-in limits and the audit trail cannot be dodged with a forged X-Forwarded-For:
only the configured header, as the deployment's proxy sets it, names the client."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import pytest

from portal.auth.views import SIGN_IN_PER_IP
from tests.functional.portal_support import Portal, serve_portal


@pytest.fixture
def behind_a_proxy(sandbox_url: str, tmp_path: Path) -> Iterator[Portal]:
    with serve_portal(tmp_path, sandbox_url, client_ip_header="x-forwarded-for") as found:
        yield found


@pytest.fixture
def without_a_proxy(sandbox_url: str, tmp_path: Path) -> Iterator[Portal]:
    with serve_portal(tmp_path, sandbox_url) as found:
        yield found


def _ask_for_links(portal: Portal, forwarded_for: list[str]) -> list[int]:
    statuses = []
    for i, value in enumerate(forwarded_for):
        browser = portal.browser(**{"X-Forwarded-For": value})
        browser.get("/sign-in")
        statuses.append(browser.post("/sign-in", {"email": f"n{i}@example.de"}).status_code)
    return statuses


def test_forged_left_entries_do_not_make_new_clients(behind_a_proxy: Portal) -> None:
    # The proxy appended 203.0.113.7; whatever the client put before it changes nothing.
    forged = [f"10.0.{i}.1, 203.0.113.7" for i in range(SIGN_IN_PER_IP.count + 1)]
    statuses = _ask_for_links(behind_a_proxy, forged)
    assert statuses[:-1] == [303] * SIGN_IN_PER_IP.count
    assert statuses[-1] == 429


def test_the_proxys_entry_tells_clients_apart(behind_a_proxy: Portal) -> None:
    values = [f"198.51.100.{i}" for i in range(SIGN_IN_PER_IP.count + 1)]
    assert set(_ask_for_links(behind_a_proxy, values)) == {303}


def test_without_a_configured_proxy_the_header_is_ignored(without_a_proxy: Portal) -> None:
    forged = [f"198.51.100.{i}" for i in range(SIGN_IN_PER_IP.count + 1)]
    statuses = _ask_for_links(without_a_proxy, forged)
    assert statuses[-1] == 429  # every request came from this machine's own address
