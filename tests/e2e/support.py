"""What browser tests use besides fixtures: the portal served for real, and checks of a page
(accessibility with axe-core, console errors, screenshots)."""

from __future__ import annotations

import importlib.util
import os
import re
from collections.abc import Sequence
from pathlib import Path
from typing import TYPE_CHECKING, Any, Protocol

if TYPE_CHECKING:
    from playwright._impl._api_structures import SetCookieParam
    from playwright.sync_api import ConsoleMessage, Page

REPO = Path(__file__).resolve().parents[2]
AXE_SCRIPT = REPO / "node_modules" / "axe-core" / "axe.min.js"
ARTIFACTS = REPO / "tests" / "e2e" / "artifacts"
README_SCREENSHOTS = REPO / "docs" / "screenshots"
UPDATE_SCREENSHOTS_ENV = "PORTAL_UPDATE_SCREENSHOTS"

CHROMIUM_ENV = "PORTAL_TEST_CHROMIUM"
CHROMIUM = Path(os.environ.get(CHROMIUM_ENV) or "/usr/bin/chromium")
# The machines have no network but loopback: without the background-networking flags Chromium
# keeps trying to reach Google's services. As root, Chromium refuses to start with its sandbox.
CHROMIUM_ARGS = [
    "--headless",
    "--no-sandbox",
    "--disable-gpu",
    "--disable-background-networking",
    "--disable-component-update",
    "--disable-sync",
    "--no-first-run",
]


def missing_prerequisite() -> str | None:
    """Why the browser tests cannot run on this machine, or None when they can."""
    if importlib.util.find_spec("playwright") is None:
        return "browser tests need Playwright: .venv/bin/pip install -e '.[test]'"
    if not CHROMIUM.is_file():
        return (
            f"browser tests need Chromium at {CHROMIUM}: apt-get install chromium "
            f"(or set {CHROMIUM_ENV} to a Chromium or Chrome binary)"
        )
    if not AXE_SCRIPT.is_file():
        return f"browser tests need axe-core in {AXE_SCRIPT.parent}: npm ci (at the repository top)"
    return None


class NewPage(Protocol):
    """The `new_page` fixture: a page in a fresh browser context (own cookies and storage)."""

    def __call__(
        self,
        *,
        width: int = 1280,
        height: int = 800,
        locale: str = "en",
        base_url: str | None = None,
        cookies: Sequence[SetCookieParam] = (),
        bypass_csp: bool = False,
        javascript: bool = True,
    ) -> Page: ...


def axe(page: Page) -> list[dict[str, Any]]:
    """Runs axe-core on the page as it is now and returns its violations (axe's own dicts)."""
    # page.evaluate goes through the DevTools protocol, which the page's Content-Security-Policy
    # does not govern; add_script_tag would insert an inline <script> that a strict CSP blocks.
    # So the audit runs under the portal's real CSP, and contexts need no bypass_csp.
    if not page.evaluate("() => typeof window.axe === 'object'"):
        page.evaluate(AXE_SCRIPT.read_text(encoding="utf-8"))
    violations: list[dict[str, Any]] = page.evaluate(
        "async () => (await window.axe.run(document, {resultTypes: ['violations']})).violations"
    )
    return violations


def assert_no_violations(page: Page) -> None:
    """axe-core finds nothing on the page, of any impact (minor ones included)."""
    found = axe(page)
    if not found:
        return
    lines = [f"axe-core: {len(found)} violation(s) on {page.url}"]
    for violation in found:
        lines.append(f"- {violation['id']} ({violation['impact']}): {violation['help']}")
        lines.append(f"  {violation['helpUrl']}")
        for node in violation["nodes"]:
            target = " >> ".join(str(part) for part in node["target"])
            lines.append(f"  at {target}: {node['html']}")
    raise AssertionError("\n".join(lines))


def assert_no_console_errors(page: Page) -> None:
    """No script error and no console error, which includes what the CSP blocked and every
    sub-resource that failed to load."""
    errors = [
        f"console: {m.text} ({m.location['url']})"
        for m in page.console_messages()
        if m.type == "error" and not _is_missing_favicon(m)
    ]
    errors += [f"page error: {e.message}" for e in page.page_errors()]
    assert not errors, f"errors on {page.url}:\n" + "\n".join(errors)


def _is_missing_favicon(message: ConsoleMessage) -> bool:
    # Chromium asks every site for /favicon.ico on its own and logs a 404 as a console error,
    # which says nothing about the page under test. Other statuses (a 500) still count.
    return message.location["url"].endswith("/favicon.ico") and "status of 404" in message.text


def screenshot(page: Page, name: str, *, readme: bool = False) -> Path:
    """Saves the whole page as tests/e2e/artifacts/NAME.png and returns that path.

    With `readme=True` and PORTAL_UPDATE_SCREENSHOTS=1 in the environment, the picture is also
    written to docs/screenshots/NAME.png, where the README shows it.
    """
    if not re.fullmatch(r"[a-z0-9][a-z0-9-]*", name):
        raise ValueError(f"screenshot names are lower-case words and dashes: {name!r}")
    path = ARTIFACTS / f"{name}.png"
    path.parent.mkdir(parents=True, exist_ok=True)
    png = page.screenshot(path=path, full_page=True, animations="disabled", caret="hide")
    if readme and os.environ.get(UPDATE_SCREENSHOTS_ENV) == "1":
        README_SCREENSHOTS.mkdir(parents=True, exist_ok=True)
        (README_SCREENSHOTS / f"{name}.png").write_bytes(png)
    return path
