"""A payment's life to its end, over HTTP against the sandbox: money an invoice refuses is kept
while the invoice still owes it and given back only when it does not; a PaymentIntent the
portal made and left is canceled (so the invoice can be voided); a refund is followed until
Stripe says how it ended."""

from __future__ import annotations

import asyncio
import re
from datetime import UTC, datetime, timedelta

import httpx
import pytest
from sqlalchemy import update

from portal import i18n
from portal.app import open_services
from portal.billing import lifecycle, sweep
from portal.storage.tables import payment_charges
from tests.functional.billing.billing_support import (
    at_stripe,
    back_from_stripe,
    checkout_session_id,
    customer_with_card,
    open_pay_page,
    pay_page,
    pay_with_ideal,
    payment_of_checkout,
    plan_invoice,
    signed_in,
    with_3d_secure_card,
)
from tests.functional.billing.test_debits import slow_bank, statuses, wait_until
from tests.functional.portal_support import Browser, Portal, text_of

__all__ = ["slow_bank"]  # the fixture, for this module's tests

ATTACH = "POST /v1/invoices/{invoice}/attach_payment"


def _de(text: str) -> str:
    with i18n.use_locale("de"):
        return i18n.gettext(text)


def _to_stripe(browser: Browser, invoice: str) -> str:
    page = pay_page(browser, f"/invoices/{invoice}/pay?what=whole")
    action = re.search(r'action="[^"]*(/payments/[A-Za-z0-9_-]+)"', page.text)
    assert action
    return at_stripe(browser, browser.post(action.group(1), {"payment_method": "stripe"}))


def _intent_of(portal: Portal, checkout: str) -> str:
    session = portal.sdk.v1.checkout.sessions.retrieve(checkout_session_id(checkout))
    return str(session.payment_intent)


def _refuse_attach(portal: Portal, count: int) -> None:
    control = f"{portal.settings.stripe_api_base}/_sandbox/faults"
    response = httpx.post(control, json={"status": 400, "count": count, "match": ATTACH})
    assert response.status_code == 200


def _history(portal: Portal, payment_id: str) -> list[tuple[str, str]]:
    async def read() -> list[tuple[int, str, str, str | None]]:
        async with open_services(portal.settings) as svc:
            return await lifecycle.history(svc.engine, payment_id)

    return [(before, after) for _, before, after, _ in asyncio.run(read())]


def _tidy(portal: Portal) -> None:
    """What each instance does now and then (`sweep.TIDY_EVERY`), once, now."""

    async def go() -> None:
        async with open_services(portal.settings) as svc:
            await sweep.tidy(svc, datetime.now(UTC))

    asyncio.run(go())


def _age(portal: Portal, payment_id: str, hours: int) -> None:
    with portal.db.begin() as conn:
        conn.execute(
            update(payment_charges)
            .where(payment_charges.c.payment_id == payment_id)
            .values(updated_at=datetime.now(UTC) - timedelta(hours=hours))
        )


def _sandbox(portal: Portal, path: str, **body: object) -> httpx.Response:
    response = httpx.post(f"{portal.settings.stripe_api_base}{path}", json=body)
    assert response.status_code == 200, response.text
    return response


def _settle_refund(portal: Portal, refund_id: str, status: str) -> None:
    """Stripe ends the pending refund now (the sandbox's control; in test mode, days)."""
    _sandbox(portal, f"/_sandbox/refunds/{refund_id}", status=status)


def test_money_an_invoice_refuses_while_it_still_owes_it_is_kept_and_attached_again(
    portal: Portal,
) -> None:
    email, customer, _ = customer_with_card(portal)
    invoice = portal.invoice(customer, amount=4400).id
    browser = signed_in(portal, email)
    checkout = _to_stripe(browser, invoice)
    payment_id = payment_of_checkout(portal, checkout)
    _refuse_attach(portal, 1)  # Stripe refuses the first attach, the invoice still owing
    result = back_from_stripe(browser, pay_with_ideal(checkout))
    intent = _intent_of(portal, checkout)
    assert statuses(portal, payment_id)[0][0] == "unattached"
    assert portal.sdk.v1.refunds.list({"payment_intent": intent}).data == []  # nothing given back
    text = text_of(result)
    assert _de("We have received your payment") in text
    assert _de("Nothing was charged") not in text
    assert _de("Try again") not in text  # the money is kept: paying again would be twice
    assert ("at_stripe", "unattached") in _history(portal, payment_id)
    # The invoice's page says the money is being credited, and offers no second payment.
    invoice_page = browser.get(f"/invoices/{invoice}")
    with i18n.use_locale("de"):
        kept = i18n.gettext(
            "We have received your payment of %(amount)s for this invoice and are crediting it to the invoice. Please do not pay it again.",
            amount="44,00 €",
        )
    assert kept in text_of(invoice_page)
    assert f"/invoices/{invoice}/pay" not in invoice_page.text
    # "Check the payment" attaches it again, with a key of its own: Stripe takes it now.
    checked = browser.post(f"/payments/{payment_id}/check", {})
    assert checked.status_code == 303
    assert statuses(portal, payment_id)[0][0] == "succeeded"
    assert portal.sdk.v1.invoices.retrieve(invoice).status == "paid"
    assert portal.sdk.v1.refunds.list({"payment_intent": intent}).data == []
    assert _history(portal, payment_id)[-1] == ("unattached", "succeeded")


def test_money_an_invoice_refuses_after_it_was_paid_otherwise_is_refunded(portal: Portal) -> None:
    email, customer, card = customer_with_card(portal)
    invoice = portal.invoice(customer, amount=2500).id
    browser = signed_in(portal, email)
    checkout = _to_stripe(browser, invoice)
    payment_id = payment_of_checkout(portal, checkout)
    portal.sdk.v1.invoices.pay(invoice, {"payment_method": card, "off_session": True})
    result = back_from_stripe(browser, pay_with_ideal(checkout))
    intent = _intent_of(portal, checkout)
    refunds = portal.sdk.v1.refunds.list({"payment_intent": intent}).data
    assert [(r.amount, r.reason) for r in refunds] == [(2500, "duplicate")]
    assert statuses(portal, payment_id)[0][0] == "refunded"
    assert _de("Your payment has been refunded") in text_of(result)


def test_the_sweep_attaches_kept_money_once_stripe_takes_it(portal: Portal) -> None:
    email, customer, _ = customer_with_card(portal)
    invoice = portal.invoice(customer, amount=1800).id
    browser = signed_in(portal, email)
    checkout = _to_stripe(browser, invoice)
    payment_id = payment_of_checkout(portal, checkout)
    _refuse_attach(portal, 1)
    back_from_stripe(browser, pay_with_ideal(checkout))
    assert statuses(portal, payment_id)[0][0] == "unattached"
    _tidy(portal)
    assert statuses(portal, payment_id)[0][0] == "succeeded"
    assert portal.sdk.v1.invoices.retrieve(invoice).status == "paid"


def _installment_waiting_for_the_bank(portal: Portal) -> tuple[Browser, str, str, str]:
    """An installment paid with a 3-D Secure card, left at the bank's page: the browser, the
    invoice, the payment's address and its PaymentIntent."""
    email, customer, _ = customer_with_card(portal)
    secure = with_3d_secure_card(portal, customer)
    invoice = plan_invoice(portal, customer, late=False)
    browser = signed_in(portal, email)
    action = open_pay_page(browser, invoice, "next_installment")
    at_stripe(browser, browser.post(action, {"payment_method": secure}))
    payment_id = action.rsplit("/", 1)[1]
    assert statuses(portal, payment_id)[0][0] == "requires_action"
    listed = portal.sdk.v1.invoice_payments.list({"invoice": invoice}).data
    (open_payment,) = [p for p in listed if not p.is_default]
    assert open_payment.status == "open"
    return browser, invoice, action, str(open_payment.payment.payment_intent)


def test_choosing_another_way_at_the_banks_step_cancels_the_installments_payment(
    portal: Portal,
) -> None:
    browser, invoice, action, intent = _installment_waiting_for_the_bank(portal)
    page = browser.get(action)
    assert f"{action}/another-way" in page.text
    browser.post(f"{action}/another-way", {})
    payment_id = action.rsplit("/", 1)[1]
    assert statuses(portal, payment_id)[0][0] == "abandoned"
    assert portal.sdk.v1.payment_intents.retrieve(intent).status == "canceled"
    listed = portal.sdk.v1.invoice_payments.list({"invoice": invoice}).data
    assert [p.status for p in listed if not p.is_default] == ["canceled"]
    text = text_of(browser.get(action))
    assert _de("Nothing was charged") in text
    # Nothing holds the invoice any more: the company can void it.
    assert portal.sdk.v1.invoices.void_invoice(invoice).status == "void"


def test_a_bank_confirmation_never_given_is_abandoned_by_the_sweep(portal: Portal) -> None:
    _, invoice, action, intent = _installment_waiting_for_the_bank(portal)
    payment_id = action.rsplit("/", 1)[1]
    _age(portal, payment_id, hours=2)
    _tidy(portal)
    assert statuses(portal, payment_id)[0][0] == "abandoned"
    assert portal.sdk.v1.payment_intents.retrieve(intent).status == "canceled"
    assert portal.sdk.v1.invoices.mark_uncollectible(invoice).status == "uncollectible"


def test_a_declined_installment_leaves_no_open_payment_on_the_invoice(portal: Portal) -> None:
    email, customer, _ = customer_with_card(portal)
    declining = portal.sdk.v1.payment_methods.attach(
        "pm_card_chargeDeclined", {"customer": customer}
    ).id
    invoice = plan_invoice(portal, customer, late=False)
    browser = signed_in(portal, email)
    action = open_pay_page(browser, invoice, "next_installment")
    browser.post(action, {"payment_method": declining})
    payment_id = action.rsplit("/", 1)[1]
    assert statuses(portal, payment_id)[0][0] == "failed"
    listed = portal.sdk.v1.invoice_payments.list({"invoice": invoice}).data
    assert [p.status for p in listed if not p.is_default] == ["canceled"]
    assert portal.sdk.v1.invoices.void_invoice(invoice).status == "void"


def _paid_after_it_was_paid_otherwise(
    portal: Portal,
) -> tuple[Browser, str, httpx.Response, str]:
    """Paid on Stripe's page with a card whose refunds stay pending (Stripe's test card),
    after the invoice was paid another way: the browser, the payment, its result page and
    the refund."""
    email, customer, card = customer_with_card(portal)
    invoice = portal.invoice(customer, amount=3100).id
    browser = signed_in(portal, email)
    checkout = _to_stripe(browser, invoice)
    payment_id = payment_of_checkout(portal, checkout)
    portal.sdk.v1.invoices.pay(invoice, {"payment_method": card, "off_session": True})
    paid = httpx.post(checkout, data={"method": "card", "card": "pm_card_pendingRefund"})
    result = back_from_stripe(browser, paid)
    (refund,) = portal.sdk.v1.refunds.list({"payment_intent": _intent_of(portal, checkout)}).data
    return browser, payment_id, result, refund.id


@pytest.mark.parametrize("ending", ["failed", "succeeded"])
def test_a_pending_refund_is_followed_to_its_end_by_its_webhook(
    slow_bank: Portal, ending: str
) -> None:
    portal = slow_bank
    browser, payment_id, result, refund = _paid_after_it_was_paid_otherwise(portal)
    assert statuses(portal, payment_id)[0][0] == "refund_pending"
    assert _de("Your payment is being refunded") in text_of(result)
    assert _de("Your payment has been refunded") not in text_of(result)
    _settle_refund(portal, refund, ending)
    expected = "refund_failed" if ending == "failed" else "refunded"
    wait_until(lambda: statuses(portal, payment_id)[0][0] == expected)
    text = text_of(browser.get(f"/payments/{payment_id}"))
    if ending == "failed":
        assert _de("The refund did not go through") in text
        assert _de("Your payment has been refunded") not in text
    else:
        assert _de("Your payment has been refunded") in text
    assert _history(portal, payment_id)[-1] == ("refund_pending", expected)


def test_a_pending_refund_is_read_again_when_its_page_is_opened(portal: Portal) -> None:
    """The shared sandbox sends no webhooks (and ends its pending refunds at once): only the
    page's own look at the refund tells that it failed afterwards."""
    browser, payment_id, _, refund = _paid_after_it_was_paid_otherwise(portal)
    _settle_refund(portal, refund, "failed")
    assert statuses(portal, payment_id)[0][0] in ("refund_pending", "refunded")
    text = text_of(browser.get(f"/payments/{payment_id}"))
    assert _de("The refund did not go through") in text
    assert statuses(portal, payment_id)[0][0] == "refund_failed"


def test_stripe_refusing_the_confirmation_is_told_as_such_and_leaves_nothing_open(
    portal: Portal,
) -> None:
    email, customer, card = customer_with_card(portal)
    invoice = plan_invoice(portal, customer, late=False)
    browser = signed_in(portal, email)
    action = open_pay_page(browser, invoice, "next_installment")
    _sandbox(
        portal,
        "/_sandbox/faults",
        status=400,
        count=1,
        match="POST /v1/payment_intents/{intent}/confirm",
    )
    result = browser.post(action, {"payment_method": card})
    payment_id = action.rsplit("/", 1)[1]
    assert statuses(portal, payment_id)[0][0] == "refused"
    text = text_of(browser.get(result.headers["location"]))
    assert (
        _de(
            "Not charged: our payment provider did not accept this payment with the chosen method. Please choose another payment method."
        )
        in text
    )
    changed = "Not charged: this invoice changed after the payment page was shown (another payment may have arrived)."
    assert _de(changed) not in text
    listed = portal.sdk.v1.invoice_payments.list({"invoice": invoice}).data
    assert [p.status for p in listed if not p.is_default] == ["canceled"]
    assert portal.sdk.v1.invoices.void_invoice(invoice).status == "void"
