"""Interrupted payments: Stripe unreachable mid-way, a process stopped between Stripe's answer and
our record of it. Either way the charge is finished later with the same idempotency keys, and
Stripe's records show it charged once; after the 24 hours Stripe keeps the keys, Stripe's records
decide instead (the sandbox clock stands for the day passing at Stripe)."""

from __future__ import annotations

from collections.abc import Callable, Iterator
from datetime import UTC, datetime, timedelta

import httpx
import pytest
from sqlalchemy import delete, select, update

from portal import i18n
from portal.storage.tables import charge_claims, payment_charges, payments
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
    down = follow(browser, browser.post(action, {"payment_method": pm}))
    with i18n.use_locale("de"):
        page = text_of(down)
        assert i18n.gettext("We are checking whether your payment went through") in page
        assert i18n.gettext("Nothing was charged") not in page
    assert charged(portal, customer) == []
    assert browser.get(action).text.count("/check") == 1  # opening it again changes nothing
    assert charged(portal, customer) == []
    # Stripe down altogether: even the error page does not claim that nothing was charged.
    stripe_faults.post("/_sandbox/faults", json={"status": 500, "count": 50})
    unreachable = browser.get(action)
    assert unreachable.status_code == 503
    with i18n.use_locale("de"):
        page = text_of(unreachable)
        assert i18n.gettext("We are checking whether your payment went through") in page
        assert i18n.gettext("Nothing was charged") not in page
    stripe_faults.post("/_sandbox/faults/clear")
    stripe_faults.post("/_sandbox/faults/clear")
    result = follow(browser, browser.post(f"{action}/check"))  # the page's button goes on
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
    with i18n.use_locale("de"):  # opening the page does nothing
        assert i18n.gettext("Thank you for your payment") not in text_of(browser.get(action))
    result = follow(browser, browser.post(f"{action}/check"))
    with i18n.use_locale("de"):
        assert i18n.gettext("Thank you for your payment") in text_of(result)
    assert charged(portal, customer) == expected


@pytest.fixture
def sandbox_clock(portal: Portal) -> Iterator[Callable[[float], None]]:
    """Moves the sandbox's clock (Stripe's time) forward; back to real time afterwards, since
    the sandbox is shared by the whole run."""
    control = httpx.Client(base_url=portal.settings.stripe_api_base)

    def advance(seconds: float) -> None:
        control.post("/_sandbox/clock", json={"advance": seconds}).raise_for_status()

    yield advance
    control.post("/_sandbox/clock", json={"reset": True})
    control.close()


def left_behind(portal: Portal, payment_id: str, *, sent_hours_ago: float, **payment: str) -> None:
    """As if the portal had sent the payment's charges `sent_hours_ago` and stopped before
    recording Stripe's answer (or before Stripe answered)."""
    sent = datetime.now(UTC) - timedelta(hours=sent_hours_ago)
    with portal.db.begin() as conn:
        conn.execute(
            update(payments)
            .where(payments.c.id == payment_id)
            .values(status="processing", updated_at=sent, **payment)
        )
        conn.execute(
            update(payment_charges)
            .where(payment_charges.c.payment_id == payment_id)
            .values(status="interrupted", updated_at=sent, sent_at=sent)
        )
        # Its claim on the invoice, taken before the charge was sent (its lease long over).
        invoice = conn.execute(
            select(payment_charges.c.invoice_id).where(payment_charges.c.payment_id == payment_id)
        ).scalar_one()
        conn.execute(delete(charge_claims).where(charge_claims.c.invoice_id == invoice))
        conn.execute(
            charge_claims.insert().values(
                invoice_id=invoice,
                payment_id=payment_id,
                position=0,
                claimed_at=sent,
                lease_until=sent + timedelta(minutes=5),
            )
        )


def charge_status(portal: Portal, payment_id: str) -> str:
    with portal.db.connect() as conn:
        return str(
            conn.execute(
                select(payment_charges.c.status).where(payment_charges.c.payment_id == payment_id)
            ).scalar_one()
        )


@pytest.mark.parametrize("what", ["whole", "next_installment"])
def test_a_charge_found_a_day_later_is_read_from_stripe_not_repeated(
    portal: Portal, what: str, sandbox_clock: Callable[[float], None]
) -> None:
    """Stripe forgets idempotency keys after 24 hours: repeating the installment's requests
    then would create and charge a second PaymentIntent. Stripe's records say it was paid."""
    email, customer, pm = customer_with_card(portal)
    invoice = plan_invoice(portal, customer, late=False)
    browser = signed_in(portal, email)
    action = open_pay_page(browser, invoice, what)
    browser.post(action, {"payment_method": pm})
    expected = [30000] if what == "whole" else [10000]
    assert charged(portal, customer) == expected
    payment_id = action.rsplit("/", 1)[1]
    left_behind(portal, payment_id, sent_hours_ago=25)
    sandbox_clock(25 * 3600)
    before = portal.sdk.v1.payment_intents.list({"customer": customer}).data
    result = follow(browser, browser.post(f"{action}/check"))
    with i18n.use_locale("de"):
        assert i18n.gettext("Thank you for your payment") in text_of(result)
    assert charge_status(portal, payment_id) == "succeeded"
    assert charged(portal, customer) == expected
    assert portal.sdk.v1.payment_intents.list({"customer": customer}).data == before  # none new


@pytest.mark.parametrize(("hours", "repeated"), [(22, True), (25, False)])
def test_a_charge_that_never_reached_stripe_is_repeated_only_while_its_keys_live(
    portal: Portal, hours: float, repeated: bool, sandbox_clock: Callable[[float], None]
) -> None:
    """Within Stripe's 24 hours the same keys make the charge once; after them, with nothing
    at Stripe, the charge is ended: the customer starts again, with the amount checked anew."""
    email, customer, pm = customer_with_card(portal)
    invoice = plan_invoice(portal, customer, late=False)
    browser = signed_in(portal, email)
    action = open_pay_page(browser, invoice, "next_installment")
    payment_id = action.rsplit("/", 1)[1]
    left_behind(portal, payment_id, sent_hours_ago=hours, payment_method_id=pm)
    sandbox_clock(hours * 3600)
    before = portal.sdk.v1.payment_intents.list({"customer": customer}).data
    result = follow(browser, browser.post(f"{action}/check"))
    if repeated:
        assert charged(portal, customer) == [10000]
        assert charge_status(portal, payment_id) == "succeeded"
        return
    assert charged(portal, customer) == []
    assert portal.sdk.v1.payment_intents.list({"customer": customer}).data == before  # none new
    assert charge_status(portal, payment_id) == "lapsed"
    with i18n.use_locale("de"):
        page = text_of(result)
        assert i18n.gettext("Nothing was charged") in page
        assert (
            i18n.gettext(
                "Not charged: this payment was interrupted and could not be finished. Please start it again."
            )
            in page
        )
    assert f"/invoices/{invoice}/pay?what=next_installment" in result.text  # start again
