"""Invoice states, urgency, amounts due and per-currency totals, with a frozen clock."""

from __future__ import annotations

from dataclasses import replace
from datetime import UTC, datetime, timedelta
from typing import Any

import pytest

from portal.billing import invoices as rules
from portal.billing.invoices import (
    DUE_SOON,
    CurrencyTotal,
    amount_due_now,
    history,
    invoice_state,
    is_due_soon,
    is_overdue,
    needs_payment,
    next_due_date,
    next_installment,
    overdue_amount,
    overdue_installments,
    payable_here,
    to_pay,
    totals_to_pay,
    visible,
)
from portal.stripe.models import Installment, InstallmentStatus, Invoice

NOW = datetime(2026, 3, 5, 12, 0, tzinfo=UTC)
DAY = timedelta(days=1)


def invoice(id: str = "in_1", **fields: Any) -> Invoice:
    """An open, unpaid EUR 100.00 send_invoice invoice due in 30 days, unless told otherwise."""
    values: dict[str, Any] = {
        "id": id,
        "customer_id": "cus_1",
        "number": f"INV-{id}",
        "status": "open",
        "currency": "eur",
        "collection_method": "send_invoice",
        "created": NOW - 10 * DAY,
        "due_date": NOW + 30 * DAY,
        "amount_due": 10000,
        "amount_paid": 0,
        "amount_remaining": 10000,
        "subtotal": 10000,
        "tax": 0,
        "total": 10000,
        "finalized_at": NOW - 10 * DAY,
    }
    values.update(fields)
    return Invoice(**values)


def part(
    index: int,
    amount: int,
    due_date: datetime | None,
    *,
    paid: int = 0,
    status: InstallmentStatus | None = None,
) -> Installment:
    remaining = amount - paid
    return Installment(
        index=index,
        amount=amount,
        amount_paid=paid,
        amount_remaining=remaining,
        due_date=due_date,
        description=None,
        status=status or ("paid" if remaining == 0 else "open"),
        paid_at=NOW - 20 * DAY if remaining == 0 else None,
    )


def plan(*parts: Installment, id: str = "in_plan", **fields: Any) -> Invoice:
    """An invoice whose amounts are the sum of its installments."""
    due = sum(p.amount for p in parts)
    paid = sum(p.amount_paid for p in parts)
    dated = [p.due_date for p in parts if p.due_date is not None]
    values: dict[str, Any] = {
        "amount_due": due,
        "amount_paid": paid,
        "amount_remaining": due - paid,
        "total": due,
        "subtotal": due,
        "due_date": max(dated, default=None),
        "installments": parts,
    }
    values.update(fields)
    return invoice(id, **values)


# A plan with its deposit paid, one part five days late and one still to come.
DEPOSIT_PAID_ONE_LATE = plan(
    part(0, 3000, NOW - 40 * DAY, paid=3000),
    part(1, 3000, NOW - 5 * DAY),
    part(2, 4000, NOW + 25 * DAY),
)


# --- visible, needs_payment -----------------------------------------------------------------------


def test_drafts_are_never_visible() -> None:
    statuses = ["draft", "open", "paid", "uncollectible", "void"]
    shown = visible(invoice(s, status=s) for s in statuses)
    assert [i.status for i in shown] == ["open", "paid", "uncollectible", "void"]


@pytest.mark.parametrize(
    ("status", "remaining", "payable"),
    [
        ("open", 10000, True), ("uncollectible", 10000, True), ("open", 0, False),
        ("uncollectible", 0, False), ("draft", 10000, False), ("paid", 0, False),
        ("void", 10000, False),
    ],
)  # fmt: skip
def test_only_open_and_uncollectible_with_money_left_need_payment(
    status: str, remaining: int, payable: bool
) -> None:
    assert needs_payment(invoice(status=status, amount_remaining=remaining)) is payable


# --- invoice_state --------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("due_date", "state"),
    [
        (NOW - DAY, "overdue"),
        (NOW - timedelta(seconds=1), "overdue"),
        (NOW, "due_soon"),
        (NOW + DUE_SOON, "due_soon"),
        (NOW + DUE_SOON + timedelta(seconds=1), "open"),
        (None, "open"),
    ],
    ids=["yesterday", "a-second-ago", "exactly-now", "in-exactly-7-days", "after-7-days", "none"],
)
def test_state_of_an_invoice_without_a_plan_follows_its_due_date(
    due_date: datetime | None, state: str
) -> None:
    assert invoice_state(invoice(due_date=due_date), NOW) == state


def test_due_exactly_now_is_due_but_not_yet_late() -> None:
    due_now = invoice(due_date=NOW)
    assert not is_overdue(due_now, NOW)
    assert is_due_soon(due_now, NOW)
    assert amount_due_now(due_now, NOW) == 10000
    assert overdue_amount(due_now, NOW) == 0


def test_partly_paid_invoice_is_partially_paid() -> None:
    partly = invoice(amount_paid=4000, amount_remaining=6000)
    assert invoice_state(partly, NOW) == "partially_paid"


def test_partially_paid_is_shown_before_due_soon() -> None:
    partly = invoice(amount_paid=4000, amount_remaining=6000, due_date=NOW + 2 * DAY)
    assert is_due_soon(partly, NOW)
    assert invoice_state(partly, NOW) == "partially_paid"


def test_overdue_wins_over_partially_paid_without_a_plan() -> None:
    late = invoice(amount_paid=4000, amount_remaining=6000, due_date=NOW - DAY)
    assert invoice_state(late, NOW) == "overdue"


def test_plan_with_deposit_paid_and_a_late_part_is_overdue_not_partially_paid() -> None:
    assert invoice_state(DEPOSIT_PAID_ONE_LATE, NOW) == "overdue"
    assert [p.index for p in overdue_installments(DEPOSIT_PAID_ONE_LATE, NOW)] == [1]
    assert amount_due_now(DEPOSIT_PAID_ONE_LATE, NOW) == 3000
    assert overdue_amount(DEPOSIT_PAID_ONE_LATE, NOW) == 3000
    assert next_installment(DEPOSIT_PAID_ONE_LATE) == DEPOSIT_PAID_ONE_LATE.installments[1]


def test_plan_late_by_the_clock_is_overdue_although_stripe_still_says_open() -> None:
    lagging = plan(part(0, 5000, NOW - DAY, status="open"), part(1, 5000, NOW + 20 * DAY))
    assert invoice_state(lagging, NOW) == "overdue"


def test_plan_part_stripe_calls_past_due_is_overdue_whatever_its_date() -> None:
    flagged = plan(part(0, 5000, NOW + DAY, status="past_due"), part(1, 5000, NOW + 20 * DAY))
    assert invoice_state(flagged, NOW) == "overdue"
    assert amount_due_now(flagged, NOW) == 5000


def test_plan_part_paid_in_full_is_not_late_even_if_stripe_still_says_past_due() -> None:
    settled = plan(
        part(0, 5000, NOW - DAY, paid=5000, status="past_due"), part(1, 5000, NOW + 20 * DAY)
    )
    assert overdue_installments(settled, NOW) == []
    assert invoice_state(settled, NOW) == "partially_paid"
    assert amount_due_now(settled, NOW) == 0


def test_plan_dates_replace_the_invoice_due_date() -> None:
    # The invoice-level date is in the past, but every part with money left is still to come.
    upcoming = plan(part(0, 5000, NOW + 3 * DAY), part(1, 5000, NOW + 20 * DAY))
    upcoming = replace(upcoming, due_date=NOW - DAY)
    assert not is_overdue(upcoming, NOW)
    assert invoice_state(upcoming, NOW) == "due_soon"
    assert next_due_date(upcoming) == NOW + 3 * DAY


def test_plan_is_due_soon_when_its_next_part_is_within_a_week() -> None:
    soon = plan(part(0, 5000, NOW + 6 * DAY), part(1, 5000, NOW + 36 * DAY))
    later = plan(part(0, 5000, NOW + 8 * DAY), part(1, 5000, NOW + 36 * DAY))
    assert invoice_state(soon, NOW) == "due_soon"
    assert invoice_state(later, NOW) == "open"


def test_installment_without_due_date_is_due_now_but_never_late_by_date() -> None:
    undated = plan(part(0, 5000, None), part(1, 5000, NOW + 20 * DAY))
    assert not is_overdue(undated, NOW)
    assert not is_due_soon(undated, NOW)
    assert invoice_state(undated, NOW) == "open"
    assert amount_due_now(undated, NOW) == 5000


def test_installments_are_taken_in_plan_order() -> None:
    shuffled = plan(part(1, 5000, NOW + 40 * DAY), part(0, 5000, NOW + 10 * DAY))
    first = next_installment(shuffled)
    assert first is not None
    assert first.index == 0


def test_a_written_off_invoice_is_owed_but_not_chased() -> None:
    """`uncollectible`: its own state, never overdue or due soon, after the invoices still being
    collected, out of "pay all overdue", but in what the customer has to pay."""
    late = invoice(id="in_late", status="uncollectible", due_date=NOW - 10 * DAY)
    soon = invoice(id="in_soon", status="uncollectible", due_date=NOW + 2 * DAY)
    open_later = invoice(id="in_open", status="open", due_date=NOW + 20 * DAY)
    for written_off in (late, soon):
        assert invoice_state(written_off, NOW) == "uncollectible"
        assert not is_overdue(written_off, NOW)
        assert not is_due_soon(written_off, NOW)
        assert overdue_amount(written_off, NOW) == 0
    assert to_pay([late, soon, open_later], NOW) == [open_later, late, soon]
    assert history([late, soon]) == []
    [total] = totals_to_pay([late, open_later], NOW)
    assert total.amount == 20000
    assert total.overdue_amount == 0


def test_a_written_off_plan_has_no_overdue_installments() -> None:
    written_off = plan(part(0, 5000, NOW - 20 * DAY), part(1, 5000, NOW + 10 * DAY))
    written_off = replace(written_off, status="uncollectible")
    assert overdue_installments(written_off, NOW) == []
    assert invoice_state(written_off, NOW) == "uncollectible"


def test_charge_automatically_invoice_without_due_date_is_open_and_due_now() -> None:
    retrying = invoice(collection_method="charge_automatically", due_date=None)
    assert invoice_state(retrying, NOW) == "open"
    assert amount_due_now(retrying, NOW) == 10000
    assert overdue_amount(retrying, NOW) == 0
    assert next_due_date(retrying) is None


def test_zero_amount_invoice_is_paid_and_not_to_pay() -> None:
    nothing = invoice(amount_due=0, amount_remaining=0, total=0, subtotal=0)
    assert invoice_state(nothing, NOW) == "paid"
    assert not needs_payment(nothing)
    assert to_pay([nothing], NOW) == []
    assert history([nothing]) == [nothing]
    assert amount_due_now(nothing, NOW) == 0


@pytest.mark.parametrize(("status", "state"), [("paid", "paid"), ("void", "void")])
def test_final_statuses_keep_their_state_even_past_due(status: str, state: str) -> None:
    closed = invoice(status=status, due_date=NOW - 30 * DAY, amount_remaining=0)
    assert invoice_state(closed, NOW) == state
    assert amount_due_now(closed, NOW) == 0
    assert next_installment(closed) is None


def test_void_plan_has_no_next_installment_or_late_parts() -> None:
    voided = replace(DEPOSIT_PAID_ONE_LATE, status="void")
    assert next_installment(voided) is None
    assert overdue_installments(voided, NOW) == []
    assert invoice_state(voided, NOW) == "void"


def test_state_of_a_draft_is_refused() -> None:
    with pytest.raises(ValueError, match="draft"):
        invoice_state(invoice(status="draft"), NOW)


# --- amount_due_now -------------------------------------------------------------------------------


def test_nothing_is_due_now_before_the_due_date() -> None:
    assert amount_due_now(invoice(due_date=NOW + DAY), NOW) == 0


def test_whole_remainder_is_due_after_the_due_date() -> None:
    late = invoice(amount_paid=2500, amount_remaining=7500, due_date=NOW - DAY)
    assert amount_due_now(late, NOW) == 7500


def test_several_late_parts_add_up_and_a_part_paid_in_part_counts_its_rest() -> None:
    behind = plan(
        part(0, 2000, NOW - 60 * DAY, paid=500),
        part(1, 3000, NOW - 30 * DAY),
        part(2, 5000, NOW + 5 * DAY),
    )
    assert amount_due_now(behind, NOW) == 1500 + 3000
    assert [p.index for p in overdue_installments(behind, NOW)] == [0, 1]


def test_amount_due_now_never_exceeds_what_stripe_will_accept() -> None:
    # Installments that lag a payment made against the whole invoice.
    lagging = replace(DEPOSIT_PAID_ONE_LATE, amount_paid=8000, amount_remaining=2000)
    assert amount_due_now(lagging, NOW) == 2000
    assert overdue_amount(lagging, NOW) == 2000


# --- to_pay, history ------------------------------------------------------------------------------


def test_to_pay_puts_the_most_urgent_first() -> None:
    later = invoice("later", due_date=NOW + 40 * DAY)
    undated = invoice("undated", due_date=None, collection_method="charge_automatically")
    soon = invoice("soon", due_date=NOW + 3 * DAY)
    late_recently = invoice("late_recently", due_date=NOW - 2 * DAY)
    late_long_ago = invoice("late_long_ago", due_date=NOW - 20 * DAY)
    soon_after = invoice("soon_after", due_date=NOW + 4 * DAY)
    paid = invoice("paid", status="paid", amount_remaining=0, amount_paid=10000)
    draft = invoice("draft", status="draft", due_date=NOW - 50 * DAY)
    ordered = to_pay(
        [
            later,
            undated,
            soon,
            late_recently,
            paid,
            late_long_ago,
            draft,
            soon_after,
            DEPOSIT_PAID_ONE_LATE,
        ],
        NOW,
    )
    assert [i.id for i in ordered] == [
        "late_long_ago", "in_plan", "late_recently", "soon", "soon_after", "later", "undated",
    ]  # fmt: skip


def test_overdue_plan_ranks_by_its_oldest_late_part() -> None:
    old_part = plan(part(0, 1000, NOW - 30 * DAY), part(1, 1000, NOW - 1 * DAY), id="old_part")
    late_invoice = invoice("late_invoice", due_date=NOW - 10 * DAY)
    assert [i.id for i in to_pay([late_invoice, old_part], NOW)] == ["old_part", "late_invoice"]


def test_to_pay_breaks_ties_by_creation_then_number() -> None:
    due = NOW + 20 * DAY
    b = invoice("b", number="INV-0002", due_date=due, created=NOW - 5 * DAY)
    a = invoice("a", number="INV-0001", due_date=due, created=NOW - 5 * DAY)
    older = invoice("older", number="INV-0009", due_date=due, created=NOW - 9 * DAY)
    assert [i.id for i in to_pay([b, a, older], NOW)] == ["older", "a", "b"]


def test_history_is_paid_and_void_newest_first() -> None:
    paid_old = invoice("paid_old", status="paid", amount_remaining=0, paid_at=NOW - 30 * DAY)
    voided = invoice("voided", status="void", voided_at=NOW - 10 * DAY)
    paid_new = invoice("paid_new", status="paid", amount_remaining=0, paid_at=NOW - 2 * DAY)
    # No paid_at (Stripe omitted it): falls back to when it was finalized.
    paid_unknown = invoice(
        "paid_unknown", status="paid", amount_remaining=0, finalized_at=NOW - 20 * DAY
    )
    still_open = invoice("open")
    draft = invoice("draft", status="draft", amount_remaining=0)
    shown = history([paid_old, voided, still_open, paid_unknown, draft, paid_new])
    assert [i.id for i in shown] == [
        "paid_new", "voided", "paid_unknown", "paid_old",
    ]  # fmt: skip


# --- totals ---------------------------------------------------------------------------------------


def test_totals_are_per_currency_and_sorted_by_code() -> None:
    invoices = [
        invoice("eur_late", due_date=NOW - DAY, amount_paid=1000, amount_remaining=9000),
        invoice("eur_later", amount_remaining=10000),
        DEPOSIT_PAID_ONE_LATE,
        invoice("pln", currency="pln", amount_remaining=25000, due_date=NOW + 2 * DAY),
        invoice("jpy", currency="jpy", amount_remaining=5000, due_date=None),
        invoice("eur_paid", status="paid", amount_remaining=0),
        invoice("eur_draft", status="draft"),
        invoice("eur_void", status="void"),
    ]
    assert totals_to_pay(invoices, NOW) == [
        CurrencyTotal("eur", amount=9000 + 10000 + 7000, due_now=9000 + 3000,
                      overdue_amount=9000 + 3000, count=3),
        CurrencyTotal("jpy", amount=5000, due_now=5000, overdue_amount=0, count=1),
        CurrencyTotal("pln", amount=25000, due_now=0, overdue_amount=0, count=1),
    ]  # fmt: skip


def test_no_payable_invoices_means_no_totals() -> None:
    assert totals_to_pay([invoice(status="paid", amount_remaining=0)], NOW) == []


@pytest.mark.parametrize(
    ("methods", "here"),
    [
        ((), True),  # the account's defaults
        (("card", "customer_balance"), True),
        (("sepa_debit",), True),
        (("customer_balance",), False),  # bank transfer only: its instructions, no pay button
    ],
)
def test_the_portal_charges_an_invoice_only_where_its_settings_allow(
    methods: tuple[str, ...], here: bool
) -> None:
    assert payable_here(invoice(payment_method_types=methods)) is here


def test_days_late_are_calendar_days_in_utc() -> None:
    due = datetime(2026, 12, 1, 23, 0, tzinfo=UTC)
    assert rules.days_late(due, datetime(2026, 12, 1, 23, 30, tzinfo=UTC)) == 0
    assert rules.days_late(due, datetime(2026, 12, 2, 0, 30, tzinfo=UTC)) == 1
    assert rules.days_late(due, datetime(2026, 11, 30, tzinfo=UTC)) == 0  # not yet due
