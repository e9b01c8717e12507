"""Interrupted payments: Stripe unreachable mid-way, a process stopped between Stripe's answer and
our record of it. Either way the charge is finished later with the same idempotency keys, and
Stripe's records show it charged once."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

import httpx
import pytest
from sqlalchemy import update

from portal import i18n
from portal.storage.tables import payment_charges, payments
from tests.functional.billing.billing_support import (
    charged,
    customer_with_card,
    follow,
    open_pay_page,
    plan_invoice,
    signed_in,
)
from tests.functional.portal_support import Portal, text_of


def test_stripe_down_mid_payment_then_the_page_finishes_it_once(
    portal: Portal, stripe_faults: httpx.Client
) -> None:
    email, customer, pm = customer_with_card(portal)
    invoice = plan_invoice(portal, customer, late=False)
    browser = signed_in(portal, email)
    action = open_pay_page(browser, invoice, "next_installment")
    # The PaymentIntent is created and attached; then Stripe stops answering.
    stripe_faults.post(
        "/_sandbox/faults",
        json={"status": 500, "count": 5, "match": "POST /v1/payment_intents/{intent}/confirm"},
    )
    down = browser.post(action, {"payment_method": pm})
    assert down.status_code == 503
    assert charged(portal, customer) == []
    stripe_faults.post("/_sandbox/faults/clear")
    result = browser.get(action)  # the payment's page picks the work up again
    with i18n.use_locale("de"):
        assert i18n.gettext("Thank you for your payment") in text_of(result)
    assert charged(portal, customer) == [10000]
    assert portal.sdk.v1.invoices.retrieve(invoice).amount_paid == 10000
    browser.get(action)
    follow(browser, browser.post(action, {"payment_method": pm}))
    assert charged(portal, customer) == [10000]


@pytest.mark.parametrize("what", ["whole", "next_installment"])
def test_a_charge_left_processing_by_a_stopped_process_is_not_charged_again(
    portal: Portal, what: str
) -> None:
    email, customer, pm = customer_with_card(portal)
    invoice = plan_invoice(portal, customer, late=False)
    browser = signed_in(portal, email)
    action = open_pay_page(browser, invoice, what)
    browser.post(action, {"payment_method": pm})
    expected = [30000] if what == "whole" else [10000]
    assert charged(portal, customer) == expected
    # As if the process had stopped after Stripe charged and before the portal noted it.
    payment_id = action.rsplit("/", 1)[1]
    long_ago = datetime.now(UTC) - timedelta(minutes=10)
    with portal.db.begin() as conn:
        conn.execute(
            update(payments)
            .where(payments.c.id == payment_id)
            .values(status="processing", updated_at=long_ago)
        )
        conn.execute(
            update(payment_charges)
            .where(payment_charges.c.payment_id == payment_id)
            .values(status="processing", updated_at=long_ago)
        )
    result = browser.get(action)
    with i18n.use_locale("de"):
        assert i18n.gettext("Thank you for your payment") in text_of(result)
    assert charged(portal, customer) == expected
