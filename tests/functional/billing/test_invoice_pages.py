"""The overview, the history, an invoice and its PDF, as a signed-in customer sees them."""

from __future__ import annotations

import io
import re
import time
import uuid

import httpx
import pytest
import stripe
from pypdf import PdfReader

from tests.functional.portal_support import Browser, Portal, text_of


def signed_in(
    portal: Portal, *, locale: str = "de", name: str = "Schmidt Haustechnik GmbH", **headers: str
) -> tuple[Browser, str]:
    email = f"kunde-{uuid.uuid4().hex[:8]}@example.de"
    customer = portal.customer(email=email, name=name, locale=locale)
    return portal.browser(**headers), customer


def sign_in(browser: Browser, portal: Portal, customer: str) -> None:
    email = portal.sdk.v1.customers.retrieve(customer).email
    assert email
    assert browser.sign_in(email).status_code == 303


def text_of_html(html: str) -> str:
    """A piece of a page as its words, tags dropped."""
    return " ".join(re.sub(r"<[^>]+>", " ", html).split())


def row_of(page: httpx.Response, number: str) -> str:
    rows = re.findall(r"<tr>.*?</tr>", page.text, re.S)
    found = [r for r in rows if number in r]
    assert found, number
    return found[0]


def test_overview_lists_what_to_pay_above_the_history_and_never_a_draft(portal: Portal) -> None:
    browser, customer = signed_in(portal)
    now = int(time.time())
    overdue = portal.invoice(customer, amount=5000, due_date=now - 5 * 86400)
    soon = portal.invoice(customer, amount=7000, due_date=now + 3 * 86400)
    later = portal.invoice(customer, amount=9000, due_date=now + 40 * 86400)
    written_off = portal.invoice(customer, amount=4000, due_date=now - 40 * 86400)
    portal.sdk.v1.invoices.mark_uncollectible(written_off.id)
    paid = portal.invoice(customer, amount=3000)
    portal.sdk.v1.invoices.pay(paid.id, {"paid_out_of_band": True})
    void = portal.invoice(customer, amount=2000)
    portal.sdk.v1.invoices.void_invoice(void.id)
    draft = portal.invoice(customer, amount=1000, finalize=False)
    sign_in(browser, portal, customer)

    page = browser.get("/")
    assert page.status_code == 200
    html = page.text
    to_pay, history = html.split('id="history-heading"')
    # Most urgent first: overdue, due soon, later; the written-off one last, owed but not chased.
    order = [to_pay.index(i.number) for i in (overdue, soon, later, written_off)]  # type: ignore[arg-type]
    assert order == sorted(order)
    assert "badge--overdue" in row_of(page, overdue.number)  # type: ignore[arg-type]
    assert "badge--unpaid" in row_of(page, written_off.number)  # type: ignore[arg-type]
    assert "badge--overdue" not in row_of(page, written_off.number)  # type: ignore[arg-type]
    assert "badge--soon" in row_of(page, soon.number)  # type: ignore[arg-type]
    assert "badge--open" in row_of(page, later.number)  # type: ignore[arg-type]
    assert paid.number in history
    assert void.number in history
    assert paid.number not in to_pay
    assert draft.id not in html
    shown = text_of(page)
    assert "250,00 €" in shown  # 40 + 50 + 70 + 90 EUR outstanding
    assert "50,00 €" in shown  # of which overdue: the 50 (the written-off 40 is not chased)


def test_every_unpaid_invoice_counts_past_stripes_largest_page(portal: Portal) -> None:
    browser = portal.browser()
    # 105 open invoices of 10.00 EUR: Stripe lists at most 100 at a time.
    made = httpx.post(
        f"{portal.settings.stripe_api_base}/_sandbox/bulk",
        json={
            "customers": [
                {
                    "params": {
                        "email": f"many-{uuid.uuid4().hex[:8]}@example.com",
                        "preferred_locales": ["en-GB"],
                    },
                    "invoices": [
                        {
                            "item": {"amount": 1000, "currency": "eur"},
                            "invoice": {"collection_method": "send_invoice", "days_until_due": 9},
                            "finalize": True,
                            "repeat": 105,
                        }
                    ],
                }
            ]
        },
        timeout=60,
    )
    assert made.status_code == 200, made.text
    sign_in(browser, portal, made.json()["customers"][0]["id"])
    page = browser.get("/")
    assert page.status_code == 200
    to_pay = page.text.split('id="history-heading"')[0]
    assert len(re.findall(r'href="[^"]*/invoices/in_', to_pay)) >= 105
    assert "€1,050.00" in text_of(page)


def test_a_written_off_invoice_is_payable_on_its_page_but_not_among_the_overdue(
    portal: Portal,
) -> None:
    browser, customer = signed_in(portal, locale="en")
    now = int(time.time())
    written_off = portal.invoice(customer, amount=4000, due_date=now - 40 * 86400)
    portal.sdk.v1.invoices.mark_uncollectible(written_off.id)
    sign_in(browser, portal, customer)
    page = browser.get(f"/invoices/{written_off.id}")
    assert "This invoice is still unpaid. You can pay it here at any time." in text_of(page)
    assert "Pay €40.00" in text_of(page)  # nothing paid yet: not "the remaining"
    assert "Pay all overdue" not in browser.get("/").text
    assert browser.get("/pay-overdue/eur").status_code == 409  # nothing overdue to pay


def test_overview_costs_at_most_five_stripe_calls(portal: Portal, sandbox_url: str) -> None:
    """What is to pay, the history, the customer's balances and the drafts Stripe will issue,
    read at the same time."""
    browser, customer = signed_in(portal)
    portal.invoice(customer)
    sign_in(browser, portal, customer)
    httpx.post(f"{sandbox_url}/_sandbox/stats/reset")
    assert browser.get("/").status_code == 200
    stats = httpx.get(f"{sandbox_url}/_sandbox/stats").json()
    assert stats["requests"] <= 5, stats


def test_history_shows_more_on_request(portal: Portal) -> None:
    browser, customer = signed_in(portal)
    numbers = []
    for _ in range(23):
        invoice = portal.invoice(customer, amount=1000)
        portal.sdk.v1.invoices.pay(invoice.id, {"paid_out_of_band": True})
        numbers.append(invoice.number)
    sign_in(browser, portal, customer)
    first = browser.get("/")
    shown_first = [n for n in numbers if n in first.text]
    more = re.search(r"href=\"[^\"]*(/history\?after=in_[A-Za-z0-9]+)\"", first.text)
    assert more
    second = browser.get(more.group(1))
    shown_second = [n for n in numbers if n in second.text]
    assert len(shown_first) == 20
    assert sorted(shown_first + shown_second) == sorted(numbers)
    assert shown_first[-1] == numbers[-1]  # newest first
    assert 'href="/history?after=' not in second.text  # no more to show


def test_invoice_page_shows_lines_totals_plan_and_payments(portal: Portal) -> None:
    browser, customer = signed_in(portal)
    now = int(time.time())
    plan = portal.invoice(
        customer,
        amount=30000,
        amounts_due=[
            {"amount": 10000, "due_date": now - 20 * 86400, "description": "Anzahlung"},
            {"amount": 10000, "due_date": now - 2 * 86400, "description": "Rate 1"},
            {"amount": 10000, "due_date": now + 28 * 86400, "description": "Rate 2"},
        ],
    )
    pm = portal.sdk.v1.payment_methods.attach("pm_card_visa", {"customer": customer})
    intent = portal.sdk.v1.payment_intents.create(
        {"amount": 10000, "currency": "eur", "customer": customer, "payment_method": pm.id}
    )
    portal.sdk.v1.invoices.attach_payment(plan.id, {"payment_intent": intent.id})
    portal.sdk.v1.payment_intents.confirm(intent.id, {"off_session": True})
    sign_in(browser, portal, customer)

    page = browser.get(f"/invoices/{plan.id}")
    text = text_of(page)
    assert page.status_code == 200
    assert "Wartungsvertrag" in text
    assert "300,00 €" in text  # total
    assert "200,00 €" in text  # still to pay
    assert "Anzahlung (1 von 3)" in text
    assert "Rate 2 (3 von 3)" in text  # the seller's name, with its place
    assert "1 von 3 Raten bezahlt" in text
    assert "badge--overdue" in page.text  # Rate 1 is late: overdue wins over partially paid
    assert text.count("100,00 €") >= 4  # three parts, one payment
    # What is to pay, and the plan, come before the lines.
    html = page.text
    assert (
        html.index("Noch zu zahlen")
        < html.index('id="plan-heading"')
        < html.index('id="lines-heading"')
    )


@pytest.mark.parametrize("whose", ["another customer's", "a draft", "no such"])
def test_invoices_not_ours_are_the_same_404(portal: Portal, whose: str) -> None:
    browser, customer = signed_in(portal)
    sign_in(browser, portal, customer)
    if whose == "another customer's":
        invoice_id = portal.invoice(portal.customer()).id
    elif whose == "a draft":
        invoice_id = portal.invoice(customer, finalize=False).id
    else:
        invoice_id = "in_doesnotexist000000"
    for path in (f"/invoices/{invoice_id}", f"/invoices/{invoice_id}/pdf"):
        response = browser.get(path)
        assert response.status_code == 404
        assert invoice_id not in text_of(response)


def test_pdf_is_streamed_under_a_name_in_the_customers_language(portal: Portal) -> None:
    browser, customer = signed_in(portal, locale="de")
    invoice = portal.invoice(customer)
    sign_in(browser, portal, customer)
    response = browser.get(f"/invoices/{invoice.id}/pdf")
    assert response.status_code == 200
    assert response.headers["content-type"] == "application/pdf"
    assert f'filename="Rechnung-{invoice.number}.pdf"' in response.headers["content-disposition"]
    # Through Stripe's redirect to its file storage (the sandbox's files origin), passed on.
    assert int(response.headers.get("content-length", len(response.content))) == len(
        response.content
    )
    text = PdfReader(__import__("io").BytesIO(response.content)).pages[0].extract_text()
    assert invoice.number in text


def test_zero_decimal_currencies_are_whole_units(portal: Portal) -> None:
    browser, customer = signed_in(portal, locale="en", name="Tanaka Trading K.K.")
    portal.invoice(customer, amount=5000, currency="jpy")
    sign_in(browser, portal, customer)
    assert "¥5,000" in text_of(browser.get("/"))


def test_one_address_two_companies_pick_and_switch_without_signing_in_again(portal: Portal) -> None:
    email = f"anna-{uuid.uuid4().hex[:6]}@example.de"
    first = portal.customer(email=email, name="Schmidt Haustechnik GmbH")
    second = portal.customer(email=email, name="Schmidt Immobilien AG")
    first_invoice = portal.invoice(first)
    second_invoice = portal.invoice(second, currency="chf")
    browser = portal.browser()
    done = browser.sign_in(email)
    assert done.headers["location"].endswith("/accounts?choose=1")
    picker = text_of(browser.get(done.headers["location"].removeprefix(portal.url)))
    assert "Schmidt Haustechnik GmbH" in picker
    assert "Schmidt Immobilien AG" in picker
    # What each account has to pay, and none chosen for the customer.
    assert "120,00 € zu zahlen" in picker
    assert "CHF" in picker
    assert "Derzeit geöffnet" not in picker

    browser.post("/accounts", {"customer": second})
    page = browser.get("/")
    assert second_invoice.number in page.text
    assert first_invoice.number not in page.text
    assert browser.get(f"/invoices/{first_invoice.id}").status_code == 404

    browser.post("/accounts", {"customer": first})
    assert first_invoice.number in browser.get("/").text
    assert "Derzeit geöffnet" in text_of(browser.get("/accounts"))  # chosen now: marked
    stranger = portal.customer()
    assert browser.post("/accounts", {"customer": stranger}).status_code == 404


def test_stripe_down_gives_a_page_that_says_so(portal: Portal, sandbox_url: str) -> None:
    browser, customer = signed_in(portal, **{"Accept-Language": "de"})
    sign_in(browser, portal, customer)
    httpx.post(f"{sandbox_url}/_sandbox/faults", json={"status": 500, "count": 3})
    try:
        page = browser.get("/")
    finally:
        httpx.post(f"{sandbox_url}/_sandbox/faults/clear")
    assert page.status_code == 503
    assert '<html lang="de">' in page.text
    assert re.search(r"<code>[0-9a-f]{16}</code>", page.text)
    assert "Traceback" not in page.text


def test_a_plan_row_shows_its_late_installment_and_pays_it(portal: Portal) -> None:
    from tests.functional.billing.billing_support import plan_invoice

    browser, customer = signed_in(portal)
    invoice = plan_invoice(portal, customer, late=True)
    number = portal.sdk.v1.invoices.retrieve(invoice).number
    assert number
    sign_in(browser, portal, customer)
    page = browser.get("/")
    row = row_of(page, number).replace("\u00a0", " ")
    assert "Rate 1 von 3" in row
    assert "10 Tage überfällig" in row
    assert "100,00 €" in row  # the late installment, not the 300,00 € left
    assert "von insgesamt offenen 300,00 €" in row
    form = re.search(
        r'<form method="post" action="([^"]+)">.*?name="what" value="(\w+)"', row, re.S
    )
    assert form
    assert form.groups() == (f"/invoices/{invoice}/pay", "overdue_installments")


def test_a_plan_row_on_time_shows_the_next_installment(portal: Portal) -> None:
    from tests.functional.billing.billing_support import plan_invoice

    browser, customer = signed_in(portal)
    invoice = plan_invoice(portal, customer, late=False)
    number = portal.sdk.v1.invoices.retrieve(invoice).number
    assert number
    sign_in(browser, portal, customer)
    row = row_of(browser.get("/"), number)
    assert "Rate 1 von 3" in row
    assert "überfällig" not in row
    assert 'value="next_installment"' in row


def test_the_invoice_shows_who_billed_whom_and_unit_prices(portal: Portal) -> None:
    browser, customer = signed_in(portal)
    portal.sdk.v1.customers.update(
        customer,
        {
            "address": {
                "line1": "Ringstraße 5",
                "postal_code": "1010",
                "city": "Wien",
                "country": "AT",
            }
        },
    )
    portal.sdk.v1.customers.tax_ids.create(customer, {"type": "eu_vat", "value": "ATU13585627"})
    draft = portal.sdk.v1.invoices.create(
        {
            "customer": customer,
            "collection_method": "send_invoice",
            "days_until_due": 14,
            "currency": "eur",
        }
    )
    portal.sdk.v1.invoice_items.create(
        {
            "customer": customer,
            "invoice": draft.id,
            "currency": "eur",
            "quantity": 3,
            "unit_amount_decimal": "1500",
            "description": "Wartung",
        }
    )
    invoice = portal.sdk.v1.invoices.finalize_invoice(draft.id)
    # Changed after issuing: the invoice keeps what it was issued with.
    portal.sdk.v1.customers.update(customer, {"address": {"city": "Graz", "country": "AT"}})
    sign_in(browser, portal, customer)
    shown = text_of(browser.get(f"/invoices/{invoice.id}"))
    billed = shown.split("Rechnungsempfänger", 1)[1].split("Positionen", 1)[0]
    assert "Schmidt Haustechnik GmbH" in billed
    assert "Ringstraße 5" in billed
    assert "1010 Wien" in billed
    assert "Österreich" in billed
    assert "Graz" not in billed
    assert "ATU13585627" in billed
    assert "Einzelpreis" in shown
    assert "15,00 €" in shown
    assert "45,00 €" in shown


def test_a_credit_note_shows_on_its_invoice_and_lowers_what_is_left(portal: Portal) -> None:
    browser, customer = signed_in(portal)
    invoice = portal.invoice(customer, amount=20000)
    note = portal.sdk.v1.credit_notes.create(
        {"invoice": invoice.id, "amount": 5000, "memo": "Preisnachlass"}
    )
    sign_in(browser, portal, customer)
    shown = text_of(browser.get(f"/invoices/{invoice.id}"))
    assert f"Rechnungskorrektur {note.number} vom" in shown
    assert "Preisnachlass" in shown
    assert "\u221250,00 €" in shown  # a real minus sign
    assert "-50,00" not in shown
    # The sum is done for the reader: total, the credit note, the amount due.
    assert re.search(
        r"Gesamtbetrag 200,00 € Rechnungskorrektur .* \u221250,00 € Fälliger Zahlungsbetrag 150,00 €",
        " ".join(shown.split()),
    )


def test_stripes_own_words_for_an_installment_are_shown_as_they_are(portal: Portal) -> None:
    browser, customer = signed_in(portal)
    now = int(time.time())
    invoice = portal.invoice(
        customer,
        amount=30000,
        amounts_due=[
            {"amount": 10000, "due_date": now + 5 * 86400, "description": "Deposit (Q1)"},
            {"amount": 20000, "due_date": now + 35 * 86400, "description": "Balance"},
        ],
    )
    sign_in(browser, portal, customer)
    row = text_of_html(row_of(browser.get("/"), invoice.number))  # type: ignore[arg-type]
    # One way: the seller's own name with its place, never "Rate 1 von 2 · Deposit".
    assert "Deposit (Q1) (1 von 2)" in row
    assert "Rate 1 von 2" not in row


# -- discounts, taxes and credit notes -----------------------------------------------------------


def words(page: httpx.Response) -> str:
    """The visible text with every run of white space as one space."""
    return " ".join(text_of(page).split())


def discounted_and_taxed(
    portal: Portal,
    customer: str,
    *,
    currency: str = "eur",
    tax: tuple[str, float, bool] = ("VAT", 19, False),
    coupon: str = "Treuerabatt",
    line_coupon: str = "Stammkunde",
) -> stripe.Invoice:
    """100.00 and 50.00 (the second with 5.00 off of its own), 10 % off the invoice, and the
    tax rate `tax` (display name, percentage, inclusive) on every line."""
    name, percentage, inclusive = tax
    rate = portal.sdk.v1.tax_rates.create(
        {"display_name": name, "percentage": percentage, "inclusive": inclusive,
         "tax_type": "vat"}
    )  # fmt: skip
    ten_percent = portal.sdk.v1.coupons.create({"percent_off": 10, "name": coupon})
    five_off = portal.sdk.v1.coupons.create(
        {"amount_off": 500, "currency": currency, "name": line_coupon}
    )
    draft = portal.sdk.v1.invoices.create(
        {"customer": customer, "collection_method": "send_invoice", "days_until_due": 14,
         "currency": currency, "default_tax_rates": [rate.id],
         "discounts": [{"coupon": ten_percent.id}]}
    )  # fmt: skip
    portal.sdk.v1.invoice_items.create(
        {"customer": customer, "invoice": draft.id, "amount": 10000, "currency": currency,
         "description": "Wartungsvertrag"}
    )  # fmt: skip
    portal.sdk.v1.invoice_items.create(
        {"customer": customer, "invoice": draft.id, "amount": 5000, "currency": currency,
         "description": "Anfahrtspauschale", "discounts": [{"coupon": five_off.id}]}
    )  # fmt: skip
    return portal.sdk.v1.invoices.finalize_invoice(draft.id)


def test_discounts_and_the_tax_with_its_rate_in_german(portal: Portal) -> None:
    browser, customer = signed_in(portal)
    invoice = discounted_and_taxed(portal, customer)
    sign_in(browser, portal, customer)
    page = browser.get(f"/invoices/{invoice.id}")
    shown = words(page)
    # The line's own coupon right under it; the subtotal has it taken already.
    assert re.search(r"Anfahrtspauschale 1 50,00 € 50,00 € Rabatt: Stammkunde \u22125,00 €", shown)
    assert re.search(r"Zwischensumme 145,00 €", shown)
    # 10 % of 145.00, then 19 % on 130.50 (tax per line: 17.10  7.70), named as Germans do; the
    # coupon's name says "Rabatt" already.
    assert re.search(r"Treuerabatt \u221214,50 €", shown)
    assert "Rabatt: Treuerabatt" not in shown
    assert re.search(r"USt\. 19 % 24,80 €", shown)
    assert re.search(r"Gesamtbetrag 155,30 €", shown)
    assert "VAT" not in shown
    assert invoice.total == 15530
    tfoot = page.text.split("<tfoot>", 1)[1].split("</tfoot>", 1)[0]
    order = [tfoot.index(word) for word in ("Zwischensumme", "Treuerabatt", "USt.", "Gesamtbetrag")]
    assert order == sorted(order)


def test_discounts_and_the_tax_with_its_rate_in_polish(portal: Portal) -> None:
    browser, customer = signed_in(portal, locale="pl", name="Nowak Software sp. z o.o.")
    invoice = discounted_and_taxed(
        portal, customer, currency="pln", tax=("VAT", 23, False), coupon="Stały klient",
        line_coupon="Pakiet startowy",
    )  # fmt: skip
    sign_in(browser, portal, customer)
    shown = words(browser.get(f"/invoices/{invoice.id}"))
    assert re.search(r"Rabat: Pakiet startowy \u22125,00 zł", shown)
    assert re.search(r"Suma częściowa 145,00 zł", shown)
    assert re.search(r"Rabat: Stały klient \u221214,50 zł", shown)
    # 23 % of 90.00 and of 40.50: 20.70  9.32 (9.315 rounded per line).
    assert re.search(r"VAT 23% 30,02 zł", shown)
    assert re.search(r"Razem 160,52 zł", shown)


def test_a_tax_included_in_the_prices_comes_after_the_total(portal: Portal) -> None:
    browser, customer = signed_in(portal, locale="nl", name="De Vries Webwinkel B.V.")
    invoice = discounted_and_taxed(portal, customer, tax=("BTW", 21, True), coupon="Voorjaar",
                                   line_coupon="Trouwe klant")  # fmt: skip
    sign_in(browser, portal, customer)
    shown = words(browser.get(f"/invoices/{invoice.id}"))
    # Nothing added on top: the total is what the discounts left, 21 % of it included.
    assert re.search(r"Totaal € 130,50 waarvan BTW 21% € 22,65", shown)
    assert invoice.total == 13050


def test_naming_taxes_and_discounts_costs_no_stripe_call_more(
    portal: Portal, stripe_faults: httpx.Client
) -> None:
    browser, customer = signed_in(portal)
    plain = portal.invoice(customer)
    taxed = discounted_and_taxed(portal, customer)
    sign_in(browser, portal, customer)
    calls = {}
    for invoice in (plain, taxed):
        stripe_faults.post("/_sandbox/stats/reset")
        assert browser.get(f"/invoices/{invoice.id}").status_code == 200
        calls[invoice.id] = stripe_faults.get("/_sandbox/stats").json()["by_endpoint"]
    assert calls[taxed.id] == calls[plain.id]
    assert calls[taxed.id]["GET /v1/invoices/{invoice}"] == 1


def test_a_credit_notes_pdf_is_downloaded_under_a_name_in_the_customers_language(
    portal: Portal,
) -> None:
    browser, customer = signed_in(portal)
    invoice = discounted_and_taxed(portal, customer)
    note = portal.sdk.v1.credit_notes.create(
        {"invoice": invoice.id, "amount": 2000, "memo": "Kulanz"}
    )
    sign_in(browser, portal, customer)
    page = browser.get(f"/invoices/{invoice.id}")
    link = f"/invoices/{invoice.id}/credit-notes/{note.id}/pdf"
    assert f'href="{link}"' in page.text
    assert f"Rechnungskorrektur {note.number} vom" in text_of(page)
    response = browser.get(link)
    assert response.status_code == 200
    assert response.headers["content-type"] == "application/pdf"
    assert (
        f'filename="Rechnungskorrektur-{note.number}.pdf"'
        in response.headers["content-disposition"]
    )
    assert response.headers["cache-control"] == "private, no-store"
    text = PdfReader(io.BytesIO(response.content)).pages[0].extract_text()
    assert str(note.number) in text
    assert "Kulanz" in text


def test_a_credit_note_of_anyone_elses_invoice_is_the_same_404(portal: Portal) -> None:
    browser, customer = signed_in(portal)
    mine = portal.invoice(customer, amount=20000)
    my_note = portal.sdk.v1.credit_notes.create({"invoice": mine.id, "amount": 1000})
    other_mine = portal.invoice(customer, amount=20000)
    stranger = portal.customer()
    theirs = portal.invoice(stranger, amount=20000)
    their_note = portal.sdk.v1.credit_notes.create({"invoice": theirs.id, "amount": 1000})
    sign_in(browser, portal, customer)
    assert browser.get(f"/invoices/{mine.id}/credit-notes/{my_note.id}/pdf").status_code == 200
    for invoice_id, note_id in (
        (mine.id, their_note.id),  # another customer's credit note under my invoice
        (theirs.id, their_note.id),  # another customer's invoice and its credit note
        (other_mine.id, my_note.id),  # my credit note, but not of this invoice
        (mine.id, "cn_doesnotexist0000000"),
        (mine.id, "in_notacreditnote00000"),
    ):
        response = browser.get(f"/invoices/{invoice_id}/credit-notes/{note_id}/pdf")
        assert response.status_code == 404, (invoice_id, note_id)
        assert "content-disposition" not in response.headers
        assert note_id not in text_of(response)


def test_a_repeat_view_is_the_kept_page_until_what_it_shows_changes(
    portal: Portal, monkeypatch: pytest.MonkeyPatch
) -> None:
    """The overview and an invoice page are kept (portal.pages) with what they were made
    from: the same page again for the same browser, a new one as soon as Stripe's data
    changes, and never another browser's (its own CSRF token in every form)."""
    from portal.pages import KeptPages
    from tests.functional.billing.test_webhooks import deliver, event

    served: list[bool] = []  # each repeat view: the kept page, or made again
    looked_up = KeptPages.get

    def counted(self: KeptPages, key: object, made_from: object) -> str | None:
        found = looked_up(self, key, made_from)  # type: ignore[arg-type]
        served.append(found is not None)
        return found

    monkeypatch.setattr(KeptPages, "get", counted)
    browser, customer = signed_in(portal)
    now = int(time.time())
    invoice = portal.invoice(  # a plan with an overdue part: every kind of value on the page
        customer,
        amount=5000,
        amounts_due=[
            {"amount": 2000, "due_date": now - 3 * 86400},
            {"amount": 3000, "due_date": now + 20 * 86400},
        ],
    )
    sign_in(browser, portal, customer)
    first = browser.get("/").text
    assert browser.get("/").text == first
    assert served[-1], "the overview was made again"
    page = browser.get(f"/invoices/{invoice.id}").text
    assert browser.get(f"/invoices/{invoice.id}").text == page
    assert served[-1], "the invoice page was made again"
    token = re.search(r'name="csrf_token" value="([0-9a-f]+)"', first)
    assert token

    other = portal.browser()
    sign_in(other, portal, customer)
    theirs = other.get("/").text
    assert token.group(1) not in theirs  # the other browser's own token, not the kept page's

    portal.sdk.v1.invoices.pay(invoice.id, {"paid_out_of_band": True})
    paid = {"id": invoice.id, "object": "invoice", "customer": customer, "status": "paid"}
    assert deliver(portal, event("invoice.paid", paid)).status_code == 200
    to_pay, history = browser.get("/").text.split('id="history-heading"')
    assert invoice.number in history  # type: ignore[operator]
    assert invoice.number not in to_pay  # type: ignore[operator]
    assert browser.get(f"/invoices/{invoice.id}").text != page


# -- the seller, the reason for no tax, what an invoice is for ---------------------------------


def test_the_seller_is_shown_as_stripe_knows_it_with_its_tax_id(portal: Portal) -> None:
    browser, customer = signed_in(portal)
    vat = portal.sdk.v1.tax_ids.create({"type": "eu_vat", "value": "DE293817466"})
    invoice = portal.invoice(customer, amount=10000, account_tax_ids=[vat.id])
    sign_in(browser, portal, customer)
    shown = words(browser.get(f"/invoices/{invoice.id}"))
    seller = shown.split("Rechnungssteller", 1)[1].split("Rechnungsempfänger", 1)[0]
    assert invoice.account_name
    assert invoice.account_name in seller  # Stripe's name for the account, not a setting
    assert "Deutschland" in seller  # the account's country
    assert "USt-IdNr.: DE293817466" in seller


def test_a_reverse_charge_invoice_says_so_and_has_no_tax_row(portal: Portal) -> None:
    browser, customer = signed_in(portal, locale="pl", name="Nowak Software sp. z o.o.")
    portal.sdk.v1.customers.update(customer, {"tax_exempt": "reverse"})
    invoice = portal.invoice(customer, amount=10000)
    sign_in(browser, portal, customer)
    page = browser.get(f"/invoices/{invoice.id}")
    shown = words(page)
    assert "Odwrotne obciążenie: podatek VAT rozlicza nabywca." in shown
    tfoot = page.text.split("<tfoot>", 1)[1].split("</tfoot>", 1)[0]
    assert "totals-row--tax" not in tfoot  # no "VAT 0,00 zł": the note says why there is none
    # An ordinary customer's untaxed invoice: no note, and no tax row either.
    portal.sdk.v1.customers.update(customer, {"tax_exempt": "none"})
    ordinary = portal.invoice(customer, amount=10000)
    page = browser.get(f"/invoices/{ordinary.id}")
    assert "Odwrotne obciążenie" not in words(page)
    assert "totals-row--tax" not in page.text


def test_rows_say_what_each_invoice_is_for(portal: Portal) -> None:
    browser, customer = signed_in(portal)
    by_line = portal.invoice(customer, amount=5000)  # its one line: "Wartungsvertrag"
    described = portal.invoice(customer, amount=7000, description="Umbau Filiale Köln")
    paid = portal.invoice(customer, amount=3000, description="Schulung März")
    portal.sdk.v1.invoices.pay(paid.id, {"paid_out_of_band": True})
    sign_in(browser, portal, customer)
    page = browser.get("/")
    assert "Wartungsvertrag" in text_of_html(row_of(page, by_line.number))  # type: ignore[arg-type]
    assert "Umbau Filiale Köln" in text_of_html(row_of(page, described.number))  # type: ignore[arg-type]
    assert "Schulung März" in text_of_html(row_of(page, paid.number))  # type: ignore[arg-type]
