"""Amounts, dates and numbers as the page's language writes them, all through Babel.

Functions here are pure: the caller passes the locale (usually `portal.i18n.current_locale()`),
so they can be tested without a request. Money arrives as Stripe sends it, an integer in the
currency's minor unit; it becomes a `Decimal` with Stripe's exponent and never passes through a
float. Times are shown in `DEFAULT_TIMEZONE` unless the caller passes another zone.
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

from portal.stripe.currencies import minor_unit_exponent

DateFormat = Literal["short", "medium", "long", "full"]

# Stripe stores instants, not calendar days, and the portal does not know where a customer is.
# UTC gives every reader the same date for the same invoice and matches the timestamps Stripe
# shows in its API; a deployment that bills in one country can pass that country's zone instead.
DEFAULT_TIMEZONE: Final[tzinfo] = UTC

NBSP: Final = "\u00a0"


def money_value(amount_minor: int, currency: str) -> Decimal:
    """Stripe's integer amount as a decimal number of whole units: `1234, "eur"` -> 12.34."""
    return Decimal(amount_minor).scaleb(-minor_unit_exponent(currency))


# A page formats the same few amounts and dates again and again (and Babel parses the locale each
# time): the results are kept, keyed by their inputs, which is all they depend on.
@functools.lru_cache(maxsize=65_536)
def format_money(amount_minor: int, currency: str, locale: str) -> str:
    """An amount in minor units, e.g. `123456, "eur", "de"` -> "1.234,56 €".

    Babel decides how many decimals a currency shows (CLDR's digits: JPY none, KWD three, HUF two).
    Where Babel shows fewer decimals than Stripe's minor unit (ISK: none in CLDR, two at Stripe),
    an amount with a non-zero remainder is shown with Stripe's decimals rather than rounded,
    because a bill must never show a different amount from the one that will be charged.
    Letters next to digits get CLDR's no-break space ("PLN 1,234.56" in English).
    """
    exponent = minor_unit_exponent(currency)
    value = money_value(amount_minor, currency)
    code = currency.upper()
    shown = babel_numbers.get_currency_precision(code)
    if shown >= exponent or amount_minor % 10 ** (exponent - shown) == 0:
        text = babel_numbers.format_currency(value, code, locale=locale)
    else:
        pattern = copy(Locale.parse(locale).currency_formats["standard"])
        pattern.frac_prec = (exponent, exponent)
        text = babel_numbers.format_currency(
            value, code, format=pattern, locale=locale, currency_digits=False
        )
    return _space_currency(text, babel_numbers.get_currency_symbol(code, locale=locale))


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


@functools.lru_cache(maxsize=65_536)
def format_date(
    value: datetime | date,
    locale: str,
    format: DateFormat = "medium",
    tz: tzinfo | str | None = None,
) -> str:
    """A day, e.g. 2026-03-05 -> "05.03.2026" (de) or "Mar 5, 2026" (en).

    Stripe's due dates are timestamps; they are shown as the day they fall on in `tz`.
    """
    return babel_dates.format_date(local_date(value, tz), format=format, locale=locale)


def format_datetime(
    value: datetime,
    locale: str,
    format: DateFormat = "medium",
    tz: tzinfo | str | None = None,
) -> str:
    """A moment in `tz`, e.g. "05.03.2026, 14:30:00" (de) for when a payment arrived."""
    return babel_dates.format_datetime(
        _aware(value), format=format, tzinfo=_zone(tz), locale=locale
    )


def format_percent(value: int | Decimal, locale: str) -> str:
    """A ratio as a percentage: Decimal("0.19") -> "19 %" (de), "19%" (en)."""
    return babel_numbers.format_percent(value, locale=locale)


def country_names(codes: Iterable[str], locale: str) -> list[tuple[str, str]]:
    """(code, name in `locale`) for a country list, in the alphabetical order of the names
    (accents aside, so that "Österreich" sits among the O's)."""
    names = Locale.parse(locale).territories

    def key(pair: tuple[str, str]) -> str:
        return unicodedata.normalize("NFKD", pair[1]).encode("ascii", "ignore").decode().lower()

    return sorted(((code, str(names.get(code, code))) for code in codes), key=key)
