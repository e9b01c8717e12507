"""Tax IDs with Stripe's test-mode verification values, Checkout in setup and payment mode through
the hosted page, and webhook endpoints with signed, retried deliveries."""

from __future__ import annotations

import json
import re
import time
from urllib.parse import parse_qs, urlsplit

import httpx
import pytest
import stripe

from tests.functional.sandbox.sandbox_helpers import Receiver, Sandbox, new_customer


@pytest.mark.parametrize(
    ("value", "final"),
    [
        ("DE000000000", "verified"),
        ("DE111111111", "unverified"),
        ("DE222222222", "pending"),
        ("DE333333333", "unavailable"),
        ("DE123456789", "pending"),
    ],
)
def test_eu_vat_verification_follows_stripe_test_values(
    stripe_client: stripe.StripeClient, value: str, final: str
) -> None:
    customer = new_customer(stripe_client, name="Firma GmbH")
    created = stripe_client.v1.customers.tax_ids.create(
        customer.id, {"type": "eu_vat", "value": value}
    )
    assert created.verification is not None
    assert created.verification.status == "pending"
    assert created.country == "DE"
    settled = stripe_client.v1.customers.tax_ids.retrieve(customer.id, created.id)
    assert settled.verification is not None
    assert settled.verification.status == final
    if final == "verified":
        assert settled.verification.verified_name == "Firma GmbH"
    types = [e.type for e in stripe_client.v1.events.list({"limit": 2}).data]
    if final == "pending":
        assert types[0] == "customer.tax_id.created"
    else:
        assert types == ["customer.tax_id.updated", "customer.tax_id.created"]


def test_tax_id_formats_are_checked(stripe_client: stripe.StripeClient) -> None:
    customer = new_customer(stripe_client)
    for tax_type, value in [("eu_vat", "DE12"), ("gb_vat", "GB12"), ("hr_oib", "123")]:
        with pytest.raises(stripe.InvalidRequestError) as caught:
            stripe_client.v1.customers.tax_ids.create(
                customer.id, {"type": tax_type, "value": value}
            )
        assert caught.value.code == "tax_id_invalid"
    plain = stripe_client.v1.customers.tax_ids.create(
        customer.id, {"type": "hr_oib", "value": "12345678901"}
    )
    assert plain.verification is not None
    assert plain.verification.status == "unavailable"
    listed = stripe_client.v1.customers.tax_ids.list(customer.id)
    assert [t.id for t in listed.data] == [plain.id]
    assert stripe_client.v1.customers.tax_ids.delete(customer.id, plain.id).deleted is True
    assert stripe_client.v1.customers.tax_ids.list(customer.id).data == []


def test_checkout_setup_mode_completed_through_the_hosted_page(
    stripe_client: stripe.StripeClient,
) -> None:
    customer = new_customer(stripe_client)
    session = stripe_client.v1.checkout.sessions.create(
        {"mode": "setup", "customer": customer.id, "currency": "eur",
         "allowed_payment_method_types": ["card", "sepa_debit"],
         "success_url": "https://portal.example/done?session={CHECKOUT_SESSION_ID}",
         "cancel_url": "https://portal.example/cancel", "metadata": {"purpose": "card"}}
    )  # fmt: skip
    assert session.status == "open"
    assert session.url is not None
    page = httpx.get(session.url)
    assert page.status_code == 200
    assert "<form" in page.text
    assert "https://portal.example/cancel" in page.text
    declined = httpx.post(session.url, data={"method": "card", "card": "pm_card_chargeDeclined"})
    assert declined.status_code == 200
    assert "declined" in declined.text
    done = httpx.post(
        session.url, data={"method": "card", "card": "pm_card_visa", "name": "Jan Kowalski"}
    )
    assert done.status_code == 303
    assert done.headers["location"] == f"https://portal.example/done?session={session.id}"
    completed = stripe_client.v1.checkout.sessions.retrieve(
        session.id, {"expand": ["setup_intent"]}
    )
    assert completed.status == "complete"
    seti = completed.setup_intent
    assert isinstance(seti, stripe.SetupIntent)
    assert seti.status == "succeeded"
    pm = stripe_client.v1.payment_methods.retrieve(str(seti.payment_method))
    assert pm.customer == customer.id
    events = stripe_client.v1.events.list({"type": "checkout.session.completed", "limit": 1})
    assert events.data[0].data.object["id"] == session.id


def test_checkout_payment_mode_with_3ds_and_sepa(stripe_client: stripe.StripeClient) -> None:
    customer = new_customer(stripe_client)
    params = {
        "mode": "payment", "customer": customer.id,
        "allowed_payment_method_types": ["card", "sepa_debit"],
        "line_items": [{"price_data": {"currency": "eur", "unit_amount": 2500,
                                       "product_data": {"name": "Deposit"}}, "quantity": 2}],
        "payment_intent_data": {"setup_future_usage": "off_session"},
        "success_url": "https://portal.example/paid",
    }  # fmt: skip
    session = stripe_client.v1.checkout.sessions.create(params)  # type: ignore[arg-type]
    assert session.amount_total == 5000
    assert session.url is not None
    challenge = httpx.post(
        session.url, data={"method": "card", "card": "pm_card_authenticationRequired"}
    )
    assert challenge.status_code == 303
    back = httpx.post(challenge.headers["location"], data={"outcome": "complete"})
    assert back.status_code == 303
    assert "redirect_status=succeeded" in back.headers["location"]
    final = httpx.get(back.headers["location"])
    assert final.status_code == 303
    assert final.headers["location"] == "https://portal.example/paid"
    paid = stripe_client.v1.checkout.sessions.retrieve(session.id)
    assert paid.payment_status == "paid"
    assert stripe_client.v1.customers.payment_methods.list(customer.id).data

    sepa = stripe_client.v1.checkout.sessions.create(params)  # type: ignore[arg-type]
    assert sepa.url is not None
    debit = httpx.post(
        sepa.url,
        data={"method": "sepa_debit", "iban": "DE89370400440532013000", "name": "Jan",
              "email": "jan@example.com"},
    )  # fmt: skip
    assert debit.status_code == 303
    assert stripe_client.v1.checkout.sessions.retrieve(sepa.id).payment_status == "paid"


def test_checkout_session_expire(stripe_client: stripe.StripeClient) -> None:
    session = stripe_client.v1.checkout.sessions.create(
        {"mode": "setup", "currency": "eur", "success_url": "https://x.example/ok"}
    )
    expired = stripe_client.v1.checkout.sessions.expire(session.id)
    assert expired.status == "expired"
    with pytest.raises(stripe.InvalidRequestError):
        stripe_client.v1.checkout.sessions.expire(session.id)


def _wait_for(receiver: Receiver, count: int) -> list[bytes]:
    deadline = time.monotonic() + 10
    while time.monotonic() < deadline and len(receiver.bodies()) < count:
        time.sleep(0.02)
    return receiver.bodies()


def test_registered_endpoint_gets_signed_events_and_retries(
    sandbox: Sandbox, receiver: Receiver
) -> None:
    client = sandbox.client
    receiver.fail_first = 2
    endpoint = client.v1.webhook_endpoints.create(
        {"url": receiver.url, "enabled_events": ["customer.created", "customer.updated"]}
    )
    assert endpoint.secret is not None
    assert endpoint.secret.startswith("whsec_")
    assert "secret" not in client.v1.webhook_endpoints.retrieve(endpoint.id).to_dict()
    try:
        customer = new_customer(client)
        client.v1.customers.update(customer.id, {"name": "Updated"})
        client.v1.payment_methods.attach("pm_card_visa", {"customer": customer.id})
        bodies = _wait_for(receiver, 2)
        sandbox.wait_for_webhooks()
        events = [
            stripe.Webhook.construct_event(body, headers["stripe-signature"], endpoint.secret)
            for body, headers in receiver.deliveries
        ]
        assert [e.type for e in events] == ["customer.created", "customer.updated"]
        assert len(bodies) == 2
        assert receiver.attempts == 4
        log = sandbox.control("GET", f"webhooks/deliveries?event={events[0].id}").json()["data"]
        assert [(d["attempt"], d["succeeded"]) for d in log] == [(1, False), (2, False), (3, True)]
        with pytest.raises(stripe.SignatureVerificationError):
            stripe.Webhook.construct_event(bodies[0], receiver.deliveries[0][1]["stripe-signature"],
                                           "whsec_wrong")  # fmt: skip
    finally:
        client.v1.webhook_endpoints.delete(endpoint.id)


def test_signature_header_format(sandbox: Sandbox, receiver: Receiver) -> None:
    endpoint = sandbox.client.v1.webhook_endpoints.create(
        {"url": receiver.url, "enabled_events": ["*"]}
    )
    try:
        new_customer(sandbox.client)
        _wait_for(receiver, 1)
        body, headers = receiver.deliveries[0]
        assert re.fullmatch(r"t=\d+,v1=[0-9a-f]{64}", headers["stripe-signature"])
        event = json.loads(body)
        assert event["object"] == "event"
        assert event["pending_webhooks"] >= 1
        assert "t" in parse_qs(urlsplit("?" + headers["stripe-signature"].replace(",", "&")).query)
    finally:
        sandbox.client.v1.webhook_endpoints.delete(endpoint.id)
        sandbox.wait_for_webhooks()


def test_business_and_individual_names_and_the_name_they_give(
    stripe_client: stripe.StripeClient,
) -> None:
    """Stripe's 2025-09-30.clover change: without a name, a new customer takes its
    business_name, else its individual_name; an explicit name is kept."""
    both = stripe_client.v1.customers.create(
        {"business_name": "Schmidt GmbH", "individual_name": "Anna Schmidt"}
    )
    assert (both.name, both.business_name, both.individual_name) == (
        "Schmidt GmbH",
        "Schmidt GmbH",
        "Anna Schmidt",
    )
    person = stripe_client.v1.customers.create({"individual_name": "Anna Schmidt"})
    assert person.name == "Anna Schmidt"
    named = stripe_client.v1.customers.create({"name": "ACME", "individual_name": "Bo"})
    assert named.name == "ACME"
    updated = stripe_client.v1.customers.update(named.id, {"individual_name": "Bea"})
    assert (updated.name, updated.individual_name) == ("ACME", "Bea")
