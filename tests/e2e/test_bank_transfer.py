"""An invoice paid by bank transfer in a real browser, on a phone and on a desktop: the
instructions readable and copyable, the EPC QR code drawn with its text alternative, nothing
for axe to find."""

from __future__ import annotations

import re
import uuid

import pytest
from playwright.sync_api import expect

from tests.e2e.support import NewPage, assert_no_console_errors, axe, screenshot
from tests.e2e.test_sign_in_and_overview import sign_in
from tests.functional.billing.test_bank_transfers import TRANSFER_ONLY
from tests.functional.portal_support import Portal


@pytest.mark.parametrize("width", [375, 1280])
def test_an_invoice_with_transfer_instructions_on_a_phone_and_a_desktop(
    live_portal: Portal, new_page: NewPage, width: int
) -> None:
    email = f"ueberweisung-{uuid.uuid4().hex[:8]}@example.de"
    customer = live_portal.customer(email=email, locale="de", name="Muster GmbH")
    invoice = live_portal.invoice(customer, amount=148750, payment_settings=TRANSFER_ONLY)
    page = new_page(width=width, locale="de", base_url=live_portal.url)
    sign_in(page, live_portal, email)
    expect(page.get_by_text("Per Überweisung an").first).to_be_visible()
    page.goto(f"/invoices/{invoice.id}")
    section = page.get_by_role("region", name="Per Überweisung bezahlen")
    expect(section).to_be_visible()
    expect(
        section.get_by_role("img", name=re.compile("QR-Code für Ihre Banking-App"))
    ).to_be_visible()
    expect(section.get_by_text("1.487,50 €")).to_be_visible()
    # The copy buttons come with script, each named after what it copies.
    expect(section.get_by_role("button", name="Kopieren: IBAN")).to_be_visible()
    # Nothing runs off the side on a phone: the IBAN wraps within its box, the QR below.
    assert page.evaluate("document.documentElement.scrollWidth") <= width
    screenshot(page, f"invoice-transfer-de-{width}", readme=width == 1280)
    assert axe(page) == []
    assert_no_console_errors(page)
