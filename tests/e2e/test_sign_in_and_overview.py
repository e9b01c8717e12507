"""The customer's way in a real browser: sign in through the e-mail, see the overview and an
invoice, in German and in Polish, on a phone and on a desktop, without accessibility faults."""

from __future__ import annotations

import re
import time
import uuid
from typing import Any

import pytest
import stripe
from playwright.sync_api import Page, expect

from portal import i18n
from portal.settings import STRIPE_INVOICE_API_VERSION
from tests.conftest import SANDBOX_KEY
from tests.e2e.support import (
    NewPage,
    assert_no_console_errors,
    assert_no_violations,
    axe,
    screenshot,
)
from tests.functional.billing.billing_support import customer_with_card
from tests.functional.portal_support import Portal

LINK = re.compile(r"(http://127\.0\.0\.1:\d+/sign-in/link/[A-Za-z0-9_-]+)")
CODE = re.compile(r"\b([A-Z2-9]{4}-[A-Z2-9]{4})\b")

TEXT: dict[str, dict[str, str | re.Pattern[str]]] = {
    "de": {
        "send": "Anmeldelink senden",
        "heading": "Ihre Rechnungen",
        "overdue": "Überfällig",
        "sign_in": "Anmelden",
        "pdf": "PDF herunterladen",
        "installment": "Rate 2 von 3",
        "unpaid": "Unbezahlt",
        "receipt": "Beleg",
        "coupon": "Treuerabatt",  # the coupon's name says "Rabatt" already
        "line_coupon": "Rabatt: Stammkunde",
        "tax": re.compile(r"USt\. 19\s%"),
        "credit_note": "Rechnungskorrektur",
    },
    "pl": {
        "send": "Wyślij link do logowania",
        "heading": "Faktury",
        "overdue": "Po terminie",
        "sign_in": "Zaloguj się",
        "pdf": "Pobierz PDF",
        "installment": "Rata 2 z 3",
        "unpaid": "Nieuregulowana",
        "receipt": "Potwierdzenie",
        "coupon": "Rabat: Stały klient",
        "line_coupon": "Rabat: Pakiet startowy",
        "tax": re.compile(r"VAT 23%"),
        "credit_note": "Faktura korygująca",
    },
    "hr": {
        "send": "Pošaljite poveznicu za prijavu",
        "heading": "Vaši računi",
        "overdue": "U kašnjenju",
        "sign_in": "Prijava",
        "pdf": "Preuzmite PDF",
        "installment": "Rata 2 od 3",
        "unpaid": "Neplaćeno",
        "receipt": "Potvrda",
        "coupon": "Popust: Vjerni kupac",
        "line_coupon": "Popust: Početni paket",
        "tax": re.compile(r"PDV 25\s%"),
        "credit_note": "Odobrenje",
    },
}
CUSTOMERS = {
    "de": ("Schmidt Haustechnik GmbH", "eur", "Wartungsvertrag Heizung"),
    "pl": ("Nowak Software sp. z o.o.", "pln", "Abonament — pakiet Pro"),
    "hr": ("Horvat d.o.o.", "eur", "Održavanje poslovnog softvera"),
}
# The open invoice's tax rate (as Stripe's example names it: "VAT") and coupons' names.
TAXES = {"de": ("VAT", 19, "Treuerabatt", "Stammkunde"),
         "pl": ("VAT", 23, "Stały klient", "Pakiet startowy"),
         "hr": ("VAT", 25, "Vjerni kupac", "Početni paket")}  # fmt: skip


def customer_with_invoices(sandbox_url: str, locale: str) -> tuple[str, str, str]:
    """A customer with an overdue invoice, a payment plan with one installment paid by card,
    a paid, a void and a written-off (uncollectible) invoice, and an open one with a tax rate,
    a discount of its own and one on a line, and a credit note. Returns the e-mail address, the
    plan's and the open invoice's ids."""
    sdk = stripe.StripeClient(
        SANDBOX_KEY,
        base_addresses={"api": sandbox_url},
        stripe_version=STRIPE_INVOICE_API_VERSION,  # payment plans are a preview feature
    )
    name, currency, item = CUSTOMERS[locale]
    email = f"{locale}-{uuid.uuid4().hex[:8]}@example.com"
    customer = sdk.v1.customers.create(
        {"email": email, "name": name, "preferred_locales": [locale]}
    )
    now = int(time.time())

    def invoice(amount: int, item_discounts: Any = (), **params: Any) -> str:
        created = sdk.v1.invoices.create(
            {
                "customer": customer.id,
                "collection_method": "send_invoice",
                "currency": currency,
                **params,
            }
        )
        sdk.v1.invoice_items.create(
            {
                "customer": customer.id,
                "invoice": created.id,
                "amount": amount,
                "currency": currency,
                "description": item,
                "discounts": list(item_discounts),
            }
        )
        return sdk.v1.invoices.finalize_invoice(created.id).id

    invoice(48000, due_date=now - 9 * 86400)
    plan = invoice(
        90000,
        amounts_due=[
            {"amount": 30000, "due_date": now - 30 * 86400},
            {"amount": 30000, "due_date": now - 3 * 86400},
            {"amount": 30000, "due_date": now + 27 * 86400},
        ],
    )
    pm = sdk.v1.payment_methods.attach("pm_card_visa", {"customer": customer.id})
    intent = sdk.v1.payment_intents.create(
        {"amount": 30000, "currency": currency, "customer": customer.id, "payment_method": pm.id}
    )
    sdk.v1.invoices.attach_payment(plan, {"payment_intent": intent.id})
    sdk.v1.payment_intents.confirm(intent.id, {"off_session": True})
    sdk.v1.invoices.pay(invoice(12000, days_until_due=14), {"paid_out_of_band": True})
    sdk.v1.invoices.void_invoice(invoice(5000, days_until_due=14))
    tax_name, percentage, coupon_name, line_coupon_name = TAXES[locale]
    rate = sdk.v1.tax_rates.create(
        {"display_name": tax_name, "percentage": percentage, "inclusive": False, "tax_type": "vat"}
    )
    coupon = sdk.v1.coupons.create({"percent_off": 10, "name": coupon_name})
    line_coupon = sdk.v1.coupons.create(
        {"amount_off": 1000, "currency": currency, "name": line_coupon_name}
    )
    taxed = invoice(
        20000,
        days_until_due=20,
        default_tax_rates=[rate.id],
        discounts=[{"coupon": coupon.id}],
        item_discounts=[{"coupon": line_coupon.id}],
    )
    sdk.v1.credit_notes.create({"invoice": taxed, "amount": 2500, "memo": "Kulanz"})
    sdk.v1.invoices.mark_uncollectible(invoice(7500, due_date=now - 60 * 86400))
    return email, plan, taxed


def wait_for_mail(portal: Portal, email: str) -> str:
    return portal.wait_for_mail(email).part("text/plain") or ""


def request_link(page: Page, email: str, locale: str) -> None:
    page.goto("/")
    expect(page).to_have_url(re.compile(r"/sign-in$"))
    page.get_by_label(re.compile("E-Mail|e-mail|e-pošte", re.I)).fill(email)
    page.get_by_role("button", name=TEXT[locale]["send"]).click()
    expect(page).to_have_url(re.compile(r"/sign-in/check-email$"))


def sign_in(page: Page, portal: Portal, email: str, *, lands_on: str = r"/$") -> None:
    """Through the e-mail, in any language (the forms are found by where they post), landing
    on the address `lands_on` matches (the overview; the picker for several accounts)."""
    page.goto("/sign-in")
    page.locator('input[name="email"]').fill(email)
    page.locator('form[action$="/sign-in"] button').click()
    link = LINK.search(wait_for_mail(portal, email))
    assert link
    page.goto(link.group(1))
    page.locator('form[action$="/sign-in/confirm"] button').click()
    expect(page).to_have_url(re.compile(lands_on))


@pytest.mark.parametrize("locale", ["de", "pl", "hr"])
@pytest.mark.parametrize("width", [375, 1280])
def test_sign_in_through_the_email_and_see_the_overview(
    live_portal: Portal, new_page: NewPage, sandbox_url: str, locale: str, width: int
) -> None:
    email, plan, taxed = customer_with_invoices(sandbox_url, locale)
    page = new_page(width=width, locale=locale, base_url=live_portal.url)
    request_link(page, email, locale)
    if width == 1280:
        screenshot(page, f"check-email-{locale}-{width}")
    assert_no_violations(page)

    link = LINK.search(wait_for_mail(live_portal, email))
    assert link
    page.goto(link.group(1))
    expect(page).to_have_url(re.compile(r"/sign-in/confirm$"))  # the token is gone from the URL
    assert_no_violations(page)
    page.get_by_role("button", name=TEXT[locale]["sign_in"]).click()

    expect(page).to_have_url(live_portal.url + "/")
    expect(page.locator("html")).to_have_attribute("lang", locale)
    expect(page.get_by_role("heading", level=1)).to_have_text(TEXT[locale]["heading"])
    expect(page.locator(".badge--overdue").first).to_have_text(TEXT[locale]["overdue"])
    # The plan's row is about its late installment; the written-off invoice is not overdue.
    plan_row = page.locator("tr", has=page.locator(f'a[href$="/invoices/{plan}"]'))
    expect(plan_row).to_contain_text(TEXT[locale]["installment"])
    # Each row says what the invoice is for (its first line here), on one visible line.
    purpose = plan_row.locator(".row-purpose")
    expect(purpose).to_have_text(CUSTOMERS[locale][2])
    expect(purpose).to_be_visible()
    expect(page.locator(".badge--unpaid")).to_have_text(TEXT[locale]["unpaid"])
    assert page.evaluate("document.documentElement.scrollWidth") <= width  # nothing overflows
    screenshot(page, f"overview-{locale}-{width}", readme=locale == "de")
    assert axe(page) == []
    assert_no_console_errors(page)

    page.locator(f'a[href$="/invoices/{plan}"]').first.click()
    expect(page.get_by_role("link", name=TEXT[locale]["pdf"])).to_be_visible()
    # The facts first: what is still to pay, the next installment and the plan come before the
    # invoice's lines, on a phone too.
    tops = [
        page.locator(selector).bounding_box()
        for selector in (".facts", "#plan-heading", "#lines-heading")
    ]
    assert all(tops), tops
    assert [box["y"] for box in tops if box] == sorted(box["y"] for box in tops if box)
    expect(page.locator(".plan-progress")).to_contain_text("1")
    # The installment paid by card: how, and Stripe's receipt.
    expect(page.locator("#payments-heading + table")).to_contain_text("Visa •••• 4242")
    expect(page.get_by_role("link", name=re.compile(TEXT[locale]["receipt"]))).to_be_visible()
    screenshot(page, f"invoice-{locale}-{width}", readme=locale == "de")
    assert axe(page) == []
    assert_no_console_errors(page)

    # An invoice with a discount on a line and on the whole, its tax with the rate, a credit
    # note with its PDF: every row readable at this width, and nothing for axe to find.
    page.goto(f"/invoices/{taxed}")
    totals = page.locator("#lines-heading + table")
    for text in ("line_coupon", "coupon", "tax", "credit_note"):
        expect(totals).to_contain_text(TEXT[locale][text])
    if locale == "de":  # Stripe's generic "VAT" becomes the German word
        expect(totals).not_to_contain_text("VAT")
    note_pdf = page.locator('a[href*="/credit-notes/"]')
    expect(note_pdf).to_be_visible()
    assert page.evaluate("document.documentElement.scrollWidth") <= width  # nothing overflows
    screenshot(
        page, f"invoice-discount-tax-{locale}-{width}", readme=locale == "de" and width == 1280
    )
    assert axe(page) == []
    assert_no_console_errors(page)
    with page.expect_download() as download:
        note_pdf.click()
    word = str(TEXT[locale]["credit_note"]).replace(" ", "-")
    assert download.value.suggested_filename.startswith(f"{word}-")


def test_a_second_device_signs_in_with_the_code(
    live_portal: Portal, new_page: NewPage, sandbox_url: str
) -> None:
    email, _plan, _taxed = customer_with_invoices(sandbox_url, "de")
    laptop = new_page(locale="de", base_url=live_portal.url)
    request_link(laptop, email, "de")
    mail = wait_for_mail(live_portal, email)
    link, code = LINK.search(mail), CODE.search(mail)
    assert link
    assert code
    phone = new_page(width=375, locale="de", base_url=live_portal.url)
    phone.goto(link.group(1))
    phone.get_by_label("Code aus der E-Mail").fill(code.group(1))
    phone.get_by_role("button", name="Anmelden").click()
    expect(phone.get_by_role("heading", level=1)).to_have_text("Ihre Rechnungen")
    assert_no_violations(phone)


def test_pay_an_overdue_installment_then_the_rest_in_german(
    live_portal: Portal, new_page: NewPage
) -> None:
    email, customer, _ = customer_with_card(live_portal, locale="de")
    now = int(time.time())
    invoice = live_portal.invoice(
        customer,
        amount=60000,
        amounts_due=[
            {"amount": 20000, "due_date": now - 4 * 86400, "description": "Anzahlung"},
            {"amount": 40000, "due_date": now + 26 * 86400, "description": "Schlussrate"},
        ],
    )

    page = new_page(locale="de", base_url=live_portal.url)
    sign_in(page, live_portal, email)
    page.goto(f"/invoices/{invoice.id}")
    with i18n.use_locale("de"):
        overdue, partial, paid = (i18n.gettext(s) for s in ("Overdue", "Partially paid", "Paid"))
    expect(page.locator("h1 .badge")).to_have_text(overdue)

    page.get_by_role("button", name=re.compile("200,00")).click()  # starts the payment (POST)
    expect(page.get_by_role("button", name=re.compile("200,00"))).to_be_visible()
    assert_no_violations(page)
    screenshot(page, "pay-de-1280")
    page.get_by_role("button", name=re.compile("200,00")).click()
    expect(page.get_by_role("heading", level=1)).to_be_visible()
    assert_no_violations(page)
    page.goto(f"/invoices/{invoice.id}")
    expect(page.locator("h1 .badge")).to_have_text(partial)

    page.get_by_role("button", name=re.compile("400,00")).first.click()
    page.get_by_role("button", name=re.compile("400,00")).click()
    page.goto(f"/invoices/{invoice.id}")
    expect(page.locator("h1 .badge")).to_have_text(paid)
    assert_no_console_errors(page)


def test_add_a_sepa_mandate_through_checkout_in_dutch(
    live_portal: Portal, new_page: NewPage, sandbox_url: str
) -> None:
    sdk = stripe.StripeClient(
        SANDBOX_KEY,
        base_addresses={"api": sandbox_url},
        stripe_version=STRIPE_INVOICE_API_VERSION,  # payment plans are a preview feature
    )
    email = f"nl-{uuid.uuid4().hex[:8]}@example.com"
    customer = sdk.v1.customers.create(
        {"email": email, "name": "Bloemenhandel De Vries B.V.", "preferred_locales": ["nl"]}
    )
    page = new_page(width=375, locale="nl", base_url=live_portal.url)
    sign_in(page, live_portal, email)
    page.goto("/payment-methods")
    assert_no_violations(page)
    page.locator('form[action$="/payment-methods/add"] button').click()
    # The sandbox's hosted page stands in for Stripe Checkout, reached through the portal's own
    # "continuing to Stripe" page (form-action stays 'self').
    page.get_by_label("Name").fill("Sanne de Vries")
    page.get_by_label("E-mail").fill(email)
    page.get_by_role("button", name="Use this account").click()
    expect(page).to_have_url(live_portal.url + "/payment-methods")
    expect(page.locator(".method-row")).to_contain_text("3000")
    screenshot(page, "payment-methods-nl-375")
    assert_no_violations(page)
    methods = sdk.v1.customers.payment_methods.list(customer.id).data
    assert [m.type for m in methods] == ["sepa_debit"]


def test_pay_all_overdue_with_3d_secure_in_spanish_on_a_phone(
    live_portal: Portal, new_page: NewPage
) -> None:
    sdk = live_portal.sdk
    email, customer, _ = customer_with_card(
        live_portal, card="pm_card_authenticationRequired", locale="es"
    )
    now = int(time.time())
    invoices = [
        live_portal.invoice(customer, amount=amount, due_date=now - days_late * 86400).id
        for amount, days_late in ((15000, 40), (8000, 12))
    ]

    page = new_page(width=375, locale="es", base_url=live_portal.url)
    sign_in(page, live_portal, email)
    with i18n.use_locale("es"):
        pay_all, thanks = (
            i18n.gettext(s) for s in ("Pay all overdue", "Thank you for your payment")
        )
    page.get_by_role("button", name=pay_all).click()
    expect(page.get_by_role("button", name=re.compile("230,00"))).to_be_visible()
    assert_no_violations(page)
    screenshot(page, "pay-overdue-es-375")
    page.get_by_role("button", name=re.compile("230,00")).click()
    # The bank (the sandbox's stand-in) asks for each of the two charges in turn.
    for _ in invoices:
        page.get_by_role("button", name="Complete authentication").click()
    expect(page.get_by_role("heading", level=1)).to_have_text(thanks)
    assert_no_violations(page)
    assert_no_console_errors(page)
    assert [sdk.v1.invoices.retrieve(i).status for i in invoices] == ["paid", "paid"]


def test_billing_details_and_a_tax_id_in_croatian_on_a_phone(
    live_portal: Portal, new_page: NewPage
) -> None:
    sdk = live_portal.sdk
    email = f"hr-{uuid.uuid4().hex[:8]}@example.com"
    customer = live_portal.customer(email=email, name="Obrt Horvat", locale="hr")
    page = new_page(width=375, locale="hr", base_url=live_portal.url)
    sign_in(page, live_portal, email)
    page.goto("/account")
    page.locator("#country").select_option("HR")
    page.locator("#line1").fill("Ilica 1")
    page.locator("#postal_code").fill("1000")  # Croatian postal codes have five digits
    page.locator("#city").fill("Zagreb")
    page.locator('form[action$="/account"] button[type="submit"]:not([name])').click()
    expect(page.locator("#postal_code-error")).to_be_visible()
    expect(page.locator("#line1")).to_have_value("Ilica 1")  # kept
    assert_no_violations(page)
    screenshot(page, "billing-details-hr-375")
    page.locator("#postal_code").fill("10000")
    page.locator('form[action$="/account"] button[type="submit"]:not([name])').click()
    expect(page.locator(".notice")).to_be_visible()
    address = sdk.v1.customers.retrieve(customer).address
    assert address is not None
    assert (address.postal_code, address.city, address.country) == ("10000", "Zagreb", "HR")

    page.goto("/account/tax-ids")
    page.locator("#country").select_option("HR")  # the kinds for Croatia come in place
    page.locator('input[name="kind"][value="eu_vat"]').check()
    page.locator("#value").fill("hr 33392005961")
    page.locator('form[action$="/account/tax-ids"] button[type="submit"]:not([name])').click()
    expect(page.locator(".tax-id-row__value")).to_have_text("HR33392005961")
    assert_no_violations(page)
    assert_no_console_errors(page)


@pytest.mark.parametrize("locale", ["de", "pl", "hr"])
@pytest.mark.parametrize("width", [375, 1280])
def test_a_payment_ends_on_a_receipt_with_the_next_step(
    live_portal: Portal, new_page: NewPage, locale: str, width: int
) -> None:
    email, customer, _ = customer_with_card(live_portal, locale=locale)
    now = int(time.time())
    first, *_others = (
        live_portal.invoice(customer, amount=amount, due_date=now - days * 86400).id
        for amount, days in ((12000, 12), (8000, 5), (4500, 2))
    )
    page = new_page(width=width, locale=locale, base_url=live_portal.url)
    sign_in(page, live_portal, email)
    page.goto(f"/invoices/{first}")
    page.locator(".pay-box button").first.click()  # starts the payment (POST)
    page.locator('form[action*="/payments/"] button[type="submit"]').click()  # pays it
    receipt = page.locator(".receipt")
    expect(receipt).to_be_visible()
    expect(receipt).to_contain_text("•••• 4242")
    expect(receipt).to_contain_text("pi_")
    with i18n.use_locale(locale):
        paid_on = i18n.gettext("Paid on")
        next_step = i18n.ngettext(
            "Pay the %(num)s remaining overdue invoice",
            "Pay the %(num)s remaining overdue invoices",
            2,
        )
    expect(receipt).to_contain_text(paid_on)
    expect(page.locator(".next-step .button")).to_have_text(next_step)
    assert page.evaluate("document.documentElement.scrollWidth") <= width
    screenshot(page, f"receipt-{locale}-{width}", readme=locale == "de" and width == 375)
    assert axe(page) == []
    assert_no_console_errors(page)
