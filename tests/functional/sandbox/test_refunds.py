"""Refunds that take time and may fail: SEPA debits and Stripe's asynchronous-refund test cards,
and the sandbox's control endpoint that gives a refund its bank's answer at once."""

from __future__ import annotations

from collections.abc import Iterator

import httpx
import pytest
import stripe

from stripe_sandbox.app import SandboxConfig
from tests.functional.sandbox.sandbox_helpers import (
    FAST_RETRIES,
    Sandbox,
    customer_with_card,
    new_customer,
    sdk_client,
    wait_until,
)
from tests.support.servers import serve_sandbox

# Short, as the tests wait for it; each create's answer shows the first status however short.
SETTLES_AFTER_MS = 100


@pytest.fixture(scope="module")
def quick() -> Iterator[Sandbox]:
    """Money reaches the bank after SETTLES_AFTER_MS."""
    config = SandboxConfig(
        webhook_retry_delays=FAST_RETRIES, sepa_settlement_delay_ms=SETTLES_AFTER_MS
    )
    with serve_sandbox(config) as urls, sdk_client(urls.api) as client:
        yield Sandbox(urls.api, client)


@pytest.fixture(scope="module")
def slow() -> Iterator[Sandbox]:
    """Money takes longer than any test: what happens to a refund is told by the control."""
    config = SandboxConfig(webhook_retry_delays=FAST_RETRIES, sepa_settlement_delay_ms=600_000)
    with serve_sandbox(config) as urls, sdk_client(urls.api) as client:
        yield Sandbox(urls.api, client)


def _card_payment(client: stripe.StripeClient, token: str, amount: int = 5000) -> str:
    customer, pm = customer_with_card(client, token)
    pi = client.v1.payment_intents.create(
        {"amount": amount, "currency": "eur", "customer": customer.id, "payment_method": pm.id,
         "confirm": True, "off_session": True}
    )  # fmt: skip
    assert pi.status == "succeeded"
    return pi.id


def _charge(client: stripe.StripeClient, refund: stripe.Refund) -> stripe.Charge:
    return client.v1.charges.retrieve(str(refund.charge))


def _events(client: stripe.StripeClient, refund_id: str) -> list[stripe.Event]:
    """The refund's own events, oldest first."""
    events = client.v1.events.list({"types": ["refund.*", "charge.refund.*"], "limit": 100})
    return [e for e in reversed(events.data) if e.data.object["id"] == refund_id]


def _status(client: stripe.StripeClient, refund_id: str) -> str | None:
    return client.v1.refunds.retrieve(refund_id).status


def test_a_sepa_debit_refund_is_pending_until_it_reaches_the_bank(quick: Sandbox) -> None:
    client = quick.client
    customer = new_customer(client)
    pm = client.v1.payment_methods.create(
        {"type": "sepa_debit", "sepa_debit": {"iban": "DE89370400440532013000"},
         "billing_details": {"name": "Jan Kowalski", "email": "jan@example.com"}}
    )  # fmt: skip
    pi = client.v1.payment_intents.create(
        {"amount": 5000, "currency": "eur", "customer": customer.id, "payment_method": pm.id,
         "allowed_payment_method_types": ["sepa_debit"], "confirm": True, "off_session": True}
    )  # fmt: skip
    assert pi.status == "processing"
    wait_until(lambda: client.v1.payment_intents.retrieve(pi.id).status == "succeeded")
    refund = client.v1.refunds.create({"payment_intent": pi.id, "amount": 2000})
    assert (refund.status, refund.pending_reason) == ("pending", "processing")
    wait_until(lambda: _status(client, refund.id) == "succeeded")
    done = client.v1.refunds.retrieve(refund.id)
    assert (done.pending_reason, done.failure_reason) == (None, None)
    assert _charge(client, refund).amount_refunded == 2000
    events = _events(client, refund.id)
    assert [e.type for e in events] == [
        "refund.created", "refund.updated", "charge.refund.updated"
    ]  # fmt: skip
    assert events[1].data.previous_attributes is not None
    assert events[1].data.previous_attributes["status"] == "pending"
    assert events[1].request is not None
    assert events[1].request.id is None


def test_the_pending_refund_card_refunds_pending_then_succeeded(quick: Sandbox) -> None:
    client = quick.client
    refund = client.v1.refunds.create(
        {"payment_intent": _card_payment(client, "pm_card_pendingRefund")}
    )
    assert refund.status == "pending"
    wait_until(lambda: _status(client, refund.id) == "succeeded")
    charge = _charge(client, refund)
    assert (charge.amount_refunded, charge.refunded) == (5000, True)


def test_the_refund_fail_card_refunds_succeeded_then_failed(quick: Sandbox) -> None:
    client = quick.client
    intent = _card_payment(client, "pm_card_refundFail")
    refund = client.v1.refunds.create({"payment_intent": intent})
    assert refund.status == "succeeded"
    charge = _charge(client, refund)
    assert (charge.amount_refunded, charge.refunded) == (5000, True)
    wait_until(lambda: _status(client, refund.id) == "failed")
    failed = client.v1.refunds.retrieve(refund.id)
    assert failed.failure_reason == "expired_or_canceled_card"
    assert failed.failure_balance_transaction is None
    # Stripe returns a failed refund to the balance: the charge has nothing refunded again.
    charge = _charge(client, refund)
    assert (charge.amount_refunded, charge.refunded) == (0, False)
    events = _events(client, refund.id)
    assert [e.type for e in events] == [
        "refund.created", "refund.updated", "charge.refund.updated", "refund.failed"
    ]  # fmt: skip
    previous = events[-1].data.previous_attributes
    assert previous is not None
    assert (previous["status"], previous["failure_reason"]) == ("succeeded", None)
    assert client.v1.refunds.create({"payment_intent": intent, "amount": 1000}).amount == 1000


def test_other_card_refunds_succeed_and_stay_so(quick: Sandbox) -> None:
    client = quick.client
    refund = client.v1.refunds.create({"payment_intent": _card_payment(client, "pm_card_visa")})
    assert refund.status == "succeeded"
    other = client.v1.refunds.create(
        {"payment_intent": _card_payment(client, "pm_card_pendingRefund")}
    )
    wait_until(lambda: _status(client, other.id) == "succeeded")
    assert _status(client, refund.id) == "succeeded"
    assert [e.type for e in _events(client, refund.id)] == ["refund.created"]


def test_a_pending_refund_already_counts_against_the_charge(slow: Sandbox) -> None:
    client = slow.client
    intent = _card_payment(client, "pm_card_pendingRefund")
    refund = client.v1.refunds.create({"payment_intent": intent, "amount": 2000})
    assert refund.status == "pending"
    assert _charge(client, refund).amount_refunded == 2000
    with pytest.raises(stripe.InvalidRequestError) as refused:
        client.v1.refunds.create({"payment_intent": intent, "amount": 3001})
    assert refused.value.param == "amount"


def _move(sandbox: Sandbox, refund_id: str, body: dict[str, str]) -> httpx.Response:
    return httpx.post(f"{sandbox.url}/_sandbox/refunds/{refund_id}", json=body, timeout=10)


@pytest.mark.parametrize(
    ("body", "reason", "refunded"),
    [({"status": "succeeded"}, None, 5000),
     ({"status": "failed"}, "unknown", 0),
     ({"status": "failed", "failure_reason": "lost_or_stolen_card"}, "lost_or_stolen_card", 0),
     ({"status": "canceled"}, None, 0)],
)  # fmt: skip
def test_the_control_gives_a_pending_refund_its_answer_now(
    slow: Sandbox, body: dict[str, str], reason: str | None, refunded: int
) -> None:
    client = slow.client
    refund = client.v1.refunds.create(
        {"payment_intent": _card_payment(client, "pm_card_pendingRefund")}
    )
    assert refund.status == "pending"
    answer = _move(slow, refund.id, body)
    assert answer.status_code == 200
    assert (answer.json()["status"], answer.json()["failure_reason"]) == (body["status"], reason)
    moved = client.v1.refunds.retrieve(refund.id)
    assert (moved.status, moved.failure_reason, moved.pending_reason) == (
        body["status"], reason, None
    )  # fmt: skip
    assert _charge(client, refund).amount_refunded == refunded
    expected = ["refund.created", "refund.updated", "charge.refund.updated"]
    assert [e.type for e in _events(client, refund.id)] == expected + (
        ["refund.failed"] if body["status"] == "failed" else []
    )


def test_the_control_fails_a_succeeded_refund_as_the_failing_card_would(slow: Sandbox) -> None:
    client = slow.client
    refund = client.v1.refunds.create(
        {"payment_intent": _card_payment(client, "pm_card_refundFail"), "amount": 2000}
    )
    assert refund.status == "succeeded"
    answer = _move(slow, refund.id, {"status": "failed", "failure_reason": "declined"})
    assert answer.status_code == 200
    failed = client.v1.refunds.retrieve(refund.id)
    assert (failed.status, failed.failure_reason) == ("failed", "declined")
    assert _charge(client, refund).amount_refunded == 0
    assert _events(client, refund.id)[-1].type == "refund.failed"


@pytest.mark.parametrize(
    ("token", "body"),
    [("pm_card_visa", {"status": "canceled"}),
     ("pm_card_visa", {"status": "succeeded"}),
     ("pm_card_visa", {"status": "pending"}),
     ("pm_card_pendingRefund", {"status": "succeeded", "failure_reason": "declined"}),
     ("pm_card_pendingRefund", {"status": "failed", "failure_reason": "changed_mind"})],
)  # fmt: skip
def test_the_control_refuses_moves_a_refund_cannot_make(
    slow: Sandbox, token: str, body: dict[str, str]
) -> None:
    client = slow.client
    refund = client.v1.refunds.create({"payment_intent": _card_payment(client, token)})
    answer = _move(slow, refund.id, body)
    assert answer.status_code == 400
    assert answer.json()["error"]["type"] == "invalid_request_error"
    assert client.v1.refunds.retrieve(refund.id).status == refund.status
    assert [e.type for e in _events(client, refund.id)] == ["refund.created"]


def test_a_failed_refund_stays_failed(slow: Sandbox) -> None:
    client = slow.client
    refund = client.v1.refunds.create(
        {"payment_intent": _card_payment(client, "pm_card_pendingRefund")}
    )
    assert _move(slow, refund.id, {"status": "failed"}).status_code == 200
    for status in ("succeeded", "failed", "canceled"):
        assert _move(slow, refund.id, {"status": status}).status_code == 400


def test_the_control_does_not_know_a_missing_refund(slow: Sandbox) -> None:
    answer = _move(slow, "re_missing", {"status": "succeeded"})
    assert answer.status_code == 404
