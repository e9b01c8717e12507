"""What Stripe's PaymentIntent states and a customer's saved methods mean for a charge, and what
Stripe's records say about a charge whose idempotency keys it may have forgotten."""

from __future__ import annotations

import dataclasses
from datetime import UTC, datetime, timedelta

import pytest

from portal.billing import charging
from portal.billing.charging import (
    DEBIT_FAILED,
    KEYS_LIVE,
    by_preference,
    decided,
    from_intent,
    keys_alive,
    reconciled,
)
from portal.billing.lifecycle import ChargeStatus
from portal.billing.paying import usable
from portal.billing.payments import PaymentKind
from portal.billing.records import ChargeRecord
from portal.stripe.models import InvoicePayment, PaymentIntent, PaymentMethod, PaymentStatus


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


# --- the 24 hours Stripe keeps idempotency keys -------------------------------------------

SENT = datetime(2026, 12, 1, 9, 0, tzinfo=UTC)
HOUR = timedelta(hours=1)


def charge(
    kind: PaymentKind = "next_installment",
    *,
    status: ChargeStatus = "interrupted",
    sent_at: datetime | None = SENT,
    amount: int = 10000,
) -> ChargeRecord:
    return ChargeRecord(
        "pay_1", 0, "in_1", kind, "print", amount, status, None, "pi_9", SENT, sent_at
    )


def intent(
    pi: str,
    status: str,
    *,
    method: str = "pm_1",
    amount: int = 10000,
    created: datetime = SENT,
) -> PaymentIntent:
    return PaymentIntent(pi, status, amount, "eur", payment_method_id=method, created=created)


def invoice_payment(
    pi: str,
    status: PaymentStatus = "open",
    *,
    default: bool = False,
    created: datetime = SENT,
    paid_at: datetime | None = None,
) -> InvoicePayment:
    return InvoicePayment(
        f"inpay_{pi}", "in_1", 10000, None, "eur", status, default, pi, created, paid_at
    )


@pytest.mark.parametrize(
    ("sent_at", "now", "alive"),
    [
        (SENT, SENT + 22 * HOUR, True),
        (SENT, SENT + 23 * HOUR - timedelta(seconds=1), True),
        (SENT, SENT + 23 * HOUR, False),  # an hour before Stripe's 24 may forget them
        (SENT, SENT + 25 * HOUR, False),
        (None, SENT, False),  # never recorded: treated as old, Stripe's records decide
    ],
)
def test_keys_are_repeated_only_while_stripe_still_has_them(
    sent_at: datetime | None, now: datetime, alive: bool
) -> None:
    assert keys_alive(charge(sent_at=sent_at), now) is alive
    assert timedelta(hours=24) > KEYS_LIVE


def test_the_default_payment_comes_first_then_the_newest() -> None:
    older = invoice_payment("pi_old", created=SENT - 2 * HOUR)
    newer = invoice_payment("pi_new", created=SENT - HOUR)
    default = invoice_payment("pi_default", default=True, created=SENT - 9 * HOUR)
    bare = dataclasses.replace(invoice_payment("x"), payment_intent_id=None)
    assert [p.payment_intent_id for p in by_preference([older, bare, newer, default])] == [
        "pi_default",
        "pi_new",
        "pi_old",
    ]


def test_an_installment_paid_since_it_was_sent_is_recorded_as_succeeded() -> None:
    found = [
        (invoice_payment("pi_1", "paid", paid_at=SENT + HOUR), intent("pi_1", "succeeded")),
    ]
    assert reconciled(charge(), "pm_1", found) == charging.Outcome(
        "succeeded", payment_intent_id="pi_1"
    )


def test_an_earlier_payment_of_the_same_amount_is_not_taken_for_this_charge() -> None:
    # Last month's installment, paid with the same card: the same amount, before the charge.
    earlier = (
        invoice_payment(
            "pi_0", "paid", created=SENT - 30 * 24 * HOUR, paid_at=SENT - 30 * 24 * HOUR
        ),
        intent("pi_0", "succeeded", created=SENT - 30 * 24 * HOUR),
    )
    assert reconciled(charge(), "pm_1", [earlier]).status == "lapsed"


@pytest.mark.parametrize(
    ("found", "expected"),
    [
        ([], ("lapsed", None)),  # nothing reached Stripe
        # another method or another amount: not this charge
        (
            [
                (
                    invoice_payment("pi_1", "paid", paid_at=SENT),
                    intent("pi_1", "succeeded", method="pm_2"),
                )
            ],
            ("lapsed", None),
        ),
        (
            [
                (
                    invoice_payment("pi_1", "paid", paid_at=SENT),
                    intent("pi_1", "succeeded", amount=500),
                )
            ],
            ("lapsed", None),
        ),
        # created but never confirmed (stopped between the requests)
        ([(invoice_payment("pi_1"), intent("pi_1", "requires_confirmation"))], ("lapsed", None)),
        # a debit still on its way
        ([(invoice_payment("pi_1"), intent("pi_1", "processing"))], ("submitted", "pi_1")),
        # stopped at 3-D Secure and never confirmed: nothing was charged
        ([(invoice_payment("pi_1"), intent("pi_1", "requires_action"))], ("failed", "pi_1")),
    ],
)
def test_what_stripe_shows_for_an_installment_charge(
    found: list[tuple[InvoicePayment, PaymentIntent]], expected: tuple[str, str | None]
) -> None:
    outcome = reconciled(charge(), "pm_1", found)
    assert (outcome.status, outcome.payment_intent_id) == expected


def test_a_whole_invoice_is_paid_through_its_older_default_intent() -> None:
    finalized = SENT - 48 * HOUR
    default = invoice_payment("pi_d", "paid", default=True, created=finalized, paid_at=SENT)
    found = [(default, intent("pi_d", "succeeded", amount=30000, created=finalized))]
    assert reconciled(charge("whole", amount=30000), "pm_1", found).status == "succeeded"
    debit = (
        invoice_payment("pi_d", default=True, created=finalized),
        intent("pi_d", "processing", amount=30000, created=finalized),
    )
    assert reconciled(charge("whole", amount=30000), "pm_1", [debit]).status == "submitted"


@pytest.mark.parametrize(
    ("status", "pi_status", "decline", "expected"),
    [
        ("submitted", "processing", None, None),  # the bank has not answered yet
        ("submitted", "succeeded", None, ("succeeded", None)),
        ("submitted", "requires_payment_method", "insufficient_funds", ("failed", DEBIT_FAILED)),
        ("requires_action", "requires_action", None, None),
        ("requires_action", "succeeded", None, ("succeeded", None)),
        (
            "requires_action",
            "requires_payment_method",
            "card_declined",
            ("failed", "card_declined"),
        ),
    ],
)
def test_what_the_bank_decided(
    status: ChargeStatus,
    pi_status: str,
    decline: str | None,
    expected: tuple[str, str | None] | None,
) -> None:
    waiting = charge(status=status)
    found = dataclasses.replace(intent("pi_9", pi_status), decline_code=decline)
    if pi_status == "requires_action":
        found = dataclasses.replace(found, action_url="https://hooks.example/3ds")
    outcome = decided(waiting, found)
    assert (None if outcome is None else (outcome.status, outcome.error_code)) == expected
