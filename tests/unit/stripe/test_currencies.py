"""Stripe's currency facts: minimum charge amounts and minor units."""

from __future__ import annotations

import pytest

from portal.stripe import currencies


@pytest.mark.parametrize(
    ("amount", "currency", "below"),
    [
        (49, "eur", True), (50, "eur", False), (29, "gbp", True), (30, "gbp", False),
        (17499, "huf", True), (17500, "huf", False), (49, "jpy", True), (50, "JPY", False),
        (1499, "czk", True), (399, "hkd", True), (400, "hkd", False), (0, "usd", True),
        (-100, "usd", True),
    ],
)  # fmt: skip
def test_below_minimum_charge(amount: int, currency: str, below: bool) -> None:
    assert currencies.below_minimum(amount, currency) is below


def test_unknown_currency_assumes_the_lowest_documented_minimum() -> None:
    assert currencies.minimum_charge("zar") == 50
    assert currencies.below_minimum(49, "zar")
    assert not currencies.below_minimum(50, "zar")


def test_minimum_table_matches_stripe() -> None:
    assert currencies.MINIMUM_CHARGE == {
        "usd": 50, "eur": 50, "gbp": 30, "pln": 200, "czk": 1500, "huf": 17500, "ron": 200,
        "bgn": 100, "dkk": 250, "nok": 300, "sek": 300, "chf": 50, "aud": 50, "cad": 50,
        "nzd": 50, "sgd": 50, "hkd": 400, "inr": 50, "jpy": 50, "mxn": 1000, "brl": 50,
        "aed": 200, "myr": 200,
    }  # fmt: skip


@pytest.mark.parametrize(
    ("currency", "exponent"),
    [("eur", 2), ("JPY", 0), ("ugx", 0), ("xpf", 0), ("kwd", 3), ("tnd", 3), ("huf", 2),
     ("isk", 2), ("twd", 2), ("zzz", 2)],
)  # fmt: skip
def test_minor_unit_exponent_follows_stripe(currency: str, exponent: int) -> None:
    assert currencies.minor_unit_exponent(currency) == exponent
