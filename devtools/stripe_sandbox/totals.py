"""An invoice's amounts from its lines, discounts and tax rates: plain arithmetic, no store.

What Stripe documents (https://docs.stripe.com/invoicing/taxes/tax-rates,
https://docs.stripe.com/api/invoices/object, the line item object), and how the sandbox reads it:

- Discounts come before tax. A line's own discounts (an invoice item's `discounts`) are taken
  first, each from what the previous one left; then the invoice's `discounts`, spread over the
  discountable lines (`discountable`, and only lines that still charge something). A percentage
  is taken per line and rounded there; an amount off is split over the lines in proportion to
  what each still charges, the cents left by rounding down going to the largest remainders, and
  never more than the lines charge.
- Tax is computed per line, on what the discounts left, and rounded per line, half away from
  zero, to the currency's minor unit. A line's `tax_rates` replace the invoice's
  `default_tax_rates`. An exclusive rate adds its tax on top; inclusive rates take theirs out of
  the amount (net = amount / (1 + rates), rounded; the tax is the difference, split over several
  inclusive rates by their percentages), and exclusive rates on the same line are computed on
  that net amount.
- `subtotal` is before the invoice's discounts and exclusive tax, with the lines' own discounts
  already taken ("Item discounts are already incorporated"); `subtotal_excluding_tax` the same
  without inclusive tax; `total_excluding_tax` after every discount, without any tax; `total`
  after discounts and taxes.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from decimal import ROUND_FLOOR, ROUND_HALF_UP, Decimal

HUNDRED = Decimal(100)


@dataclass(frozen=True)
class Rate:
    """A tax rate as the arithmetic needs it."""

    id: str
    percentage: Decimal
    inclusive: bool


@dataclass(frozen=True)
class Off:
    """One discount: a coupon's `percent_off` or `amount_off`, redeemed as discount `id`."""

    id: str
    percent_off: Decimal | None = None
    amount_off: int | None = None


@dataclass(frozen=True)
class LineInput:
    amount: int
    discountable: bool = True
    discounts: tuple[Off, ...] = ()  # the line's own, in order
    rates: tuple[Rate, ...] = ()  # the line's own, else the invoice's defaults


@dataclass(frozen=True)
class Tax:
    rate: Rate
    amount: int
    taxable_amount: int


@dataclass(frozen=True)
class LineTotals:
    # (discount id, amount): the line's own discounts, then its share of the invoice's.
    discount_amounts: tuple[tuple[str, int], ...]
    taxes: tuple[Tax, ...]
    own_discounts: int  # what the line's own discounts took
    net: int  # after every discount, without any tax

    @property
    def exclusive_tax(self) -> int:
        return sum(t.amount for t in self.taxes if not t.rate.inclusive)


@dataclass(frozen=True)
class Totals:
    lines: tuple[LineTotals, ...]
    subtotal: int
    subtotal_excluding_tax: int
    total_discount_amounts: tuple[tuple[str, int], ...]
    total_excluding_tax: int
    total_taxes: tuple[Tax, ...]  # one per rate, the lines' taxes added up
    total: int


def round_half_up(value: Decimal) -> int:
    """To whole minor units, halves away from zero (2.5 -> 3, -2.5 -> -3)."""
    return int(value.quantize(Decimal(1), rounding=ROUND_HALF_UP))


def allocate(total: int, weights: Sequence[Decimal | int]) -> list[int]:
    """`total` split in proportion to `weights`: shares rounded down, the cents left over to the
    largest remainders (the earlier of equal ones first). The shares add up to `total`."""
    if not weights:
        return []
    sign = -1 if total < 0 else 1
    whole = abs(total)
    weight = sum(Decimal(w) for w in weights)
    if weight <= 0:
        return [0] * len(weights)
    exact = [Decimal(whole) * Decimal(w) / weight for w in weights]
    shares = [int(e.to_integral_value(rounding=ROUND_FLOOR)) for e in exact]
    by_remainder = sorted(range(len(weights)), key=lambda i: (-(exact[i] - shares[i]), i))
    for index in by_remainder[: whole - sum(shares)]:
        shares[index] += 1
    return [sign * share for share in shares]


def _take(off: Off, remaining: int) -> int:
    """What one discount takes from one line that still charges `remaining`."""
    if remaining <= 0:
        return 0
    if off.percent_off is not None:
        return min(remaining, round_half_up(Decimal(remaining) * off.percent_off / HUNDRED))
    return min(remaining, off.amount_off or 0)


def without_inclusive_tax(amount: int, rates: Sequence[Rate]) -> int:
    """`amount` less the inclusive taxes in it: amount / (1 + their percentages), rounded."""
    inclusive = sum((r.percentage for r in rates if r.inclusive), Decimal(0))
    if not inclusive:
        return amount
    return round_half_up(Decimal(amount) * HUNDRED / (HUNDRED + inclusive))


def line_taxes(base: int, rates: Sequence[Rate]) -> tuple[int, tuple[Tax, ...]]:
    """(net, taxes) of a line that charges `base` after its discounts."""
    net = without_inclusive_tax(base, rates)
    inclusive = [r for r in rates if r.inclusive]
    shares = iter(allocate(base - net, [r.percentage for r in inclusive]))
    taxes = []
    for rate in rates:
        if rate.inclusive:
            amount = next(shares)
        else:
            amount = round_half_up(Decimal(net) * rate.percentage / HUNDRED)
        taxes.append(Tax(rate, amount, net))
    return net, tuple(taxes)


def compute(lines: Sequence[LineInput], invoice_discounts: Sequence[Off] = ()) -> Totals:
    remaining = [line.amount for line in lines]
    amounts: list[list[tuple[str, int]]] = [[] for _ in lines]
    own = [0] * len(lines)
    for index, line in enumerate(lines):
        for off in line.discounts:
            taken = _take(off, remaining[index]) if line.discountable else 0
            amounts[index].append((off.id, taken))
            remaining[index] -= taken
            own[index] += taken
    for off in invoice_discounts:
        pool = [i for i, line in enumerate(lines) if line.discountable and remaining[i] > 0]
        if off.percent_off is not None:
            shares = [_take(off, remaining[i]) for i in pool]
        else:
            cap = min(off.amount_off or 0, sum(remaining[i] for i in pool))
            shares = allocate(cap, [remaining[i] for i in pool])
        for i, amount in zip(pool, shares, strict=True):
            amounts[i].append((off.id, amount))
            remaining[i] -= amount

    results = []
    for index, line in enumerate(lines):
        net, taxes = line_taxes(remaining[index], line.rates)
        results.append(LineTotals(tuple(amounts[index]), taxes, own[index], net))

    discount_totals: dict[str, int] = {}
    for line_totals in results:
        for discount_id, amount in line_totals.discount_amounts:
            discount_totals[discount_id] = discount_totals.get(discount_id, 0) + amount
    by_rate: dict[str, Tax] = {}
    for line_totals in results:
        for tax in line_totals.taxes:
            seen = by_rate.get(tax.rate.id)
            by_rate[tax.rate.id] = (
                Tax(tax.rate, seen.amount + tax.amount, seen.taxable_amount + tax.taxable_amount)
                if seen
                else tax
            )
    total_excluding_tax = sum(r.net for r in results)
    all_taxes = sum(t.amount for t in by_rate.values())
    return Totals(
        lines=tuple(results),
        subtotal=sum(line.amount - o for line, o in zip(lines, own, strict=True)),
        subtotal_excluding_tax=sum(
            without_inclusive_tax(line.amount - o, line.rates)
            for line, o in zip(lines, own, strict=True)
        ),
        total_discount_amounts=tuple(discount_totals.items()),
        total_excluding_tax=total_excluding_tax,
        total_taxes=tuple(by_rate.values()),
        total=total_excluding_tax + all_taxes,
    )
