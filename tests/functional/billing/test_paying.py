"""Paying with a saved payment method, checked in Stripe's records (the sandbox), not ours."""

from __future__ import annotations

import concurrent.futures
import re
import time
import uuid
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import httpx
import pytest
from sqlalchemy import func, select

from portal import i18n
from portal.storage.tables import payments
from tests.functional.billing.billing_support import (
    DAY,
    at_stripe,
    back_from_stripe,
    charged,
    chosen_method,
    customer_with_card,
    follow,
    open_pay_page,
    pay_page,
    plan_invoice,
    signed_in,
    with_3d_secure_card,
)
from tests.functional.billing.stingy_stripe import Stingy, stingy_stripe
from tests.functional.portal_support import Portal, serve_portal, text_of


def test_whole_invoice_with_the_default_card(portal: Portal) -> None:
    email, customer, pm = customer_with_card(portal)
    invoice = portal.invoice(customer, amount=12345).id
    browser = signed_in(portal, email)
    assert chosen_method(browser, invoice, "whole") == pm
    action = open_pay_page(browser, invoice, "whole")
    done = browser.post(action, {"payment_method": pm})
    assert done.status_code == 303
    result = browser.get(done.headers["location"])
    assert "123,45 €" in text_of(result)
    assert portal.sdk.v1.invoices.retrieve(invoice).status == "paid"
    assert charged(portal, customer) == [12345]
    # The thank-you page is a receipt: amount, when, how, Stripe's reference and its receipt.
    shown = " ".join(text_of(result).split())
    assert re.search(r"Betrag 123,45 € Bezahlt am \d\d\.\d\d\.\d{4}, \d\d:\d\d", shown)
    assert re.search(r"Bezahlt mit Visa •••• 4242", shown)
    assert re.search(r"Zahlungsreferenz pi_\w+", shown)
    assert "Der Zahlungsbeleg wurde" not in shown  # Stripe sent none (test mode, not the team's)
    # One icon for the outcome and one next step, no second way back.
    assert "result__icon--ok" in result.text
    assert result.text.count(f'href="/invoices/{invoice}"') == 1
    assert "Beleg ansehen</a>" in result.text
    page = browser.get(f"/invoices/{invoice}")
    row = page.text.split('id="payments-heading"', 1)[1]
    assert "Visa •••• 4242" in text_of(page)
    receipt = re.search(r'<a href="([^"]+)" rel="noopener" target="_blank">Beleg', row)
    assert receipt, row
    assert httpx.get(receipt.group(1)).status_code == 200


def test_the_receipt_says_where_stripe_sent_it_and_offers_the_next_overdue_invoice(
    portal: Portal, sandbox_url: str
) -> None:
    email, customer, pm = customer_with_card(portal)
    # Stripe e-mails receipts for successful payments where the account says so (in test mode
    # only to the account's team: this customer's address is made one of the team's).
    setting = {"email_successful_payments": True, "team_emails": [email]}
    assert httpx.post(f"{sandbox_url}/_sandbox/account", json=setting).status_code == 200
    try:
        first = overdue_invoice(portal, customer, 4000, days_late=10)
        overdue_invoice(portal, customer, 5000, days_late=3)
        overdue_invoice(portal, customer, 6000, days_late=2)
        browser = signed_in(portal, email)
        done = browser.post(open_pay_page(browser, first, "whole"), {"payment_method": pm})
        result = browser.get(done.headers["location"])
    finally:
        reset = {"email_successful_payments": False, "team_emails": []}
        httpx.post(f"{sandbox_url}/_sandbox/account", json=reset)
    shown = " ".join(text_of(result).split())
    assert f"Der Zahlungsbeleg wurde an {email} gesendet." in shown
    assert re.search(r"Belegnummer \d{4}-\d{4}", shown)
    # The next useful step: the two overdue invoices left, in one payment.
    assert "Weitere überfällige Rechnungen bezahlen (2)" in shown
    assert 'href="/pay-overdue/eur"' in result.text


def test_next_installment_then_overdue_installments(portal: Portal) -> None:
    email, customer, pm = customer_with_card(portal)
    upcoming = plan_invoice(portal, customer, late=False)
    late = plan_invoice(portal, customer, late=True)
    browser = signed_in(portal, email)
    browser.post(open_pay_page(browser, upcoming, "next_installment"), {"payment_method": pm})
    browser.post(open_pay_page(browser, late, "overdue_installments"), {"payment_method": pm})
    first = portal.sdk.v1.invoices.retrieve(upcoming)
    second = portal.sdk.v1.invoices.retrieve(late)
    assert (first.amount_paid, first.amount_remaining, first.status) == (10000, 20000, "open")
    assert (second.amount_paid, second.amount_remaining) == (10000, 20000)
    assert charged(portal, customer) == [10000, 10000]


def test_double_click_and_resubmit_charge_once(portal: Portal) -> None:
    email, customer, pm = customer_with_card(portal)
    invoice = plan_invoice(portal, customer, late=False)
    browser = signed_in(portal, email)
    action = open_pay_page(browser, invoice, "next_installment")
    with concurrent.futures.ThreadPoolExecutor(4) as pool:
        statuses = list(
            pool.map(lambda _: browser.post(action, {"payment_method": pm}).status_code, range(4))
        )
    assert statuses == [303] * 4
    assert browser.post(action, {"payment_method": pm}).status_code == 303  # back, and submit again
    assert charged(portal, customer) == [10000]


def test_two_tabs_paying_the_next_installment_charge_once(portal: Portal) -> None:
    email, customer, pm = customer_with_card(portal)
    invoice = plan_invoice(portal, customer, late=False)
    browser = signed_in(portal, email)
    first_tab = open_pay_page(browser, invoice, "next_installment")
    second_tab = open_pay_page(browser, invoice, "next_installment")
    browser.post(first_tab, {"payment_method": pm})
    answer = browser.post(second_tab, {"payment_method": pm})
    with i18n.use_locale("de"):
        nothing_charged = i18n.gettext("Nothing was charged")
    assert nothing_charged in text_of(browser.get(answer.headers["location"]))
    assert charged(portal, customer) == [10000]
    assert portal.sdk.v1.invoices.retrieve(invoice).amount_paid == 10000


def test_a_decline_explains_itself_in_the_customers_language(portal: Portal) -> None:
    email, customer, _ = customer_with_card(portal, locale="pl")
    declining = portal.sdk.v1.payment_methods.attach(
        "pm_card_chargeDeclinedInsufficientFunds", {"customer": customer}
    ).id
    invoice = portal.invoice(customer, amount=20000, currency="pln").id
    browser = signed_in(portal, email)
    answer = browser.post(open_pay_page(browser, invoice, "whole"), {"payment_method": declining})
    page = browser.get(answer.headers["location"])
    assert '<html lang="pl">' in page.text
    assert "insufficient" not in page.text.lower()  # never Stripe's English message
    assert f"/invoices/{invoice}/pay?what=whole" in page.text  # another try, another method
    assert portal.sdk.v1.invoices.retrieve(invoice).status == "open"
    assert charged(portal, customer) == []


def test_below_the_minimum_charge_is_never_attempted(portal: Portal) -> None:
    email, customer, _ = customer_with_card(portal)
    invoice = portal.invoice(customer, amount=30).id
    browser = signed_in(portal, email)
    page = browser.get(f"/invoices/{invoice}/pay?what=whole")
    assert page.status_code == 409
    assert "0,50 €" in text_of(page)
    assert charged(portal, customer) == []


@pytest.mark.parametrize("whose", ["attempt", "method"])
def test_nothing_of_another_customer_can_be_used(portal: Portal, whose: str) -> None:
    email, customer, pm = customer_with_card(portal)
    other_email, other, other_pm = customer_with_card(portal)
    invoice = portal.invoice(customer).id
    browser = signed_in(portal, email)
    if whose == "attempt":
        other_browser = signed_in(portal, other_email)
        foreign = open_pay_page(other_browser, portal.invoice(other).id, "whole")
        assert browser.post(foreign, {"payment_method": pm}).status_code == 404
    else:
        answer = browser.post(
            open_pay_page(browser, invoice, "whole"), {"payment_method": other_pm}
        )
        assert answer.status_code == 400
        with i18n.use_locale("de"):
            assert i18n.gettext("Please choose how to pay.") in text_of(answer)
    assert charged(portal, customer) == []
    assert charged(portal, other) == []


def test_an_expired_card_cannot_be_chosen(portal: Portal) -> None:
    email, customer, _ = customer_with_card(portal)
    old = portal.sdk.v1.payment_methods.attach("pm_card_mastercard", {"customer": customer})
    portal.sdk.v1.payment_methods.update(old.id, {"card": {"exp_month": 1, "exp_year": 2024}})
    invoice = portal.invoice(customer).id
    browser = signed_in(portal, email)
    page = pay_page(browser, f"/invoices/{invoice}/pay?what=whole")
    assert re.search(rf'value="{old.id}" disabled', page.text)


def overdue_invoice(
    portal: Portal, customer: str, amount: int, days_late: int, **extra: Any
) -> str:
    due = int(time.time()) - days_late * DAY
    return portal.invoice(
        customer, amount=amount, amounts_due=[{"amount": amount, "due_date": due}], **extra
    ).id


def test_pay_all_overdue_pays_each_overdue_invoice_of_the_currency_oldest_first(
    portal: Portal,
) -> None:
    email, customer, pm = customer_with_card(portal)
    newer = overdue_invoice(portal, customer, 4000, days_late=3)
    older = overdue_invoice(portal, customer, 5000, days_late=30)
    plan = plan_invoice(portal, customer, late=True)  # one installment of 100 € overdue
    not_due = portal.invoice(customer, amount=7000).id
    zloty = overdue_invoice(portal, customer, 9000, days_late=10, currency="pln")
    browser = signed_in(portal, email)
    overview = browser.get("/")
    assert '/pay-overdue/eur"' in overview.text
    assert '/pay-overdue/pln"' in overview.text
    page = pay_page(browser, "/pay-overdue/eur")
    assert "190,00 €" in text_of(page)  # 50 + 100 + 40
    action = re.search(r'action="[^"]*(/payments/[A-Za-z0-9_-]+)"', page.text)
    assert action
    result = follow(browser, browser.post(action.group(1), {"payment_method": pm}))
    with i18n.use_locale("de"):
        assert i18n.gettext("Thank you for your payment") in text_of(result)
    charges = portal.sdk.v1.charges.list({"customer": customer, "limit": 100}).data
    paid_in_order = [c.amount for c in reversed(charges) if c.status == "succeeded"]
    assert paid_in_order == [5000, 10000, 4000]  # the longest overdue first
    assert portal.sdk.v1.invoices.retrieve(older).status == "paid"
    assert portal.sdk.v1.invoices.retrieve(newer).status == "paid"
    assert portal.sdk.v1.invoices.retrieve(plan).amount_paid == 10000
    assert portal.sdk.v1.invoices.retrieve(not_due).amount_paid == 0
    assert portal.sdk.v1.invoices.retrieve(zloty).amount_paid == 0
    # Pressing "Pay" again (back button) charges nothing more.
    follow(browser, browser.post(action.group(1), {"payment_method": pm}))
    assert sorted(charged(portal, customer)) == [4000, 5000, 10000]


def test_opening_a_pay_address_shows_the_choice_and_writes_no_row(portal: Portal) -> None:
    """Starting a payment writes it, so it is a form (POST with the CSRF token); the pay
    addresses opened with GET (old links, "try again", a crawler) only show the choice."""
    email, customer, _ = customer_with_card(portal)
    invoice = overdue_invoice(portal, customer, 4000, days_late=3)
    browser = signed_in(portal, email)
    invoice_page = browser.get(f"/invoices/{invoice}")
    assert f'<form method="post" action="/invoices/{invoice}/pay">' in invoice_page.text
    assert f'href="/invoices/{invoice}/pay' not in invoice_page.text
    with portal.db.connect() as conn:
        before = conn.execute(select(func.count()).select_from(payments)).scalar_one()
    for path in (f"/invoices/{invoice}/pay?what=whole", "/pay-overdue/eur"):
        choice = browser.get(path)
        assert choice.status_code == 200, path
        assert "40,00 €" in text_of(choice)
        assert f'<form method="post" action="{path.partition("?")[0]}">' in choice.text
        assert 'name="csrf_token"' in choice.text
    with portal.db.connect() as conn:
        assert conn.execute(select(func.count()).select_from(payments)).scalar_one() == before
    # The form without its token starts nothing either.
    refused = browser.post(f"/invoices/{invoice}/pay", {"what": "whole"}, csrf=False)
    assert refused.status_code == 403
    started = browser.post(f"/invoices/{invoice}/pay", {"what": "whole"})
    assert started.status_code == 303
    assert started.headers["location"].split("/payments/")[0] in ("", portal.url)
    with portal.db.connect() as conn:
        assert conn.execute(select(func.count()).select_from(payments)).scalar_one() == before + 1


def test_nothing_overdue_says_so(portal: Portal) -> None:
    email, customer, _ = customer_with_card(portal)
    portal.invoice(customer, amount=7000)
    browser = signed_in(portal, email)
    assert "/pay-overdue/" not in browser.get("/").text
    assert browser.get("/pay-overdue/eur").status_code == 409


def test_pay_with_a_new_method_added_through_checkout(portal: Portal) -> None:
    email = f"neu-{uuid.uuid4().hex[:8]}@example.de"
    customer = portal.customer(email=email)
    invoice = portal.invoice(customer, amount=8800).id
    browser = signed_in(portal, email)
    page = pay_page(browser, f"/invoices/{invoice}/pay?what=whole")
    assert 'value="new" checked' in page.text  # nothing saved: a new method is the choice
    assert "Weiter zu Stripe" in text_of(page)  # the button says where it leads
    assert "88,00 € bezahlen" not in text_of(page)
    action = re.search(r'action="[^"]*(/payments/[A-Za-z0-9_-]+)"', page.text)
    assert action
    checkout = at_stripe(browser, browser.post(action.group(1), {"payment_method": "new"}))
    answer = httpx.post(checkout, data={"method": "card", "card": "pm_card_visa", "name": "Anna"})
    result = back_from_stripe(browser, answer)
    assert "88,00 €" in text_of(result)
    assert portal.sdk.v1.invoices.retrieve(invoice).status == "paid"
    assert charged(portal, customer) == [8800]
    (method,) = portal.sdk.v1.payment_methods.list({"customer": customer}).data
    settings = portal.sdk.v1.customers.retrieve(customer).invoice_settings
    assert settings is not None
    assert settings.default_payment_method == method.id
    # Coming back a second time (reload) charges nothing more.
    browser.get(answer.headers["location"].removeprefix(portal.url))
    assert charged(portal, customer) == [8800]


@pytest.mark.parametrize("what", ["whole", "next_installment"])
def test_3d_secure_sends_the_customer_to_the_bank_and_back(portal: Portal, what: str) -> None:
    email, customer, _ = customer_with_card(portal)
    secure = with_3d_secure_card(portal, customer)
    invoice = plan_invoice(portal, customer, late=False)
    browser = signed_in(portal, email)
    challenge = at_stripe(
        browser, browser.post(open_pay_page(browser, invoice, what), {"payment_method": secure})
    )
    assert charged(portal, customer) == []  # nothing before the bank says yes
    result = back_from_stripe(browser, httpx.post(challenge, data={"outcome": "complete"}))
    expected = 30000 if what == "whole" else 10000
    assert charged(portal, customer) == [expected]
    assert portal.sdk.v1.invoices.retrieve(invoice).amount_paid == expected
    with i18n.use_locale("de"):
        assert i18n.gettext("Thank you for your payment") in text_of(result)


def test_3d_secure_refused_charges_nothing_and_says_why(portal: Portal) -> None:
    email, customer, _ = customer_with_card(portal)
    secure = with_3d_secure_card(portal, customer)
    invoice = plan_invoice(portal, customer, late=False)
    browser = signed_in(portal, email)
    challenge = at_stripe(
        browser,
        browser.post(
            open_pay_page(browser, invoice, "next_installment"), {"payment_method": secure}
        ),
    )
    result = back_from_stripe(browser, httpx.post(challenge, data={"outcome": "fail"}))
    with i18n.use_locale("de"):
        assert i18n.gettext("The payment did not go through") in text_of(result)
    assert f"/invoices/{invoice}/pay?what=next_installment" in result.text
    assert charged(portal, customer) == []
    assert portal.sdk.v1.invoices.retrieve(invoice).amount_paid == 0


def test_leaving_the_bank_page_unfinished_offers_to_confirm_later(portal: Portal) -> None:
    email, customer, _ = customer_with_card(portal)
    secure = with_3d_secure_card(portal, customer)
    invoice = portal.invoice(customer, amount=4500).id
    browser = signed_in(portal, email)
    action = open_pay_page(browser, invoice, "whole")
    at_stripe(browser, browser.post(action, {"payment_method": secure}))
    page = browser.get(action)  # back in the portal without confirming
    assert f"{action}/authenticate" in page.text
    challenge = at_stripe(browser, browser.get(f"{action}/authenticate"))
    back_from_stripe(browser, httpx.post(challenge, data={"outcome": "complete"}))
    assert charged(portal, customer) == [4500]


def test_a_sepa_debit_is_collected_and_refused_for_other_currencies(portal: Portal) -> None:
    """The shared sandbox decides debits at once, so the page already has the bank's answer
    (`test_debits` has a sandbox that takes its time, and the page saying "on its way")."""
    email, customer, _ = customer_with_card(portal)
    sepa = portal.sdk.v1.payment_methods.create(
        {
            "type": "sepa_debit",
            "sepa_debit": {"iban": "DE89370400440532013000"},
            "billing_details": {"name": "Anna Schmidt", "email": email},
        }
    )
    portal.sdk.v1.payment_methods.attach(sepa.id, {"customer": customer})
    euro = portal.invoice(customer, amount=9900).id
    zloty = portal.invoice(customer, amount=9900, currency="pln").id
    browser = signed_in(portal, email)
    page = pay_page(browser, f"/invoices/{zloty}/pay?what=whole")
    assert re.search(rf'value="{sepa.id}" disabled', page.text)
    result = follow(
        browser, browser.post(open_pay_page(browser, euro, "whole"), {"payment_method": sepa.id})
    )
    with i18n.use_locale("de"):
        assert i18n.gettext("Thank you for your payment") in text_of(result)
    debits = portal.sdk.v1.payment_intents.list({"customer": customer}).data
    assert [d.amount for d in debits if d.payment_method == sepa.id] == [9900]


@pytest.fixture(scope="module")
def stingy(sandbox_url: str) -> Iterator[Stingy]:
    with stingy_stripe(sandbox_url) as proxy:
        yield proxy


@pytest.fixture(scope="module")
def portal_behind_stingy_stripe(
    stingy: Stingy, tmp_path_factory: pytest.TempPathFactory
) -> Iterator[Portal]:
    with serve_portal(Path(tmp_path_factory.mktemp("stingy")), stingy.url) as found:
        yield found


def test_3d_secure_without_the_intent_in_stripes_error_finds_it_among_the_invoices_payments(
    portal_behind_stingy_stripe: Portal, stingy: Stingy
) -> None:
    portal = portal_behind_stingy_stripe
    email, customer, _ = customer_with_card(portal)
    secure = with_3d_secure_card(portal, customer)
    invoice = portal.invoice(customer, amount=6400).id
    browser = signed_in(portal, email)
    action = open_pay_page(browser, invoice, "whole")
    challenge = at_stripe(browser, browser.post(action, {"payment_method": secure}))
    assert stingy.stripped == [f"/v1/invoices/{invoice}/pay"]  # Stripe's error named none
    assert charged(portal, customer) == []
    result = back_from_stripe(browser, httpx.post(challenge, data={"outcome": "complete"}))
    with i18n.use_locale("de"):
        assert i18n.gettext("Thank you for your payment") in text_of(result)
    assert charged(portal, customer) == [6400]
    assert portal.sdk.v1.invoices.retrieve(invoice).status == "paid"
