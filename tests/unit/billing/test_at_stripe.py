"""Paying on Stripe's page: which payments may, and which methods the choice names."""

from __future__ import annotations

from datetime import UTC, datetime

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


def test_examples_are_named_methods_of_the_currencys_countries() -> None:
    assert at_stripe.examples("eur")[0] == "ideal"
    assert "blik" in at_stripe.examples("pln")
    assert at_stripe.examples("usd") == ()
    for types in at_stripe.EXAMPLES.values():
        assert set(types) <= set(METHOD_NAMES)


def test_the_claim_outlasts_the_session() -> None:
    assert at_stripe.LEASE > at_stripe.SESSION_LIFETIME
    # Stripe's shortest, with a minute to spare: Stripe refuses anything under 30 minutes.
    assert 30 * 60 < at_stripe.SESSION_LIFETIME.total_seconds() <= 35 * 60
