"""Amounts, dates and numbers as the reader's region writes them, all through Babel.

Functions here are pure: the caller passes the CLDR locale, regional variant included (usually
`portal.i18n.format_locale()`: "en_GB", "de_AT"), so they can be tested without a request.
Money arrives as Stripe sends it, an integer in the currency's minor unit; it becomes a `Decimal`
with Stripe's exponent and never passes through a float. Times are shown in `DEFAULT_TIMEZONE`
unless the caller passes another zone.
"""

from __future__ import annotations

import functools
import unicodedata
from collections.abc import Iterable
from copy import copy
from datetime import UTC, date, datetime, tzinfo
from decimal import Decimal
from typing import Final, Literal
from zoneinfo import ZoneInfo

from babel import Locale
from babel import dates as babel_dates
from babel import numbers as babel_numbers
from babel.dates import DateTimePattern

from portal.collation import sort_key
from portal.stripe.currencies import minor_unit_exponent

DateFormat = Literal["short", "medium", "long", "full"]

# Stripe stores instants, not calendar days, and the portal does not know where a customer is.
# UTC gives every reader the same date for the same invoice and matches the timestamps Stripe
# shows in its API; a deployment that bills in one country can pass that country's zone instead.
DEFAULT_TIMEZONE: Final[tzinfo] = UTC

NBSP: Final = "\u00a0"
MINUS: Final = "\u2212"


def money_value(amount_minor: int, currency: str) -> Decimal:
    """Stripe's integer amount as a decimal number of whole units: `1234, "eur"` -> 12.34."""
    return Decimal(amount_minor).scaleb(-minor_unit_exponent(currency))


def grouped_iban(iban: str) -> str:
    """An IBAN in groups of four, as it is printed (and read aloud) everywhere."""
    plain = "".join(iban.split()).upper()
    return " ".join(plain[i : i + 4] for i in range(0, len(plain), 4))


def format_plain_amount(amount_minor: int, currency: str, locale: str) -> str:
    """An amount without symbol or grouping, with the locale's decimal sign and Stripe's
    decimals: `123450, "eur", "de"` -> "1234,50" (what a transfer form's amount field takes)."""
    exponent = minor_unit_exponent(currency)
    pattern = "0" if exponent == 0 else "0." + "0" * exponent
    return babel_numbers.format_decimal(
        money_value(amount_minor, currency), format=pattern, locale=locale
    )


# A page formats the same few amounts and dates again and again (and Babel parses the locale each
# time): the results are kept, keyed by their inputs, which is all they depend on. Each entry is
# a short text and its key, under half a kilobyte: the count bounds the bytes (about 2 MB each).
FORMATTED = 4_096


@functools.lru_cache(maxsize=FORMATTED)
def format_money(amount_minor: int, currency: str, locale: str) -> str:
    """An amount in minor units, e.g. `123456, "eur", "de"` -> "1.234,56 €".

    Babel decides how many decimals a currency shows (CLDR's digits: JPY none, KWD three, HUF two).
    Where Babel shows fewer decimals than Stripe's minor unit (ISK: none in CLDR, two at Stripe),
    an amount with a non-zero remainder is shown with Stripe's decimals rather than rounded,
    because a bill must never show a different amount from the one that will be charged.
    Letters next to digits get CLDR's no-break space ("PLN 1,234.56" in English). A negative
    amount (a discount, a credit note) carries the minus sign (U+2212), not the hyphen most CLDR
    locales give: read as minus, it also never breaks away from its digits.
    """
    exponent = minor_unit_exponent(currency)
    value = money_value(amount_minor, currency)
    code = currency.upper()
    shown = babel_numbers.get_currency_precision(code)
    pattern = copy(Locale.parse(locale).currency_formats["standard"])
    digits = shown >= exponent or amount_minor % 10 ** (exponent - shown) == 0
    if not digits:
        pattern.frac_prec = (exponent, exponent)
    text = babel_numbers.format_currency(
        value, code, format=pattern, locale=locale, currency_digits=digits
    )
    group = babel_numbers.get_group_symbol(locale)
    if "'" in group and abs(value) >= 1_000_000:  # two separators or more
        # Babel removes a pattern's quotes ('...') from its result, and so eats pairs of ASCII
        # apostrophes, CLDR's Swiss group separator since CLDR 48: "1'234'567.89" comes out as
        # "1234567.89". Formatted without separators, the digits are grouped here instead.
        text = _group(
            babel_numbers.format_currency(
                value,
                code,
                format=pattern,
                locale=locale,
                currency_digits=digits,
                group_separator=False,
            ),
            group,
            pattern.grouping,
        )
    if amount_minor < 0:
        text = text.replace("-", MINUS, 1)
    return _space_currency(text, babel_numbers.get_currency_symbol(code, locale=locale))


def _group(text: str, symbol: str, grouping: tuple[int, int]) -> str:
    """Group the first run of digits (the whole units) as Babel would: "1234567" -> "1'234'567"."""
    start = next(i for i, char in enumerate(text) if char.isdigit())
    end = start
    while end < len(text) and text[end].isdigit():
        end += 1
    units, size, grouped = text[start:end], grouping[0], ""
    while len(units) > size:
        grouped = symbol + units[-size:] + grouped
        units, size = units[:-size], grouping[1]
    return text[:start] + units + grouped + text[end:]


def _letterlike(char: str) -> bool:
    # CLDR's currencyMatch `[[:^S:]&[:^Z:]]`: neither a symbol (€, $) nor a space.
    return not unicodedata.category(char).startswith(("S", "Z"))


def _space_currency(text: str, symbol: str) -> str:
    """Apply CLDR's currencySpacing, which Babel leaves out: "PLN1,234.56" -> "PLN 1,234.56".

    CLDR puts a no-break space between a currency symbol that ends (or starts) with a letter and
    an adjacent digit; every CLDR locale has the same rule, so it needs no locale data.
    """
    start = text.find(symbol)
    if not symbol or start < 0:
        return text
    end = start + len(symbol)
    if end < len(text) and unicodedata.category(text[end]) == "Nd" and _letterlike(symbol[-1]):
        text = f"{text[:end]}{NBSP}{text[end:]}"
    if start > 0 and unicodedata.category(text[start - 1]) == "Nd" and _letterlike(symbol[0]):
        text = f"{text[:start]}{NBSP}{text[start:]}"
    return text


def _zone(tz: tzinfo | str | None) -> tzinfo:
    if tz is None:
        return DEFAULT_TIMEZONE
    return ZoneInfo(tz) if isinstance(tz, str) else tz


def _aware(value: datetime) -> datetime:
    # A naive datetime has no instant to convert: guessing a zone could shift a due date by a day.
    if value.tzinfo is None or value.utcoffset() is None:
        raise ValueError(f"naive datetime {value!r}: the portal's times are aware (UTC)")
    return value


def local_date(value: datetime | date, tz: tzinfo | str | None = None) -> date:
    """The calendar day an instant falls on in `tz` (a `date` is already a day and is kept)."""
    if isinstance(value, datetime):
        return _aware(value).astimezone(_zone(tz)).date()
    return value


# The portal's date styles are CLDR's, except where CLDR's would be wrong in a date. CLDR's
# "medium" abbreviates the month, and Polish and Croatian abbreviations are the nominative, the
# month's name on a calendar page, not the genitive a date needs: "14 maj 2026" ("May" instead of
# "of May"), "14. svi 2026." (an abbreviation Croatian letters do not use). There the default
# style is the numeric date with a four-digit year (CLDR's skeleton yMd: "14.05.2026",
# "14. 05. 2026."), as Polish and Croatian invoices write it; "long" keeps the genitive month
# ("14 maja 2026", "14. svibnja 2026.", a Croatian business letter's date).
DATE_STYLES: Final[dict[str, dict[DateFormat, str]]] = {
    "pl": {"medium": "yMd"},
    "hr": {"medium": "yMd"},
}


def date_pattern(locale: str, format: DateFormat = "medium") -> DateTimePattern:
    """The pattern the portal writes a day with in `locale` (see `DATE_STYLES`)."""
    parsed = Locale.parse(locale)
    skeleton = DATE_STYLES.get(parsed.language, {}).get(format)
    found = parsed.date_formats[format] if skeleton is None else parsed.datetime_skeletons[skeleton]
    return babel_dates.parse_pattern(found)


@functools.lru_cache(maxsize=FORMATTED)
def format_date(
    value: datetime | date,
    locale: str,
    format: DateFormat = "medium",
    tz: tzinfo | str | None = None,
) -> str:
    """A day, e.g. 2026-03-05 -> "05.03.2026" (de), "5 Mar 2026" (en_GB), "Mar 5, 2026" (en).

    Stripe's due dates are timestamps; they are shown as the day they fall on in `tz`.
    """
    return date_pattern(locale, format).apply(local_date(value, tz), locale)


def format_datetime(
    value: datetime,
    locale: str,
    format: DateFormat = "medium",
    tz: tzinfo | str | None = None,
    *,
    time_format: DateFormat | None = None,
) -> str:
    """A moment in `tz`, e.g. "05.03.2026, 14:30:00" (de) for when a payment arrived.

    The day is written as `format_date` writes it, joined to the time (in `time_format`, else
    `format`: "short" is to the minute) by CLDR's pattern."""
    moment = _aware(value).astimezone(_zone(tz))
    joined = str(Locale.parse(locale).datetime_formats[format]).replace("'", "")
    time = format_time(moment, locale, time_format or format, tz=moment.tzinfo)
    return joined.replace("{0}", time).replace("{1}", format_date(moment.date(), locale, format))


def format_time(
    value: datetime,
    locale: str,
    format: DateFormat = "medium",
    tz: tzinfo | str | None = None,
) -> str:
    """The time of day of a moment in `tz`: "14:30:00" (de, en_GB), "2:30:00\u202fPM" (en)."""
    return babel_dates.format_time(_aware(value), format=format, tzinfo=_zone(tz), locale=locale)


# The clock a region's businesses keep, for a moment a customer reads (when a payment was made):
# one zone per region of `portal.i18n.REGIONS` that has one for the whole country (Spain: the
# mainland's, which the Canaries' businesses also invoice in). A region spanning several zones
# (the US, Mexico, Canada, Australia, ...) reads the moment in UTC, labelled so.
REGION_ZONES: Final[dict[str, str]] = {
    "DE": "Europe/Berlin",
    "AT": "Europe/Vienna",
    "CH": "Europe/Zurich",
    "LI": "Europe/Vaduz",
    "LU": "Europe/Luxembourg",
    "BE": "Europe/Brussels",
    "NL": "Europe/Amsterdam",
    "GB": "Europe/London",
    "IE": "Europe/Dublin",
    "ES": "Europe/Madrid",
    "PL": "Europe/Warsaw",
    "HR": "Europe/Zagreb",
    "BA": "Europe/Sarajevo",
    "CO": "America/Bogota",
    "NZ": "Pacific/Auckland",
}


def format_moment(value: datetime, locale: str) -> str:
    """When something happened, on the reader's region's clock, to the minute: "6. Dez. 2026,
    21:15" (de_DE), "6 Dec 2026, 20:15" (en_GB); "Dec 6, 2026, 8:15 PM UTC" where the region
    has no single clock (en_US)."""
    zone_name = REGION_ZONES.get(Locale.parse(locale).territory or "")
    text = format_datetime(value, locale, tz=zone_name or UTC, time_format="short")
    return text if zone_name else f"{text} UTC"


def format_percent(value: int | Decimal, locale: str) -> str:
    """A ratio as a percentage: Decimal("0.19") -> "19 %" (de), "19%" (en)."""
    return babel_numbers.format_percent(value, locale=locale)


def format_rate(percentage: int | Decimal, locale: str) -> str:
    """A rate out of 100, as Stripe gives tax rates, with every decimal it has (CLDR's percent
    pattern would round 7.7 to "8 %"): 19 -> "19 %" (de), 7.7 -> "7,7 %" (de), "7.7%" (en)."""
    value = Decimal(percentage).normalize() / 100
    return babel_numbers.format_percent(value, locale=locale, decimal_quantization=False)


def country_name(code: str, locale: str) -> str:
    """A country's name in `locale`, e.g. "AT" -> "Österreich" (de); the code if CLDR has none."""
    return str(Locale.parse(locale).territories.get(code.upper(), code))


def country_names(codes: Iterable[str], locale: str) -> list[tuple[str, str]]:
    """(code, name in `locale`) for a country list, in the alphabetical order of `locale`'s
    language (`portal.collation`: "Österreich" among the O's in German, "Łotwa" after
    "Luksemburg" in Polish, "Češka" after all the C's in Croatian)."""
    parsed = Locale.parse(locale)
    names = parsed.territories
    return sorted(
        ((code, str(names.get(code, code))) for code in codes),
        key=lambda pair: sort_key(pair[1], parsed.language),
    )
