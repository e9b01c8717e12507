"""The billing address form, checked and cleaned before anything goes to Stripe.

Stripe stores what it is given, and its invoice PDFs print it; a postal code the post cannot read
or a phone number without its country code ends up on every future invoice. So each field is
cleaned to the form the post (or E.164, for phones) uses, and what cannot be cleaned is refused
next to its field. Postal code formats: https://en.wikipedia.org/wiki/List_of_postal_codes
"""

from __future__ import annotations

import re
from dataclasses import dataclass, fields
from typing import Literal

from portal.forms import Checked, valid
from portal.text import has_hidden_characters

EU_STATES = frozenset(
    ["AT", "BE", "BG", "CY", "CZ", "DE", "DK", "EE", "ES", "FI", "FR", "GR", "HR", "HU", "IE",
     "IT", "LT", "LU", "LV", "MT", "NL", "PL", "PT", "RO", "SE", "SI", "SK"]
)  # fmt: skip

COUNTRIES: tuple[str, ...] = tuple(sorted(EU_STATES | {"GB", "CH", "NO", "US", "LI", "IS"}))

US_STATES: tuple[str, ...] = (
    "AK", "AL", "AR", "AZ", "CA", "CO", "CT", "DC", "DE", "FL", "GA", "HI", "IA", "ID", "IL",
    "IN", "KS", "KY", "LA", "MA", "MD", "ME", "MI", "MN", "MO", "MS", "MT", "NC", "ND", "NE",
    "NH", "NJ", "NM", "NV", "NY", "OH", "OK", "OR", "PA", "RI", "SC", "SD", "TN", "TX", "UT",
    "VA", "VT", "WA", "WI", "WV", "WY",
)  # fmt: skip

FieldError = Literal[
    "required", "postal_code", "phone", "country", "state", "too_long", "hidden_characters"
]

MAX_LENGTH = 200
# Postal codes and states are short everywhere; a long value there is a paste into the wrong field.
SHORT_MAX_LENGTH = 20


@dataclass(frozen=True)
class AddressForm:
    """The form exactly as typed."""

    name: str
    line1: str
    line2: str
    postal_code: str
    city: str
    state: str
    country: str
    phone: str


@dataclass(frozen=True)
class Address:
    """A checked address: Stripe's customer `name`, `address` and `phone`; None clears a field."""

    name: str
    line1: str
    line2: str | None
    postal_code: str | None
    city: str
    state: str | None
    country: str
    phone: str | None


@dataclass(frozen=True)
class Layout:
    """What the form shows for a country."""

    country: str
    postal_code_example: str | None
    postal_code_required: bool
    needs_state: bool
    states: tuple[str, ...]


@dataclass(frozen=True)
class _PostalCode:
    # Each pattern is matched against the code with its spaces and dashes removed, and its
    # template rebuilds the canonical form, so "1234ab", "1234-AB" and "1234 ab" all become
    # "1234 AB".
    forms: tuple[tuple[str, str], ...]
    example: str
    required: bool = True


def _digits(count: int, example: str) -> _PostalCode:
    return _PostalCode(((rf"(\d{{{count}}})", r"\1"),), example)


def _split(first: int, second: int, separator: str, example: str) -> _PostalCode:
    return _PostalCode(((rf"(\d{{{first}}})(\d{{{second}}})", rf"\1{separator}\2"),), example)


_POSTAL_CODES: dict[str, _PostalCode] = {
    "AT": _digits(4, "1010"),
    "BE": _digits(4, "1000"),
    "BG": _digits(4, "1000"),
    "CH": _digits(4, "8001"),
    "CY": _digits(4, "1010"),
    "CZ": _split(3, 2, " ", "110 00"),
    "DE": _digits(5, "12345"),
    "DK": _digits(4, "1050"),
    "EE": _digits(5, "10111"),
    # The first two digits are the province, 01 to 52.
    "ES": _PostalCode(((r"((?:0[1-9]|[1-4]\d|5[0-2])\d{3})", r"\1"),), "28013"),
    "FI": _digits(5, "00100"),
    "FR": _digits(5, "75001"),
    "GB": _PostalCode(
        (
            (r"([A-Z]{1,2}\d[A-Z\d]?)(\d[ABD-HJLNP-UW-Z]{2})", r"\1 \2"),
            (r"(GIR)(0AA)", r"\1 \2"),
        ),
        "SW1A 1AA",
    ),
    "GR": _split(3, 2, " ", "105 57"),
    "HR": _digits(5, "10000"),
    "HU": _digits(4, "1051"),
    # Eircodes exist since 2015, yet many Irish customers (and Irish companies' own letterheads)
    # still write addresses without one, and the post delivers them: asking for one would turn
    # customers away. One that is typed is still checked.
    "IE": _PostalCode(
        ((r"([AC-FHKNPRTV-Y]\d{2}|D6W)([0-9AC-FHKNPRTV-Y]{4})", r"\1 \2"),),
        "D02 X285",
        required=False,
    ),
    "IS": _digits(3, "101"),
    "IT": _digits(5, "00184"),
    "LI": _PostalCode(((r"(948[5-9]|949[0-8])", r"\1"),), "9490"),
    "LT": _PostalCode(((r"(\d{5})", r"LT-\1"),), "LT-01100"),
    "LU": _digits(4, "1111"),
    "LV": _PostalCode(((r"(\d{4})", r"LV-\1"),), "LV-1050"),
    "MT": _PostalCode(((r"([A-Z]{3})(\d{4})", r"\1 \2"),), "VLT 1117"),
    # Dutch postcodes never start with 0 and leave out the letter pairs SA, SD and SS.
    "NL": _PostalCode(((r"([1-9]\d{3})((?!SA|SD|SS)[A-Z]{2})", r"\1 \2"),), "1234 AB"),
    "NO": _digits(4, "0150"),
    "PL": _split(2, 3, "-", "00-950"),
    "PT": _split(4, 3, "-", "1000-001"),
    "RO": _digits(6, "010011"),
    "SE": _split(3, 2, " ", "114 55"),
    "SI": _digits(4, "1000"),
    "SK": _split(3, 2, " ", "811 01"),
    "US": _PostalCode(((r"(\d{5})", r"\1"), (r"(\d{5})(\d{4})", r"\1-\2")), "12345"),
}

# Written before the code on letters, as in "CH-8001", "L-1111" or "FL-9490": dropped when the
# code does not match as typed. The country's own ISO code is always tried.
_LOCAL_PREFIXES = {"LU": ("L",), "LI": ("FL",)}


def layout(country: str) -> Layout:
    """The form's fields for a country; a neutral form while none (or an unknown one) is chosen."""
    code = country.strip().upper()
    postal = _POSTAL_CODES.get(code) if code in COUNTRIES else None
    us = code == "US"
    return Layout(
        country=code,
        postal_code_example=postal.example if postal else None,
        postal_code_required=postal.required if postal else False,
        needs_state=us,
        states=US_STATES if us else (),
    )


def validate(form: AddressForm) -> Checked[Address, FieldError]:
    """The cleaned address, or every field's error at once so that one round trip fixes all."""
    typed = {field.name: _clean(getattr(form, field.name)) for field in fields(AddressForm)}
    errors: dict[str, FieldError] = {}
    for field, value in typed.items():
        if has_hidden_characters(value):
            errors[field] = "hidden_characters"
    for field in ("name", "line1", "line2", "city", "country", "phone"):
        if len(typed[field]) > MAX_LENGTH and field not in errors:
            errors[field] = "too_long"
    for field in ("name", "line1", "city", "country"):
        if not typed[field] and field not in errors:
            errors[field] = "required"

    country = typed["country"].upper()
    if "country" not in errors and country not in COUNTRIES:
        errors["country"] = "country"
    known = "country" not in errors
    shape = layout(country if known else "")

    postal_code = typed["postal_code"].upper() or None
    if "postal_code" in errors:
        pass
    elif len(typed["postal_code"]) > SHORT_MAX_LENGTH:
        errors["postal_code"] = "too_long"
    elif known and postal_code is None and shape.postal_code_required:
        errors["postal_code"] = "required"
    elif known and postal_code is not None:
        postal_code = _postal_code(country, postal_code)
        if postal_code is None:
            errors["postal_code"] = "postal_code"

    # Only where the form shows a state: a value left over from another country, in a field the
    # customer can no longer see, must neither reach Stripe nor cause an error they cannot fix.
    state = None
    if shape.needs_state:
        state = typed["state"].upper() or None
        if "state" in errors:
            pass
        elif len(typed["state"]) > SHORT_MAX_LENGTH:
            errors["state"] = "too_long"
        elif state is None:
            errors["state"] = "required"
        elif state not in shape.states:
            errors["state"] = "state"

    phone = None
    if typed["phone"] and "phone" not in errors:
        phone = _phone(typed["phone"])
        if phone is None:
            errors["phone"] = "phone"

    if errors:
        return Checked(None, errors)
    return valid(
        Address(
            name=typed["name"],
            line1=typed["line1"],
            line2=typed["line2"] or None,
            postal_code=postal_code,
            city=typed["city"],
            state=state,
            country=country,
            phone=phone,
        )
    )


def _clean(value: str) -> str:
    # Pasted text brings tabs, line breaks and double spaces; the invoice should not.
    return " ".join(value.split())


def _postal_code(country: str, typed: str) -> str | None:
    """The canonical form of a postal code, or None if it is not one of that country."""
    postal = _POSTAL_CODES[country]
    compact = re.sub(r"[\s-]", "", typed.upper())
    candidates = [compact]
    for prefix in (country, *_LOCAL_PREFIXES.get(country, ())):
        if compact.startswith(prefix):
            candidates.append(compact.removeprefix(prefix))
    # As typed first: Maltese codes such as "MTF 1010" (Mtarfa) start with the country's code.
    for candidate in candidates:
        for pattern, template in postal.forms:
            match = re.fullmatch(pattern, candidate)
            if match:
                return match.expand(template)
    return None


def _phone(typed: str) -> str | None:
    """The number in E.164 form ("+4930123456"), or None if it lacks its country code."""
    # "+49 (0)30 ..." is how German numbers are often written: the (0) is the trunk prefix
    # dialled only from inside the country, never part of the international number.
    number = re.sub(r"[\s.()-]", "", typed.replace("(0)", ""))
    if number.startswith("00"):
        number = "+" + number[2:]
    # E.164: at most 15 digits and no country code starts with 0; fewer than 7 digits, country
    # code included, is a number cut short.
    if re.fullmatch(r"\+[1-9]\d{6,14}", number) is None:
        return None
    return number
