"""The table of a payment's states: closed, with the moves the code relies on, and final
states that stay final."""

from __future__ import annotations

import re
from pathlib import Path

import pytest

from portal.billing import lifecycle
from portal.billing.lifecycle import CHARGE_MOVES, CHARGE_STATUSES, PAYMENT_MOVES, PAYMENT_STATUSES

# Once here the charge's money is where it ends: paid, never charged, or (`refund_failed`)
# with the company, which the page tells the customer. `refunded` is not: Stripe may still fail
# a refund after it succeeded.
FINAL = {
    "succeeded",
    "failed",
    "refused",
    "changed",
    "busy",
    "skipped",
    "lapsed",
    "abandoned",
    "refund_failed",
}


def test_every_state_has_a_row_and_every_move_names_a_state() -> None:
    assert set(CHARGE_MOVES) == set(CHARGE_STATUSES)
    assert set(PAYMENT_MOVES) == set(PAYMENT_STATUSES)
    for targets in CHARGE_MOVES.values():
        assert targets <= set(CHARGE_STATUSES)
    for payment_targets in PAYMENT_MOVES.values():
        assert payment_targets <= set(PAYMENT_STATUSES)


def test_final_states_have_no_way_out() -> None:
    assert {s for s, targets in CHARGE_MOVES.items() if not targets} == FINAL
    assert PAYMENT_MOVES["done"] == frozenset()


def test_every_state_but_the_first_can_be_reached() -> None:
    reached = set().union(*CHARGE_MOVES.values())
    assert set(CHARGE_STATUSES) - reached == set()  # `pending` too: back from Stripe's page
    assert set(PAYMENT_STATUSES) - set().union(*PAYMENT_MOVES.values()) == set()


@pytest.mark.parametrize(
    ("before", "after"),
    [
        # money that arrived is never said to be "not charged"
        ("at_stripe", "failed"),
        ("succeeded", "refunded"),
        ("refund_pending", "succeeded"),
        ("refund_failed", "refunded"),
        ("refunded", "refund_pending"),
        ("unattached", "pending"),
        # a refund is only "done" when Stripe says so
        ("at_stripe", "busy"),
        ("submitted", "refunded"),
    ],
)
def test_moves_that_would_misstate_the_money_are_refused(before: str, after: str) -> None:
    assert not lifecycle.may_move(before, after)  # type: ignore[arg-type]


def test_the_bank_confirmation_may_be_abandoned_but_not_a_debit() -> None:
    assert lifecycle.may_move("requires_action", "abandoned")
    assert not lifecycle.may_move("submitted", "abandoned")
    assert lifecycle.may_move("refund_pending", "refund_failed")
    assert lifecycle.may_move("unattached", "succeeded")


WRITES = ("create", "claim", "take_over", "set_status", "update_charge", "clear_cancel_intent")


def test_only_the_lifecycle_writes_a_payments_rows() -> None:
    portal = Path(lifecycle.__file__).parent.parent
    writers = []
    for module in portal.rglob("*.py"):
        if module.name in ("lifecycle.py", "records.py") and module.parent.name == "billing":
            continue
        text = module.read_text()
        if any(f"records.{name}(" in text for name in WRITES) or re.search(
            r"(update|insert|delete)\((payments|payment_charges|payment_history)\b", text
        ):
            writers.append(str(module.relative_to(portal)))
    assert writers == []
