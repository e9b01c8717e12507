"""The demo as a newcomer sees it: every invoice state on the demo customers' overviews, in
every language."""

from __future__ import annotations

import asyncio
import re
from collections.abc import Iterator
from pathlib import Path

import pytest
import stripe

from portal import i18n
from portal.app import create_app
from portal.demo.seed import DemoData, seed_demo
from portal.mail.devmailbox import DevMailbox, DevMailServer
from portal.sandbox.app import SandboxConfig, create_sandbox_app
from portal.settings import parse_smtp_url
from tests.conftest import make_settings
from tests.functional.app_support import migrate_database
from tests.functional.portal_support import Browser, Portal
from tests.support.servers import free_port, serve_in_thread

STATES = ["Overdue", "Partially paid", "Due soon", "Open", "Paid", "Void"]


@pytest.fixture(scope="module")
def demo(tmp_path_factory: pytest.TempPathFactory) -> Iterator[tuple[Portal, DemoData]]:
    # A sandbox of its own: seeding moves the sandbox's clock through history.
    with serve_in_thread(create_sandbox_app(SandboxConfig())) as sandbox_url:
        data = asyncio.run(seed_demo(sandbox_url, "sk_test_demo"))
        tmp: Path = tmp_path_factory.mktemp("demo")
        mailbox = DevMailbox(echo=None)
        mail_server = DevMailServer(mailbox, free_port())
        mail_server.start()
        port = free_port()
        settings = make_settings(
            tmp,
            base_url=f"http://127.0.0.1:{port}",
            stripe_api_base=sandbox_url,
            stripe_api_key="sk_test_demo",
            smtp=parse_smtp_url(f"smtp://127.0.0.1:{mail_server.port}?tls=none"),
        )
        migrate_database(settings.database_url)
        sdk = stripe.StripeClient("sk_test_demo", base_addresses={"api": sandbox_url})
        try:
            with serve_in_thread(create_app(settings), port=port) as url:
                portal = Portal(url, settings, mailbox, sdk, None, [])  # type: ignore[arg-type]
                yield portal, data
                portal.close_browsers()
        finally:
            mail_server.stop()


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
