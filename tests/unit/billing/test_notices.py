"""Which reminders an invoice calls for at a given moment."""

from __future__ import annotations

from dataclasses import replace

import pytest

from portal.billing.notices import invoice_ready, reminders
from tests.unit.billing.test_payments import DAY, NOW, invoice, plan


@pytest.mark.parametrize(
    ("due_in_days", "expected"),
    [
        (10, []),
        (7, [("due_soon", 7)]),
        (1, [("due_soon", 7)]),
        (0, [("overdue", 0)]),
        (-6, [("overdue", 0)]),
        (-7, [("overdue", 7)]),
        (-13, [("overdue", 7)]),
        (-14, [("overdue", 14)]),
        (-90, [("overdue", 14)]),  # no more steps: the same key, sent once
    ],
)
def test_an_invoice_due_date(due_in_days: int, expected: list[tuple[str, int]]) -> None:
    bill = invoice(due=NOW + due_in_days * DAY)
    assert [(n.kind, n.step) for n in reminders(bill, NOW)] == expected


def test_each_unpaid_installment_on_its_own() -> None:
    found = reminders(plan(late=True), NOW)  # part 0 paid, part 1 five days late, part 2 later
    assert [(n.kind, n.installment, n.step, n.amount) for n in found] == [("overdue", 1, 0, 10000)]
    soon = reminders(plan(late=False), NOW)  # part 1 due in five days
    assert [(n.kind, n.installment) for n in soon] == [("due_soon", 1)]


@pytest.mark.parametrize(
    "changes",
    [
        {"status": "paid", "paid": 30000},
        {"status": "void"},
        {"status": "uncollectible"},  # written off: the company's decision, not ours
    ],
)
def test_no_reminders_for_settled_or_written_off_invoices(changes: dict[str, object]) -> None:
    assert reminders(invoice(due=NOW - DAY, **changes), NOW) == []  # type: ignore[arg-type]


def test_no_reminders_when_stripe_charges_automatically() -> None:
    bill = replace(invoice(due=NOW - DAY), collection_method="charge_automatically")
    assert reminders(bill, NOW) == []


def test_keys_name_what_each_notice_is_about() -> None:
    bill = plan(late=True)
    (late,) = reminders(bill, NOW)
    assert late.key == f"overdue:{bill.id}:1:0"
    assert invoice_ready(bill).key == f"invoice_ready:{bill.id}:-:0"
