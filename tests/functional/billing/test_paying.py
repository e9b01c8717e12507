"""Paying with a saved payment method, checked in Stripe's records (the sandbox), not ours."""

from __future__ import annotations

import concurrent.futures
import re
import time
import uuid

import pytest

from portal import i18n
from tests.functional.portal_support import Browser, Portal, text_of

DAY = 86400


def customer_with_card(
    portal: Portal, card: str = "pm_card_visa", locale: str = "de"
) -> tuple[str, str, str]:
    email = f"zahler-{uuid.uuid4().hex[:8]}@example.de"
    customer = portal.customer(email=email, locale=locale)
    pm = portal.sdk.v1.payment_methods.attach(card, {"customer": customer})
    portal.sdk.v1.customers.update(
        customer, {"invoice_settings": {"default_payment_method": pm.id}}
    )
    return email, customer, pm.id


def signed_in(portal: Portal, email: str) -> Browser:
    browser = portal.browser()
    assert browser.sign_in(email).status_code == 303
    return browser


def plan_invoice(portal: Portal, customer: str, *, late: bool) -> str:
    now = int(time.time())
    return portal.invoice(
        customer,
        amount=30000,
        amounts_due=[
            {"amount": 10000, "due_date": now - 10 * DAY if late else now + 5 * DAY},
            {"amount": 10000, "due_date": now + 20 * DAY},
            {"amount": 10000, "due_date": now + 50 * DAY},
        ],
    ).id


def charged(portal: Portal, customer: str) -> list[int]:
    intents = portal.sdk.v1.payment_intents.list({"customer": customer, "limit": 100}).data
    return sorted(i.amount for i in intents if i.status == "succeeded")


def open_pay_page(browser: Browser, invoice_id: str, what: str) -> str:
    page = browser.get(f"/invoices/{invoice_id}/pay?what={what}")
    assert page.status_code == 200, page.text
    action = re.search(r'action="[^"]*(/payments/[A-Za-z0-9_-]+)"', page.text)
    assert action
    return action.group(1)


def chosen_method(browser: Browser, invoice_id: str, what: str) -> str:
    page = browser.client.get(f"/invoices/{invoice_id}/pay?what={what}")
    found = re.search(r'name="payment_method" value="(pm_[A-Za-z0-9]+)" checked', page.text)
    assert found
    return found.group(1)


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
        browser.post(open_pay_page(browser, invoice, "whole"), {"payment_method": other_pm})
    assert charged(portal, customer) == []
    assert charged(portal, other) == []


def test_an_expired_card_cannot_be_chosen(portal: Portal) -> None:
    email, customer, _ = customer_with_card(portal)
    old = portal.sdk.v1.payment_methods.attach("pm_card_mastercard", {"customer": customer})
    portal.sdk.v1.payment_methods.update(old.id, {"card": {"exp_month": 1, "exp_year": 2024}})
    invoice = portal.invoice(customer).id
    browser = signed_in(portal, email)
    page = browser.get(f"/invoices/{invoice}/pay?what=whole")
    assert re.search(rf'value="{old.id}" disabled', page.text)
