"""Paying on Stripe's Checkout page with a method the portal does not build (iDEAL in the
sandbox): the whole path over HTTP, the money counted on the invoice exactly once, however the
news arrives, and given back when the invoice was paid another way meanwhile."""

from __future__ import annotations

import re
import uuid
from datetime import UTC, datetime, timedelta

import httpx
import pytest
from sqlalchemy import update

from portal import i18n
from portal.storage.tables import payment_charges
from tests.functional.billing.billing_support import (
    at_stripe,
    back_from_stripe,
    charged,
    checkout_session_id,
    customer_with_card,
    pay_page,
    pay_with_ideal,
    payment_of_checkout,
    plan_invoice,
    signed_in,
)
from tests.functional.billing.test_debits import slow_bank, statuses, wait_until
from tests.functional.billing.test_paying import overdue_invoice
from tests.functional.billing.test_webhooks import deliver, event
from tests.functional.portal_support import Browser, Portal, text_of

__all__ = ["slow_bank"]  # the fixture, for this module's tests


def _de(text: str, **variables: str | None) -> str:
    with i18n.use_locale("de"):
        return i18n.gettext(text, **variables)


def _choose_stripe(
    browser: Browser, invoice: str, what: str = "whole", *, examples: str | None = None
) -> str:
    """Start paying the invoice, choose "another way to pay": the Checkout page's address.
    `examples`: the local ways the choice names, in the reader's words."""
    page = pay_page(browser, f"/invoices/{invoice}/pay?what={what}")
    assert 'name="payment_method" value="stripe"' in page.text
    if examples is not None:
        assert examples in text_of(page)
    action = re.search(r'action="[^"]*(/payments/[A-Za-z0-9_-]+)"', page.text)
    assert action
    return at_stripe(browser, browser.post(action.group(1), {"payment_method": "stripe"}))


def _payments_of(portal: Portal, invoice: str) -> list[tuple[str, int]]:
    listed = portal.sdk.v1.invoice_payments.list({"invoice": invoice}).data
    return sorted((p.status, p.amount_requested) for p in listed if not p.is_default)


def test_another_way_names_the_customers_countrys_own_ways_only(portal: Portal) -> None:
    # A German-speaking customer billed in the Netherlands, Austria, Germany.
    for country, named, never in (
        ("NL", "iDEAL", "EPS"),
        ("AT", "EPS", "iDEAL"),
        ("DE", "", "iDEAL"),
    ):
        email = f"local-{uuid.uuid4().hex[:8]}@example.eu"
        customer = portal.customer(email=email, locale="de", country=country)
        invoice = portal.invoice(customer, amount=12100).id
        text = text_of(pay_page(signed_in(portal, email), f"/invoices/{invoice}/pay?what=whole"))
        assert named in text, country
        assert never not in text, country
        assert ("Bancontact" in text) is False, country


def test_an_invoice_paid_with_ideal_on_stripes_page(portal: Portal) -> None:
    email = f"ideal-{uuid.uuid4().hex[:8]}@example.nl"
    customer = portal.customer(email=email, locale="de", country="NL")
    invoice = portal.invoice(customer, amount=12100).id
    browser = signed_in(portal, email)
    checkout = _choose_stripe(browser, invoice, examples="iDEAL")
    session = portal.sdk.v1.checkout.sessions.retrieve(checkout.rsplit("/", 1)[-1])
    assert session.mode == "payment"
    assert session.amount_total == 12100
    assert session.locale == "de"
    assert "ideal" in session.payment_method_types  # the account's methods, not a list of ours
    back = pay_with_ideal(checkout)
    result = back_from_stripe(browser, back)
    assert result.status_code == 200
    assert _de("Thank you for your payment") in text_of(result)
    assert "iDEAL •••• 5264" in text_of(result)  # how it was paid, with its receipt
    assert "/receipts/ch_" in result.text
    assert portal.sdk.v1.invoices.retrieve(invoice).status == "paid"
    assert _payments_of(portal, invoice) == [("paid", 12100)]
    # Back again (a reload), and Stripe's webhook after it: counted once, charged once.
    browser.get(back.headers["location"].removeprefix(portal.url))
    completed = event(
        "checkout.session.completed",
        {"id": checkout_session_id(checkout), "object": "checkout.session", "customer": customer},
    )
    assert deliver(portal, completed).status_code == 200
    assert _payments_of(portal, invoice) == [("paid", 12100)]
    assert charged(portal, customer) == [12100]


def test_an_installment_paid_on_stripes_page_leaves_the_rest(portal: Portal) -> None:
    email, customer, _ = customer_with_card(portal)
    invoice = plan_invoice(portal, customer, late=False)
    browser = signed_in(portal, email)
    result = back_from_stripe(
        browser, pay_with_ideal(_choose_stripe(browser, invoice, "next_installment"))
    )
    assert "100,00 €" in text_of(result)
    after = portal.sdk.v1.invoices.retrieve(invoice)
    assert (after.status, after.amount_remaining) == ("open", 20000)


def test_the_webhook_counts_the_payment_when_the_customer_does_not_come_back(
    portal: Portal,
) -> None:
    email = f"weg-{uuid.uuid4().hex[:8]}@example.nl"
    customer = portal.customer(email=email)
    invoice = portal.invoice(customer, amount=5000).id
    browser = signed_in(portal, email)
    checkout = _choose_stripe(browser, invoice)
    pay_with_ideal(checkout)  # paid; the browser closes before the redirect back
    assert portal.sdk.v1.invoices.retrieve(invoice).status == "open"
    completed = event(
        "checkout.session.completed",
        {"id": checkout_session_id(checkout), "object": "checkout.session", "customer": customer},
    )
    assert deliver(portal, completed).status_code == 200
    assert portal.sdk.v1.invoices.retrieve(invoice).status == "paid"
    page = browser.get(f"/invoices/{invoice}")
    assert page.status_code == 200


def test_coming_back_unpaid_offers_stripes_page_again_or_another_way(portal: Portal) -> None:
    email, customer, card = customer_with_card(portal)
    invoice = portal.invoice(customer, amount=7000).id
    browser = signed_in(portal, email)
    checkout = _choose_stripe(browser, invoice)
    # "Back" on Stripe's page: the payment's page says what is going on, nothing charged.
    cancel = portal.sdk.v1.checkout.sessions.retrieve(checkout_session_id(checkout)).cancel_url
    assert cancel is not None
    page = browser.get(cancel.removeprefix(portal.url))
    assert _de("Finish paying on Stripe's page") in text_of(page)
    again = re.search(r'href="([^"]*/checkout/cs_[^"]+)"', page.text)
    assert again
    assert at_stripe(browser, browser.get(again.group(1).removeprefix(portal.url))) == checkout
    # Another way: the session ends at Stripe (it cannot be paid on any more), and the
    # saved card pays the invoice, which the session's claim no longer holds.
    another = re.search(r'action="[^"]*(/payments/[^"/]+/another-way)"', page.text)
    assert another
    chosen = browser.get(browser.post(another.group(1), {}).headers["location"])
    assert f'name="payment_method" value="{card}"' in chosen.text
    assert (
        portal.sdk.v1.checkout.sessions.retrieve(checkout_session_id(checkout)).status == "expired"
    )
    assert httpx.post(checkout, data={"method": "ideal", "ideal_bank": "ing"}).status_code == 200
    action = re.search(r'action="[^"]*(/payments/[A-Za-z0-9_-]+)"', chosen.text)
    assert action
    paid = browser.post(action.group(1), {"payment_method": card})
    assert paid.status_code == 303
    assert portal.sdk.v1.invoices.retrieve(invoice).status == "paid"
    assert charged(portal, customer) == [7000]


def test_a_failed_ideal_payment_charges_nothing(portal: Portal) -> None:
    email = f"nee-{uuid.uuid4().hex[:8]}@example.nl"
    customer = portal.customer(email=email)
    invoice = portal.invoice(customer, amount=3000).id
    browser = signed_in(portal, email)
    checkout = _choose_stripe(browser, invoice)
    failed = pay_with_ideal(checkout, outcome="fail")
    assert failed.status_code == 200  # Stripe's page again, with its error: still open
    assert charged(portal, customer) == []
    assert portal.sdk.v1.invoices.retrieve(invoice).status == "open"


def test_paid_at_stripe_after_the_invoice_was_paid_otherwise_is_refunded(
    portal: Portal,
) -> None:
    email, customer, card = customer_with_card(portal)
    invoice = portal.invoice(customer, amount=4400).id
    browser = signed_in(portal, email)
    checkout = _choose_stripe(browser, invoice)
    # Meanwhile the business collects the invoice another way (its dashboard, say).
    portal.sdk.v1.invoices.pay(invoice, {"payment_method": card, "off_session": True})
    result = back_from_stripe(browser, pay_with_ideal(checkout))
    # An iDEAL refund succeeds at once: Stripe says so, and so does the page.
    assert _de("Your payment has been refunded") in text_of(result)
    assert _de("Nothing was charged") not in text_of(result)
    intent = portal.sdk.v1.checkout.sessions.retrieve(checkout_session_id(checkout)).payment_intent
    refunds = portal.sdk.v1.refunds.list({"payment_intent": str(intent)}).data
    assert [r.amount for r in refunds] == [4400]
    assert _payments_of(portal, invoice) == []


def test_a_payment_left_before_stripes_page_opened_goes_back_to_choosing(
    portal: Portal,
) -> None:
    """A process that stopped between starting the charge and recording Stripe's session
    leaves the payment without an address to go on to: the page says the page is being
    opened while that can still be so, then offers the choice again (the claim released:
    the invoice can be paid)."""
    email = f"opening-{uuid.uuid4().hex[:8]}@example.nl"
    customer = portal.customer(email=email, locale="de")
    invoice = portal.invoice(customer, amount=4200).id
    browser = signed_in(portal, email)
    checkout = _choose_stripe(browser, invoice)
    payment_id = payment_of_checkout(portal, checkout)

    def left_opening(ago: timedelta) -> None:
        with portal.db.begin() as conn:
            conn.execute(
                update(payment_charges)
                .where(payment_charges.c.payment_id == payment_id)
                .values(
                    status="processing",
                    checkout_session_id=None,
                    updated_at=datetime.now(UTC) - ago,
                )
            )

    left_opening(timedelta(seconds=1))  # as a second tab sees it while the first opens it
    page = browser.get(f"/payments/{payment_id}")
    assert page.status_code == 200
    assert _de("Stripe's page is being opened") in text_of(page)
    assert statuses(portal, payment_id) == [("processing", None)]
    left_opening(timedelta(minutes=3))  # no process is opening it any more
    page = browser.get(f"/payments/{payment_id}")
    assert page.status_code == 200
    assert 'name="payment_method" value="stripe"' in page.text
    assert statuses(portal, payment_id) == [("pending", None)]
    again = at_stripe(
        browser, browser.post(f"/payments/{payment_id}", {"payment_method": "stripe"})
    )
    result = back_from_stripe(browser, pay_with_ideal(again))
    assert _de("Thank you for your payment") in text_of(result)
    assert charged(portal, customer) == [4200]


def test_several_invoices_at_once_are_not_offered_on_stripes_page(portal: Portal) -> None:
    """A PaymentIntent pays one invoice: "pay all overdue" offers saved and new methods."""
    email, customer, _ = customer_with_card(portal)
    for amount, late in ((1000, 9), (2000, 3)):
        overdue_invoice(portal, customer, amount, late)
    browser = signed_in(portal, email)
    page = pay_page(browser, "/pay-overdue/eur")
    assert 'value="stripe"' not in page.text
    action = re.search(r'action="[^"]*(/payments/[A-Za-z0-9_-]+)"', page.text)
    assert action
    refused = browser.post(action.group(1), {"payment_method": "stripe"})
    assert refused.status_code == 400
    assert charged(portal, customer) == []


@pytest.mark.parametrize("path", ["paid-at-stripe?session_id=cs_test_other", "checkout/cs_test_x"])
def test_another_session_is_not_this_payments(portal: Portal, path: str) -> None:
    email = f"fremd-{uuid.uuid4().hex[:8]}@example.nl"
    customer = portal.customer(email=email)
    invoice = portal.invoice(customer, amount=3000).id
    browser = signed_in(portal, email)
    checkout = _choose_stripe(browser, invoice)
    answer = browser.get(f"/payments/{payment_of_checkout(portal, checkout)}/{path}")
    assert answer.status_code == 404


def _sepa(checkout: str) -> httpx.Response:
    return httpx.post(
        checkout,
        data={"method": "sepa_debit", "iban": "DE89370400440532013000", "name": "Anna",
              "email": "anna@example.de"},
    )  # fmt: skip


def test_a_debit_on_stripes_page_is_counted_when_the_bank_collects_it(slow_bank: Portal) -> None:
    portal = slow_bank
    email = f"sepa-{uuid.uuid4().hex[:8]}@example.de"
    customer = portal.customer(email=email)
    invoice = portal.invoice(customer, amount=6600).id
    browser = signed_in(portal, email)
    checkout = _choose_stripe(browser, invoice)
    payment_id = payment_of_checkout(portal, checkout)
    result = back_from_stripe(browser, _sepa(checkout))
    assert _de("Your payment is on its way") in text_of(result)
    # Not the portal's own SEPA mandate: said of any slower way Stripe's page offers.
    number = portal.sdk.v1.invoices.retrieve(invoice).number
    on_its_way = _de(
        "Your payment of %(amount)s for invoice %(number)s is on its way. A bank transfer or direct debit usually takes a few business days.",
        amount="66,00 €",  # as text_of shows the no-break space
        number=number,
    )
    assert on_its_way in " ".join(text_of(result).split())  # the number is a span of its own
    wait_until(lambda: portal.sdk.v1.invoices.retrieve(invoice).status == "paid")
    httpx.get(f"{portal.settings.stripe_api_base}/_sandbox/webhooks/pending?wait=10")
    assert statuses(portal, payment_id) == [("succeeded", None)]
    assert charged(portal, customer) == [6600]


def test_a_debit_on_stripes_page_the_invoice_cannot_take_is_refunded_once_collected(
    slow_bank: Portal,
) -> None:
    portal = slow_bank
    email, customer, card = customer_with_card(portal)
    invoice = portal.invoice(customer, amount=3300).id
    browser = signed_in(portal, email)
    checkout = _choose_stripe(browser, invoice)
    portal.sdk.v1.invoices.pay(invoice, {"payment_method": card, "off_session": True})
    payment_id = payment_of_checkout(portal, checkout)
    result = back_from_stripe(browser, _sepa(checkout))
    assert _de("Your payment is being refunded") in text_of(result)
    assert statuses(portal, payment_id)[0][0] in ("refund_due", "refunded")
    intent = str(
        portal.sdk.v1.checkout.sessions.retrieve(checkout_session_id(checkout)).payment_intent
    )
    wait_until(lambda: portal.sdk.v1.payment_intents.retrieve(intent).status == "succeeded")
    httpx.get(f"{portal.settings.stripe_api_base}/_sandbox/webhooks/pending?wait=10")
    wait_until(lambda: statuses(portal, payment_id)[0][0] == "refunded")
    refunds = portal.sdk.v1.refunds.list({"payment_intent": intent}).data
    assert [r.amount for r in refunds] == [3300]


def test_stripe_down_when_opening_its_page_leaves_the_payment_as_before(
    portal: Portal, stripe_faults: httpx.Client
) -> None:
    """Checkout cannot be reached: the "unavailable" page, nothing held (the charge pending,
    the invoice's claim given back), and the same payment can go to Stripe's page after."""
    email = f"stoer-{uuid.uuid4().hex[:8]}@example.nl"
    customer = portal.customer(email=email)
    invoice = portal.invoice(customer, amount=3600).id
    browser = signed_in(portal, email)
    page = pay_page(browser, f"/invoices/{invoice}/pay?what=whole")
    action = re.search(r'action="[^"]*(/payments/[A-Za-z0-9_-]+)"', page.text)
    assert action
    stripe_faults.post(
        "/_sandbox/faults", json={"status": 500, "count": 10, "match": "POST /v1/checkout/sessions"}
    )
    down = browser.post(action.group(1), {"payment_method": "stripe"})
    assert down.status_code == 503
    stripe_faults.post("/_sandbox/faults/clear")
    payment_id = action.group(1).rsplit("/", 1)[1]
    assert statuses(portal, payment_id) == [("pending", None)]
    again = at_stripe(browser, browser.post(action.group(1), {"payment_method": "stripe"}))
    back_from_stripe(browser, pay_with_ideal(again))
    assert portal.sdk.v1.invoices.retrieve(invoice).status == "paid"


def test_going_to_stripes_page_again_at_once_opens_a_new_session(portal: Portal) -> None:
    """Back from Stripe's page and there again within the same second: a session of its own,
    open, not the one just ended."""
    email = f"zurueck-{uuid.uuid4().hex[:8]}@example.nl"
    customer = portal.customer(email=email)
    invoice = portal.invoice(customer, amount=3900).id
    browser = signed_in(portal, email)
    first = _choose_stripe(browser, invoice)
    payment = payment_of_checkout(portal, first)
    assert browser.post(f"/payments/{payment}/another-way").status_code == 303
    browser.get(f"/payments/{payment}")
    again = at_stripe(browser, browser.post(f"/payments/{payment}", {"payment_method": "stripe"}))
    assert checkout_session_id(again) != checkout_session_id(first)
    assert portal.sdk.v1.checkout.sessions.retrieve(checkout_session_id(again)).status == "open"
    result = back_from_stripe(browser, pay_with_ideal(again))
    assert _de("Thank you for your payment") in text_of(result)
    assert charged(portal, customer) == [3900]
