"""Browser tests: Playwright drives Debian's Chromium against the real portal on loopback.

They run with the rest of the suite (`.venv/bin/python -m pytest`, or `... pytest tests/e2e`
alone) and need three things besides the test extra: Chromium at /usr/bin/chromium
(`apt-get install chromium`; Playwright's own browser download cannot work on our machines) and
axe-core from npm (`npm ci` at the repository top). `.ci/run` installs both. Where one is
missing the whole directory is skipped, saying what to install; under CI (`CI` set) it fails
instead, so that a broken install step cannot pass as a green run.

Screenshots land in tests/e2e/artifacts/ (not committed). The README's pictures are taken by
the same tests; refresh them with

    PORTAL_UPDATE_SCREENSHOTS=1 .venv/bin/python -m pytest tests/e2e

which also writes those marked `readme=True` to docs/screenshots/.

Environment: PORTAL_TEST_CHROMIUM names another Chromium or Chrome binary.
"""

from __future__ import annotations

import os
from collections.abc import Iterator, Sequence
from pathlib import Path
from typing import TYPE_CHECKING

import pytest

from tests.e2e.support import CHROMIUM, CHROMIUM_ARGS, NewPage, missing_prerequisite
from tests.functional.portal_support import Portal, serve_portal

if TYPE_CHECKING:
    from playwright._impl._api_structures import SetCookieParam
    from playwright.sync_api import Browser, BrowserContext, Page

_missing = missing_prerequisite()
if _missing is not None:
    if os.environ.get("CI"):
        pytest.fail(_missing, pytrace=False)
    pytest.skip(_missing, allow_module_level=True)


# Package scope, not session: while Playwright's sync API runs, the main thread counts as
# inside an event loop and asyncio.run() fails there, which the rest of the suite relies on.
# So one browser serves every test in tests/e2e and is closed when they are done.
@pytest.fixture(scope="package")
def browser() -> Iterator[Browser]:
    # Imported here: the check above has skipped this directory if Playwright is missing.
    from playwright.sync_api import sync_playwright

    with sync_playwright() as playwright:
        chromium = playwright.chromium.launch(
            executable_path=CHROMIUM, headless=True, args=CHROMIUM_ARGS
        )
        yield chromium
        chromium.close()


@pytest.fixture
def new_page(browser: Browser) -> Iterator[NewPage]:
    """Opens pages, each in a context of its own, all closed after the test.

    `width` is the viewport's (375 for a phone, 1280 for a desktop); `locale` sets both the
    browser's language and the Accept-Language header; relative URLs in `page.goto` resolve
    against `base_url`; `cookies` are set before the first request (more can be added through
    `page.context.add_cookies`). `bypass_csp` turns off the page's Content-Security-Policy,
    which tests should not need: the axe check works under the CSP. `javascript=False` opens
    the page as a browser without script does (every page must work so).
    """
    contexts: list[BrowserContext] = []

    def open_page(
        *,
        width: int = 1280,
        height: int = 800,
        locale: str = "en",
        base_url: str | None = None,
        cookies: Sequence[SetCookieParam] = (),
        bypass_csp: bool = False,
        javascript: bool = True,
    ) -> Page:
        context = browser.new_context(
            viewport={"width": width, "height": height},
            locale=locale,
            base_url=base_url,
            bypass_csp=bypass_csp,
            java_script_enabled=javascript,
        )
        contexts.append(context)
        if cookies:
            context.add_cookies(list(cookies))
        return context.new_page()

    yield open_page
    for context in contexts:
        context.close()


@pytest.fixture
def live_portal(tmp_path: Path, sandbox_url: str) -> Iterator[Portal]:
    """The real portal for this test alone (own database and mailbox), served over HTTP."""
    with serve_portal(tmp_path, sandbox_url) as portal:
        yield portal
