"""PaymentIntents attached to an invoice (Stripe's partial payments): while one is open, the
invoice can be neither voided nor marked uncollectible until that PaymentIntent is canceled."""

from __future__ import annotations

from collections.abc import Callable, Iterator
from typing import Literal

import pytest
import stripe

from stripe_sandbox.app import SandboxConfig
from tests.functional.sandbox.sandbox_helpers import (
    FAST_RETRIES,
    Sandbox,
    customer_with_card,
    new_customer,
    open_invoice,
    sdk_client,
)
from tests.support.servers import serve_sandbox

Action = Literal["void", "mark_uncollectible"]
Attempt = Callable[[stripe.StripeClient, str, str], None]
AFTER = {"void": "void", "mark_uncollectible": "uncollectible"}
RETURN_URL = "https://portal.example/back"


def _act(client: stripe.StripeClient, action: Action, invoice_id: str) -> stripe.Invoice:
    if action == "void":
        return client.v1.invoices.void_invoice(invoice_id)
    return client.v1.invoices.mark_uncollectible(invoice_id)


def _payment_of(client: stripe.StripeClient, invoice_id: str, pi_id: str) -> stripe.InvoicePayment:
    (payment,) = client.v1.invoice_payments.list(
        {"invoice": invoice_id, "payment": {"type": "payment_intent", "payment_intent": pi_id}}
    ).data
    return payment


def _attached(client: stripe.StripeClient, customer_id: str, invoice_id: str) -> str:
    pi = client.v1.payment_intents.create(
        {"amount": 4000, "currency": "eur", "customer": customer_id}
    )
    client.v1.invoices.attach_payment(invoice_id, {"payment_intent": pi.id})
    return pi.id


def _declined(client: stripe.StripeClient, pi_id: str, pm_id: str) -> None:
    with pytest.raises(stripe.CardError):
        client.v1.payment_intents.confirm(pi_id, {"payment_method": pm_id, "off_session": True})
    assert client.v1.payment_intents.retrieve(pi_id).status == "requires_payment_method"


def _needs_authentication(client: stripe.StripeClient, pi_id: str, pm_id: str) -> None:
    pi = client.v1.payment_intents.confirm(
        pi_id, {"payment_method": pm_id, "return_url": RETURN_URL}
    )
    assert pi.status == "requires_action"


@pytest.mark.parametrize("action", ["void", "mark_uncollectible"])
@pytest.mark.parametrize(
    ("card", "attempt"),
    [("pm_card_chargeDeclined", _declined), ("pm_card_authenticationRequired", _needs_authentication)],
)  # fmt: skip
def test_an_open_attached_payment_blocks_until_its_intent_is_canceled(
    stripe_client: stripe.StripeClient, action: Action, card: str, attempt: Attempt
) -> None:
    customer, pm = customer_with_card(stripe_client, card)
    invoice = open_invoice(stripe_client, customer.id, amount=10000)
    pi_id = _attached(stripe_client, customer.id, invoice.id)
    attempt(stripe_client, pi_id, pm.id)
    assert _payment_of(stripe_client, invoice.id, pi_id).status == "open"
    with pytest.raises(stripe.InvalidRequestError) as refused:
        _act(stripe_client, action, invoice.id)
    assert refused.value.http_status == 400
    assert refused.value.error is not None
    assert refused.value.error.type == "invalid_request_error"
    assert pi_id in str(refused.value.error.message)
    assert stripe_client.v1.invoices.retrieve(invoice.id).status == "open"
    assert stripe_client.v1.payment_intents.cancel(pi_id).status == "canceled"
    payment = _payment_of(stripe_client, invoice.id, pi_id)
    assert payment.status == "canceled"
    assert payment.status_transitions.canceled_at is not None
    assert _act(stripe_client, action, invoice.id).status == AFTER[action]


def test_the_invoice_s_own_payment_does_not_block(stripe_client: stripe.StripeClient) -> None:
    customer, _ = customer_with_card(stripe_client, "pm_card_chargeDeclined")
    invoice = open_invoice(stripe_client, customer.id)
    with pytest.raises(stripe.CardError):
        stripe_client.v1.invoices.pay(invoice.id)
    assert stripe_client.v1.invoices.mark_uncollectible(invoice.id).status == "uncollectible"
    assert stripe_client.v1.invoices.void_invoice(invoice.id).status == "void"


def test_a_paid_part_blocks_voiding_but_not_marking_uncollectible(
    stripe_client: stripe.StripeClient,
) -> None:
    customer, pm = customer_with_card(stripe_client)
    invoice = open_invoice(stripe_client, customer.id, amount=10000)
    pi = stripe_client.v1.payment_intents.create(
        {"amount": 4000, "currency": "eur", "customer": customer.id, "payment_method": pm.id,
         "confirm": True, "off_session": True}
    )  # fmt: skip
    stripe_client.v1.invoices.attach_payment(invoice.id, {"payment_intent": pi.id})
    with pytest.raises(stripe.InvalidRequestError):
        stripe_client.v1.invoices.void_invoice(invoice.id)
    marked = stripe_client.v1.invoices.mark_uncollectible(invoice.id)
    assert (marked.status, marked.amount_remaining) == ("uncollectible", 6000)


@pytest.fixture(scope="module")
def slow_bank() -> Iterator[Sandbox]:
    """Debits stay `processing` longer than any test."""
    config = SandboxConfig(webhook_retry_delays=FAST_RETRIES, sepa_settlement_delay_ms=600_000)
    with serve_sandbox(config) as urls, sdk_client(urls.api) as client:
        yield Sandbox(urls.api, client)


def _debit(client: stripe.StripeClient, customer_id: str) -> str:
    pm = client.v1.payment_methods.create(
        {"type": "sepa_debit", "sepa_debit": {"iban": "DE89370400440532013000"},
         "billing_details": {"name": "Jan Kowalski", "email": "jan@example.com"}}
    )  # fmt: skip
    client.v1.payment_methods.attach(pm.id, {"customer": customer_id})
    return pm.id


@pytest.mark.parametrize("action", ["void", "mark_uncollectible"])
def test_a_processing_attached_debit_blocks_and_cannot_be_canceled(
    slow_bank: Sandbox, action: Action
) -> None:
    client = slow_bank.client
    customer = new_customer(client)
    invoice = open_invoice(client, customer.id, amount=10000)
    pi_id = _attached(client, customer.id, invoice.id)
    confirmed = client.v1.payment_intents.confirm(
        pi_id, {"payment_method": _debit(client, customer.id), "off_session": True}
    )
    assert confirmed.status == "processing"
    with pytest.raises(stripe.InvalidRequestError) as refused:
        _act(client, action, invoice.id)
    assert "processing" in str(refused.value.user_message)
    with pytest.raises(stripe.InvalidRequestError) as not_canceled:
        client.v1.payment_intents.cancel(pi_id)
    assert not_canceled.value.code == "payment_intent_unexpected_state"


def test_voiding_cannot_cancel_the_invoice_s_own_processing_debit(slow_bank: Sandbox) -> None:
    client = slow_bank.client
    customer = new_customer(client)
    invoice = open_invoice(client, customer.id, amount=10000)
    paying = client.v1.invoices.pay(invoice.id, {"payment_method": _debit(client, customer.id)})
    assert paying.status == "open"
    with pytest.raises(stripe.InvalidRequestError) as refused:
        client.v1.invoices.void_invoice(invoice.id)
    assert "processing" in str(refused.value.user_message)
    assert client.v1.invoices.retrieve(invoice.id).status == "open"
