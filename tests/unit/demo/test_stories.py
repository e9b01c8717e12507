"""The demo's stories, checked as data: no server, just what the seeder is going to ask for."""

from __future__ import annotations

from datetime import UTC, datetime

import pytest

from portal_dev.demo.stories import demo_plans

# Stripe's minimum charge per currency, in minor units (shared/stripe/README.md).
MINIMUM = {"eur": 50, "pln": 200, "gbp": 30, "chf": 50, "jpy": 50}

# A leap day and a year turn, where date arithmetic likes to break.
NOWS = [
    datetime(2025, 11, 22, 10, 30, tzinfo=UTC),
    datetime(2024, 2, 29, 0, 5, tzinfo=UTC),
    datetime(2026, 1, 1, 0, 0, 30, tzinfo=UTC),
]


@pytest.fixture(params=NOWS, ids=lambda now: now.date().isoformat())
def now(request: pytest.FixtureRequest) -> datetime:
    value: datetime = request.param
    return value


def test_six_languages_and_at_least_three_currencies(now: datetime) -> None:
    plans = demo_plans(now)
    assert {p.locale for p in plans} == {"de", "en", "nl", "es", "pl", "hr"}
    assert {"eur", "pln", "jpy"} <= {p.currency for p in plans}
    assert len({p.currency for p in plans}) >= 3


def test_one_email_belongs_to_two_companies(now: datetime) -> None:
    emails = [p.email for p in demo_plans(now)]
    shared = {e for e in emails if emails.count(e) == 2}
    assert len(shared) == 1


def test_everything_happens_after_the_customer_exists_and_before_now(now: datetime) -> None:
    for plan in demo_plans(now):
        for invoice in plan.invoices:
            assert plan.since < invoice.issued < now
            if invoice.settled is not None:
                assert invoice.issued < invoice.settled < now
            for part in invoice.parts:
                if part.paid_at is not None:
                    assert invoice.issued < part.paid_at < now


def test_amounts_respect_minimums_and_installments_add_up(now: datetime) -> None:
    for plan in demo_plans(now):
        for invoice in plan.invoices:
            assert invoice.total >= MINIMUM[plan.currency]
            for part in invoice.parts:
                assert part.amount >= MINIMUM[plan.currency]
            if invoice.parts:
                assert sum(part.amount for part in invoice.parts) == invoice.total


def test_each_story_state_is_present(now: datetime) -> None:
    invoices = [i for p in demo_plans(now) for i in p.invoices]
    outcomes = {i.outcome for i in invoices}
    assert {"draft", "open", "paid", "void", "uncollectible"} <= outcomes
    simple_open = [i for i in invoices if i.outcome == "open" and not i.parts]
    assert any(i.due < now for i in simple_open), "an overdue invoice"
    assert any(i.due > now for i in simple_open), "an open invoice not yet due"
    plans = [i for i in invoices if i.parts]
    assert any(
        i.parts[0].paid_at is not None
        and any(p.paid_at is None and p.due < now for p in i.parts)
        and any(p.paid_at is None and p.due > now for p in i.parts)
        for i in plans
    ), "an installment plan: deposit paid, one part overdue, one upcoming"


def test_one_customer_has_more_than_a_page_of_paid_history_over_a_year(now: datetime) -> None:
    best = max(demo_plans(now), key=lambda p: sum(1 for i in p.invoices if i.outcome == "paid"))
    paid = [i for i in best.invoices if i.outcome == "paid"]
    assert len(paid) >= 25
    assert (now - min(i.issued for i in paid)).days > 400


def test_every_language_shows_several_invoice_states(now: datetime) -> None:
    for plan in demo_plans(now):
        states = {
            "overdue" if i.outcome == "open" and i.due < now else i.outcome for i in plan.invoices
        }
        assert len(states) >= 2, plan.name


def test_some_invoices_carry_a_tax_rate_and_discounts(now: datetime) -> None:
    invoices = [i for p in demo_plans(now) for i in p.invoices if i.outcome == "open"]
    assert any(i.tax is not None and i.discount is not None for i in invoices)
    assert any(i.tax is not None and any(line.discount for line in i.lines) for i in invoices)
    # Installment plans add up to what is due, so they stay without tax or discounts.
    assert all(i.tax is None and i.discount is None for i in invoices if i.parts)
