"""The payment methods page against Stripe's records: default, removal and the last-method rule."""

from __future__ import annotations

import re
import uuid

import httpx

from tests.functional.billing.billing_support import (
    at_stripe,
    customer_with_card,
    pay_page,
    signed_in,
)
from tests.functional.portal_support import Portal, text_of


def methods_of(portal: Portal, customer: str) -> list[str]:
    return [m.id for m in portal.sdk.v1.customers.payment_methods.list(customer).data]


def test_lists_cards_and_sepa_with_the_default_and_expired_marked(portal: Portal) -> None:
    email, customer, visa = customer_with_card(portal)
    expired = portal.sdk.v1.payment_methods.attach("pm_card_mastercard", {"customer": customer})
    portal.sdk.v1.payment_methods.update(expired.id, {"card": {"exp_month": 3, "exp_year": 2024}})
    sepa = portal.sdk.v1.payment_methods.create(
        {
            "type": "sepa_debit",
            "sepa_debit": {"iban": "DE89370400440532013000"},
            "billing_details": {"name": "Anna Schmidt", "email": email},
        }
    )
    portal.sdk.v1.payment_methods.attach(sepa.id, {"customer": customer})
    page = signed_in(portal, email).get("/payment-methods")
    text = text_of(page)
    assert "Visa •••• 4242" in text
    assert "Mastercard •••• 4444" in text
    assert "•••• 3000" in text
    rows = {
        m: r
        for r in re.findall(r'<li class="method-row">.*?</li>', page.text, re.S)
        for m in (visa, expired.id)
        if m in r
    }
    assert "badge--open" in rows[visa]  # the default
    assert "badge--overdue" in rows[expired.id]  # expired
    assert 'name="payment_method" value="' + expired.id + '"' in rows[expired.id]


def test_make_another_method_the_default(portal: Portal) -> None:
    email, customer, _visa = customer_with_card(portal)
    other = portal.sdk.v1.payment_methods.attach("pm_card_mastercard", {"customer": customer})
    browser = signed_in(portal, email)
    browser.get("/payment-methods")
    assert browser.post("/payment-methods/default", {"payment_method": other.id}).status_code == 303
    settings = portal.sdk.v1.customers.retrieve(customer).invoice_settings
    assert settings is not None
    assert settings.default_payment_method == other.id


def test_remove_a_method_that_is_not_the_last(portal: Portal) -> None:
    email, customer, visa = customer_with_card(portal)
    other = portal.sdk.v1.payment_methods.attach("pm_card_mastercard", {"customer": customer})
    portal.invoice(customer)
    browser = signed_in(portal, email)
    browser.get("/payment-methods")
    assert browser.post("/payment-methods/remove", {"payment_method": other.id}).status_code == 303
    assert methods_of(portal, customer) == [visa]


def test_the_last_method_stays_while_invoices_are_unpaid(portal: Portal) -> None:
    email, customer, visa = customer_with_card(portal)
    portal.invoice(customer)
    browser = signed_in(portal, email)
    page = browser.get("/payment-methods")
    assert "/payment-methods/remove" not in page.text
    refused = browser.post("/payment-methods/remove", {"payment_method": visa})
    assert refused.status_code == 409
    assert 'role="alert"' in refused.text
    assert methods_of(portal, customer) == [visa]


def test_the_last_method_can_go_when_nothing_is_unpaid(portal: Portal) -> None:
    email, customer, visa = customer_with_card(portal)
    browser = signed_in(portal, email)
    browser.get("/payment-methods")
    assert browser.post("/payment-methods/remove", {"payment_method": visa}).status_code == 303
    assert methods_of(portal, customer) == []


def test_another_customers_method_is_not_found(portal: Portal) -> None:
    email, _customer, _visa = customer_with_card(portal)
    _other_email, other, other_pm = customer_with_card(portal)
    portal.sdk.v1.payment_methods.attach("pm_card_mastercard", {"customer": other})
    browser = signed_in(portal, email)
    browser.get("/payment-methods")
    assert browser.post("/payment-methods/remove", {"payment_method": other_pm}).status_code == 404
    assert browser.post("/payment-methods/default", {"payment_method": other_pm}).status_code == 404
    assert other_pm in methods_of(portal, other)


def test_add_a_card_through_stripes_hosted_page(portal: Portal) -> None:
    email = f"neu-{uuid.uuid4().hex[:8]}@example.de"
    customer = portal.customer(email=email)
    browser = signed_in(portal, email)
    browser.get("/payment-methods")
    checkout = at_stripe(browser, browser.post("/payment-methods/add"))
    # The customer fills in Stripe's page (the sandbox's stands in for it) and comes back.
    back = httpx.post(
        checkout, data={"method": "card", "card": "pm_card_mastercard", "name": "Anna Schmidt"}
    )
    assert back.status_code in (302, 303)
    returned = back.headers["location"]
    assert returned.startswith(portal.url + "/payment-methods/added?session_id=cs_")
    assert browser.get(returned.removeprefix(portal.url)).status_code == 303
    (method,) = methods_of(portal, customer)
    settings = portal.sdk.v1.customers.retrieve(customer).invoice_settings
    assert settings is not None
    assert settings.default_payment_method == method  # the first method becomes the default


def test_a_session_of_another_customer_adds_nothing(portal: Portal) -> None:
    email, customer, _visa = customer_with_card(portal)
    other_email, _other, _pm = customer_with_card(portal)
    other_browser = signed_in(portal, other_email)
    other_browser.get("/payment-methods")
    checkout = at_stripe(other_browser, other_browser.post("/payment-methods/add"))
    returned = httpx.post(checkout, data={"method": "card", "card": "pm_card_visa"}).headers[
        "location"
    ]
    browser = signed_in(portal, email)
    assert browser.get(returned.removeprefix(portal.url)).status_code == 404
    assert len(methods_of(portal, customer)) == 1


def test_brands_show_by_name_with_their_logos_and_the_default_first(portal: Portal) -> None:
    email, customer, visa = customer_with_card(portal)
    mastercard = portal.sdk.v1.payment_methods.attach("pm_card_mastercard", {"customer": customer})
    amex = portal.sdk.v1.payment_methods.attach("pm_card_amex", {"customer": customer})
    portal.sdk.v1.customers.update(
        customer, {"invoice_settings": {"default_payment_method": mastercard.id}}
    )
    in_stripes_order = methods_of(portal, customer)
    browser = signed_in(portal, email)
    page = browser.get("/payment-methods")
    text = text_of(page)
    assert "Mastercard •••• 4444" in text
    assert "Visa •••• 4242" in text
    assert "American Express •••• 0005" in text
    assert in_stripes_order[0] != mastercard.id  # Stripe lists the newest first
    shown = re.findall(r'name="payment_method" value="(pm_\w+)"', page.text)
    assert list(dict.fromkeys(shown)) == [mastercard.id] + [
        m for m in in_stripes_order if m != mastercard.id
    ]
    rows = re.findall(r'<li class="method-row">.*?</li>', page.text, re.S)
    logos = {}
    for method, brand in ((mastercard.id, "mastercard"), (visa, "visa"), (amex.id, "amex")):
        (row,) = (r for r in rows if method in r)
        logo = re.search(
            rf'<img class="brand-logo" src="(/static/brands/{brand}\.[0-9a-f]{{12}}\.svg)" alt=""',
            row,
        )
        assert logo, row
        logos[brand] = logo.group(1)
    served = browser.get(logos["mastercard"])
    assert served.status_code == 200
    assert served.headers["content-type"].startswith("image/svg+xml")
    assert "immutable" in served.headers["cache-control"]


def test_the_pay_page_offers_the_default_method_first(portal: Portal) -> None:
    email, customer, visa = customer_with_card(portal)
    portal.sdk.v1.payment_methods.attach("pm_card_mastercard", {"customer": customer})
    invoice = portal.invoice(customer).id
    assert methods_of(portal, customer)[0] != visa  # Stripe lists the newer Mastercard first
    page = pay_page(signed_in(portal, email), f"/invoices/{invoice}/pay?what=whole")
    offered = re.findall(r'name="payment_method" value="(pm_\w+)"', page.text)
    assert len(offered) == 2
    assert offered[0] == visa  # the default
    assert f'value="{visa}" checked' in page.text
