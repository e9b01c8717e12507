"""The sandbox refuses what Stripe refuses, through the official SDK: removed and unknown
parameters (`parameter_unknown`), invalid enum values, and preview parameters under a GA
version."""

from __future__ import annotations

from typing import Any

import httpx
import pytest
import stripe

from stripe_sandbox import preview
from tests.functional.sandbox.sandbox_helpers import API_KEY, PREVIEW, Sandbox, new_customer


def test_payment_method_types_on_checkout_is_refused_as_at_stripe(sandbox: Sandbox) -> None:
    customer = new_customer(sandbox.client)
    params: Any = {
        "mode": "setup",
        "customer": customer.id,
        "currency": "eur",
        "payment_method_types": ["card"],
        "success_url": "https://portal.example/done",
    }
    with pytest.raises(stripe.InvalidRequestError) as caught:
        sandbox.client.v1.checkout.sessions.create(params)
    assert caught.value.http_status == 400
    assert caught.value.code == "parameter_unknown"
    assert caught.value.param == "payment_method_types"
    assert caught.value.user_message == "Received unknown parameter: payment_method_types"

    raw = httpx.post(
        f"{sandbox.url}/v1/checkout/sessions",
        data={"mode": "setup", "payment_method_types[0]": "card"},
        headers={"Authorization": f"Bearer {API_KEY}"},
    )
    assert raw.status_code == 400
    error = raw.json()["error"]
    assert (error["type"], error["code"], error["param"]) == (
        "invalid_request_error",
        "parameter_unknown",
        "payment_method_types",
    )
    assert sandbox.client.v1.checkout.sessions.list({"customer": customer.id}).data == []


def test_the_replacement_parameters_are_accepted(sandbox: Sandbox) -> None:
    customer = new_customer(sandbox.client)
    session = sandbox.client.v1.checkout.sessions.create(
        {"mode": "setup", "customer": customer.id, "currency": "eur",
         "allowed_payment_method_types": ["card"], "success_url": "https://portal.example/ok"}
    )  # fmt: skip
    assert session.payment_method_types == ["card"]
    assert session.allowed_payment_method_types == ["card"]


def test_unknown_nested_key_is_named_in_full(sandbox: Sandbox) -> None:
    params: Any = {"name": "Jan", "address": {"line1": "Ilica 1", "planet": "Earth"}}
    with pytest.raises(stripe.InvalidRequestError) as caught:
        sandbox.client.v1.customers.create(params)
    assert caught.value.code == "parameter_unknown"
    assert caught.value.param == "address[planet]"


def test_unknown_query_parameter_is_refused(sandbox: Sandbox) -> None:
    params: Any = {"limit": 3, "colour": "red"}
    with pytest.raises(stripe.InvalidRequestError) as caught:
        sandbox.client.v1.customers.list(params)
    assert caught.value.param == "colour"


def test_invalid_enum_value_is_refused(sandbox: Sandbox) -> None:
    params: Any = {"name": "Jan", "tax_exempt": "sometimes"}
    with pytest.raises(stripe.InvalidRequestError) as caught:
        sandbox.client.v1.customers.create(params)
    assert caught.value.http_status == 400
    assert caught.value.param == "tax_exempt"
    assert caught.value.user_message == (
        "Invalid tax_exempt: must be one of exempt, none, or reverse"
    )


def test_metadata_and_expand_stay_free(sandbox: Sandbox) -> None:
    customer = sandbox.client.v1.customers.create(
        {"name": "Jan", "metadata": {"any key at all": "x"}, "expand": ["tax_ids"]}
    )
    assert customer.to_dict()["metadata"] == {"any key at all": "x"}


def test_payment_plan_needs_a_preview_version(sandbox: Sandbox) -> None:
    customer = new_customer(sandbox.client)
    params: Any = {
        "customer": customer.id,
        "collection_method": "send_invoice",
        "currency": "eur",
        "amounts_due": [{"amount": 5000, "days_until_due": 7}],
    }
    with pytest.raises(stripe.InvalidRequestError) as caught:
        sandbox.client.v1.invoices.create(params)
    assert caught.value.code == "parameter_unknown"
    assert caught.value.param == "amounts_due"

    invoice = sandbox.client.v1.invoices.create(params, PREVIEW)
    assert [part["amount"] for part in invoice["amounts_due"]] == [5000]
    assert "amounts_due" not in sandbox.client.v1.invoices.retrieve(invoice.id).to_dict()
    updated = sandbox.client.v1.invoices.update(
        invoice.id, {"amounts_due": [{"amount": 4000, "days_until_due": 3}]}, PREVIEW
    )
    assert [part["amount"] for part in updated["amounts_due"]] == [4000]


def test_events_carry_preview_fields_only_under_a_preview_version(sandbox: Sandbox) -> None:
    customer = new_customer(sandbox.client)
    plain = sandbox.client.v1.invoices.create(
        {"customer": customer.id, "collection_method": "send_invoice", "days_until_due": 5}
    )
    planned = sandbox.client.v1.invoices.create(
        {"customer": customer.id, "collection_method": "send_invoice",
         "amounts_due": [{"amount": 100, "days_until_due": 1}]},
        PREVIEW,
    )  # fmt: skip
    created = {
        event.data.object["id"]: event
        for event in sandbox.client.v1.events.list({"type": "invoice.created", "limit": 10}).data
    }
    assert created[plain.id].api_version == stripe.api_version
    assert "amounts_due" not in created[plain.id].data.object.to_dict()
    assert created[planned.id].api_version == preview.PREVIEW_VERSION
    assert "amounts_due" in created[planned.id].data.object.to_dict()
