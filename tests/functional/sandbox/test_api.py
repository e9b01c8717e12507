"""The sandbox's API plumbing through the official SDK: auth, errors, pagination, idempotency,
faults, latency, expansion, customers and their search."""

from __future__ import annotations

import asyncio
import time

import httpx
import pytest
import stripe

from tests.functional.sandbox.sandbox_helpers import (
    Sandbox,
    customer_with_card,
    new_customer,
    sdk_client,
)


def test_missing_or_live_key_is_an_authentication_error(sandbox: Sandbox) -> None:
    response = httpx.get(f"{sandbox.url}/v1/customers")
    assert response.status_code == 401
    assert response.json()["error"]["type"] == "invalid_request_error"
    assert response.headers["request-id"].startswith("req_")
    with (
        sdk_client(sandbox.url, api_key="sk_live_nope") as client,
        pytest.raises(stripe.AuthenticationError),
    ):
        client.v1.customers.list()


def test_unknown_resource_is_invalid_request_404(stripe_client: stripe.StripeClient) -> None:
    with pytest.raises(stripe.InvalidRequestError) as caught:
        stripe_client.v1.customers.retrieve("cus_missing")
    assert caught.value.http_status == 404
    assert caught.value.code == "resource_missing"


def test_unrecognized_url_is_a_stripe_shaped_404(sandbox: Sandbox) -> None:
    response = httpx.get(
        f"{sandbox.url}/v1/nothing_here", headers={"Authorization": "Bearer sk_test_x"}
    )
    assert response.status_code == 404
    assert "Unrecognized request URL" in response.json()["error"]["message"]


def test_list_pagination_newest_first_with_cursors(sandbox: Sandbox) -> None:
    client = sandbox.client
    email = f"page-{time.monotonic_ns()}@example.com"
    ids = [new_customer(client, email=email).id for _ in range(5)]
    first = client.v1.customers.list({"email": email, "limit": 2})
    assert [c.id for c in first.data] == ids[::-1][:2]
    assert first.has_more is True
    assert first.url == "/v1/customers"
    second = client.v1.customers.list(
        {"email": email, "limit": 2, "starting_after": first.data[-1].id}
    )
    assert [c.id for c in second.data] == ids[::-1][2:4]
    back = client.v1.customers.list(
        {"email": email, "limit": 2, "ending_before": second.data[0].id}
    )
    assert [c.id for c in back.data] == ids[::-1][:2]
    everything = [c.id for c in first.auto_paging_iter()]
    assert everything == ids[::-1]
    with pytest.raises(stripe.InvalidRequestError):
        client.v1.customers.list({"limit": 101})


def test_email_filter_is_exact_and_case_sensitive_search_is_not(sandbox: Sandbox) -> None:
    client = sandbox.client
    unique = f"Case{time.monotonic_ns()}@Example.com"
    customer = new_customer(client, email=unique, metadata={"tier": "gold"})
    assert [c.id for c in client.v1.customers.list({"email": unique}).data] == [customer.id]
    assert client.v1.customers.list({"email": unique.lower()}).data == []
    found = client.v1.customers.search({"query": f"email:'{unique.lower()}'"})
    assert [c.id for c in found.data] == [customer.id]
    assert found.object == "search_result"
    both = client.v1.customers.search({"query": f"email:'{unique}' AND metadata['tier']:'gold'"})
    assert [c.id for c in both.data] == [customer.id]
    with pytest.raises(stripe.InvalidRequestError):
        client.v1.customers.search({"query": "email:'a' AND name:'b' OR phone:'c'"})


def test_customer_update_unset_and_delete(stripe_client: stripe.StripeClient) -> None:
    customer = new_customer(
        stripe_client, description="VIP", metadata={"a": "1", "b": "2"}, preferred_locales=["pl"]
    )
    updated = stripe_client.v1.customers.update(
        customer.id,
        {"description": "", "metadata": {"a": ""}, "phone": "+48123456789",
         "address": {"line1": "Rynek 1", "city": "Wrocław", "country": "PL"}},
    )  # fmt: skip
    assert updated.description is None
    assert updated.metadata.to_dict() == {"b": "2"}
    assert updated.address is not None
    assert updated.address.city == "Wrocław"
    assert updated.preferred_locales == ["pl"]
    deleted = stripe_client.v1.customers.delete(customer.id)
    assert deleted.deleted is True
    assert stripe_client.v1.customers.retrieve(customer.id)["deleted"] is True


def test_idempotent_replay_and_mismatch(sandbox: Sandbox) -> None:
    client = sandbox.client
    key = f"idem-{time.monotonic_ns()}"
    first = client.v1.customers.create({"email": "idem@example.com"}, {"idempotency_key": key})
    again = client.v1.customers.create({"email": "idem@example.com"}, {"idempotency_key": key})
    assert again.id == first.id
    assert again.last_response is not None
    assert again.last_response.headers.get("idempotent-replayed") == "true"
    with pytest.raises(stripe.IdempotencyError):
        client.v1.customers.create({"email": "other@example.com"}, {"idempotency_key": key})


def test_concurrent_requests_with_one_key_execute_once(sandbox: Sandbox) -> None:
    """The others are refused with 409 while the first is in flight, or replay its answer."""
    key = f"race-{time.monotonic_ns()}"

    async def race() -> list[httpx.Response]:
        async with httpx.AsyncClient() as http:
            calls = [
                http.post(
                    f"{sandbox.url}/v1/customers",
                    data={"email": "race@example.com"},
                    headers={"Authorization": "Bearer sk_test_x", "Idempotency-Key": key},
                )
                for _ in range(5)
            ]
            return list(await asyncio.gather(*calls))

    answers = asyncio.run(race())
    created = {r.json()["id"] for r in answers if r.status_code == 200}
    assert len(created) == 1
    refused = [r for r in answers if r.status_code != 200]
    assert all(r.json()["error"]["code"] == "idempotency_key_in_use" for r in refused)


def test_faults_map_to_sdk_exceptions(sandbox: Sandbox) -> None:
    client = sandbox.client
    sandbox.control("POST", "faults", {"status": 500, "count": 1})
    with pytest.raises(stripe.APIError):
        client.v1.customers.list()
    sandbox.control("POST", "faults", {"status": 429, "count": 1})
    with pytest.raises(stripe.RateLimitError):
        client.v1.customers.list()
    assert client.v1.customers.list().object == "list"


def test_card_error_and_invalid_request_mapping(stripe_client: stripe.StripeClient) -> None:
    customer = new_customer(stripe_client)
    with pytest.raises(stripe.CardError) as caught:
        stripe_client.v1.payment_intents.create(
            {"amount": 1000, "currency": "eur", "customer": customer.id,
             "payment_method": "pm_card_chargeDeclined", "confirm": True,
             "return_url": "https://shop.example/back"}
        )  # fmt: skip
    assert caught.value.code == "card_declined"
    assert caught.value.error is not None
    assert caught.value.error.decline_code == "generic_decline"
    with pytest.raises(stripe.InvalidRequestError) as invalid:
        stripe_client.v1.payment_intents.create({"amount": 1000, "currency": "xyz"})
    assert invalid.value.param == "currency"


def test_stats_count_requests_by_endpoint(sandbox: Sandbox) -> None:
    sandbox.control("POST", "stats/reset")
    customer = new_customer(sandbox.client)
    sandbox.client.v1.customers.retrieve(customer.id)
    stats = sandbox.control("GET", "stats").json()
    assert stats["requests"] == 2
    assert stats["by_endpoint"] == {
        "POST /v1/customers": 1,
        "GET /v1/customers/{customer}": 1,
    }


def test_latency_is_injected_before_each_api_call(sandbox: Sandbox) -> None:
    sandbox.control("POST", "latency", {"ms": 150})
    try:
        started = time.monotonic()
        sandbox.client.v1.customers.list({"limit": 1})
        assert time.monotonic() - started >= 0.15
    finally:
        sandbox.control("POST", "latency", {"ms": 0})


def test_expand_replaces_ids_with_objects(stripe_client: stripe.StripeClient) -> None:
    customer, pm = customer_with_card(stripe_client)
    expanded = stripe_client.v1.customers.retrieve(
        customer.id, {"expand": ["invoice_settings.default_payment_method"]}
    )
    assert expanded.invoice_settings.default_payment_method.id == pm.id  # type: ignore[union-attr]
    methods = stripe_client.v1.payment_methods.list(
        {"customer": customer.id, "expand": ["data.customer"]}
    )
    assert methods.data[0].customer.email == customer.email  # type: ignore[union-attr]
    pi = stripe_client.v1.payment_intents.create(
        {"amount": 500, "currency": "usd", "customer": customer.id, "payment_method": pm.id,
         "confirm": True, "off_session": True, "expand": ["latest_charge", "customer"]}
    )  # fmt: skip
    assert pi.latest_charge.status == "succeeded"  # type: ignore[union-attr]


def test_async_methods_work_against_the_sandbox(sandbox: Sandbox) -> None:
    async def flow() -> str:
        http = stripe.HTTPXClient()
        client = stripe.StripeClient(
            "sk_test_async",
            base_addresses={"api": sandbox.url, "files": sandbox.url},
            http_client=http,
            max_network_retries=0,
        )
        try:
            customer = await client.v1.customers.create_async({"email": "async@example.com"})
            found = await client.v1.customers.retrieve_async(customer.id)
            return str(found.email)
        finally:
            await http.close_async()

    assert asyncio.run(flow()) == "async@example.com"


def test_events_are_listed_newest_first_and_filterable(stripe_client: stripe.StripeClient) -> None:
    customer = new_customer(stripe_client)
    stripe_client.v1.customers.update(customer.id, {"name": "Renamed"})
    events = stripe_client.v1.events.list({"type": "customer.*", "limit": 2})
    assert [e.type for e in events.data] == ["customer.updated", "customer.created"]
    updated = events.data[0]
    assert updated.data.object["id"] == customer.id
    assert updated.data.previous_attributes is not None
    assert updated.data.previous_attributes["name"] == "Jan Kowalski"
    assert updated.request is not None
    assert updated.request.id is not None
    assert stripe_client.v1.events.retrieve(updated.id).id == updated.id
