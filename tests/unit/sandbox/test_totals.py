"""The sandbox's invoice arithmetic: discounts before tax, tax per line and rounded there,
exclusive and inclusive rates, percentage and amount discounts, line and invoice discounts."""

from __future__ import annotations

from decimal import Decimal

import pytest

from stripe_sandbox.totals import (
    LineInput,
    Off,
    Rate,
    allocate,
    compute,
    line_taxes,
    round_half_up,
)

VAT = Rate("txr_vat", Decimal(19), inclusive=False)
REDUCED = Rate("txr_reduced", Decimal(7), inclusive=False)
INCLUDED = Rate("txr_incl", Decimal(20), inclusive=True)


def test_no_discount_no_tax_is_the_sum_of_the_lines() -> None:
    totals = compute([LineInput(1000), LineInput(2500)])
    assert (totals.subtotal, totals.total_excluding_tax, totals.total) == (3500, 3500, 3500)
    assert totals.total_taxes == ()
    assert totals.total_discount_amounts == ()


def test_exclusive_tax_is_added_on_top_per_line() -> None:
    totals = compute([LineInput(10000, rates=(VAT,)), LineInput(5000, rates=(REDUCED,))])
    assert [(t.rate.id, t.amount, t.taxable_amount) for t in totals.total_taxes] == [
        ("txr_vat", 1900, 10000),
        ("txr_reduced", 350, 5000),
    ]
    assert totals.subtotal == totals.subtotal_excluding_tax == totals.total_excluding_tax == 15000
    assert totals.total == 17250


def test_tax_is_rounded_per_line_half_away_from_zero() -> None:
    # 19 % of 250 is 47.5 -> 48 on each line; rounding the sum (95.0) would give 95, not 96.
    totals = compute([LineInput(250, rates=(VAT,)), LineInput(250, rates=(VAT,))])
    assert [t.amount for line in totals.lines for t in line.taxes] == [48, 48]
    assert totals.total_taxes[0].amount == 96
    assert totals.total == 596
    assert round_half_up(Decimal("-47.5")) == -48


def test_inclusive_tax_is_taken_out_of_the_amount() -> None:
    totals = compute([LineInput(1199, rates=(INCLUDED,))])
    (tax,) = totals.total_taxes
    # 1199 / 1.2 = 999.17 -> 999 net; the tax is what is left.
    assert (tax.amount, tax.taxable_amount) == (200, 999)
    assert totals.total == 1199
    assert totals.subtotal == 1199
    assert totals.subtotal_excluding_tax == totals.total_excluding_tax == 999


def test_several_inclusive_rates_share_the_tax_by_percentage() -> None:
    a = Rate("a", Decimal(10), inclusive=True)
    b = Rate("b", Decimal(5), inclusive=True)
    net, taxes = line_taxes(1150, (a, b))
    assert net == 1000
    assert [(t.rate.id, t.amount) for t in taxes] == [("a", 100), ("b", 50)]


def test_exclusive_rates_on_a_line_with_an_inclusive_one_tax_its_net_amount() -> None:
    net, taxes = line_taxes(1200, (INCLUDED, VAT))
    assert net == 1000
    assert [t.amount for t in taxes] == [200, 190]


def test_invoice_percentage_discount_comes_before_tax() -> None:
    totals = compute([LineInput(10000, rates=(VAT,))], [Off("di_inv", percent_off=Decimal(10))])
    assert totals.subtotal == 10000  # the invoice's discount is not in the subtotal
    assert totals.total_discount_amounts == (("di_inv", 1000),)
    assert totals.total_excluding_tax == 9000
    assert totals.total_taxes[0].amount == 1710  # 19 % of 9000, not of 10000
    assert totals.total == 10710


def test_a_lines_own_discount_is_in_the_subtotal_and_comes_first() -> None:
    line = LineInput(3333, discounts=(Off("di_line", amount_off=500),), rates=(VAT,))
    totals = compute(
        [line, LineInput(10000, rates=(VAT,))], [Off("di_inv", percent_off=Decimal(10))]
    )
    first, second = totals.lines
    # The invoice's 10 % is taken from what the line's own 5.00 left: 283.3 -> 283.
    assert first.discount_amounts == (("di_line", 500), ("di_inv", 283))
    assert first.own_discounts == 500
    assert second.discount_amounts == (("di_inv", 1000),)
    assert totals.subtotal == 2833 + 10000
    assert dict(totals.total_discount_amounts) == {"di_line": 500, "di_inv": 1283}
    assert totals.total_excluding_tax == 2550 + 9000
    assert [t.amount for t in first.taxes] == [485]  # 19 % of 2550 = 484.5 -> 485
    assert totals.total == 2550 + 9000 + 485 + 1710


def test_an_amount_off_is_split_over_the_lines_and_adds_up() -> None:
    lines = [LineInput(1000), LineInput(1000), LineInput(1000)]
    totals = compute(lines, [Off("di", amount_off=100)])
    shares = [line.discount_amounts[0][1] for line in totals.lines]
    assert shares == [34, 33, 33]
    assert sum(shares) == 100
    assert totals.total == 2900


def test_an_amount_off_never_takes_more_than_is_charged() -> None:
    totals = compute([LineInput(400)], [Off("di", amount_off=1000)])
    assert totals.total_discount_amounts == (("di", 400),)
    assert totals.total == 0
    own = compute([LineInput(400, discounts=(Off("di", amount_off=1000),))])
    assert own.lines[0].own_discounts == 400
    assert own.subtotal == 0


def test_lines_that_are_not_discountable_or_credit_keep_their_amount() -> None:
    lines = [LineInput(1000), LineInput(1000, discountable=False), LineInput(-500)]
    totals = compute(lines, [Off("di", percent_off=Decimal(50))])
    assert [line.net for line in totals.lines] == [500, 1000, -500]
    assert totals.total_discount_amounts == (("di", 500),)


def test_negative_lines_get_negative_tax() -> None:
    totals = compute([LineInput(-250, rates=(VAT,))])
    assert totals.total_taxes[0].amount == -48
    assert totals.total == -298


def test_a_hundred_percent_discount_leaves_nothing_to_tax() -> None:
    totals = compute([LineInput(5000, rates=(VAT,))], [Off("di", percent_off=Decimal(100))])
    assert totals.total_taxes[0].amount == 0
    assert totals.total == 0


@pytest.mark.parametrize(
    ("total", "weights", "shares"),
    [
        (100, [1, 1, 1], [34, 33, 33]),
        (101, [2, 1], [67, 34]),
        (-10, [1, 1, 1], [-4, -3, -3]),
        (7, [Decimal(0), Decimal(0)], [0, 0]),
        (5, [], []),
    ],
)
def test_allocate_adds_up(total: int, weights: list[int | Decimal], shares: list[int]) -> None:
    assert allocate(total, weights) == shares
