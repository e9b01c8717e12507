"""Stripe's pages in a real browser, each on an origin of its own as at Stripe (the sandbox's
Checkout, 3-D Secure and file origins), with the portal's CSP as it is in production:
`form-action 'self'` and nothing allowed for Stripe or the sandbox."""

from __future__ import annotations

import re
import time
import uuid
from pathlib import Path

import httpx
import pytest
from playwright.sync_api import Frame, Page, expect

from portal import i18n
from tests.e2e.support import (
    NewPage,
    assert_no_console_errors,
    assert_no_violations,
    screenshot,
)
from tests.e2e.test_sign_in_and_overview import sign_in
from tests.functional.billing.billing_support import customer_with_card
from tests.functional.portal_support import Portal
from tests.support.servers import SandboxUrls


def origin(url: str) -> str:
    return "/".join(url.split("/", 3)[:3])


def navigations(page: Page) -> list[str]:
    """Every address the page's main frame arrives at, from now on."""
    seen: list[str] = []

    def arrived(frame: Frame) -> None:
        if frame == page.main_frame:
            seen.append(frame.url)

    page.on("framenavigated", arrived)
    return seen


def test_add_a_card_through_checkout(
    live_portal: Portal, new_page: NewPage, sandbox_urls: SandboxUrls
) -> None:
    email = f"card-{uuid.uuid4().hex[:8]}@example.com"
    customer = live_portal.customer(email=email, name="Harbour Tools Ltd", locale="en")
    page = new_page(locale="en", base_url=live_portal.url)
    sign_in(page, live_portal, email)
    page.goto("/payment-methods")
    seen = navigations(page)
    add = page.locator('form[action$="/payment-methods/add"] button')
    add.click()
    expect(page.get_by_label(re.compile("Mastercard"))).to_be_visible()
    assert origin(page.url) == sandbox_urls.checkout  # Stripe's Checkout stands on its own
    # The refresh replaced the portal's step in the history: "back" is the page the customer
    # came from, not the step, which would send them straight on again.
    page.go_back()
    expect(page).to_have_url(live_portal.url + "/payment-methods")
    add.click()
    page.get_by_label(re.compile("Mastercard")).check()
    page.get_by_role("button", name="Use this card").click()
    expect(page).to_have_url(live_portal.url + "/payment-methods")
    expect(page.locator(".method-row")).to_contain_text("4444")
    assert_no_violations(page)
    assert_no_console_errors(page)  # a CSP refusal would be logged here
    # The form's answer stayed on the portal, whose own page went on to Checkout.
    assert any(re.search(r"/payment-methods/checkout/cs_\w+$", url) for url in seen), seen
    methods = live_portal.sdk.v1.customers.payment_methods.list(customer).data
    assert [(m.type, m.card and m.card.last4) for m in methods] == [("card", "4444")]


def test_pay_an_installment_with_3d_secure_from_the_pay_form(
    live_portal: Portal, new_page: NewPage, sandbox_urls: SandboxUrls
) -> None:
    email, customer, _ = customer_with_card(
        live_portal, card="pm_card_authenticationRequired", locale="en"
    )
    now = int(time.time())
    invoice = live_portal.invoice(
        customer,
        amount=30000,
        amounts_due=[
            {"amount": 10000, "due_date": now + 3 * 86400, "description": "Deposit"},
            {"amount": 20000, "due_date": now + 33 * 86400, "description": "Balance"},
        ],
    )
    page = new_page(locale="en", base_url=live_portal.url)
    sign_in(page, live_portal, email)
    page.goto(f"/invoices/{invoice.id}")
    # The invoice's "pay next installment" (a link or a form, whichever the page offers).
    page.locator("a, button", has_text=re.compile(r"100\.00")).first.click()
    seen = navigations(page)
    page.get_by_role("button", name=re.compile(r"100\.00")).click()
    complete = page.get_by_role("button", name="Complete authentication")
    expect(complete).to_be_visible()
    assert origin(page.url) == sandbox_urls.hooks  # 3-D Secure: not the API's origin
    complete.click()
    expect(page.get_by_role("heading", level=1)).to_have_text("Thank you for your payment")
    assert_no_violations(page)
    assert_no_console_errors(page)
    assert any(url.endswith("/authenticate") for url in seen), seen
    paid = live_portal.sdk.v1.invoices.retrieve(invoice.id)
    assert (paid.amount_paid, paid.amount_remaining) == (10000, 20000)


def test_download_a_pdf_that_arrives_through_a_redirect(
    live_portal: Portal, new_page: NewPage, sandbox_urls: SandboxUrls, tmp_path: Path
) -> None:
    email = f"pdf-{uuid.uuid4().hex[:8]}@example.com"
    customer = live_portal.customer(email=email, name="Harbour Tools Ltd", locale="en")
    invoice = live_portal.invoice(customer, amount=7700)
    assert invoice.invoice_pdf
    # As at Stripe, `invoice_pdf` answers with a redirect to where the file is stored.
    first = httpx.get(invoice.invoice_pdf, follow_redirects=False)
    assert first.is_redirect
    assert origin(first.headers["location"]) == sandbox_urls.files
    page = new_page(locale="en", base_url=live_portal.url)
    sign_in(page, live_portal, email)
    page.goto(f"/invoices/{invoice.id}")
    with page.expect_download() as started:
        page.get_by_role("link", name="Download PDF").click()
    download = started.value
    assert download.suggested_filename == f"Invoice-{invoice.number}.pdf"
    saved = tmp_path / download.suggested_filename
    download.save_as(saved)
    assert saved.read_bytes().startswith(b"%PDF")
    assert_no_console_errors(page)


@pytest.mark.parametrize("width", [375, 1280])
def test_pay_with_ideal_on_stripes_page_in_dutch(
    live_portal: Portal, new_page: NewPage, sandbox_urls: SandboxUrls, width: int
) -> None:
    """A method the portal does not build (iDEAL, redirecting to the bank): chosen on the
    portal's pay page, paid on Stripe's Checkout and the bank's page, and back to the result."""
    email = f"ideal-{uuid.uuid4().hex[:8]}@example.nl"
    customer = live_portal.customer(email=email, name="Bakkerij De Vries", locale="nl")
    invoice = live_portal.invoice(customer, amount=24200)
    page = new_page(width=width, locale="nl", base_url=live_portal.url)
    sign_in(page, live_portal, email)
    page.goto(f"/invoices/{invoice.id}")
    page.locator("a, button", has_text=re.compile(r"242,00")).first.click()
    other = page.locator('input[name="payment_method"][value="stripe"]')
    expect(other).to_be_visible()
    with i18n.use_locale("nl"):
        expect(page.locator("fieldset.methods")).to_contain_text(i18n.gettext("Another way to pay"))
    assert_no_violations(page)
    screenshot(page, f"pay-choice-nl-{width}", readme=width == 375)
    other.check()
    seen = navigations(page)
    page.locator('form[action^="/payments/"] button[type="submit"]').click()
    ideal = page.get_by_role("button", name="Pay with iDEAL")
    expect(ideal).to_be_visible()
    assert origin(page.url) == sandbox_urls.checkout
    ideal.click()
    authorize = page.get_by_role("button", name="Authorize test payment")
    expect(authorize).to_be_visible()
    assert origin(page.url) == sandbox_urls.hooks  # the bank's page, off Checkout
    authorize.click()
    with i18n.use_locale("nl"):
        thanks = i18n.gettext("Thank you for your payment")
    expect(page.get_by_role("heading", level=1)).to_have_text(thanks)
    expect(page.locator(".outcomes")).to_contain_text("iDEAL")
    assert page.url.startswith(live_portal.url + "/payments/")
    assert_no_violations(page)
    assert_no_console_errors(page)
    screenshot(page, f"paid-ideal-nl-{width}")
    assert any(re.search(r"/checkout/cs_\w+$", url) for url in seen), seen
    paid = live_portal.sdk.v1.invoices.retrieve(invoice.id)
    assert (paid.status, paid.amount_paid) == ("paid", 24200)


def test_back_from_stripes_page_unpaid_offers_to_go_on_or_pay_another_way(
    live_portal: Portal, new_page: NewPage
) -> None:
    email = f"terug-{uuid.uuid4().hex[:8]}@example.nl"
    customer = live_portal.customer(email=email, name="Bakkerij De Vries", locale="nl")
    invoice = live_portal.invoice(customer, amount=9900)
    page = new_page(width=375, locale="nl", base_url=live_portal.url)
    sign_in(page, live_portal, email)
    page.goto(f"/invoices/{invoice.id}")
    page.locator("a, button", has_text=re.compile(r"99,00")).first.click()
    page.locator('input[name="payment_method"][value="stripe"]').check()
    page.locator('form[action^="/payments/"] button[type="submit"]').click()
    page.get_by_role("link", name="Cancel and go back").click()
    with i18n.use_locale("nl"):
        finish = i18n.gettext("Finish paying on Stripe's page")
        another = i18n.gettext("Choose another way to pay")
    expect(page.get_by_role("heading", level=1)).to_have_text(finish)
    assert_no_violations(page)
    assert_no_console_errors(page)
    screenshot(page, "pay-at-stripe-unfinished-nl-375")
    page.get_by_role("button", name=another).click()
    expect(page.locator('input[name="payment_method"][value="stripe"]')).to_be_visible()
    assert live_portal.sdk.v1.invoices.retrieve(invoice.id).status == "open"
