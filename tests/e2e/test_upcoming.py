"""The overview's upcoming invoices in a real browser, in German and Croatian, on a phone and on
a desktop: each draft's date, amount and payment method can be read, and axe finds nothing."""

from __future__ import annotations

import time

import pytest
from playwright.sync_api import expect

from tests.e2e.support import NewPage, assert_no_console_errors, assert_no_violations, screenshot
from tests.e2e.test_sign_in_and_overview import sign_in
from tests.functional.portal_support import Portal

DAY = 86400
TEXT = {
    "de": ("Bevorstehende Rechnungen", "Automatische Belastung am", "Zu zahlen nach Ausstellung"),
    "hr": ("Nadolazeći računi", "Automatsko terećenje", "Za plaćanje nakon izdavanja"),
}


def customer_with_upcoming(portal: Portal, locale: str) -> str:
    """A customer with a card as default, an open invoice, a draft to be charged and one to be
    sent on set dates, and a draft without a date. Returns the e-mail address."""
    customer = portal.customer(locale=locale)
    card = portal.sdk.v1.payment_methods.attach("pm_card_visa", {"customer": customer})
    portal.sdk.v1.customers.update(
        customer, {"invoice_settings": {"default_payment_method": card.id}}
    )
    portal.invoice(customer, amount=18000)
    now = int(time.time())
    for days, params, amount, what in (
        (11, {"collection_method": "charge_automatically"}, 4990, "Wartung Dezember"),
        (
            12,
            {"collection_method": "send_invoice", "due_date": now + 40 * DAY},
            125000,
            "Jahreslizenz",
        ),
    ):
        draft = portal.sdk.v1.invoices.create(
            {
                "customer": customer,
                "currency": "eur",
                "description": what,
                "auto_advance": True,
                "automatically_finalizes_at": now + days * DAY,
                **params,  # type: ignore[typeddict-item]
            }
        )
        assert draft.id
        portal.sdk.v1.invoice_items.create(
            {"customer": customer, "invoice": draft.id, "amount": amount, "currency": "eur"}
        )
    portal.invoice(customer, amount=700, finalize=False, description="Entwurf")
    email = portal.sdk.v1.customers.retrieve(customer).email
    assert email
    return email


@pytest.mark.parametrize("locale", ["de", "hr"])
@pytest.mark.parametrize("width", [375, 1280])
def test_upcoming_invoices_on_a_phone_and_a_desktop(
    live_portal: Portal, new_page: NewPage, locale: str, width: int
) -> None:
    email = customer_with_upcoming(live_portal, locale)
    page = new_page(width=width, locale=locale, base_url=live_portal.url)
    sign_in(page, live_portal, email)
    heading, charged, sent = TEXT[locale]
    section = page.locator('section[aria-labelledby="upcoming-heading"]')
    expect(section.get_by_role("heading", name=heading)).to_be_visible()
    rows = section.locator("tbody tr")
    expect(rows).to_have_count(2)  # the draft without a date is not there
    expect(rows.nth(0)).to_contain_text("Wartung Dezember")
    expect(rows.nth(0)).to_contain_text("Visa •••• 4242")
    expect(rows.nth(0)).to_contain_text(charged)
    expect(rows.nth(0)).to_contain_text("49,90")
    expect(rows.nth(1)).to_contain_text(sent)
    expect(rows.nth(1)).to_contain_text("1.250,00")  # de and hr group thousands alike
    expect(page.get_by_text("Entwurf", exact=True)).to_have_count(0)
    # On a phone each cell is a line of its own, all within the screen's width.
    overflow = page.evaluate("() => document.documentElement.scrollWidth - innerWidth")
    assert overflow <= 0
    screenshot(page, f"overview-upcoming-{locale}-{width}")
    assert_no_violations(page)
    assert_no_console_errors(page)
