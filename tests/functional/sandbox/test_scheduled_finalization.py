"""Scheduled finalization through the official SDK: a draft with `auto_advance` is finalized at
`automatically_finalizes_at` on the sandbox clock, and a `charge_automatically` one is charged
with its default payment method, with the events Stripe sends.

The tests share one sandbox whose clock only moves forward: each schedules relative to the
sandbox's `now` and looks only at its own invoice's events."""

from __future__ import annotations

import json
from collections.abc import Iterator
from typing import Any

import pytest
import stripe

from stripe_sandbox.app import SandboxConfig
from tests.functional.sandbox.sandbox_helpers import (
    FAST_RETRIES,
    PREVIEW,
    Receiver,
    Sandbox,
    customer_with_card,
    new_customer,
    open_invoice,
    sdk_client,
    wait_until,
)
from tests.support.servers import serve_sandbox

DAY = 86400
# Long enough to see a SEPA debit `processing` before it settles.
SEPA_SETTLEMENT_MS = 1000


@pytest.fixture(scope="module")
def sandbox() -> Iterator[Sandbox]:
    config = SandboxConfig(
        webhook_retry_delays=FAST_RETRIES, sepa_settlement_delay_ms=SEPA_SETTLEMENT_MS
    )
    with serve_sandbox(config) as urls, sdk_client(urls.api) as client:
        yield Sandbox(urls.api, client)


def _now(sandbox: Sandbox) -> int:
    now: int = sandbox.control("GET", "clock").json()["now"]
    return now


def _advance(sandbox: Sandbox, seconds: int) -> None:
    sandbox.control("POST", "clock", {"advance": seconds})


def _scheduled(
    client: stripe.StripeClient, customer_id: str, at: int | None, amount: int = 5000, **fields: Any
) -> stripe.Invoice:
    """A draft in euros with one line, `auto_advance` on and finalizing at `at`."""
    params: dict[str, Any] = {"customer": customer_id, "currency": "eur", "auto_advance": True}
    if at is not None:
        params["automatically_finalizes_at"] = at
    invoice = client.v1.invoices.create({**params, **fields})
    client.v1.invoice_items.create(
        {"customer": customer_id, "invoice": invoice.id, "amount": amount, "currency": "eur",
         "description": "Quarterly fee"}
    )  # fmt: skip
    return client.v1.invoices.retrieve(invoice.id)


def _mark(client: stripe.StripeClient) -> str:
    return client.v1.events.list({"limit": 1}).data[0].id


def _events_of(client: stripe.StripeClient, mark: str, *object_ids: str) -> list[stripe.Event]:
    """The events after `mark` about the given objects, oldest first."""
    listed = client.v1.events.list({"ending_before": mark, "limit": 100}).data
    return [e for e in reversed(listed) if e.data.object.to_dict().get("id") in object_ids]


def _intent_of(client: stripe.StripeClient, invoice_id: str) -> stripe.PaymentIntent:
    (payment,) = client.v1.invoice_payments.list({"invoice": invoice_id}).data
    pi_id = payment.payment.payment_intent
    assert isinstance(pi_id, str)
    return client.v1.payment_intents.retrieve(pi_id)


def test_schedule_is_read_back_and_auto_advance_alone_gets_an_hour(sandbox: Sandbox) -> None:
    client = sandbox.client
    customer = new_customer(client)
    at = _now(sandbox) + 30 * DAY
    invoice = _scheduled(client, customer.id, at)
    assert invoice.status == "draft"
    assert invoice.automatically_finalizes_at == at
    assert client.v1.invoices.retrieve(invoice.id).automatically_finalizes_at == at
    # Without a time, Stripe's default grace period: an hour after creation.
    hourly = _scheduled(client, customer.id, None)
    assert hourly.automatically_finalizes_at == hourly.created + 3600
    manual = client.v1.invoices.create({"customer": customer.id})
    assert manual.auto_advance is False
    assert manual.automatically_finalizes_at is None


@pytest.mark.parametrize(
    ("fields", "offset"),
    [
        ({}, DAY),  # auto_advance defaults to false on API-created invoices
        ({"auto_advance": False}, DAY),
        ({"auto_advance": True}, 0),
        ({"auto_advance": True}, -DAY),
        ({"auto_advance": True}, 5 * 366 * DAY),
    ],
)
def test_refused_schedules(sandbox: Sandbox, fields: dict[str, Any], offset: int) -> None:
    client = sandbox.client
    customer = new_customer(client)
    with pytest.raises(stripe.InvalidRequestError) as caught:
        client.v1.invoices.create(
            {"customer": customer.id, "automatically_finalizes_at": _now(sandbox) + offset,
             **fields}
        )  # fmt: skip
    assert caught.value.param == "automatically_finalizes_at"  # type: ignore[attr-defined]


def test_five_years_ahead_is_the_limit_and_only_drafts_take_one(sandbox: Sandbox) -> None:
    client = sandbox.client
    customer, _ = customer_with_card(client)
    far = _scheduled(client, customer.id, _now(sandbox) + 5 * 365 * DAY)
    assert far.automatically_finalizes_at is not None
    with pytest.raises(stripe.InvalidRequestError):
        client.v1.invoices.update(far.id, {"automatically_finalizes_at": _now(sandbox)})
    with pytest.raises(stripe.InvalidRequestError):
        client.v1.invoices.update(
            far.id, {"auto_advance": False, "automatically_finalizes_at": _now(sandbox) + DAY}
        )
    assert client.v1.invoices.retrieve(far.id).automatically_finalizes_at == (
        far.automatically_finalizes_at
    )
    finalized = open_invoice(client, customer.id)
    with pytest.raises(stripe.InvalidRequestError) as caught:
        client.v1.invoices.update(finalized.id, {"automatically_finalizes_at": _now(sandbox) + DAY})
    assert caught.value.code == "invoice_not_editable"


def test_clock_past_the_time_finalizes_and_charges_the_default_card(sandbox: Sandbox) -> None:
    client = sandbox.client
    customer, pm = customer_with_card(client)
    at = _now(sandbox) + 3 * DAY
    invoice = _scheduled(client, customer.id, at, amount=12000)
    mark = _mark(client)
    _advance(sandbox, 3 * DAY - 60)
    assert client.v1.invoices.retrieve(invoice.id).status == "draft"
    _advance(sandbox, 120)
    paid = client.v1.invoices.retrieve(invoice.id)
    assert paid.status == "paid"
    assert paid.amount_paid == 12000
    assert paid.automatically_finalizes_at is None
    assert paid.auto_advance is False
    assert (paid.attempted, paid.attempt_count) == (True, 1)
    # At its moment, not when the clock was moved past it.
    assert paid.status_transitions.finalized_at == at
    pi = _intent_of(client, invoice.id)
    assert (pi.status, pi.payment_method) == ("succeeded", pm.id)
    events = _events_of(client, mark, invoice.id, pi.id)
    types = [e.type for e in events]
    assert types.index("invoice.finalized") < types.index("payment_intent.succeeded")
    assert types[-2:] == ["invoice.paid", "invoice.payment_succeeded"]
    # Stripe's own doing: tied to no API request.
    assert {e.request.id for e in events if e.request is not None} == {None}


def test_the_invoice_default_method_comes_before_the_customer_one(sandbox: Sandbox) -> None:
    client = sandbox.client
    customer, _ = customer_with_card(client, "pm_card_chargeDeclined")
    visa = client.v1.payment_methods.attach("pm_card_visa", {"customer": customer.id})
    at = _now(sandbox) + DAY
    invoice = _scheduled(client, customer.id, at, default_payment_method=visa.id)
    _advance(sandbox, DAY + 1)
    assert client.v1.invoices.retrieve(invoice.id).status == "paid"
    assert _intent_of(client, invoice.id).payment_method == visa.id


def test_a_declined_card_leaves_it_open_with_payment_failed(sandbox: Sandbox) -> None:
    client = sandbox.client
    customer, _ = customer_with_card(client, "pm_card_chargeDeclinedInsufficientFunds")
    invoice = _scheduled(client, customer.id, _now(sandbox) + DAY)
    mark = _mark(client)
    _advance(sandbox, DAY + 1)
    failed = client.v1.invoices.retrieve(invoice.id)
    assert failed.status == "open"
    assert (failed.attempted, failed.attempt_count) == (True, 1)
    assert failed.amount_remaining == 5000
    types = [e.type for e in _events_of(client, mark, invoice.id)]
    assert types == ["invoice.finalized", "invoice.payment_failed"]
    assert _intent_of(client, invoice.id).status == "requires_payment_method"


def test_no_payment_method_fails_the_attempt(sandbox: Sandbox) -> None:
    client = sandbox.client
    customer = new_customer(client)
    invoice = _scheduled(client, customer.id, _now(sandbox) + DAY)
    mark = _mark(client)
    _advance(sandbox, DAY + 1)
    failed = client.v1.invoices.retrieve(invoice.id)
    assert (failed.status, failed.attempt_count) == ("open", 1)
    types = [e.type for e in _events_of(client, mark, invoice.id)]
    assert types == ["invoice.finalized", "invoice.payment_failed"]


def test_a_sepa_debit_is_processing_until_it_settles(sandbox: Sandbox) -> None:
    client = sandbox.client
    customer = new_customer(client)
    debit = client.v1.payment_methods.create(
        {"type": "sepa_debit", "sepa_debit": {"iban": "DE89370400440532013000"},
         "billing_details": {"name": "Jan Kowalski", "email": "jan@example.com"}}
    )  # fmt: skip
    client.v1.payment_methods.attach(debit.id, {"customer": customer.id})
    client.v1.customers.update(
        customer.id, {"invoice_settings": {"default_payment_method": debit.id}}
    )
    invoice = _scheduled(client, customer.id, _now(sandbox) + DAY)
    _advance(sandbox, DAY + 1)
    pending = client.v1.invoices.retrieve(invoice.id)
    assert pending.status == "open"
    assert _intent_of(client, invoice.id).status == "processing"
    wait_until(lambda: client.v1.invoices.retrieve(invoice.id).status == "paid", timeout=10)


def test_send_invoice_becomes_open_and_is_not_charged(sandbox: Sandbox) -> None:
    client = sandbox.client
    customer, _ = customer_with_card(client)
    at = _now(sandbox) + 10 * DAY
    invoice = _scheduled(
        client, customer.id, at, collection_method="send_invoice", days_until_due=14
    )
    _advance(sandbox, 10 * DAY + 1)
    sent = client.v1.invoices.retrieve(invoice.id)
    assert sent.status == "open"
    assert sent.amount_paid == 0
    assert sent.auto_advance is True
    assert sent.due_date == sent.status_transitions.finalized_at + 14 * DAY  # type: ignore[operator]
    assert _intent_of(client, invoice.id).status == "requires_payment_method"


def test_a_draft_without_a_schedule_is_untouched(sandbox: Sandbox) -> None:
    client = sandbox.client
    customer, _ = customer_with_card(client)
    invoice = client.v1.invoices.create({"customer": customer.id, "currency": "eur"})
    paused = _scheduled(client, customer.id, _now(sandbox) + DAY)
    paused = client.v1.invoices.update(paused.id, {"auto_advance": False})
    assert paused.automatically_finalizes_at is None
    _advance(sandbox, 400 * DAY)
    assert client.v1.invoices.retrieve(invoice.id).status == "draft"
    assert client.v1.invoices.retrieve(paused.id).status == "draft"


def test_updating_the_time_moves_it(sandbox: Sandbox) -> None:
    client = sandbox.client
    customer, _ = customer_with_card(client)
    invoice = _scheduled(client, customer.id, _now(sandbox) + 2 * DAY)
    later = _now(sandbox) + 5 * DAY
    moved = client.v1.invoices.update(invoice.id, {"automatically_finalizes_at": later})
    assert moved.automatically_finalizes_at == later
    _advance(sandbox, 3 * DAY)
    assert client.v1.invoices.retrieve(invoice.id).status == "draft"
    _advance(sandbox, 2 * DAY + 1)
    assert client.v1.invoices.retrieve(invoice.id).status == "paid"


def test_finalizing_by_hand_first_clears_the_schedule(sandbox: Sandbox) -> None:
    client = sandbox.client
    customer, _ = customer_with_card(client)
    invoice = _scheduled(
        client, customer.id, _now(sandbox) + DAY, collection_method="send_invoice",
        days_until_due=30,
    )  # fmt: skip
    mark = _mark(client)
    finalized = client.v1.invoices.finalize_invoice(invoice.id)
    assert finalized.automatically_finalizes_at is None
    _advance(sandbox, DAY + 1)
    assert client.v1.invoices.retrieve(invoice.id).status == "open"
    types = [e.type for e in _events_of(client, mark, invoice.id)]
    assert types.count("invoice.finalized") == 1


def test_a_deleted_draft_is_forgotten(sandbox: Sandbox) -> None:
    client = sandbox.client
    customer, _ = customer_with_card(client)
    invoice = _scheduled(client, customer.id, _now(sandbox) + DAY)
    client.v1.invoices.delete(invoice.id)
    mark = _mark(client)
    _advance(sandbox, DAY + 1)
    assert _events_of(client, mark, invoice.id) == []


def test_a_finalization_that_fails_keeps_the_draft_with_its_error(sandbox: Sandbox) -> None:
    """A payment plan that no longer adds up to the total cannot be finalized."""
    client = sandbox.client
    customer = new_customer(client)
    invoice = client.v1.invoices.create(
        {"customer": customer.id, "currency": "eur", "collection_method": "send_invoice",
         "auto_advance": True, "automatically_finalizes_at": _now(sandbox) + DAY,
         "amounts_due": [{"amount": 3000, "days_until_due": 10},
                         {"amount": 3000, "days_until_due": 40}]},  # type: ignore[typeddict-unknown-key]
        PREVIEW,
    )  # fmt: skip
    client.v1.invoice_items.create(
        {"customer": customer.id, "invoice": invoice.id, "amount": 5000, "currency": "eur"}
    )
    mark = _mark(client)
    _advance(sandbox, DAY + 1)
    kept = client.v1.invoices.retrieve(invoice.id)
    assert kept.status == "draft"
    assert kept.automatically_finalizes_at is None
    assert kept.last_finalization_error is not None
    types = [e.type for e in _events_of(client, mark, invoice.id)]
    assert types == ["invoice.finalization_failed"]


def test_real_time_reaching_the_moment_finalizes_without_a_request(
    sandbox: Sandbox, receiver: Receiver
) -> None:
    client = sandbox.client
    customer, _ = customer_with_card(client)
    endpoint = client.v1.webhook_endpoints.create(
        {"url": receiver.url, "enabled_events": ["invoice.paid"]}
    )
    try:
        invoice = _scheduled(client, customer.id, _now(sandbox) + 2)
        # No API call until the webhook arrives: the sandbox's timer did it.
        wait_until(lambda: bool(receiver.bodies()), timeout=10)
        (body,) = receiver.bodies()
        assert json.loads(body)["data"]["object"]["id"] == invoice.id
    finally:
        client.v1.webhook_endpoints.delete(endpoint.id)
