"""What Stripe's PaymentIntent states and a customer's saved methods mean for a charge."""

from __future__ import annotations

from datetime import UTC, datetime

import pytest

from portal.billing.charging import from_intent
from portal.billing.models import PaymentIntent, PaymentMethod
from portal.billing.paying import usable


@pytest.mark.parametrize(
    ("status", "action_url", "decline", "expected"),
    [
        ("succeeded", None, None, ("succeeded", None)),
        ("processing", None, None, ("submitted", None)),  # a SEPA debit on its way
        ("requires_action", "https://bank.example/3ds", None, ("requires_action", None)),
        (
            "requires_payment_method",
            None,
            "payment_intent_authentication_failure",
            ("failed", "payment_intent_authentication_failure"),
        ),
        ("requires_payment_method", None, "insufficient_funds", ("failed", "insufficient_funds")),
        ("canceled", None, None, ("failed", "canceled")),
        # Waiting for an action Stripe gave no page for: nothing to send the customer to.
        ("requires_action", None, None, ("failed", "requires_action")),
    ],
)
def test_intent_states(
    status: str, action_url: str | None, decline: str | None, expected: tuple[str, str | None]
) -> None:
    intent = PaymentIntent("pi_1", status, 1000, "eur", action_url=action_url, decline_code=decline)
    outcome = from_intent(intent)
    assert (outcome.status, outcome.error_code) == expected
    assert outcome.payment_intent_id == "pi_1"
    assert outcome.action_url == (action_url if expected[0] == "requires_action" else None)


NOV = datetime(2026, 11, 22, tzinfo=UTC)


@pytest.mark.parametrize(
    ("method", "currency", "ok"),
    [
        (PaymentMethod("pm_1", "card", exp_month=11, exp_year=2026), "eur", True),
        (PaymentMethod("pm_2", "card", exp_month=10, exp_year=2026), "eur", False),
        (PaymentMethod("pm_3", "sepa_debit", last4="3000"), "eur", True),
        (PaymentMethod("pm_4", "sepa_debit", last4="3000"), "pln", False),
        (PaymentMethod("pm_5", "card", exp_month=1, exp_year=2030), "chf", True),
    ],
)
def test_usable_methods(method: PaymentMethod, currency: str, ok: bool) -> None:
    assert usable(method, NOV, currency) is ok
