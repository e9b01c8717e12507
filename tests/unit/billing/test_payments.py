from __future__ import annotations

from dataclasses import replace
from datetime import UTC, datetime, timedelta

import pytest

from portal.billing.payments import (
    CannotPay,
    choices,
    fingerprint,
    next_step,
    plan_charge,
    plan_overdue,
    still_as_seen,
)
from portal.stripe.models import Installment, Invoice

NOW = datetime(2026, 11, 21, 12, 0, tzinfo=UTC)
DAY = timedelta(days=1)


def invoice(
    amount: int = 30000,
    *,
    currency: str = "eur",
    due: datetime | None = NOW + 14 * DAY,
    paid: int = 0,
    status: str = "open",
    number: str = "INV-1",
    created: datetime = NOW - 30 * DAY,
    parts: tuple[Installment, ...] = (),
) -> Invoice:
    return Invoice(
        id=f"in_{number}",
        customer_id="cus_1",
        number=number,
        status=status,  # type: ignore[arg-type]
        currency=currency,
        collection_method="send_invoice",
        created=created,
        due_date=due,
        amount_due=amount,
        amount_paid=paid,
        amount_remaining=amount - paid,
        subtotal=amount,
        tax=0,
        total=amount,
        installments=parts,
    )


def part(index: int, amount: int, due: datetime, paid: int = 0) -> Installment:
    return Installment(
        index, amount, paid, amount - paid, due, None, "paid" if paid == amount else "open"
    )


def plan(*, late: bool = True) -> Invoice:
    parts = (
        part(0, 10000, NOW - 40 * DAY, paid=10000),
        part(1, 10000, NOW - 5 * DAY if late else NOW + 5 * DAY),
        part(2, 10000, NOW + 25 * DAY),
    )
    return invoice(paid=10000, parts=parts, due=None)


def test_whole_invoice_is_its_remainder() -> None:
    charge = plan_charge(invoice(paid=5000), "whole", NOW)
    assert (charge.amount, charge.kind, charge.settles_invoice) == (25000, "whole", True)


def test_next_installment_is_the_first_unpaid_part() -> None:
    charge = plan_charge(plan(late=False), "next_installment", NOW)
    assert (charge.amount, charge.installments, charge.settles_invoice) == (10000, (1,), False)


def test_overdue_installments_are_all_late_parts() -> None:
    charge = plan_charge(plan(), "overdue_installments", NOW)
    assert (charge.amount, charge.installments) == (10000, (1,))


def test_paying_the_last_part_settles_the_invoice() -> None:
    last = invoice(
        paid=20000,
        due=None,
        parts=(
            part(0, 10000, NOW - DAY, 10000),
            part(1, 10000, NOW - DAY, 10000),
            part(2, 10000, NOW + DAY),
        ),
    )
    charge = plan_charge(last, "next_installment", NOW)
    assert charge.kind == "whole"


@pytest.mark.parametrize(
    ("bill", "kind", "reason"),
    [
        (invoice(status="paid", paid=30000), "whole", "not_payable"),
        (invoice(status="void"), "whole", "not_payable"),
        (invoice(), "next_installment", "no_plan"),
        (plan(late=False), "overdue_installments", "nothing_due"),
        (invoice(amount=40, currency="eur"), "whole", "below_minimum"),
        (invoice(amount=150, currency="pln"), "whole", "below_minimum"),
    ],
)
def test_what_cannot_be_paid_says_why(bill: Invoice, kind: str, reason: str) -> None:
    with pytest.raises(CannotPay) as caught:
        plan_charge(bill, kind, NOW)  # type: ignore[arg-type]
    assert caught.value.reason == reason


def test_below_minimum_names_the_minimum() -> None:
    with pytest.raises(CannotPay) as caught:
        plan_charge(invoice(amount=150, currency="pln"), "whole", NOW)
    assert (caught.value.amount, caught.value.minimum, caught.value.currency) == (150, 200, "pln")


def test_uncollectible_invoices_can_be_paid() -> None:
    assert plan_charge(invoice(status="uncollectible"), "whole", NOW).amount == 30000


def test_choices_follow_the_plan() -> None:
    assert choices(invoice(), NOW) == ["whole"]
    assert choices(plan(late=False), NOW) == ["next_installment", "whole"]
    # The one late part is also the next one: offering both would say the same twice.
    assert choices(plan(), NOW) == ["overdue_installments", "whole"]
    assert choices(invoice(status="paid", paid=30000), NOW) == []


def test_a_part_that_is_all_that_remains_is_offered_once() -> None:
    one_left = invoice(
        paid=20000,
        due=None,
        parts=(
            part(0, 10000, NOW - 9 * DAY, 10000),
            part(1, 10000, NOW - 2 * DAY, 10000),
            part(2, 10000, NOW + 9 * DAY),
        ),
    )
    assert choices(one_left, NOW) == ["whole"]
    all_late = invoice(
        paid=10000,
        due=None,
        parts=(
            part(0, 10000, NOW - 9 * DAY, 10000),
            part(1, 10000, NOW - 5 * DAY),
            part(2, 10000, NOW - 2 * DAY),
        ),
    )
    # Paying the late parts is paying everything: offered as that; the first of them alone too.
    assert choices(all_late, NOW) == ["next_installment", "whole"]


def test_pay_all_overdue_takes_one_currency_longest_overdue_first() -> None:
    older = invoice(number="A", due=NOW - 20 * DAY)
    newer = invoice(number="B", due=NOW - 2 * DAY)
    other_currency = invoice(number="C", currency="pln", due=NOW - 30 * DAY)
    not_due = invoice(number="D")
    tiny = invoice(number="E", amount=30, due=NOW - 40 * DAY)
    charges = plan_overdue([newer, not_due, other_currency, older, tiny, plan()], "eur", NOW)
    assert [(c.invoice_id, c.amount) for c in charges] == [
        ("in_A", 30000),  # 20 days late
        ("in_INV-1", 10000),  # its late part: 5 days
        ("in_B", 30000),  # 2 days
    ]


def test_fingerprint_changes_when_a_payment_lands() -> None:
    before = plan()
    after = replace(
        before,
        amount_paid=20000,
        amount_remaining=10000,
        installments=(
            before.installments[0],
            replace(before.installments[1], amount_paid=10000, amount_remaining=0),
            before.installments[2],
        ),
    )
    assert fingerprint(before) != fingerprint(after)
    assert fingerprint(before) == fingerprint(plan())


def test_a_charge_goes_ahead_only_on_the_invoice_as_it_was_seen() -> None:
    seen = plan(late=False)
    assert still_as_seen(seen, fingerprint(seen), 10000)
    assert still_as_seen(seen, fingerprint(seen), seen.amount_remaining)


def test_a_payment_that_landed_since_stops_the_charge() -> None:
    seen = plan(late=False)
    now = replace(seen, amount_paid=20000, amount_remaining=10000)
    assert not still_as_seen(now, fingerprint(seen), 10000)


def test_no_charge_exceeds_what_remains() -> None:
    seen = plan(late=False)
    assert not still_as_seen(seen, fingerprint(seen), seen.amount_remaining + 1)
    assert not still_as_seen(seen, fingerprint(seen), 0)


def test_a_paid_or_void_invoice_takes_no_charge() -> None:
    for status in ("paid", "void", "draft"):
        done = invoice(status=status)
        assert not still_as_seen(done, fingerprint(done), 100)


def test_the_next_step_of_a_plan_is_the_late_part_with_its_days() -> None:
    step = next_step(plan(), NOW)
    assert step is not None
    assert (step.amount, step.days_late) == (10000, 5)
    assert step.installment is not None
    assert step.installment.index == 1
    assert step.charge is not None
    assert step.charge.kind == "overdue_installments"


def test_the_next_step_of_a_plan_on_time_is_the_next_part() -> None:
    step = next_step(plan(late=False), NOW)
    assert step is not None
    assert (step.amount, step.days_late, step.due_date) == (10000, 0, NOW + 5 * DAY)
    assert step.charge is not None
    assert step.charge.kind == "next_installment"


def test_the_next_step_without_a_plan_is_the_remainder() -> None:
    late = invoice(due=NOW - 3 * DAY)
    step = next_step(late, NOW)
    assert step is not None
    assert (step.amount, step.days_late, step.installment) == (30000, 3, None)
    assert step.charge is not None
    assert step.charge.kind == "whole"
    assert next_step(invoice(status="paid", paid=30000), NOW) is None


def test_a_written_off_invoice_is_never_late_but_still_payable() -> None:
    step = next_step(invoice(status="uncollectible", due=NOW - 30 * DAY), NOW)
    assert step is not None
    assert step.days_late == 0
    assert step.charge is not None


def test_a_step_below_the_minimum_has_no_charge() -> None:
    step = next_step(invoice(amount=20, due=NOW - DAY), NOW)
    assert step is not None
    assert step.charge is None
