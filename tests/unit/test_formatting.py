"""Money, dates and numbers in the six languages, as Babel writes them (with Stripe's minor units).

Expected strings were taken from Babel itself, not guessed. Babel writes no-break spaces: U+00A0
between number and currency, and U+202F before "PM" in English times. Two Babel habits differ from
CLDR/ICU and are pinned here on purpose, so a Babel upgrade that changes them shows up: it groups
four-digit numbers in es and pl ("1.234,56 €", ICU says "1234,56 €"), and it leaves out CLDR's
space between a currency code and digits, which `format_money` adds back.
"""

from __future__ import annotations

from datetime import UTC, date, datetime, timedelta, timezone
from decimal import Decimal

import pytest

from portal import i18n
from portal.formatting import (
    country_names,
    format_date,
    format_datetime,
    format_moment,
    format_money,
    format_percent,
    format_rate,
    format_time,
    local_date,
    money_value,
)

NB = "\u00a0"  # no-break space
MINUS = "\u2212"  # the minus sign
NNB = "\u202f"  # narrow no-break space


@pytest.mark.parametrize(
    ("locale", "expected"),
    [
        ("de", f"1.234,56{NB}€"),
        ("en", "€1,234.56"),
        ("nl", f"€{NB}1.234,56"),
        ("es", f"1.234,56{NB}€"),
        ("pl", f"1{NB}234,56{NB}€"),
        ("hr", f"1.234,56{NB}€"),
    ],
)
def test_euros_in_each_language(locale: str, expected: str) -> None:
    assert format_money(123456, "eur", locale) == expected


@pytest.mark.parametrize(
    ("locale", "expected"),
    [
        ("de", f"{MINUS}1.234,56{NB}€"),
        ("en", f"{MINUS}€1,234.56"),
        ("nl", f"€{NB}{MINUS}1.234,56"),
        ("es", f"{MINUS}1.234,56{NB}€"),
        ("pl", f"{MINUS}1{NB}234,56{NB}€"),
        ("hr", f"{MINUS}1.234,56{NB}€"),
    ],
)
def test_negative_amounts_in_each_language_with_a_real_minus_sign(
    locale: str, expected: str
) -> None:
    assert format_money(-123456, "eur", locale) == expected
    assert "-" not in expected
    assert expected.count(MINUS) == 1


@pytest.mark.parametrize(
    ("locale", "expected"),
    [
        ("pl", f"1{NB}234,56{NB}zł"),
        ("de", f"1.234,56{NB}PLN"),
        ("en", f"PLN{NB}1,234.56"),
        ("nl", f"PLN{NB}1.234,56"),
    ],
)
def test_zloty(locale: str, expected: str) -> None:
    assert format_money(123456, "pln", locale) == expected


@pytest.mark.parametrize(
    ("locale", "expected"),
    [("en", "¥5,000"), ("de", f"5.000{NB}¥"), ("nl", f"JP¥{NB}5.000"), ("pl", f"5{NB}000{NB}JPY")],
)
def test_yen_amount_is_whole_yen(locale: str, expected: str) -> None:
    assert format_money(5000, "jpy", locale) == expected


def test_other_zero_decimal_currencies_are_whole_units() -> None:
    assert format_money(123456789, "krw", "en") == "₩123,456,789"
    assert format_money(5000, "ugx", "en") == f"UGX{NB}5,000"
    assert format_money(5000, "xof", "de") == f"5.000{NB}F\u202fCFA"


@pytest.mark.parametrize(
    ("locale", "expected"),
    [("en", f"KWD{NB}1.234"), ("de", f"1,234{NB}KWD"), ("nl", f"KWD{NB}1,234")],
)
def test_three_decimal_currency_amount_is_thousandths(locale: str, expected: str) -> None:
    assert format_money(1234, "kwd", locale) == expected


def test_negative_three_decimal_amount() -> None:
    assert format_money(-1234, "kwd", "en") == f"{MINUS}KWD{NB}1.234"


def test_currency_code_is_spaced_from_digits_but_symbols_are_not() -> None:
    assert format_money(5000, "chf", "en") == f"CHF{NB}50.00"
    assert format_money(5000, "usd", "en") == "$50.00"
    assert format_money(5000, "usd", "nl") == f"US${NB}50,00"
    assert format_money(-5000, "pln", "en") == f"{MINUS}PLN{NB}50.00"


def test_forint_never_rounds_away_a_remainder_stripe_charges() -> None:
    # Stripe keeps HUF two-decimal; how many decimals CLDR shows for it changes between
    # releases (two up to CLDR 46, none since). Whatever the locked CLDR says, a remainder that
    # will be charged is shown, and whole forints read the same in both notations.
    assert format_money(1234567, "huf", "de") == f"12.345,67{NB}HUF"
    assert format_money(1234567, "huf", "hu") == f"12{NB}345,67{NB}Ft"
    assert format_money(1234500, "huf", "hu") in (f"12{NB}345,00{NB}Ft", f"12{NB}345{NB}Ft")


def test_krona_shows_whole_kronur_unless_stripe_amount_has_aurar() -> None:
    # Stripe keeps ISK two-decimal (100 = 1 króna) while CLDR shows none: never round away a
    # remainder that will be charged.
    assert format_money(50000, "isk", "en") == f"ISK{NB}500"
    assert format_money(50010, "isk", "en") == f"ISK{NB}500.10"
    assert format_money(50010, "isk", "de") == f"500,10{NB}ISK"


def test_taiwan_dollar_is_two_decimal() -> None:
    assert format_money(123450, "twd", "en") == "NT$1,234.50"


def test_zero_and_tiny_amounts() -> None:
    assert format_money(0, "eur", "de") == f"0,00{NB}€"
    assert format_money(5, "eur", "en") == "€0.05"


def test_currency_code_case_does_not_matter() -> None:
    assert format_money(123456, "EUR", "de") == format_money(123456, "eur", "de")


def test_unknown_currency_is_two_decimal() -> None:
    assert format_money(123456, "zzz", "en") == f"ZZZ{NB}1,234.56"


def test_large_amounts_stay_exact() -> None:
    # Far beyond a float's exact range: the value goes through Decimal only.
    assert format_money(12345678901234567, "eur", "en") == "€123,456,789,012,345.67"


def test_money_value_uses_stripes_exponent() -> None:
    assert money_value(123456, "eur") == Decimal("1234.56")
    assert money_value(5000, "jpy") == Decimal(5000)
    assert money_value(1234, "kwd") == Decimal("1.234")
    assert money_value(50000, "isk") == Decimal(500)


# --- dates ---------------------------------------------------------------------------------------

DAY = date(2026, 3, 5)
MOMENT = datetime(2026, 3, 5, 14, 30, tzinfo=UTC)


@pytest.mark.parametrize(
    ("locale", "medium", "long", "short"),
    [
        ("de", "05.03.2026", "5. März 2026", "05.03.26"),
        ("en", "Mar 5, 2026", "March 5, 2026", "3/5/26"),
        ("nl", "5 mrt 2026", "5 maart 2026", "05-03-2026"),
        ("es", "5 mar 2026", "5 de marzo de 2026", "5/3/26"),
        ("pl", "5.03.2026", "5 marca 2026", "5.03.2026"),
        ("hr", "05. 03. 2026.", "5. ožujka 2026.", "05. 03. 2026."),
    ],
)
def test_dates_in_each_language(locale: str, medium: str, long: str, short: str) -> None:
    assert format_date(DAY, locale) == medium
    assert format_date(DAY, locale, "long") == long
    assert format_date(DAY, locale, "short") == short
    assert format_date(MOMENT, locale) == medium


@pytest.mark.parametrize(
    ("locale", "expected"),
    [
        ("de", "05.03.2026, 14:30:00"),
        ("en", f"Mar 5, 2026, 2:30:00{NNB}PM"),
        ("nl", "5 mrt 2026, 14:30:00"),
        ("es", "5 mar 2026, 14:30:00"),
        ("pl", "5.03.2026, 14:30:00"),
        ("hr", "05. 03. 2026. 14:30:00"),
    ],
)
def test_datetimes_in_each_language_default_to_utc(locale: str, expected: str) -> None:
    assert format_datetime(MOMENT, locale) == expected


def test_due_timestamp_is_shown_as_the_day_it_falls_on_in_the_chosen_zone() -> None:
    late_evening_utc = datetime(2026, 3, 5, 23, 30, tzinfo=UTC)
    assert format_date(late_evening_utc, "de") == "05.03.2026"
    assert format_date(late_evening_utc, "de", tz="Europe/Berlin") == "06.03.2026"
    assert format_date(late_evening_utc, "en", tz="America/New_York") == "Mar 5, 2026"


def test_datetime_in_a_zone() -> None:
    assert format_datetime(MOMENT, "de", tz="Europe/Berlin") == "05.03.2026, 15:30:00"
    assert format_datetime(MOMENT, "de", tz=timezone(timedelta(hours=-5))) == (
        "05.03.2026, 09:30:00"
    )


def test_a_time_in_another_offset_is_converted_not_relabelled() -> None:
    same_instant = MOMENT.astimezone(timezone(timedelta(hours=9)))
    assert format_datetime(same_instant, "de") == "05.03.2026, 14:30:00"
    assert local_date(same_instant) == DAY


def test_naive_datetimes_are_refused() -> None:
    with pytest.raises(ValueError, match="naive"):
        format_date(datetime(2026, 3, 5, 12, 0), "de")
    with pytest.raises(ValueError, match="naive"):
        format_datetime(datetime(2026, 3, 5, 12, 0), "de")


def test_a_plain_date_is_kept_whatever_the_zone() -> None:
    assert format_date(DAY, "de", tz="Pacific/Kiritimati") == "05.03.2026"


# Polish and Croatian write a date's month in the genitive ("14 maja", "of May"); CLDR's
# abbreviated month is the nominative ("14 maj 2026": "May" where "of May" belongs), so the
# default style there is numeric and the long one spells the genitive out.
POLISH_GENITIVE = [
    "stycznia",
    "lutego",
    "marca",
    "kwietnia",
    "maja",
    "czerwca",
    "lipca",
    "sierpnia",
    "września",
    "października",
    "listopada",
    "grudnia",
]
CROATIAN_GENITIVE = [
    "siječnja",
    "veljače",
    "ožujka",
    "travnja",
    "svibnja",
    "lipnja",
    "srpnja",
    "kolovoza",
    "rujna",
    "listopada",
    "studenoga",
    "prosinca",
]


def test_polish_dates_never_use_the_nominative_month() -> None:
    assert format_date(date(2026, 5, 14), "pl") == "14.05.2026"
    assert format_date(date(2026, 5, 14), "pl", "long") == "14 maja 2026"
    for month, genitive in enumerate(POLISH_GENITIVE, start=1):
        day = date(2026, month, 14)
        assert format_date(day, "pl") == f"14.{month:02}.2026"
        assert format_date(day, "pl", "long") == f"14 {genitive} 2026"


def test_croatian_dates_are_numeric_or_spell_the_genitive_month() -> None:
    assert format_date(date(2026, 5, 14), "hr") == "14. 05. 2026."
    assert format_date(date(2026, 5, 14), "hr", "long") == "14. svibnja 2026."
    for month, genitive in enumerate(CROATIAN_GENITIVE, start=1):
        day = date(2026, month, 14)
        assert format_date(day, "hr") == f"14. {month:02}. 2026."
        assert format_date(day, "hr", "long") == f"14. {genitive} 2026."
        assert format_date(day, "hr_BA") == f"14. {month:02}. 2026."


# --- regional variants -----------------------------------------------------------------------

JULY_3 = date(2026, 7, 3)
JULY_3_AFTERNOON = datetime(2026, 7, 3, 14, 30, tzinfo=UTC)


# Each supported regional variant's default date, euros and a time (taken from Babel, CLDR 47).
VARIANTS = [
    ("de_DE", "03.07.2026", f"1.234,56{NB}€", "14:30:00"),
    ("de_AT", "03.07.2026", f"€{NB}1.234,56", "14:30:00"),
    ("de_CH", "03.07.2026", f"EUR{NB}1'234.56", "14:30:00"),
    ("de_LI", "03.07.2026", f"€{NB}1'234.56", "14:30:00"),
    ("de_LU", "03.07.2026", f"1.234,56{NB}€", "14:30:00"),
    ("de_BE", "03.07.2026", f"1.234,56{NB}€", "14:30:00"),
    ("en_GB", "3 Jul 2026", "€1,234.56", "14:30:00"),
    ("en_IE", "3 Jul 2026", "€1,234.56", "14:30:00"),
    ("en_US", "Jul 3, 2026", "€1,234.56", f"2:30:00{NNB}PM"),
    ("en_CA", "Jul 3, 2026", "€1,234.56", f"2:30:00{NNB}p.m."),
    ("en_AU", "3 Jul 2026", f"EUR{NB}1,234.56", f"2:30:00{NNB}pm"),
    ("en_NZ", "3 Jul 2026", "€1,234.56", f"2:30:00{NNB}pm"),
    ("nl_NL", "3 jul 2026", f"€{NB}1.234,56", "14:30:00"),
    ("nl_BE", "3 jul 2026", f"€{NB}1.234,56", "14:30:00"),
    ("es_ES", "3 jul 2026", f"1.234,56{NB}€", "14:30:00"),
    ("es_MX", "3 jul 2026", f"EUR{NB}1,234.56", f"2:30:00{NNB}p.m."),
    ("es_AR", "3 jul 2026", f"EUR{NB}1.234,56", "14:30:00"),
    ("es_CO", "3/07/2026", f"EUR{NB}1.234,56", f"2:30:00{NNB}p.{NNB}m."),
    ("es_CL", "03-07-2026", f"EUR{NB}1.234,56", "14:30:00"),
    ("es_US", "3 jul 2026", f"EUR{NB}1,234.56", f"2:30:00{NNB}p.m."),
    ("es_419", "3 jul 2026", f"EUR{NB}1,234.56", f"2:30:00{NNB}p.m."),
    ("pl_PL", "3.07.2026", f"1{NB}234,56{NB}€", "14:30:00"),
    ("hr_HR", "03. 07. 2026.", f"1.234,56{NB}€", "14:30:00"),
    ("hr_BA", "03. 07. 2026.", f"1.234,56{NB}€", "14:30:00"),
]


@pytest.mark.parametrize(("locale", "day", "amount", "time"), VARIANTS)
def test_each_regional_variant_writes_its_own_dates_amounts_and_times(
    locale: str, day: str, amount: str, time: str
) -> None:
    assert format_date(JULY_3, locale) == day
    assert format_money(123456, "eur", locale) == amount
    assert format_time(JULY_3_AFTERNOON, locale) == time


def test_every_supported_variant_is_in_the_table() -> None:
    assert {row[0] for row in VARIANTS} == {
        v for variants in i18n.REGIONS.values() for v in variants
    }


def test_british_english_is_day_first() -> None:
    assert format_date(JULY_3, "en_GB") == "3 Jul 2026"
    assert format_date(JULY_3, "en_GB", "long") == "3 July 2026"
    assert format_date(JULY_3, "en_GB", "short") == "03/07/2026"
    assert format_date(JULY_3, "en_US") == "Jul 3, 2026"


def test_austrian_january_is_janner() -> None:
    assert format_date(date(2026, 1, 14), "de_AT", "long") == "14. Jänner 2026"
    assert format_date(date(2026, 1, 14), "de_DE", "long") == "14. Januar 2026"


def test_swiss_francs_are_grouped_with_an_apostrophe() -> None:
    # CLDR's de_CH group separator; CLDR has written it as U+2019 in some releases and as
    # U+0027 in the one Babel 2.19 ships (CLDR 47): a change shows up here.
    assert format_money(123456, "chf", "de_CH") == f"CHF{NB}1'234.56"
    assert format_money(123456789, "chf", "de_CH") == f"CHF{NB}1'234'567.89"
    assert format_money(123456, "chf", "de_DE") == f"1.234,56{NB}CHF"


def test_belgian_dutch_short_dates() -> None:
    assert format_date(JULY_3, "nl_BE", "short") == "3/07/2026"
    assert format_date(JULY_3, "nl_NL", "short") == "03-07-2026"


def test_zloty_and_croatian_euros() -> None:
    assert format_money(123456, "pln", "pl_PL") == f"1{NB}234,56{NB}zł"
    assert format_money(123456, "eur", "hr_HR") == f"1.234,56{NB}€"


def test_times_are_in_the_default_zone_unless_told() -> None:
    assert format_time(JULY_3_AFTERNOON, "de") == "14:30:00"
    assert format_time(JULY_3_AFTERNOON, "de", tz="Europe/Vienna") == "16:30:00"
    assert format_time(JULY_3_AFTERNOON.astimezone(timezone(timedelta(hours=9))), "de") == (
        "14:30:00"
    )
    with pytest.raises(ValueError, match="naive"):
        format_time(datetime(2026, 7, 3, 14, 30), "de")


# --- numbers ----------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("locale", "percent"),
    [
        ("de", f"19{NB}%"),
        ("en", "19%"),
        ("nl", "19%"),
        ("es", f"19{NB}%"),
        ("pl", "19%"),
        ("hr", f"19{NB}%"),
    ],
)
def test_percentages_in_each_language(locale: str, percent: str) -> None:
    assert format_percent(Decimal("0.19"), locale) == percent


@pytest.mark.parametrize(
    ("percentage", "locale", "shown"),
    [
        (Decimal(19), "de_DE", f"19{NB}%"),
        (Decimal(21), "nl_NL", "21%"),
        (Decimal(23), "pl_PL", "23%"),
        (Decimal("7.7"), "de_CH", "7.7%"),  # CLDR's pattern alone would round it to 8
        (Decimal("5.5"), "es_ES", f"5,5{NB}%"),
        (Decimal("8.10"), "hr_HR", f"8,1{NB}%"),
        (Decimal(0), "en_GB", "0%"),
    ],
)
def test_tax_rates_keep_their_decimals(percentage: Decimal, locale: str, shown: str) -> None:
    assert format_rate(percentage, locale) == shown


# --- country lists ----------------------------------------------------------------------------


def names(language: str, *codes: str) -> list[str]:
    return [name for _code, name in country_names(codes, language)]


def test_country_lists_follow_each_languages_alphabet() -> None:
    # The portal's own lists, whole, in each language; then the letters an ASCII fold got wrong.
    assert names("pl", "LV", "LU", "LT", "MT") == ["Litwa", "Luksemburg", "Łotwa", "Malta"]
    assert names("pl", "KR", "KP") == ["Korea Południowa", "Korea Północna"]  # o before ó
    assert names("hr", "CZ", "CY", "CL", "TD", "DK") == ["Cipar", "Čad", "Češka", "Čile", "Danska"]
    assert names("hr", "DE", "NO", "NZ", "OM") == ["Norveška", "Novi Zeland", "Njemačka", "Oman"]
    assert names("de", "AT", "NO", "PL", "OM") == ["Norwegen", "Oman", "Österreich", "Polen"]
    assert names("es", "ES", "EE", "EG") == ["Egipto", "España", "Estonia"]


def test_country_names_keep_their_codes() -> None:
    assert country_names(["DE", "NO"], "hr") == [("NO", "Norveška"), ("DE", "Njemačka")]
    assert country_names(["XK"], "de") == [("XK", "Kosovo")]


@pytest.mark.parametrize(
    ("locale", "expected"),
    [
        ("de_DE", "06.12.2026, 21:15"),  # Berlin, an hour ahead of UTC in December
        ("en_GB", "6 Dec 2026, 20:15"),
        ("hr_HR", "06. 12. 2026. 21:15"),
        ("pl_PL", "6.12.2026, 21:15"),
        ("en_US", "Dec 6, 2026, 8:15\u202fPM UTC"),  # several clocks: said in UTC, and labelled
    ],
)
def test_a_moment_is_read_on_the_regions_clock(locale: str, expected: str) -> None:
    assert format_moment(datetime(2026, 12, 6, 20, 15, tzinfo=UTC), locale) == expected
