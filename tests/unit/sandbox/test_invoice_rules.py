"""The invoice status machine, due dates and installment allocation, without a server."""

from __future__ import annotations

from typing import Any

import pytest

from stripe_sandbox import invoice_rules
from stripe_sandbox.errors import StripeError

DAY = invoice_rules.DAY


@pytest.mark.parametrize(
    ("status", "action", "allowed"),
    [
        ("draft", "finalize", True), ("open", "finalize", False),
        ("draft", "pay", False), ("open", "pay", True), ("uncollectible", "pay", True),
        ("paid", "pay", False), ("void", "pay", False),
        ("open", "void", True), ("uncollectible", "void", True), ("draft", "void", False),
        ("paid", "void", False), ("open", "mark_uncollectible", True),
        ("uncollectible", "mark_uncollectible", False), ("draft", "delete", True),
        ("open", "delete", False), ("draft", "edit", True), ("paid", "edit", False),
    ],
)  # fmt: skip
def test_status_machine(status: str, action: invoice_rules.Action, allowed: bool) -> None:
    assert (invoice_rules.refusal(status, action) is None) is allowed


def test_paying_a_void_invoice_says_so() -> None:
    with pytest.raises(StripeError) as caught:
        invoice_rules.check("void", "pay")
    assert "voided" in caught.value.message


def test_due_date_only_for_send_invoice() -> None:
    assert invoice_rules.due_date("charge_automatically", 30, None, 1000) is None
    assert invoice_rules.due_date("send_invoice", 30, None, 1000) == 1000 + 30 * DAY
    assert invoice_rules.due_date("send_invoice", None, 5, 1000) == 5


def _plan(*amounts: int) -> list[dict[str, Any]]:
    return [
        {"amount": a, "amount_paid": 0, "amount_remaining": a, "days_until_due": i * 10,
         "due_date": None, "paid_at": None, "status": "open"}
        for i, a in enumerate(amounts)
    ]  # fmt: skip


def test_installments_are_scheduled_from_finalization() -> None:
    plan = _plan(100, 200)
    plan[1]["due_date"] = 99
    invoice_rules.schedule_installments(plan, 1000)
    assert [p["due_date"] for p in plan] == [1000, 99]


def test_allocation_pays_oldest_first_and_returns_leftover() -> None:
    plan = _plan(100, 200, 300)
    assert invoice_rules.allocate(plan, 250, now=7) == 0
    assert [(p["amount_paid"], p["status"]) for p in plan] == [(100, "paid"), (150, "open"),
                                                               (0, "open")]  # fmt: skip
    assert plan[0]["paid_at"] == 7
    assert invoice_rules.allocate(plan, 1000, now=8) == 650
    assert all(p["status"] == "paid" for p in plan)


def test_plan_must_match_amount_due() -> None:
    assert invoice_rules.plan_error(_plan(100, 200), 300) is None
    error = invoice_rules.plan_error(_plan(100, 200), 301)
    assert error is not None
    assert error.param == "amounts_due"
    assert invoice_rules.plan_error([], 5) is None


def test_installment_status_is_computed_from_now() -> None:
    entry = _plan(100)[0] | {"due_date": 50}
    assert invoice_rules.installment_status(entry, 49) == "open"
    assert invoice_rules.installment_status(entry, 51) == "past_due"
    entry["amount_remaining"] = 0
    assert invoice_rules.installment_status(entry, 51) == "paid"


def test_settle_all_marks_every_part_paid() -> None:
    plan = _plan(100, 200)
    invoice_rules.settle_all(plan, 3)
    assert [(p["amount_paid"], p["amount_remaining"], p["status"]) for p in plan] == [
        (100, 0, "paid"),
        (200, 0, "paid"),
    ]
