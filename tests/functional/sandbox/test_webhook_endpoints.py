"""Webhook endpoints through the official SDK: created, listed, changed and deleted as at Stripe,
refused where Stripe refuses, and deliveries that follow each endpoint's `enabled_events`, its
status and its existence, the endpoint configured with the sandbox (`webhook_url`) included."""

from __future__ import annotations

import json
import time
from collections.abc import Iterator
from typing import Any

import pytest
import stripe

from stripe_sandbox.app import SandboxConfig, create_sandbox_app
from tests.functional.sandbox.sandbox_helpers import (
    FAST_RETRIES,
    Receiver,
    Sandbox,
    new_customer,
    sdk_client,
    wait_until,
)
from tests.support.servers import serve_in_thread

CONFIGURED_SECRET = "whsec_configured_endpoint_secret"


def event_types(receiver: Receiver) -> list[str]:
    return [json.loads(body)["type"] for body in receiver.bodies()]


def customer_created_and_updated(sandbox: Sandbox) -> None:
    """Two events, then every delivery they cause is over."""
    customer = new_customer(sandbox.client)
    sandbox.client.v1.customers.update(customer.id, {"name": "Jana Nováková"})
    sandbox.wait_for_webhooks()


@pytest.fixture
def endpoint(sandbox: Sandbox, receiver: Receiver) -> Iterator[stripe.WebhookEndpoint]:
    made = sandbox.client.v1.webhook_endpoints.create(
        {"url": receiver.url, "enabled_events": ["customer.created"]}
    )
    yield made
    existing = {e.id for e in sandbox.client.v1.webhook_endpoints.list({"limit": 100}).data}
    if made.id in existing:
        sandbox.client.v1.webhook_endpoints.delete(made.id)
    sandbox.wait_for_webhooks()


def test_an_endpoint_is_created_read_changed_listed_and_deleted(sandbox: Sandbox) -> None:
    endpoints = sandbox.client.v1.webhook_endpoints
    created = endpoints.create(
        {
            "url": "https://portal.example/stripe/webhook",
            "enabled_events": ["invoice.paid", "invoice.voided"],
            "description": "Portal",
            "api_version": "2026-10-28.endive",
            "metadata": {"owner": "billing"},
        }
    )
    assert created.id.startswith("we_")
    assert created.object == "webhook_endpoint"
    assert created.status == "enabled"
    assert created.livemode is False
    assert created.enabled_events == ["invoice.paid", "invoice.voided"]
    assert created.api_version == "2026-10-28.endive"
    assert created.metadata.to_dict() == {"owner": "billing"}
    assert created.secret is not None
    assert created.secret.startswith("whsec_")

    read = endpoints.retrieve(created.id)
    assert "secret" not in read.to_dict()
    assert read.description == "Portal"

    changed = endpoints.update(
        created.id,
        {
            "url": "https://portal.example/hooks",
            "enabled_events": ["*"],
            "description": "",
            "disabled": True,
            "metadata": {"owner": ""},
        },
    )
    assert changed.url == "https://portal.example/hooks"
    assert changed.enabled_events == ["*"]
    assert changed.description is None
    assert changed.status == "disabled"
    assert changed.metadata.to_dict() == {}
    assert endpoints.update(created.id, {"disabled": False}).status == "enabled"

    assert created.id in [e.id for e in endpoints.list({"limit": 100}).data]
    deleted = endpoints.delete(created.id)
    assert (deleted.id, deleted.deleted) == (created.id, True)
    with pytest.raises(stripe.InvalidRequestError) as caught:
        endpoints.retrieve(created.id)
    assert caught.value.http_status == 404
    assert caught.value.code == "resource_missing"


def test_an_event_type_stripe_does_not_have_is_refused(sandbox: Sandbox) -> None:
    params: Any = {"url": "https://portal.example/hook", "enabled_events": ["invoice.teleported"]}
    with pytest.raises(stripe.InvalidRequestError) as caught:
        sandbox.client.v1.webhook_endpoints.create(params)
    assert caught.value.http_status == 400
    assert caught.value.param == "enabled_events[0]"
    assert (caught.value.user_message or "").startswith(
        "Invalid enabled_events[0]: must be one of *, account.application.authorized,"
    )
    # Nor does Stripe send `invoiceitem.updated` or `payment_intent.updated`.
    for missing in ("invoiceitem.updated", "payment_intent.updated"):
        params["enabled_events"] = [missing]
        with pytest.raises(stripe.InvalidRequestError):
            sandbox.client.v1.webhook_endpoints.create(params)


@pytest.mark.parametrize(
    ("params", "param", "code", "message"),
    [
        ({"enabled_events": ["*"]}, "url", "parameter_missing", "Missing required param: url."),
        ({"url": "https://portal.example/hook"}, "enabled_events", "parameter_missing", None),
        ({"url": "portal.example/hook", "enabled_events": ["*"]}, "url", "url_invalid",
         "Invalid URL: An explicit scheme (such as https) must be provided."),
        ({"url": "ftp://portal.example/hook", "enabled_events": ["*"]}, "url", "url_invalid",
         None),
        ({"url": "", "enabled_events": ["*"]}, "url", "parameter_invalid_empty", None),
        ({"url": "https://portal.example/hook", "enabled_events": ["*"], "disabled": "true"},
         "disabled", "parameter_unknown", "Received unknown parameter: disabled"),
    ],
)  # fmt: skip
def test_creation_is_refused_as_at_stripe(
    sandbox: Sandbox, params: Any, param: str, code: str, message: str | None
) -> None:
    with pytest.raises(stripe.InvalidRequestError) as caught:
        sandbox.client.v1.webhook_endpoints.create(params)
    assert (caught.value.http_status, caught.value.param, caught.value.code) == (400, param, code)
    if message is not None:
        assert caught.value.user_message == message


def test_an_update_cannot_unset_the_url_or_the_events_nor_change_the_version(
    sandbox: Sandbox, endpoint: stripe.WebhookEndpoint
) -> None:
    endpoints = sandbox.client.v1.webhook_endpoints
    for params, param in (({"url": ""}, "url"), ({"enabled_events": ""}, "enabled_events")):
        with pytest.raises(stripe.InvalidRequestError) as caught:
            endpoints.update(endpoint.id, params)  # type: ignore[arg-type]
        assert (caught.value.param, caught.value.code) == (param, "parameter_invalid_empty")
    # Stripe: "You can't change this value after you create the endpoint."
    version: Any = {"api_version": "2026-10-28.endive"}
    with pytest.raises(stripe.InvalidRequestError) as caught:
        endpoints.update(endpoint.id, version)
    assert caught.value.code == "parameter_unknown"
    assert endpoints.retrieve(endpoint.id).url == endpoint.url


def test_an_account_has_at_most_sixteen_endpoints(sandbox: Sandbox) -> None:
    endpoints = sandbox.client.v1.webhook_endpoints
    existing = len(endpoints.list({"limit": 100}).data)
    made = [
        endpoints.create({"url": f"https://portal.example/{n}", "enabled_events": ["*"]}).id
        for n in range(16 - existing)
    ]
    try:
        with pytest.raises(stripe.InvalidRequestError) as caught:
            endpoints.create({"url": "https://portal.example/17", "enabled_events": ["*"]})
        assert caught.value.http_status == 400
        assert caught.value.user_message == (
            "You have reached the maximum of 16 test webhook endpoints."
        )
    finally:
        for endpoint_id in made:
            endpoints.delete(endpoint_id)


def test_deliveries_follow_the_enabled_events(
    sandbox: Sandbox, receiver: Receiver, endpoint: stripe.WebhookEndpoint
) -> None:
    customer_created_and_updated(sandbox)
    assert event_types(receiver) == ["customer.created"]

    sandbox.client.v1.webhook_endpoints.update(
        endpoint.id, {"enabled_events": ["customer.updated"]}
    )
    customer_created_and_updated(sandbox)
    assert event_types(receiver) == ["customer.created", "customer.updated"]

    # Signed with the endpoint's own secret.
    body, headers = receiver.deliveries[-1]
    assert endpoint.secret is not None
    event = stripe.Webhook.construct_event(body, headers["stripe-signature"], endpoint.secret)
    assert event.type == "customer.updated"


def test_a_disabled_endpoint_hears_nothing_until_enabled_again(
    sandbox: Sandbox, receiver: Receiver, endpoint: stripe.WebhookEndpoint
) -> None:
    sandbox.client.v1.webhook_endpoints.update(endpoint.id, {"disabled": True})
    customer_created_and_updated(sandbox)
    assert receiver.attempts == 0
    sandbox.client.v1.webhook_endpoints.update(endpoint.id, {"disabled": False})
    customer_created_and_updated(sandbox)
    assert event_types(receiver) == ["customer.created"]


def test_a_deleted_endpoint_hears_nothing(
    sandbox: Sandbox, receiver: Receiver, endpoint: stripe.WebhookEndpoint
) -> None:
    sandbox.client.v1.webhook_endpoints.delete(endpoint.id)
    customer = new_customer(sandbox.client)
    sandbox.wait_for_webhooks()
    assert receiver.attempts == 0
    event = sandbox.client.v1.events.list({"type": "customer.created", "limit": 1}).data[0]
    assert event.data.object["id"] == customer.id
    log = sandbox.control("GET", f"webhooks/deliveries?event={event.id}").json()["data"]
    assert endpoint.id not in {entry["endpoint"] for entry in log}


def test_a_connect_endpoint_hears_nothing_from_the_account(
    sandbox: Sandbox, receiver: Receiver
) -> None:
    # A Connect endpoint receives connected accounts' events; the sandbox has no connected
    # accounts.
    made = sandbox.client.v1.webhook_endpoints.create(
        {"url": receiver.url, "enabled_events": ["*"], "connect": True}
    )
    try:
        customer_created_and_updated(sandbox)
        assert receiver.attempts == 0
    finally:
        sandbox.client.v1.webhook_endpoints.delete(made.id)


# -- the endpoint configured with the sandbox ----------------------------------------------------


@pytest.fixture
def configured(receiver: Receiver) -> Iterator[Sandbox]:
    config = SandboxConfig(
        webhook_url=receiver.url,
        webhook_secret=CONFIGURED_SECRET,
        webhook_retry_delays=FAST_RETRIES,
    )
    with serve_in_thread(create_sandbox_app(config)) as url, sdk_client(url) as client:
        yield Sandbox(url, client)


def test_the_configured_url_is_an_endpoint_for_every_event(
    configured: Sandbox, receiver: Receiver
) -> None:
    [listed] = configured.client.v1.webhook_endpoints.list().data
    assert listed.id.startswith("we_")
    assert (listed.url, listed.enabled_events, listed.status) == (receiver.url, ["*"], "enabled")
    assert "secret" not in listed.to_dict()
    described = configured.control("GET", "webhooks/config").json()
    assert described["url"] == receiver.url
    assert described["secret"] == CONFIGURED_SECRET
    assert described["endpoint"] == listed.id
    assert described["endpoints"] == [
        {"id": listed.id, "url": receiver.url, "status": "enabled", "enabled_events": ["*"],
         "secret": CONFIGURED_SECRET}
    ]  # fmt: skip

    customer_created_and_updated(configured)
    assert event_types(receiver) == ["customer.created", "customer.updated"]
    for body, headers in receiver.deliveries:
        stripe.Webhook.construct_event(body, headers["stripe-signature"], CONFIGURED_SECRET)
    log = configured.control("GET", "webhooks/deliveries").json()["data"]
    assert {entry["endpoint"] for entry in log} == {listed.id}


def test_the_configured_endpoint_can_lose_an_event_be_disabled_and_be_deleted(
    configured: Sandbox, receiver: Receiver
) -> None:
    endpoints = configured.client.v1.webhook_endpoints
    [listed] = endpoints.list().data
    endpoints.update(listed.id, {"enabled_events": ["customer.updated"]})
    customer_created_and_updated(configured)
    assert event_types(receiver) == ["customer.updated"]

    endpoints.update(listed.id, {"disabled": True})
    customer_created_and_updated(configured)
    assert event_types(receiver) == ["customer.updated"]

    endpoints.delete(listed.id)
    endpoints.create({"url": "https://elsewhere.example/hook", "enabled_events": ["*"]})
    customer_created_and_updated(configured)
    assert event_types(receiver) == ["customer.updated"]
    assert configured.control("GET", "webhooks/config").json()["endpoint"] is None


def test_a_reset_brings_the_configured_endpoint_back(configured: Sandbox) -> None:
    endpoints = configured.client.v1.webhook_endpoints
    [first] = endpoints.list().data
    endpoints.delete(first.id)
    configured.control("POST", "reset")
    [again] = endpoints.list().data
    assert again.id != first.id
    assert (again.url, again.enabled_events) == (first.url, ["*"])
    assert configured.control("GET", "webhooks/config").json()["endpoint"] == again.id


def test_retries_stop_when_the_endpoint_is_deleted(receiver: Receiver) -> None:
    receiver.fail_first = 1000
    config = SandboxConfig(webhook_retry_delays=(1.0, 1.0, 1.0))
    with serve_in_thread(create_sandbox_app(config)) as url, sdk_client(url) as client:
        sandbox = Sandbox(url, client)
        made = client.v1.webhook_endpoints.create({"url": receiver.url, "enabled_events": ["*"]})
        new_customer(client)
        wait_until(lambda: receiver.attempts >= 1)
        client.v1.webhook_endpoints.delete(made.id)
        started = time.monotonic()
        sandbox.wait_for_webhooks()
        assert time.monotonic() - started < 2.5
        assert receiver.attempts == 1


def test_pending_webhooks_counts_the_endpoints_an_event_goes_to(
    sandbox: Sandbox, receiver: Receiver
) -> None:
    endpoints = sandbox.client.v1.webhook_endpoints
    made = [
        endpoints.create({"url": receiver.url, "enabled_events": events}).id
        for events in (["customer.created"], ["*"], ["invoice.paid"])
    ]
    try:
        new_customer(sandbox.client)
        sandbox.wait_for_webhooks()
        bodies = receiver.bodies()
        assert len(bodies) == 2
        assert {json.loads(body)["pending_webhooks"] for body in bodies} == {2}
    finally:
        for endpoint_id in made:
            endpoints.delete(endpoint_id)
