"""Fields that depend on a choice (address fields on the country, kinds of tax ID on the
country): with script they come in place when the select changes, without a button and
without leaving the page (focus stays, nothing typed is lost, arrow keys submit nothing);
without script the button next to the select does the same by a form post."""

from __future__ import annotations

import uuid

from playwright.sync_api import Page, expect

from tests.e2e.support import NewPage, assert_no_console_errors, assert_no_violations
from tests.e2e.test_leaving_for_stripe import navigations
from tests.e2e.test_sign_in_and_overview import sign_in
from tests.functional.portal_support import Portal

COUNTRY_BUTTON = 'button[name="action"][value="country"]'


def _signed_in(live_portal: Portal, new_page: NewPage, *, javascript: bool = True) -> Page:
    email = f"land-{uuid.uuid4().hex[:8]}@example.com"
    live_portal.customer(email=email, name="Harbour Tools Ltd", locale="en")
    page = new_page(width=375, locale="en", base_url=live_portal.url)
    sign_in(page, live_portal, email)
    if not javascript:
        # The same session in a browser without script.
        plain = new_page(width=375, locale="en", base_url=live_portal.url, javascript=False)
        plain.context.add_cookies(page.context.cookies())
        return plain
    return page


def test_the_address_fields_follow_the_country_in_place(
    live_portal: Portal, new_page: NewPage
) -> None:
    page = _signed_in(live_portal, new_page)
    page.goto("/account")
    expect(page.locator(COUNTRY_BUTTON)).to_be_hidden()
    page.locator("#name").fill("Harbour Tools Ltd")
    page.locator("#line1").fill("1 Main Street")
    seen = navigations(page)
    expect(page.locator("#state")).to_have_count(0)
    page.locator("#country").focus()
    page.locator("#country").select_option("US")
    expect(page.locator("#state")).to_be_visible()  # the US asks for a state
    expect(page.locator("#line1")).to_have_value("1 Main Street")  # nothing typed is lost
    expect(page.locator("#country")).to_be_focused()
    page.keyboard.press("ArrowDown")  # a keyboard user moving through the list
    page.wait_for_timeout(300)
    assert seen == [], seen  # no page was loaded: the fields came in place
    page.locator("#country").select_option("DE")
    expect(page.locator("#state")).to_have_count(0)
    page.locator("#postal_code").fill("10115")
    page.locator("#city").fill("Berlin")
    page.locator('form[action$="/account"] button[type="submit"]:not([name])').click()
    expect(page.locator(".notice")).to_be_visible()
    assert_no_violations(page)
    assert_no_console_errors(page)


def test_without_script_the_button_shows_the_countrys_fields(
    live_portal: Portal, new_page: NewPage
) -> None:
    page = _signed_in(live_portal, new_page, javascript=False)
    page.goto("/account")
    page.locator("#line1").fill("1 Main Street")
    page.locator("#country").select_option("US")
    expect(page.locator("#state")).to_have_count(0)  # nothing happens on its own
    page.locator(COUNTRY_BUTTON).click()
    expect(page.locator("#state")).to_be_visible()
    expect(page.locator("#line1")).to_have_value("1 Main Street")


def test_the_kinds_of_tax_id_follow_the_country_in_place(
    live_portal: Portal, new_page: NewPage
) -> None:
    page = _signed_in(live_portal, new_page)
    page.goto("/account/tax-ids")
    expect(page.locator(COUNTRY_BUTTON)).to_be_hidden()
    seen = navigations(page)
    page.locator("#country").select_option("CH")
    expect(page.locator('input[name="kind"][value="ch_vat"]')).to_be_attached()
    assert seen == [], seen
    assert_no_violations(page)
    assert_no_console_errors(page)
