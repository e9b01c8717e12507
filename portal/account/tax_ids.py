"""Tax IDs a customer can add: which Stripe types their country offers, and a check before Stripe.

Stripe refuses a malformed value with an English message meant for developers, and in live mode
only learns days later from the tax authority that a number does not exist. python-stdnum checks
the format and the check digit at once, so a typo is pointed out next to the field instead. The
value sent is in the form of Stripe's examples for the type
(https://docs.stripe.com/billing/customer/tax-ids#supported-tax-id).
"""

from __future__ import annotations

import importlib
import re
from collections.abc import Callable
from dataclasses import dataclass
from typing import Literal

from portal.account.addresses import EU_STATES
from portal.forms import Checked, invalid, valid

COUNTRIES: tuple[str, ...] = tuple(sorted(EU_STATES | {"GB", "CH", "NO"}))

# The national numbers Stripe takes besides the VAT number, where python-stdnum can check them.
_NATIONAL = {"DE": "de_stn", "ES": "es_cif", "HR": "hr_oib", "PL": "pl_nip"}
_VAT_OUTSIDE_EU = {"GB": "gb_vat", "CH": "ch_vat", "NO": "no_vat"}

# Greece's VAT numbers start with EL (its ISO 639 language code), not its country code GR; Stripe
# and VIES only know EL, while python-stdnum would also let "GR..." through.
_VAT_PREFIXES = {"GR": "EL"}

Reason = Literal["unsupported", "format", "checksum"]
# What can be wrong with the form: no country from the list, or the number (a `Reason`).
Problem = Literal["country", "unsupported", "format", "checksum"]


@dataclass(frozen=True)
class NewTaxId:
    kind: str
    value: str


class InvalidTaxId(ValueError):
    """The value cannot be sent to Stripe; `reason` says what the customer should fix."""

    def __init__(self, reason: Reason) -> None:
        super().__init__(reason)
        self.reason: Reason = reason


def kinds_for(country: str) -> tuple[str, ...]:
    """The Stripe types offered for a country, the VAT number (what most customers have) first."""
    code = country.strip().upper()
    if code in EU_STATES:
        return ("eu_vat", _NATIONAL[code]) if code in _NATIONAL else ("eu_vat",)
    if code in _VAT_OUTSIDE_EU:
        return (_VAT_OUTSIDE_EU[code],)
    return ()


def normalize(kind: str, country: str, value: str) -> str:
    """The value without the separators people type, with the prefix the type requires."""
    code = country.strip().upper()
    if kind not in kinds_for(code):
        raise InvalidTaxId("unsupported")
    # Spaces, dots, dashes and slashes only separate groups of digits in all these types; Irish
    # VAT numbers' "+" and "*" are part of the number and stay.
    compact = re.sub(r"[\s./-]", "", value).upper()
    if kind == "eu_vat":
        prefix = _VAT_PREFIXES.get(code, code)
        if compact.startswith(code) and code != prefix:
            compact = compact.removeprefix(code)
        return compact if compact.startswith(prefix) else prefix + compact
    if kind == "gb_vat":
        return compact if compact.startswith("GB") else "GB" + compact
    if kind == "ch_vat":
        return _swiss(compact)
    if kind == "no_vat":
        return compact.removeprefix("NO")  # Stripe's form is "123456789MVA", without it
    if kind in ("es_cif", "hr_oib", "pl_nip"):
        return compact.removeprefix(code)  # the VAT prefix, typed out of habit
    return compact


def check(kind: str, country: str, value: str) -> str:
    """The value as Stripe expects it for `kind`, once format and check digit are right."""
    from stdnum.exceptions import InvalidChecksum, ValidationError

    normalized = normalize(kind, country, value)
    validate: Callable[[str], str] = importlib.import_module(_VALIDATORS[kind]).validate
    try:
        number = validate(normalized)
    except InvalidChecksum:
        raise InvalidTaxId("checksum") from None
    except ValidationError:  # InvalidFormat, InvalidLength, InvalidComponent (a wrong suffix)
        raise InvalidTaxId("format") from None
    if kind == "gb_vat":
        return "GB" + number  # python-stdnum drops the prefix Stripe wants
    if kind == "ch_vat":
        return _swiss(number)
    return number


def validate(country: str, kind: str, typed: str) -> Checked[NewTaxId, Problem]:
    """The tax ID the form asks for: the country first (it says which kinds there are),
    then the number, for the kind chosen or else the country's first."""
    code = country.strip().upper()
    if code not in COUNTRIES:
        return invalid(country="country")
    kind = kind or kinds_for(code)[0]
    try:
        return valid(NewTaxId(kind, check(kind, code, typed)))
    except InvalidTaxId as exc:
        return invalid(value=exc.reason)


def _swiss(compact: str) -> str:
    """Stripe's form of a Swiss VAT number, "CHE-123.456.789 MWST", when the value has its shape.

    The suffix only says in which language "VAT" is abbreviated. Stripe's examples and the
    sandbox know MWST, TVA and IVA; the rarer Romansh TPV is the same registration and is sent
    as MWST rather than risk a refusal.
    """
    match = re.fullmatch(r"(?:CHE)?(\d{3})(\d{3})(\d{3})(MWST|TVA|IVA|TPV)", compact)
    if match is None:
        return compact
    suffix = "MWST" if match[4] == "TPV" else match[4]
    return f"CHE-{match[1]}.{match[2]}.{match[3]} {suffix}"


# python-stdnum's module for each type, imported on the first check of one: most processes
# never check a number, and the library's modules take megabytes.
_VALIDATORS: dict[str, str] = {
    "eu_vat": "stdnum.eu.vat",  # by the value's prefix, which normalize made the country's
    "gb_vat": "stdnum.gb.vat",
    "ch_vat": "stdnum.ch.vat",
    "no_vat": "stdnum.no.mva",
    "de_stn": "stdnum.de.stnr",  # the format of one of the Länder; the Steuernummer has no check digit
    "es_cif": "stdnum.es.cif",
    "hr_oib": "stdnum.hr.oib",
    "pl_nip": "stdnum.pl.nip",
}
