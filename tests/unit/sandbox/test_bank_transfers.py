"""The sandbox's virtual bank accounts are valid numbers (a portal puts them in an EPC QR code),
its bank transfer options follow Stripe's rules, and reconciliation picks groups as Stripe's
reconciliation page says."""

from __future__ import annotations

from typing import Any

import pytest
from stdnum import iban as iban_number

from stripe_sandbox import bank_transfers, cash_balance
from stripe_sandbox.errors import StripeError


@pytest.mark.parametrize("country", bank_transfers.EU_COUNTRIES)
@pytest.mark.parametrize("number", [1, 42, 9_999_999])
def test_every_virtual_iban_is_valid(country: str, number: int) -> None:
    made = bank_transfers.iban(country, bank_transfers.BBANS[country](number))
    # stdnum checks the length and layout per country, the check digits, and Belgium's and
    # Spain's national check digits.
    assert iban_number.validate(made) == made
    assert made.startswith(country)


def test_national_check_digits_match_published_examples() -> None:
    # ES9121000418450200051332: bank 2100, branch 0418, control 45, account 0200051332.
    assert bank_transfers.spanish_control("0021000418") == "4"
    assert bank_transfers.spanish_control("0200051332") == "5"
    # FR76 3000 6000 0112 3456 7890 189: RIB key 89.
    assert bank_transfers.rib_key("30006", "00001", "12345678901") == 89
    # BE68 5390 0754 7034: 5390075470 mod 97 = 34.
    assert bank_transfers.belgian_check("5390075470") == 34


def _clabe_is_valid(number: str) -> bool:
    weights = (3, 7, 1) * 6
    total = sum(int(d) * w % 10 for d, w in zip(number[:17], weights, strict=False))
    return len(number) == 18 and (10 - total % 10) % 10 == int(number[17])


def test_clabes_carry_their_check_digit() -> None:
    assert _clabe_is_valid("032180000118359719")  # Banxico's published example
    assert all(_clabe_is_valid(bank_transfers.clabe(n)) for n in (1, 77, 123456))


def test_test_bics_are_well_formed() -> None:
    for country in bank_transfers.EU_COUNTRIES:
        made = bank_transfers.bic(country)
        assert len(made) == 8
        assert made[4:6] == country
        assert made[7] == "0"


def _options(given: Any, currency: str | None, account: str = "DE") -> bank_transfers.Options:
    return bank_transfers.parse_options(given, currency, account, "p", default_country=True)


def test_the_currency_chooses_the_transfer_type() -> None:
    assert _options(None, "eur") == bank_transfers.Options("eu_bank_transfer", "DE")
    assert _options(None, "usd") == bank_transfers.Options("us_bank_transfer", None)
    assert _options(None, "gbp", "GB") == bank_transfers.Options("gb_bank_transfer", None)


@pytest.mark.parametrize(
    ("given", "currency", "account", "param"),
    [
        ({"bank_transfer": {"type": "eu_bank_transfer"}}, "usd", "DE", "p[bank_transfer][type]"),
        (None, "gbp", "DE", "p[bank_transfer][type]"),  # GBP transfers: UK accounts only
        (None, "jpy", "DE", "p[bank_transfer][type]"),
        (None, "pln", "DE", "p[bank_transfer][type]"),
        ({"funding_type": "card"}, "eur", "DE", "p[funding_type]"),
        ({"bank_transfer": {"type": "eu_bank_transfer", "eu_bank_transfer": {"country": "AT"}}},
         "eur", "DE", "p[bank_transfer][eu_bank_transfer][country]"),
        ({"bank_transfer": {"type": "us_bank_transfer", "eu_bank_transfer": {"country": "DE"}}},
         "usd", "DE", "p[bank_transfer][eu_bank_transfer]"),
    ],
)  # fmt: skip
def test_options_stripe_refuses_are_refused(
    given: Any, currency: str, account: str, param: str
) -> None:
    with pytest.raises(StripeError) as refused:
        _options(given, currency, account)
    assert refused.value.param == param


def test_an_account_outside_the_eu_countries_must_name_the_ibans_country() -> None:
    with pytest.raises(StripeError) as refused:
        _options(None, "eur", "AT")
    assert refused.value.param == "p[bank_transfer][eu_bank_transfer][country]"


def _target(need: int, order: int, invoice: bool) -> Any:
    return cash_balance._Target({"number": f"N{order}"} if invoice else None, {}, need, order)


def test_the_smallest_exact_group_wins_then_most_invoices_then_oldest() -> None:
    a, b, c = _target(3000, 1, False), _target(2000, 2, True), _target(5000, 3, True)
    assert cash_balance._exact_group([a, b, c], 5000) == (c,)  # one object before two
    d, e = _target(5000, 4, False), _target(5000, 5, True)
    assert cash_balance._exact_group([d, e], 5000) == (e,)  # an invoice before a payment
    f, g = _target(1000, 6, True), _target(1000, 7, True)
    assert cash_balance._exact_group([g, f], 1000) == (f,)  # the oldest
    assert cash_balance._exact_group([a, b], 4000) is None
