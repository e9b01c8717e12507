"""Paying by bank transfer on the sandbox's Checkout page: the session completes unpaid, its
PaymentIntent waits with the transfer's instructions, and the money arriving later pays it
(`checkout.session.async_payment_succeeded`); a PaymentIntent, unlike an invoice, is funded in
part."""

from __future__ import annotations

from collections.abc import Iterator
from typing import Any

import httpx
import pytest
import stripe

from stripe_sandbox.app import SandboxConfig
from tests.functional.sandbox.sandbox_helpers import FAST_RETRIES, new_customer, sdk_client
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
    client: stripe.StripeClient, customer_id: str | None, amount: int = 2500, **extra: Any
) -> stripe.checkout.Session:
    params: Any = {
        "mode": "payment", "success_url": SUCCESS, "cancel_url": "https://shop.example/cancel",
        "line_items": [{"quantity": 1, "price_data": {
            "currency": "eur", "unit_amount": amount, "product_data": {"name": "F-1"}}}],
    }  # fmt: skip
    if customer_id is not None:
        params["customer"] = customer_id
    return client.v1.checkout.sessions.create({**params, **extra})


def _choose_bank_transfer(session: stripe.checkout.Session) -> httpx.Response:
    assert session.url is not None
    assert "Pay by bank transfer" in httpx.get(session.url).text
    chosen = httpx.post(session.url, data={"method": "customer_balance", "name": "An"})
    assert chosen.status_code == 303
    return chosen


def _fund(client: stripe.StripeClient, customer_id: str, amount: int, **extra: Any) -> None:
    client.v1.test_helpers.customers.fund_cash_balance(
        customer_id, {"amount": amount, "currency": "eur", **extra}
    )


def _types_since(client: stripe.StripeClient, event_id: str) -> list[str]:
    listed = client.v1.events.list({"ending_before": event_id, "limit": 100}).data
    return [event.type for event in reversed(listed)]


def test_bank_transfer_is_offered_only_with_a_customer(client: stripe.StripeClient) -> None:
    customer = new_customer(client)
    session = _session(client, customer.id)
    assert "customer_balance" in session.payment_method_types
    chosen = session.payment_method_options
    assert chosen is not None
    assert chosen.customer_balance is not None
    assert chosen.customer_balance.funding_type == "bank_transfer"
    assert chosen.customer_balance.bank_transfer is not None
    assert chosen.customer_balance.bank_transfer.type == "eu_bank_transfer"
    assert "customer_balance" not in _session(client, None).payment_method_types
    excluded = _session(client, customer.id, excluded_payment_method_types=["customer_balance"])
    assert "customer_balance" not in excluded.payment_method_types
    only = _session(client, customer.id, allowed_payment_method_types=["customer_balance"])
    assert only.payment_method_types == ["customer_balance"]


def test_a_bank_transfer_completes_the_session_unpaid_until_the_money_arrives(
    client: stripe.StripeClient,
) -> None:
    customer = new_customer(client)
    session = _session(
        client, customer.id, 2500,
        payment_method_options={"customer_balance": {
            "funding_type": "bank_transfer",
            "bank_transfer": {"type": "eu_bank_transfer", "eu_bank_transfer": {"country": "NL"}}}},
    )  # fmt: skip
    mark = client.v1.events.list({"limit": 1}).data[0].id
    chosen = _choose_bank_transfer(session)
    done = client.v1.checkout.sessions.retrieve(session.id, {"expand": ["payment_intent"]})
    assert (done.status, done.payment_status) == ("complete", "unpaid")
    intent = done.payment_intent
    assert isinstance(intent, stripe.PaymentIntent)
    assert intent.status == "requires_action"
    assert intent.next_action is not None
    shown = intent.next_action.display_bank_transfer_instructions
    assert shown is not None
    assert shown.amount_remaining == 2500
    assert shown.reference is not None
    assert len(shown.reference) == 12
    assert shown.financial_addresses is not None
    assert shown.financial_addresses[0].iban is not None
    assert shown.financial_addresses[0].iban.iban.startswith("NL")
    # Stripe sends the customer to the transfer's instructions, not to `success_url`.
    assert chosen.headers["location"] == shown.hosted_instructions_url
    page = httpx.get(chosen.headers["location"])
    assert shown.financial_addresses[0].iban.iban in page.text
    assert f"https://shop.example/done?session={session.id}" in page.text
    assert _types_since(client, mark) == [
        "payment_intent.created",
        "payment_intent.requires_action",
        "checkout.session.completed",
    ]

    mark = client.v1.events.list({"limit": 1}).data[0].id
    _fund(client, customer.id, 1000, reference=shown.reference)
    partly = client.v1.payment_intents.retrieve(intent.id)
    assert partly.status == "requires_action"
    assert partly.next_action is not None
    assert partly.next_action.display_bank_transfer_instructions is not None
    assert partly.next_action.display_bank_transfer_instructions.amount_remaining == 1500
    assert client.v1.checkout.sessions.retrieve(session.id).payment_status == "unpaid"
    assert _types_since(client, mark) == [
        "customer_cash_balance_transaction.created",
        "customer_cash_balance_transaction.created",
        "payment_intent.partially_funded",
    ]

    mark = client.v1.events.list({"limit": 1}).data[0].id
    _fund(client, customer.id, 1500)
    paid = client.v1.payment_intents.retrieve(intent.id)
    assert (paid.status, paid.amount_received) == ("succeeded", 2500)
    assert client.v1.checkout.sessions.retrieve(session.id).payment_status == "paid"
    assert _types_since(client, mark) == [
        "customer_cash_balance_transaction.created",
        "customer_cash_balance_transaction.created",
        "charge.succeeded",
        "payment_intent.succeeded",
        "checkout.session.async_payment_succeeded",
    ]
    charge = client.v1.charges.retrieve(str(paid.latest_charge))
    assert charge.payment_method_details is not None
    assert charge.payment_method_details.type == "customer_balance"
    assert "Payment received" in httpx.get(chosen.headers["location"]).text


def test_money_already_in_the_cash_balance_pays_at_once(client: stripe.StripeClient) -> None:
    customer = new_customer(client)
    _fund(client, customer.id, 5000)
    session = _session(client, customer.id, 2500)
    chosen = _choose_bank_transfer(session)
    assert chosen.headers["location"] == f"https://shop.example/done?session={session.id}"
    done = client.v1.checkout.sessions.retrieve(session.id)
    assert (done.status, done.payment_status) == ("complete", "paid")
    balance = client.v1.customers.cash_balance.retrieve(customer.id)
    assert balance.available is not None
    assert balance.available.to_dict() == {"eur": 2500}


def test_a_canceled_payment_gives_its_money_back(client: stripe.StripeClient) -> None:
    customer = new_customer(client)
    session = _session(client, customer.id, 2500)
    _choose_bank_transfer(session)
    intent_id = client.v1.checkout.sessions.retrieve(session.id).payment_intent
    assert isinstance(intent_id, str)
    _fund(client, customer.id, 1000)
    client.v1.payment_intents.cancel(intent_id)
    txns = client.v1.customers.cash_balance_transactions.list(customer.id).data
    newest = txns[0]
    assert (newest.type, newest.net_amount) == ("unapplied_from_payment", 1000)
    balance = client.v1.customers.cash_balance.retrieve(customer.id)
    assert balance.available is not None
    assert balance.available.to_dict() == {"eur": 1000}


def test_a_new_amount_returns_the_money_and_takes_it_again(client: stripe.StripeClient) -> None:
    customer = new_customer(client)
    session = _session(client, customer.id, 2500)
    _choose_bank_transfer(session)
    intent_id = client.v1.checkout.sessions.retrieve(session.id).payment_intent
    assert isinstance(intent_id, str)
    _fund(client, customer.id, 1000)
    updated = client.v1.payment_intents.update(intent_id, {"amount": 3000})
    txns = client.v1.customers.cash_balance_transactions.list(customer.id).data
    assert [(t.type, t.net_amount) for t in txns][:2] == [
        ("applied_to_payment", -1000),
        ("unapplied_from_payment", 1000),
    ]
    shown = client.v1.payment_intents.retrieve(updated.id).next_action
    assert shown is not None
    assert shown.display_bank_transfer_instructions is not None
    assert shown.display_bank_transfer_instructions.amount_remaining == 2000
