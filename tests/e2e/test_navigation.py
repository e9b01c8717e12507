"""The header in a real browser, in the languages with the longest labels (German, Polish,
Croatian), on a phone and on a desktop: every link and "Sign out" can be reached and is shown
whole and unfaded (on a phone behind a menu that opens without script), the current page is
marked; the account picker tells similar names apart, offers nothing in the header before a
choice and marks the open account after one; axe finds nothing on any of these pages."""

from __future__ import annotations

import uuid
from typing import Any

import pytest
from playwright.sync_api import Page, expect

from portal.formatting import country_name
from tests.e2e.support import NewPage, assert_no_console_errors, axe, screenshot
from tests.e2e.test_sign_in_and_overview import sign_in
from tests.functional.portal_support import Portal

# Two companies of one e-mail address, of similar names, in different cities.
ACCOUNTS = {
    "de": (("Schmidt Haustechnik GmbH", "Berlin", "DE"), ("Schmidt Haustechnik GmbH & Co. KG", "Hamburg", "DE")),
    "pl": (("Nowak Instalacje sp. z o.o.", "Kraków", "PL"), ("Nowak Instalacje S.A.", "Gdańsk", "PL")),
    "hr": (("Horvat Instalacije d.o.o.", "Zagreb", "HR"), ("Horvat Instalacije j.d.o.o.", "Split", "HR")),
}  # fmt: skip
# The pages of the header's links (the last one is the picker, "Switch account").
PAGES = ("/", "/payment-methods", "/account", "/accounts")

# Why an element cannot be seen whole, or None: outside the viewport, covered by another
# element, faded or masked (itself or an ancestor), or cut off by an ancestor that clips.
PROBLEMS = """(el) => {
  const r = el.getBoundingClientRect();
  const found = [];
  if (r.width < 1 || r.height < 1) return ["not shown"];
  if (r.left < 0 || r.top < 0 || r.right > innerWidth || r.bottom > innerHeight)
    found.push(`outside the viewport: ${JSON.stringify(r)}`);
  let opacity = 1;
  for (let n = el; n; n = n.parentElement) {
    const style = getComputedStyle(n);
    opacity *= parseFloat(style.opacity);
    for (const mask of [style.maskImage, style.webkitMaskImage])
      if (mask && mask !== "none") found.push(`masked by ${n.tagName}.${n.className}`);
    if (n !== el && (style.overflowX !== "visible" || style.overflowY !== "visible")) {
      const a = n.getBoundingClientRect();
      if (r.left < a.left - .5 || r.right > a.right + .5 || r.top < a.top - .5 || r.bottom > a.bottom + .5)
        found.push(`clipped by ${n.tagName}.${n.className}`);
    }
  }
  if (opacity !== 1) found.push(`opacity ${opacity}`);
  const hit = document.elementFromPoint((r.left + r.right) / 2, (r.top + r.bottom) / 2);
  if (!hit || !(el === hit || el.contains(hit))) found.push(`covered by ${hit && hit.outerHTML.slice(0, 80)}`);
  if (getComputedStyle(el).display !== "inline" && el.scrollWidth > el.clientWidth + 1)
    found.push("its text overflows");
  return found.length ? found : null;
}"""


def two_accounts(portal: Portal, locale: str) -> str:
    """An e-mail address with two customer accounts, the first with an open invoice."""
    email = f"nav-{locale}-{uuid.uuid4().hex[:8]}@example.com"
    ids = [
        portal.sdk.v1.customers.create(
            {
                "email": email,
                "name": name,
                "preferred_locales": [locale],
                "address": {"line1": "Hauptstraße 1", "city": city, "country": country},
            }
        ).id
        for name, city, country in ACCOUNTS[locale]
    ]
    portal.invoice(ids[0], amount=48000, currency="eur")
    return email


def sign_in_to_the_picker(page: Page, portal: Portal, email: str) -> None:
    sign_in(page, portal, email, lands_on=r"/accounts\?choose=1$")


def assert_places(page: Page, places: list[str]) -> None:
    """Each account's row says where it is (in Stripe's order, newest first)."""
    where = page.locator(".account-choice__where")
    expect(where).to_have_count(len(places))
    assert sorted(where.all_inner_texts()) == sorted(places)


def assert_no_violations(page: Page) -> None:
    found = axe(page)
    assert found == [], [(v["id"], v["impact"], [n["html"] for n in v["nodes"]]) for v in found]


def assert_seen_whole(page: Page, selector: str) -> int:
    """Every element matching `selector` can be seen whole; returns how many there are."""
    found: list[Any] = page.eval_on_selector_all(
        selector, f"(els) => els.map((el) => [el.textContent.trim(), ({PROBLEMS})(el)])"
    )
    problems = [(text, why) for text, why in found if why]
    assert not problems, f"{page.url}: {problems}"
    return len(found)


def shown_nav(page: Page, width: int) -> str:
    """The navigation a reader of this width sees (on a phone, after opening the menu)."""
    if width < 800:
        expect(page.locator(".site-nav--bar")).to_be_hidden()
        menu = page.locator("summary.site-menu__toggle")
        expect(menu).to_be_visible()
        menu.click()
        expect(page.locator("details.site-menu")).to_have_attribute("open", "")
        return ".site-nav--menu"
    expect(page.locator("details.site-menu")).to_be_hidden()
    return ".site-nav--bar"


@pytest.mark.parametrize("locale", ["de", "pl", "hr"])
def test_every_link_is_within_reach_and_the_picker_tells_accounts_apart(
    live_portal: Portal, new_page: NewPage, locale: str
) -> None:
    email = two_accounts(live_portal, locale)
    first = new_page(width=375, locale=locale, base_url=live_portal.url)
    sign_in_to_the_picker(first, live_portal, email)
    cookies = first.context.cookies()
    places = [f"{city}, {country_name(country, locale)}" for _, city, country in ACCOUNTS[locale]]

    for width in (375, 1280):
        page = first if width == 375 else new_page(width=width, locale=locale, base_url=live_portal.url, cookies=cookies)  # fmt: skip
        page.goto("/accounts?choose=1")
        # Before a choice: the accounts, each with its city, none marked, nothing in the header.
        expect(page.locator("html")).to_have_attribute("lang", locale)
        expect(page.locator("nav")).to_have_count(0)
        expect(page.locator("summary")).to_have_count(0)
        expect(page.locator(".account-line")).to_have_count(0)
        assert_places(page, places)
        expect(page.locator(".account-choice__note")).to_have_count(0)
        expect(page.locator("[aria-current]")).to_have_count(0)
        screenshot(page, f"accounts-choose-{locale}-{width}")
        assert_no_violations(page)

    name = first.get_by_text(ACCOUNTS[locale][0][0], exact=True)
    first.locator(".account-choice").filter(has=name).click()
    expect(first).to_have_url(live_portal.url + "/")

    for width in (375, 1280):
        page = first if width == 375 else new_page(width=width, locale=locale, base_url=live_portal.url, cookies=first.context.cookies())  # fmt: skip
        for path in PAGES:
            page.goto(path)
            nav = shown_nav(page, width)
            links = f"{nav} a, {nav} button"
            assert assert_seen_whole(page, links) == 5  # four links and "Sign out"
            current = page.locator(f'{nav} a[aria-current="page"]')
            expect(current).to_have_count(1)
            expect(current).to_have_attribute("href", path)
            if width == 1280:  # one row
                tops = page.eval_on_selector_all(links, "els => els.map(e => Math.round(e.getBoundingClientRect().top))")  # fmt: skip
                assert max(tops) - min(tops) <= 4, tops
            assert page.evaluate("document.documentElement.scrollWidth <= innerWidth")
            assert_no_violations(page)
            assert_no_console_errors(page)
        # After a choice the picker marks the open account, still telling the two apart.
        assert_places(page, places)
        chosen = page.locator('.account-choice[aria-current="true"]')
        expect(chosen).to_have_count(1)
        expect(chosen.locator(".account-choice__name")).to_have_text(ACCOUNTS[locale][0][0])
        expect(chosen.locator(".account-choice__note")).to_be_visible()
        assert_seen_whole(page, ".account-choice__where, .account-choice__note")
        screenshot(page, f"navigation-{locale}-{width}")


def test_the_phone_menu_opens_without_script(live_portal: Portal, new_page: NewPage) -> None:
    email = two_accounts(live_portal, "hr")
    signing_in = new_page(width=375, locale="hr", base_url=live_portal.url)
    sign_in_to_the_picker(signing_in, live_portal, email)
    page = new_page(
        width=375,
        locale="hr",
        base_url=live_portal.url,
        cookies=signing_in.context.cookies(),
        javascript=False,
    )
    page.goto("/payment-methods")
    expect(page.locator(".site-nav--menu")).to_be_hidden()
    page.locator("summary.site-menu__toggle").click()
    menu = page.locator(".site-nav--menu")
    expect(menu.locator("a, button")).to_have_count(5)
    for item in menu.locator("a, button").all():
        expect(item).to_be_in_viewport()
    expect(menu.locator('a[aria-current="page"]')).to_have_attribute("href", "/payment-methods")
    menu.locator('a[href="/account"]').click()
    expect(page).to_have_url(live_portal.url + "/account")
