"""Paying on Stripe's page: which payments may, and which methods the choice names."""

from __future__ import annotations

from datetime import UTC, datetime

import pytest

from portal.billing import at_stripe
from portal.billing.records import ChargeRecord, Payment
from portal.stripe.brands import METHOD_NAMES

NOW = datetime(2026, 12, 1, tzinfo=UTC)


def _payment(invoices: int) -> Payment:
    charges = tuple(
        ChargeRecord("pay", n, f"in_{n}", "whole", "fp", 1000, "pending", None, None, NOW)
        for n in range(invoices)
    )
    return Payment("pay", "cus_1", "eur", "pending", None, NOW, charges)


def test_one_invoice_at_a_time_is_paid_on_stripes_page() -> None:
    # A PaymentIntent is attached to one invoice, whole: "pay all overdue" cannot go there.
    assert at_stripe.offered(_payment(1))
    assert not at_stripe.offered(_payment(2))


@pytest.mark.parametrize(
    ("country", "currency", "expected"),
    [
        ("NL", "eur", ("ideal",)),
        ("BE", "eur", ("bancontact",)),
        ("AT", "eur", ("eps",)),
        ("PL", "pln", ("blik", "p24")),
        ("PL", "eur", ("p24",)),  # BLIK takes zloty only
        ("pl", "pln", ("blik", "p24")),
        ("CH", "chf", ("twint",)),
        # Countries without a local way of their own: never another country's.
        ("DE", "eur", ()),
        ("ES", "eur", ()),
        ("HR", "eur", ()),
        ("NL", "usd", ()),
        (None, "eur", ()),
    ],
)
def test_examples_follow_the_customers_country_and_what_the_currency_allows(
    country: str | None, currency: str, expected: tuple[str, ...]
) -> None:
    assert at_stripe.examples(country, currency) == expected


def test_every_example_has_its_own_name() -> None:
    for entries in at_stripe.EXAMPLES.values():
        assert {kind for kind, _currencies in entries} <= set(METHOD_NAMES)
