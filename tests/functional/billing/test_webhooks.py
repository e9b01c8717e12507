"""The webhook endpoint: signature first, each event once, the object re-read from Stripe (the
sandbox), unknown types acknowledged."""

from __future__ import annotations

import concurrent.futures
import hashlib
import hmac
import json
import re
import time
import uuid
from typing import Any

import httpx
import pytest
from sqlalchemy import select

from portal import i18n
from portal.storage.tables import customer_changes, webhook_events
from tests.functional.billing.billing_support import (
    at_stripe,
    charged,
    customer_with_card,
    open_pay_page,
    signed_in,
    with_3d_secure_card,
)
from tests.functional.portal_support import Portal, text_of
from tests.unit.stripe.test_convert import EXAMPLES

SECRET = "whsec_test_secret_value"  # what tests.conftest.make_settings configures


def event(kind: str, obj: dict[str, Any], **data: Any) -> dict[str, Any]:
    return EXAMPLES["event"] | {
        "id": f"evt_{uuid.uuid4().hex[:20]}",
        "type": kind,
        "data": {"object": obj, **data},
    }


def signed(
    payload: dict[str, Any], secret: str = SECRET, at: int | None = None
) -> tuple[bytes, dict[str, str]]:
    body = json.dumps(payload).encode()
    t = at if at is not None else int(time.time())
    sig = hmac.new(secret.encode(), f"{t}.".encode() + body, hashlib.sha256).hexdigest()
    return body, {"Stripe-Signature": f"t={t},v1={sig}", "Content-Type": "application/json"}


def deliver(portal: Portal, payload: dict[str, Any]) -> httpx.Response:
    body, headers = signed(payload)
    return httpx.post(f"{portal.url}/stripe/webhook", content=body, headers=headers)


def recorded(portal: Portal, event_id: str) -> bool:
    with portal.db.connect() as conn:
        found = conn.execute(
            select(webhook_events.c.event_id).where(webhook_events.c.event_id == event_id)
        )
        return found.first() is not None


def changes_of(portal: Portal, customer_id: str) -> int:
    with portal.db.connect() as conn:
        found = conn.execute(
            select(customer_changes.c.version).where(customer_changes.c.customer_id == customer_id)
        )
        return int(found.scalar() or 0)


def test_an_event_takes_effect_once_and_a_repeat_is_acknowledged(portal: Portal) -> None:
    customer = portal.customer()
    paid = event("customer.updated", {"id": customer, "object": "customer"})
    first, again = deliver(portal, paid), deliver(portal, paid)
    assert first.status_code == again.status_code == 200
    assert first.json() == {"received": True, "duplicate": False}
    assert again.json() == {"received": True, "duplicate": True}
    assert changes_of(portal, customer) == 1


def test_the_same_event_delivered_at_once_takes_effect_once(portal: Portal) -> None:
    customer = portal.customer()
    updated = event("customer.updated", {"id": customer, "object": "customer"})
    with concurrent.futures.ThreadPoolExecutor(8) as pool:
        answers = list(pool.map(lambda _: deliver(portal, updated), range(8)))
    assert [a.status_code for a in answers] == [200] * 8
    assert sum(not a.json()["duplicate"] for a in answers) == 1
    assert changes_of(portal, customer) == 1


@pytest.mark.parametrize("tamper", ["wrong-secret", "no-header", "changed-body", "too-old"])
def test_bad_signatures_get_400_and_change_nothing(portal: Portal, tamper: str) -> None:
    customer = portal.customer()
    payload = event("customer.updated", {"id": customer, "object": "customer"})
    if tamper == "wrong-secret":
        body, headers = signed(payload, secret="whsec_someone_else")
    elif tamper == "too-old":
        body, headers = signed(payload, at=int(time.time()) - 301)  # Stripe's tolerance: 300 s
    else:
        body, headers = signed(payload)
    if tamper == "no-header":
        headers.pop("Stripe-Signature")
    if tamper == "changed-body":
        body = body.replace(b"customer.updated", b"customer.deleted")
    response = httpx.post(f"{portal.url}/stripe/webhook", content=body, headers=headers)
    assert response.status_code == 400
    assert not recorded(portal, payload["id"])
    assert changes_of(portal, customer) == 0


def test_unknown_event_types_are_acknowledged(portal: Portal) -> None:
    plan = EXAMPLES["event"] | {"id": f"evt_{uuid.uuid4().hex[:20]}"}  # plan.created: not ours
    assert deliver(portal, plan).status_code == 200


def sample_objects(portal: Portal) -> dict[str, tuple[dict[str, Any], str]]:
    """For each handled event type: a (stale) snapshot of a real object and its customer."""
    _, customer, pm = customer_with_card(portal)
    invoice = portal.invoice(customer, amount=5000).id
    payments = portal.sdk.v1.invoice_payments.list({"invoice": invoice}).data
    tax_id = portal.sdk.v1.customers.tax_ids.create(
        customer, {"type": "eu_vat", "value": "DE123456789"}
    ).id
    intent = payments[0].payment.payment_intent
    paid = portal.sdk.v1.payment_intents.create(
        {"amount": 900, "currency": "eur", "customer": customer, "payment_method": pm,
         "confirm": True, "return_url": "https://portal.example/back"}
    ).id  # fmt: skip
    refund = portal.sdk.v1.refunds.create({"payment_intent": paid}).id
    session = portal.sdk.v1.checkout.sessions.create(
        {"mode": "payment", "customer": customer, "success_url": "https://portal.example/back",
         "line_items": [{"quantity": 1, "price_data": {
             "currency": "eur", "unit_amount": 700, "product_data": {"name": "F-1"}}}]}
    ).id  # fmt: skip
    funded = portal.sdk.v1.test_helpers.customers.fund_cash_balance(
        customer, {"amount": 500, "currency": "eur"}
    ).id
    snapshot = {"id": invoice, "object": "invoice", "customer": customer, "status": "draft"}
    as_invoice = (snapshot, customer)
    return {
        "invoice.paid": as_invoice,
        "invoice.payment_failed": as_invoice,
        "invoice.payment_action_required": as_invoice,
        "invoice.finalized": as_invoice,
        "invoice.voided": as_invoice,
        "invoice.marked_uncollectible": as_invoice,
        "invoice_payment.paid": (
            {"id": payments[0].id, "object": "invoice_payment", "invoice": invoice},
            customer,
        ),
        "payment_intent.payment_failed": (
            {"id": intent, "object": "payment_intent", "customer": customer},
            customer,
        ),
        "payment_method.attached": (
            {"id": pm, "object": "payment_method", "customer": customer},
            customer,
        ),
        "refund.updated": ({"id": refund, "object": "refund", "customer": customer}, customer),
        "checkout.session.async_payment_succeeded": (
            {"id": session, "object": "checkout.session", "customer": customer},
            customer,
        ),
        "customer_cash_balance_transaction.created": (
            {"id": funded, "object": "customer_cash_balance_transaction", "customer": customer},
            customer,
        ),
        "customer.updated": ({"id": customer, "object": "customer"}, customer),
        "customer.tax_id.updated": (
            {"id": tax_id, "object": "tax_id", "customer": customer},
            customer,
        ),
    }


@pytest.mark.parametrize(
    "kind",
    [
        "invoice.paid",
        "invoice.payment_failed",
        "invoice.payment_action_required",
        "invoice.finalized",
        "invoice.voided",
        "invoice.marked_uncollectible",
        "invoice_payment.paid",
        "payment_intent.payment_failed",
        "refund.updated",
        "checkout.session.async_payment_succeeded",
        "customer_cash_balance_transaction.created",
        "payment_method.attached",
        "customer.updated",
        "customer.tax_id.updated",
    ],
)
def test_each_handled_event_re_reads_its_object_and_marks_the_customer_changed(
    portal: Portal, kind: str, stripe_faults: httpx.Client
) -> None:
    obj, customer = sample_objects(portal)[kind]
    stripe_faults.post("/_sandbox/stats/reset")
    assert deliver(portal, event(kind, obj)).status_code == 200
    reads = stripe_faults.get("/_sandbox/stats").json()["by_endpoint"]
    assert any(label.startswith("GET /v1/") for label in reads), reads  # asked Stripe again
    assert changes_of(portal, customer) == 1


def test_a_detached_method_is_attributed_to_its_former_customer(portal: Portal) -> None:
    _, customer, _card = customer_with_card(portal)
    extra = portal.sdk.v1.payment_methods.attach("pm_card_mastercard", {"customer": customer})
    portal.sdk.v1.payment_methods.detach(extra.id)
    detached = event(
        "payment_method.detached",
        {"id": extra.id, "object": "payment_method", "customer": None},
        previous_attributes={"customer": customer},
    )
    assert deliver(portal, detached).status_code == 200
    assert changes_of(portal, customer) == 1


def test_stripe_unreachable_while_re_reading_asks_for_a_redelivery(
    portal: Portal, stripe_faults: httpx.Client
) -> None:
    customer = portal.customer()
    updated = event("customer.updated", {"id": customer, "object": "customer"})
    stripe_faults.post("/_sandbox/faults", json={"status": 500, "count": 3})
    assert deliver(portal, updated).status_code == 503
    assert not recorded(portal, updated["id"])  # so the redelivery is not a "duplicate"
    stripe_faults.post("/_sandbox/faults/clear")
    assert deliver(portal, updated).json() == {"received": True, "duplicate": False}
    assert changes_of(portal, customer) == 1


def test_an_object_deleted_since_is_acknowledged(portal: Portal) -> None:
    customer = portal.customer()
    portal.sdk.v1.customers.delete(customer)
    gone = event("customer.updated", {"id": customer, "object": "customer"})
    assert deliver(portal, gone).status_code == 200


def test_a_bank_confirmation_finished_without_coming_back_is_recorded(portal: Portal) -> None:
    email, customer, _ = customer_with_card(portal)
    secure = with_3d_secure_card(portal, customer)
    invoice = portal.invoice(customer, amount=6100).id
    browser = signed_in(portal, email)
    action = open_pay_page(browser, invoice, "whole")
    challenge = at_stripe(browser, browser.post(action, {"payment_method": secure}))
    # Confirmed at the bank; the customer closes the tab instead of going back to the portal.
    httpx.post(challenge, data={"outcome": "complete"})
    stale = {"id": invoice, "object": "invoice", "customer": customer, "status": "open"}
    assert deliver(portal, event("invoice.paid", stale)).status_code == 200
    page = browser.get(action)
    with i18n.use_locale("de"):
        assert i18n.gettext("Thank you for your payment") in text_of(page)
    assert charged(portal, customer) == [6100]


def test_a_method_added_at_checkout_becomes_the_default_without_coming_back(
    portal: Portal,
) -> None:
    email = f"neu-{uuid.uuid4().hex[:8]}@example.de"
    customer = portal.customer(email=email)
    browser = signed_in(portal, email)
    browser.get("/payment-methods")
    checkout = at_stripe(browser, browser.post("/payment-methods/add"))
    httpx.post(checkout, data={"method": "card", "card": "pm_card_visa", "name": "Anna"})
    session_id = re.search(r"/c/pay/(cs_[A-Za-z0-9_]+)", checkout)
    assert session_id
    completed = event(
        "checkout.session.completed",
        {"id": session_id.group(1), "object": "checkout.session", "customer": customer},
    )
    assert deliver(portal, completed).status_code == 200
    (method,) = portal.sdk.v1.payment_methods.list({"customer": customer}).data
    settings = portal.sdk.v1.customers.retrieve(customer).invoice_settings
    assert settings is not None
    assert settings.default_payment_method == method.id
