"""The demo as a newcomer sees it: every invoice state on the demo customers' overviews, in
every language."""

from __future__ import annotations

import asyncio
import re
from collections.abc import Iterator

import pytest

from portal import i18n
from portal_dev.demo.seed import DemoData, seed_demo
from stripe_sandbox.app import SandboxConfig, create_sandbox_app
from tests.functional.portal_support import Browser, Portal, serve_portal
from tests.support.servers import serve_in_thread

STATES = ["Overdue", "Partially paid", "Due soon", "Open", "Paid", "Void"]


@pytest.fixture(scope="module")
def demo(tmp_path_factory: pytest.TempPathFactory) -> Iterator[tuple[Portal, DemoData]]:
    # A sandbox of its own: seeding moves the sandbox's clock through history.
    with serve_in_thread(create_sandbox_app(SandboxConfig())) as sandbox_url:
        data = asyncio.run(seed_demo(sandbox_url, "sk_test_demo"))
        with serve_portal(
            tmp_path_factory.mktemp("demo"), sandbox_url, api_key="sk_test_demo"
        ) as portal:
            yield portal, data


def badges(html: str) -> set[str]:
    return {
        m.strip() for m in re.findall(r'<span class="badge badge--[a-z]+">([^<]+)</span>', html)
    }


@pytest.fixture(scope="module")
def browsers(demo: tuple[Portal, DemoData]) -> dict[str, Browser]:
    """One signed-in browser per demo address (signing in again would meet the rate limit)."""
    portal, data = demo
    signed_in = {}
    for email in dict.fromkeys(c.email for c in data.customers):
        browser = portal.browser()
        assert browser.sign_in(email).status_code == 303
        signed_in[email] = browser
    return signed_in


@pytest.mark.parametrize("locale", i18n.SUPPORTED)
def test_demo_overviews_show_every_state_in_every_language(
    demo: tuple[Portal, DemoData], browsers: dict[str, Browser], locale: str
) -> None:
    _portal, data = demo
    seen: set[str] = set()
    for email, browser in browsers.items():
        for customer in [c for c in data.customers if c.email == email]:
            browser.post("/accounts", {"customer": customer.customer_id})
            browser.post("/language", {"lang": locale, "next": "/"})
            page = browser.get("/")
            assert f'<html lang="{locale}">' in page.text
            seen |= badges(page.text)
    with i18n.use_locale(locale):
        expected = {i18n.gettext(state) for state in STATES}
    assert expected <= seen
