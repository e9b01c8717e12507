"""The front page in a real browser: the visitor's language, on a phone and on a desktop,
without accessibility faults."""

from __future__ import annotations

import pytest
from playwright.sync_api import expect

from tests.e2e.support import (
    LivePortal,
    NewPage,
    assert_no_console_errors,
    assert_no_serious_violations,
    screenshot,
)

INTRODUCTION = {
    "de": "Hier sehen und bezahlen Sie Ihre Rechnungen.",
    "en": "Here you can see and pay your invoices.",
}


@pytest.mark.parametrize("width", [375, 1280])
@pytest.mark.parametrize("locale", sorted(INTRODUCTION))
def test_front_page_speaks_the_browser_language_accessibly(
    live_portal: LivePortal, new_page: NewPage, locale: str, width: int
) -> None:
    page = new_page(width=width, locale=locale, base_url=live_portal.url)
    page.goto("/")

    expect(page.locator("html")).to_have_attribute("lang", locale)
    expect(page.get_by_role("heading", level=1)).to_have_text(live_portal.settings.company_name)
    expect(page.locator("main")).to_contain_text(INTRODUCTION[locale])
    screenshot(page, f"front-page-{locale}-{width}", readme=locale == "en")
    assert_no_serious_violations(page)
    assert_no_console_errors(page)
