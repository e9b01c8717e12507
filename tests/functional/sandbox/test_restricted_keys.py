"""Restricted API keys through the official SDK: a key made by `POST /_sandbox/keys` reads and
writes what its permissions cover and gets Stripe's 403 (the SDK's PermissionError) naming the
permission it lacks for anything else, also for an object it asks to expand."""

from __future__ import annotations

import contextlib
import re
from collections.abc import Callable, Iterator, Mapping

import httpx
import pytest
import stripe

from stripe_sandbox.app import SandboxConfig, create_sandbox_app
from tests.functional.sandbox.sandbox_helpers import (
    Sandbox,
    customer_with_card,
    new_customer,
    open_invoice,
    sdk_client,
)
from tests.support.servers import serve_in_thread

REFUSAL = re.compile(
    r"The provided key 'rk_test_\*+[A-Za-z0-9]{6}' does not have the required permissions for "
    r"this endpoint on account 'acct_[A-Za-z0-9]{16}'\. Having the 'rak_(?P<permission>\w+)' "
    r"permission would allow this request to continue\."
)


def make_key(sandbox: Sandbox, permissions: Mapping[str, str]) -> str:
    answer = sandbox.control("POST", "keys", {"permissions": dict(permissions)}).json()
    key: str = answer["key"]
    return key


@pytest.fixture
def restricted(sandbox: Sandbox) -> Iterator[Callable[..., stripe.StripeClient]]:
    opened: list[contextlib.ExitStack] = []

    def client(**permissions: str) -> stripe.StripeClient:
        stack = contextlib.ExitStack()
        opened.append(stack)
        return stack.enter_context(sdk_client(sandbox.url, api_key=make_key(sandbox, permissions)))

    yield client
    for stack in opened:
        stack.close()


def refused_permission(caught: pytest.ExceptionInfo[stripe.PermissionError]) -> str:
    error = caught.value
    assert error.http_status == 403
    assert error.json_body is not None
    assert error.json_body["error"]["type"] == "invalid_request_error"
    assert "code" not in error.json_body["error"]
    found = REFUSAL.fullmatch(error.user_message or "")
    assert found is not None, error.user_message
    return found["permission"]


def test_the_control_endpoint_makes_a_key_with_the_permissions_asked_for(
    sandbox: Sandbox,
) -> None:
    answer = sandbox.control(
        "POST", "keys", {"permissions": {"customer": "write", "charge": "read", "coupon": "none"}}
    ).json()
    assert re.fullmatch(r"rk_test_[A-Za-z0-9]{99}", answer["key"])
    assert answer["permissions"] == {"customer": "write", "charge": "read"}
    for body in (
        {"permissions": {"refunds": "write"}},
        {"permissions": {"event": "write"}},
        {"permissions": ["customer_read"]},
        {},
    ):
        response = httpx.post(f"{sandbox.url}/_sandbox/keys", json=body)
        assert response.status_code == 400, body
        assert response.json()["error"]["type"] == "invalid_request_error"


def test_a_key_reads_what_it_may_and_is_refused_the_rest(
    sandbox: Sandbox, restricted: Callable[..., stripe.StripeClient]
) -> None:
    customer = new_customer(sandbox.client)
    reader = restricted(customer="read")
    assert reader.v1.customers.retrieve(customer.id).id == customer.id
    assert reader.v1.customers.list({"limit": 1}).object == "list"
    assert reader.v1.customers.tax_ids.list(customer.id).object == "list"

    with pytest.raises(stripe.PermissionError) as caught:
        reader.v1.customers.update(customer.id, {"name": "Someone Else"})
    assert refused_permission(caught) == "customer_write"
    assert sandbox.client.v1.customers.retrieve(customer.id).name == customer.name

    with pytest.raises(stripe.PermissionError) as refused_invoices:
        reader.v1.invoices.list({"customer": customer.id})
    assert refused_permission(refused_invoices) == "invoice_read"
    with pytest.raises(stripe.PermissionError) as refused_events:
        reader.v1.events.list()
    assert refused_permission(refused_events) == "event_read"


def test_write_includes_read(
    sandbox: Sandbox, restricted: Callable[..., stripe.StripeClient]
) -> None:
    writer = restricted(webhook="write")
    made = writer.v1.webhook_endpoints.create(
        {"url": "https://portal.example/hook", "enabled_events": ["invoice.paid"]}
    )
    assert made.id in [e.id for e in writer.v1.webhook_endpoints.list({"limit": 100}).data]
    writer.v1.webhook_endpoints.delete(made.id)

    reader = restricted(webhook="read")
    assert reader.v1.webhook_endpoints.list().object == "list"
    with pytest.raises(stripe.PermissionError) as caught:
        reader.v1.webhook_endpoints.create(
            {"url": "https://portal.example/hook", "enabled_events": ["*"]}
        )
    assert refused_permission(caught) == "webhook_write"


def test_refunds_and_charges_share_stripes_charge_permissions(
    sandbox: Sandbox, restricted: Callable[..., stripe.StripeClient]
) -> None:
    customer, card = customer_with_card(sandbox.client)
    intent = sandbox.client.v1.payment_intents.create(
        {"amount": 2500, "currency": "eur", "customer": customer.id, "payment_method": card.id,
         "confirm": True, "off_session": True}
    )  # fmt: skip
    charges = restricted(charge="read")
    assert charges.v1.refunds.list({"payment_intent": intent.id}).object == "list"
    with pytest.raises(stripe.PermissionError) as caught:
        charges.v1.refunds.create({"payment_intent": intent.id})
    assert refused_permission(caught) == "charge_write"
    assert (
        restricted(charge="write").v1.refunds.create({"payment_intent": intent.id}).amount == 2500
    )


def test_expanding_needs_the_read_permission_of_the_object_expanded(
    sandbox: Sandbox, restricted: Callable[..., stripe.StripeClient]
) -> None:
    customer, card = customer_with_card(sandbox.client)
    intent = sandbox.client.v1.payment_intents.create(
        {"amount": 2500, "currency": "eur", "customer": customer.id, "payment_method": card.id,
         "confirm": True, "off_session": True}
    )  # fmt: skip
    payments = restricted(payment_intent="read")
    assert payments.v1.payment_intents.retrieve(intent.id).latest_charge == intent.latest_charge
    with pytest.raises(stripe.PermissionError) as caught:
        payments.v1.payment_intents.retrieve(intent.id, {"expand": ["latest_charge"]})
    assert refused_permission(caught) == "charge_read"
    with pytest.raises(stripe.PermissionError) as refused_customer:
        payments.v1.payment_intents.list({"customer": customer.id, "expand": ["data.customer"]})
    assert refused_permission(refused_customer) == "customer_read"

    both = restricted(payment_intent="read", charge="read")
    expanded = both.v1.payment_intents.retrieve(intent.id, {"expand": ["latest_charge"]})
    assert isinstance(expanded.latest_charge, stripe.Charge)


def test_an_invoice_reader_needs_more_to_expand_its_payments_charges(
    sandbox: Sandbox, restricted: Callable[..., stripe.StripeClient]
) -> None:
    customer, card = customer_with_card(sandbox.client)
    invoice = open_invoice(sandbox.client, customer.id)
    sandbox.client.v1.invoices.pay(invoice.id, {"payment_method": card.id})
    deep = {"invoice": invoice.id, "expand": ["data.payment.payment_intent.latest_charge"]}

    with pytest.raises(stripe.PermissionError) as caught:
        restricted(invoice="read").v1.invoice_payments.list(deep)  # type: ignore[arg-type]
    assert refused_permission(caught) == "payment_intent_read"
    with pytest.raises(stripe.PermissionError) as caught:
        restricted(invoice="read", payment_intent="read").v1.invoice_payments.list(
            deep  # type: ignore[arg-type]
        )
    assert refused_permission(caught) == "charge_read"
    everything = restricted(invoice="read", payment_intent="read", charge="read")
    [payment] = everything.v1.invoice_payments.list(deep).data  # type: ignore[arg-type]
    assert payment.payment.payment_intent.latest_charge.object == "charge"  # type: ignore[union-attr]


def test_includable_fields_need_the_permission_of_what_they_show(
    sandbox: Sandbox, restricted: Callable[..., stripe.StripeClient]
) -> None:
    customer, card = customer_with_card(sandbox.client)
    invoice = open_invoice(sandbox.client, customer.id)
    sandbox.client.v1.invoices.pay(invoice.id, {"payment_method": card.id})
    reader = restricted(customer="read", invoice="read")
    assert (
        reader.v1.customers.retrieve(
            customer.id, {"expand": ["tax_ids", "cash_balance", "invoice_credit_balance"]}
        ).tax_ids
        is not None
    )
    assert reader.v1.invoices.retrieve(invoice.id, {"expand": ["payments"]}).payments is not None
    with pytest.raises(stripe.PermissionError) as caught:
        restricted(invoice="read").v1.invoices.retrieve(invoice.id, {"expand": ["customer"]})
    assert refused_permission(caught) == "customer_read"


def test_stripes_implied_permissions_hold(
    sandbox: Sandbox, restricted: Callable[..., stripe.StripeClient]
) -> None:
    customer = new_customer(sandbox.client)
    setup = sandbox.client.v1.setup_intents.create({"customer": customer.id})
    # Reading Checkout Sessions implies reading the intents they make ...
    checkout = restricted(checkout_session="read")
    assert checkout.v1.setup_intents.retrieve(setup.id).id == setup.id
    # ... but not writing them.
    with pytest.raises(stripe.PermissionError) as caught:
        checkout.v1.setup_intents.cancel(setup.id)
    assert refused_permission(caught) == "setup_intent_write"
    # Credit notes and invoices imply reading each other.
    invoice = open_invoice(sandbox.client, customer.id)
    assert restricted(credit_note="read").v1.invoices.retrieve(invoice.id).id == invoice.id


def test_an_unknown_restricted_key_is_refused_and_secret_keys_may_do_anything(
    sandbox: Sandbox,
) -> None:
    with (
        sdk_client(sandbox.url, api_key="rk_test_" + "x" * 99) as client,
        pytest.raises(stripe.AuthenticationError) as caught,
    ):
        client.v1.customers.list()
    assert caught.value.http_status == 401
    with sdk_client(sandbox.url, api_key="sk_test_anything") as client:
        assert client.v1.events.list({"limit": 1}).object == "list"


def test_an_unknown_url_is_a_404_whatever_the_key(sandbox: Sandbox) -> None:
    key = make_key(sandbox, {})
    response = httpx.get(
        f"{sandbox.url}/v1/nothing_here", headers={"Authorization": f"Bearer {key}"}
    )
    assert response.status_code == 404


def test_a_reset_forgets_the_keys() -> None:
    with serve_in_thread(create_sandbox_app(SandboxConfig())) as url:
        sandbox = Sandbox(url, stripe.StripeClient("sk_test_unused"))
        key = make_key(sandbox, {"customer": "read"})
        with sdk_client(url, api_key=key) as client:
            assert client.v1.customers.list().object == "list"
            sandbox.control("POST", "reset")
            with pytest.raises(stripe.AuthenticationError):
                client.v1.customers.list()
