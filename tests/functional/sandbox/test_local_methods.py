"""iDEAL through a Checkout Session in payment mode (a method that sends the customer to their
bank), and refunds: through the official SDK and the sandbox's hosted pages over HTTP."""

from __future__ import annotations

import re
import time
from collections.abc import Iterator

import httpx
import pytest
import stripe

from stripe_sandbox.app import SandboxConfig
from tests.functional.sandbox.sandbox_helpers import (
    FAST_RETRIES,
    new_customer,
    open_invoice,
    sdk_client,
)
from tests.support.servers import SandboxUrls, serve_sandbox

SUCCESS = "https://shop.example/done?session={CHECKOUT_SESSION_ID}"


@pytest.fixture(scope="module")
def urls() -> Iterator[SandboxUrls]:
    with serve_sandbox(SandboxConfig(webhook_retry_delays=FAST_RETRIES)) as found:
        yield found


@pytest.fixture(scope="module")
def client(urls: SandboxUrls) -> Iterator[stripe.StripeClient]:
    with sdk_client(urls.api) as sdk:
        yield sdk


def _session(
    client: stripe.StripeClient, customer_id: str, amount: int = 2500, currency: str = "eur"
) -> stripe.checkout.Session:
    return client.v1.checkout.sessions.create(
        {"mode": "payment", "customer": customer_id, "success_url": SUCCESS,
         "cancel_url": "https://shop.example/cancel",
         "line_items": [{"quantity": 1, "price_data": {
             "currency": currency, "unit_amount": amount, "product_data": {"name": "F-1"}}}],
         "payment_intent_data": {"metadata": {"invoice": "in_1"}}}
    )  # fmt: skip


def _pay_with_ideal(session: stripe.checkout.Session, outcome: str = "complete") -> httpx.Response:
    """Choose iDEAL on the hosted page, then authorize (or fail) at the bank's test page, and
    follow the redirect back to Checkout."""
    assert session.url is not None
    page = httpx.get(session.url)
    assert "Pay with iDEAL" in page.text
    chosen = httpx.post(session.url, data={"method": "ideal", "ideal_bank": "ing", "name": "An"})
    assert chosen.status_code == 303
    bank = chosen.headers["location"]
    assert "/3ds/pi_" in bank
    assert "iDEAL test payment" in httpx.get(bank).text
    back = httpx.post(bank, data={"outcome": outcome})
    assert back.status_code == 303
    return httpx.get(back.headers["location"])


def test_ideal_is_offered_for_paying_euros_only(client: stripe.StripeClient) -> None:
    customer = new_customer(client)
    assert "ideal" in _session(client, customer.id).payment_method_types
    assert "ideal" not in _session(client, customer.id, 2500, "usd").payment_method_types
    setup = client.v1.checkout.sessions.create(
        {"mode": "setup", "customer": customer.id, "currency": "eur", "success_url": SUCCESS}
    )
    assert setup.payment_method_types == ["card", "sepa_debit"]


def test_paying_with_ideal_goes_through_the_bank_and_completes_the_session(
    client: stripe.StripeClient,
) -> None:
    customer = new_customer(client)
    session = _session(client, customer.id)
    back = _pay_with_ideal(session)
    assert back.status_code == 303
    assert back.headers["location"] == f"https://shop.example/done?session={session.id}"
    done = client.v1.checkout.sessions.retrieve(session.id, {"expand": ["payment_intent"]})
    assert done.status == "complete"
    assert done.payment_status == "paid"
    intent = done.payment_intent
    assert isinstance(intent, stripe.PaymentIntent)
    assert intent.status == "succeeded"
    assert intent.amount == 2500
    assert intent.metadata["invoice"] == "in_1"
    charge = client.v1.charges.retrieve(str(intent.latest_charge))
    assert charge.payment_method_details is not None
    assert charge.payment_method_details.type == "ideal"
    assert charge.payment_method_details.ideal is not None
    assert charge.payment_method_details.ideal.bic == "INGBNL2A"


def test_a_failed_ideal_payment_leaves_the_session_open(client: stripe.StripeClient) -> None:
    session = _session(client, new_customer(client).id)
    back = _pay_with_ideal(session, outcome="fail")
    assert back.status_code == 200
    assert 'class="error"' in back.text
    again = client.v1.checkout.sessions.retrieve(session.id)
    assert again.status == "open"
    assert again.payment_status == "unpaid"


def test_ideal_cannot_pay_off_session(
    client: stripe.StripeClient,
) -> None:
    customer = new_customer(client)
    pm = client.v1.payment_methods.create(
        {"type": "ideal", "ideal": {"bank": "ing"}, "billing_details": {"name": "An"}}
    )
    with pytest.raises(stripe.InvalidRequestError) as refused:
        client.v1.payment_intents.create(
            {"amount": 1000, "currency": "eur", "customer": customer.id,
             "payment_method": pm.id, "confirm": True, "off_session": True}
        )  # fmt: skip
    assert refused.value.code == "payment_intent_incompatible_payment_method"


def test_a_succeeded_ideal_payment_attached_to_an_invoice_pays_it_at_once(
    client: stripe.StripeClient,
) -> None:
    customer = new_customer(client)
    invoice = open_invoice(client, customer.id, amount=2500)
    session = _session(client, customer.id)
    _pay_with_ideal(session)
    done = client.v1.checkout.sessions.retrieve(session.id)
    paid = client.v1.invoices.attach_payment(
        invoice.id, {"payment_intent": str(done.payment_intent)}
    )
    assert paid.status == "paid"
    assert paid.amount_remaining == 0


def test_refunds_give_back_what_was_paid_and_no_more(client: stripe.StripeClient) -> None:
    session = _session(client, new_customer(client).id, 3000)
    _pay_with_ideal(session)
    intent_id = str(client.v1.checkout.sessions.retrieve(session.id).payment_intent)
    part = client.v1.refunds.create(
        {"payment_intent": intent_id, "amount": 1000, "reason": "duplicate"},
        {"idempotency_key": "refund-part"},
    )
    assert (part.status, part.amount, part.reason) == ("succeeded", 1000, "duplicate")
    assert part.id.startswith("re_")
    with pytest.raises(stripe.InvalidRequestError) as refused:
        client.v1.refunds.create({"payment_intent": intent_id, "amount": 2500})
    assert refused.value.param == "amount"
    rest = client.v1.refunds.create({"payment_intent": intent_id})
    assert rest.amount == 2000
    charge = client.v1.charges.retrieve(str(rest.charge))
    assert (charge.amount_refunded, charge.refunded) == (3000, True)
    listed = client.v1.refunds.list({"payment_intent": intent_id})
    assert [r.id for r in listed.data] == [rest.id, part.id]
    with pytest.raises(stripe.InvalidRequestError) as again:
        client.v1.refunds.create({"payment_intent": intent_id})
    assert again.value.code == "charge_already_refunded"


def test_an_unpaid_intent_cannot_be_refunded(client: stripe.StripeClient) -> None:
    intent = client.v1.payment_intents.create({"amount": 1000, "currency": "eur"})
    with pytest.raises(stripe.InvalidRequestError) as refused:
        client.v1.refunds.create({"payment_intent": intent.id})
    assert refused.value.code == "charge_not_refundable"
    with pytest.raises(stripe.InvalidRequestError) as unknown:
        client.v1.refunds.create(
            {"payment_intent": intent.id, "reason": "changed_mind"}  # type: ignore[typeddict-item]
        )
    assert unknown.value.http_status == 400
    assert re.search("reason", str(unknown.value.user_message))


def test_an_ideal_method_cannot_be_saved_to_a_customer(client: stripe.StripeClient) -> None:
    pm = client.v1.payment_methods.create(
        {"type": "ideal", "ideal": {"bank": "rabobank"}, "billing_details": {"name": "An"}}
    )
    assert pm.ideal is not None
    assert pm.ideal.bic == "RABONL2U"
    with pytest.raises(stripe.InvalidRequestError):
        client.v1.payment_methods.attach(pm.id, {"customer": new_customer(client).id})


@pytest.mark.parametrize("minutes", [29, 25 * 60])
def test_a_session_lives_between_30_minutes_and_24_hours(
    client: stripe.StripeClient, minutes: int
) -> None:
    customer = new_customer(client)
    with pytest.raises(stripe.InvalidRequestError) as refused:
        client.v1.checkout.sessions.create(
            {"mode": "setup", "customer": customer.id, "currency": "eur", "success_url": SUCCESS,
             "expires_at": int(time.time()) + minutes * 60}
        )  # fmt: skip
    assert refused.value.param == "expires_at"
    fine = client.v1.checkout.sessions.create(
        {"mode": "setup", "customer": customer.id, "currency": "eur", "success_url": SUCCESS,
         "expires_at": int(time.time()) + 31 * 60}
    )  # fmt: skip
    assert fine.status == "open"
