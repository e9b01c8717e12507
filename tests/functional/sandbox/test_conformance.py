"""The conformance test from the issue: an installment invoice's life, only through the official
SDK, down to its PDF and its signed webhooks."""

from __future__ import annotations

import io
import json
import time
from collections.abc import Iterator

import httpx
import pypdf
import pytest
import stripe

from stripe_sandbox.app import SandboxConfig, create_sandbox_app
from stripe_sandbox.preview import PREVIEW_VERSION
from tests.functional.sandbox.sandbox_helpers import FAST_RETRIES, Receiver, sdk_client
from tests.support.servers import serve_in_thread

WEBHOOK_SECRET = "whsec_conformance_test_secret"


@pytest.fixture
def webhooked_client(receiver: Receiver) -> Iterator[stripe.StripeClient]:
    config = SandboxConfig(
        webhook_url=receiver.url,
        webhook_secret=WEBHOOK_SECRET,
        webhook_retry_delays=FAST_RETRIES,
    )
    # The installment plan is a Stripe preview: this client reads and writes with a preview version.
    with (
        serve_in_thread(create_sandbox_app(config)) as url,
        sdk_client(url, stripe_version=PREVIEW_VERSION) as client,
    ):
        yield client


def _verified_events(receiver: Receiver) -> list[stripe.Event]:
    events = []
    for body, headers in receiver.deliveries:
        events.append(
            stripe.Webhook.construct_event(body, headers["stripe-signature"], WEBHOOK_SECRET)
        )
    return events


def test_installment_invoice_lifecycle_through_official_sdk(
    webhooked_client: stripe.StripeClient, receiver: Receiver
) -> None:
    client = webhooked_client

    customer = client.v1.customers.create(
        {
            "name": "Łucja Kovačević",
            "email": "lucja@example.com",
            "address": {"line1": "Ilica 1", "city": "Zagreb", "postal_code": "10000",
                        "country": "HR"},
            "preferred_locales": ["hr", "en"],
        }
    )  # fmt: skip
    card = client.v1.payment_methods.attach("pm_card_visa", {"customer": customer.id})
    assert card.id.startswith("pm_")
    assert card.id != "pm_card_visa"
    assert card.card is not None
    assert card.card.last4 == "4242"

    draft = client.v1.invoices.create(
        {
            "customer": customer.id,
            "collection_method": "send_invoice",
            "currency": "eur",
            "description": "Kitchen renovation",
            "amounts_due": [
                {"amount": 30000, "days_until_due": 0, "description": "Deposit"},
                {"amount": 30000, "days_until_due": 30, "description": "Second part"},
                {"amount": 40000, "days_until_due": 60, "description": "Balance"},
            ],
        }
    )
    client.v1.invoice_items.create(
        {"customer": customer.id, "invoice": draft.id, "currency": "eur",
         "unit_amount_decimal": "50000", "quantity": 2, "description": "Cabinets, installed"}
    )  # fmt: skip
    assert draft.status == "draft"
    assert draft.number is None
    assert draft.invoice_pdf is None

    invoice = client.v1.invoices.finalize_invoice(draft.id)
    assert invoice.status == "open"
    assert invoice.number == f"{customer.invoice_prefix}-0001"
    assert invoice.amount_due == 100000
    assert invoice.amount_remaining == 100000
    assert invoice.customer_name == "Łucja Kovačević"
    plan = invoice["amounts_due"]
    assert [part["amount"] for part in plan] == [30000, 30000, 40000]
    assert plan[1]["due_date"] - plan[0]["due_date"] == 30 * 86400

    first = plan[0]["amount"]
    payment = client.v1.payment_intents.create(
        {"amount": first, "currency": invoice.currency, "customer": customer.id,
         "payment_method": card.id, "confirm": True, "off_session": True},
        {"idempotency_key": f"installment-1-{invoice.id}"},
    )  # fmt: skip
    assert payment.status == "succeeded"
    client.v1.invoices.attach_payment(invoice.id, {"payment_intent": payment.id})

    listed = client.v1.invoices.list({"customer": customer.id})
    assert [i.id for i in listed.data] == [invoice.id]
    current = listed.data[0]
    assert current.amount_paid == 30000
    assert current.amount_remaining == 70000
    assert current.status == "open"
    assert current["amounts_due"][0]["status"] == "paid"
    assert current["amounts_due"][1]["status"] == "open"

    payments = client.v1.invoice_payments.list({"invoice": invoice.id})
    attached = [p for p in payments.data if not p.is_default]
    assert attached[0].status == "paid"
    assert attached[0].amount_paid == 30000
    assert attached[0].payment.payment_intent == payment.id

    assert current.invoice_pdf is not None
    response = httpx.get(current.invoice_pdf, follow_redirects=True)  # as at Stripe, a redirect
    assert response.status_code == 200
    assert response.headers["content-type"] == "application/pdf"
    text = "".join(
        page.extract_text() for page in pypdf.PdfReader(io.BytesIO(response.content)).pages
    )
    for expected in (invoice.number, "Łucja Kovačević", "lucja@example.com", "Zagreb",
                     "Cabinets, installed", "1,000.00 EUR", "Deposit", "Balance"):  # fmt: skip
        assert expected in text, expected

    wanted = {"invoice.finalized", "payment_intent.succeeded", "invoice_payment.paid"}
    deadline = time.monotonic() + 10
    seen: dict[str, stripe.Event] = {}
    while time.monotonic() < deadline and not wanted <= seen.keys():
        seen = {event.type: event for event in _verified_events(receiver)}
        time.sleep(0.05)
    assert wanted <= seen.keys()
    assert seen["invoice.finalized"].data.object["id"] == invoice.id
    assert seen["payment_intent.succeeded"].data.object["id"] == payment.id
    assert seen["invoice_payment.paid"].data.object["invoice"] == invoice.id
    order = [json.loads(body)["type"] for body in receiver.bodies()]
    assert order.index("invoice.finalized") < order.index("invoice_payment.paid")
    with pytest.raises(stripe.SignatureVerificationError):
        stripe.Webhook.construct_event(receiver.bodies()[0], "t=1,v1=bad", WEBHOOK_SECRET)
