"""Bank transfers (the `customer_balance` payment method, `funding_type=bank_transfer`): which
transfer type takes which currency from which account, the virtual bank account each customer
gets per type and country, and the instructions a PaymentIntent shows while it waits for money.

Stripe gives a customer one virtual account per transfer type and country and hands out the same
one every time (docs.stripe.com/payments/customer-balance/virtual-bank-account-numbers). In test
mode Stripe's account details are invalid; the sandbox's are valid (IBAN check digits, Belgian,
Spanish and French national checks, CLABE check digit) so that a portal can put them in an EPC
QR code. They use a sandbox bank code (`SBOX`, `999…`) and are not anybody's account.
"""

from __future__ import annotations

import secrets
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

from stripe_sandbox.errors import invalid_request, missing_param
from stripe_sandbox.params import ADDRESS_FIELDS, Params, get_dict, get_str, get_str_list
from stripe_sandbox.store import JSON, Store

# Countries of an `eu_bank_transfer` IBAN (the Invoice object's enum in the SDK and the API
# reference: BE, DE, ES, FR, IE, NL; the params' docstrings still name only four).
EU_COUNTRIES = ("BE", "DE", "ES", "FR", "IE", "NL")
# SEPA countries an account may be in (EEA and Switzerland), for which transfers it may accept.
SEPA = frozenset(
    {"AT", "BE", "BG", "CH", "CY", "CZ", "DE", "DK", "EE", "ES", "FI", "FR", "GR", "HR", "HU",
     "IE", "IS", "IT", "LI", "LT", "LU", "LV", "MT", "NL", "NO", "PL", "PT", "RO", "SE", "SI",
     "SK"}
)  # fmt: skip


@dataclass(frozen=True)
class TransferType:
    currency: str
    # Where the account must be (docs.stripe.com/payments/bank-transfers, "Bank transfer methods").
    account_countries: frozenset[str]
    address_types: tuple[str, ...]


TYPES: dict[str, TransferType] = {
    "eu_bank_transfer": TransferType("eur", SEPA | {"GB", "US"}, ("iban",)),
    "gb_bank_transfer": TransferType("gbp", frozenset({"GB"}), ("sort_code",)),
    "jp_bank_transfer": TransferType("jpy", frozenset({"JP"}), ("zengin",)),
    "mx_bank_transfer": TransferType("mxn", frozenset({"MX"}), ("spei",)),
    "us_bank_transfer": TransferType("usd", SEPA | {"GB", "US"}, ("aba", "swift")),
}
TYPE_BY_CURRENCY = {kind.currency: name for name, kind in TYPES.items()}
NETWORKS = {
    "aba": ["ach", "domestic_wire_us"],
    "iban": ["sepa"],
    "sort_code": ["bacs", "fps"],
    "spei": ["spei"],
    "swift": ["swift"],
    "zengin": ["zengin"],
}
OPTIONS = "payment_method_options[customer_balance]"


@dataclass(frozen=True)
class Options:
    """A payment's bank transfer settings: `payment_method_options[customer_balance]`."""

    type: str
    country: str | None  # eu_bank_transfer's IBAN country
    requested_address_types: tuple[str, ...] | None = None

    @classmethod
    def from_json(cls, chosen: JSON) -> Options:
        """From an object's `payment_method_options[customer_balance]`."""
        transfer = chosen["bank_transfer"]
        requested = transfer.get("requested_address_types")
        return cls(
            transfer["type"],
            (transfer.get("eu_bank_transfer") or {}).get("country"),
            tuple(requested) if requested is not None else None,
        )

    def as_json(self) -> JSON:
        """The `customer_balance` hash of an object's `payment_method_options`."""
        bank_transfer: JSON = {"type": self.type}
        if self.country is not None:
            bank_transfer["eu_bank_transfer"] = {"country": self.country}
        if self.requested_address_types is not None:
            bank_transfer["requested_address_types"] = list(self.requested_address_types)
        return {"bank_transfer": bank_transfer, "funding_type": "bank_transfer"}


def transfer_type_for(currency: str | None, account_country: str) -> str | None:
    """The transfer type an account offers for a currency, if any."""
    name = TYPE_BY_CURRENCY.get(currency or "")
    if name is None or account_country not in TYPES[name].account_countries:
        return None
    return name


def parse_options(
    given: Any, currency: str | None, account_country: str, param: str, *, default_country: bool
) -> Options:
    """`customer_balance` payment method options, checked against the currency and the account.

    Without a `type`, the currency's type; an EU IBAN without a country takes the account's
    (`default_country`: invoices and Checkout, as Stripe's Dashboard does) or is refused.
    """
    options = given if isinstance(given, dict) else {}
    transfer = _name(param, "bank_transfer")
    funding_type = get_str(options, "funding_type")
    if funding_type not in (None, "bank_transfer"):
        raise invalid_request(
            "Invalid funding_type: must be bank_transfer", param=_name(param, "funding_type")
        )
    bank_transfer = get_dict(options, "bank_transfer") or {}
    name = get_str(bank_transfer, "type") or TYPE_BY_CURRENCY.get(currency or "")
    type_param = f"{transfer}[type]"
    if name is None:
        raise invalid_request(
            f"Bank transfers cannot take payments in {(currency or '').upper()}.",
            param=type_param,
        )
    if name not in TYPES:
        raise invalid_request(f"Invalid type: must be one of {', '.join(TYPES)}", param=type_param)
    kind = TYPES[name]
    if currency is not None and currency != kind.currency:
        raise invalid_request(
            f"The bank transfer type {name} only accepts {kind.currency.upper()}, not "
            f"{currency.upper()}.",
            param=type_param,
        )
    if account_country not in kind.account_countries:
        raise invalid_request(
            f"The bank transfer type {name} is not available to accounts in {account_country}.",
            param=type_param,
        )
    country = _eu_country(bank_transfer, name, account_country, transfer, default_country)
    requested = get_str_list(bank_transfer, "requested_address_types")
    if requested is not None:
        offered = [t for t in requested if t in kind.address_types]
        if not offered:
            raise invalid_request(
                f"None of the requested address types can be used with {name} (it has "
                f"{', '.join(kind.address_types)}).",
                param=f"{transfer}[requested_address_types]",
            )
    return Options(name, country, tuple(requested) if requested is not None else None)


def _name(prefix: str, key: str) -> str:
    return f"{prefix}[{key}]" if prefix else key


def _eu_country(
    bank_transfer: Params, name: str, account_country: str, param: str, default_country: bool
) -> str | None:
    eu = get_dict(bank_transfer, "eu_bank_transfer")
    if name != "eu_bank_transfer":
        if eu:
            raise invalid_request(
                f"eu_bank_transfer can only be given with type eu_bank_transfer, not {name}.",
                param=f"{param}[eu_bank_transfer]",
            )
        return None
    country = get_str(eu or {}, "country")
    country_param = f"{param}[eu_bank_transfer][country]"
    if country is None:
        if default_country and account_country in EU_COUNTRIES:
            return account_country
        raise missing_param(country_param)
    if country not in EU_COUNTRIES:
        raise invalid_request(
            f"Invalid country: must be one of {', '.join(EU_COUNTRIES)}", param=country_param
        )
    return country


# -- virtual bank accounts ---------------------------------------------------------------------


def _digits(text: str) -> str:
    """Letters as ISO 13616 numbers (A=10 … Z=35)."""
    return "".join(str(int(ch, 36)) for ch in text)


def iban(country: str, bban: str) -> str:
    check = 98 - int(_digits(bban + country + "00")) % 97
    return f"{country}{check:02d}{bban}"


def spanish_control(digits: str) -> str:
    """One of a Spanish account's two control digits ("dígitos de control")."""
    weights = (1, 2, 4, 8, 5, 10, 9, 7, 3, 6)
    value = 11 - sum(int(d) * w for d, w in zip(digits, weights, strict=True)) % 11
    return str({11: 0, 10: 1}.get(value, value))


# The national part of each country's IBAN (its BBAN) for account number `n`: a sandbox bank
# code, the number, and the national check digits where the country has them.
def belgian_check(body: str) -> int:
    """A Belgian account's last two digits: its first ten modulo 97 (97 for 0)."""
    return int(body) % 97 or 97


def _be(n: int) -> str:
    body = f"999{n:07d}"
    return f"{body}{belgian_check(body):02d}"


def _de(n: int) -> str:
    return f"99990000{n:010d}"


def _es(n: int) -> str:
    bank, branch, account = "9999", "0001", f"{n:010d}"
    return (
        bank + branch + spanish_control("00" + bank + branch) + spanish_control(account)
        + account
    )  # fmt: skip


def rib_key(bank: str, branch: str, account: str) -> int:
    """A French account's RIB key (digits-only accounts)."""
    return 97 - (89 * int(bank) + 15 * int(branch) + 3 * int(account)) % 97


def _fr(n: int) -> str:
    bank, branch, account = "99999", "00001", f"{n:011d}"
    return f"{bank}{branch}{account}{rib_key(bank, branch, account):02d}"


def _ie(n: int) -> str:
    return f"SBOX990000{n:08d}"


def _nl(n: int) -> str:
    return f"SBOX{n:010d}"


BBANS: dict[str, Callable[[int], str]] = {
    "BE": _be, "DE": _de, "ES": _es, "FR": _fr, "IE": _ie, "NL": _nl,
}  # fmt: skip


def bic(country: str) -> str:
    # A location code ending in 0 marks a test BIC (ISO 9362).
    return f"SBOX{country}20"


def clabe(n: int) -> str:
    """A Mexican CLABE: bank 999, plaza 180, the account, and its weighted check digit."""
    body = f"999180{n:011d}"
    total = sum(int(d) * w % 10 for d, w in zip(body, (3, 7, 1) * 6, strict=False))
    return body + str((10 - total % 10) % 10)


def _address(country: str | None) -> JSON:
    address: JSON = {field: None for field in ADDRESS_FIELDS}
    address["country"] = country
    return address


def _financial_addresses(store: Store, name: str, country: str | None, n: int) -> list[JSON]:
    holder = {
        "account_holder_address": _address(store.config.account_country),
        "account_holder_name": store.account_settings.name,
    }
    if name == "eu_bank_transfer":
        assert country is not None
        record = holder | {"bank_address": _address(country), "bic": bic(country),
                           "country": country, "iban": iban(country, BBANS[country](n))}  # fmt: skip
        return [_address_of("iban", record)]
    if name == "gb_bank_transfer":
        record = holder | {"account_number": f"{n:08d}", "bank_address": _address("GB"),
                           "sort_code": "990000"}  # fmt: skip
        return [_address_of("sort_code", record)]
    if name == "us_bank_transfer":
        number = f"{n:012d}"
        aba = holder | {"account_number": number, "account_type": "checking",
                        "bank_address": _address("US"), "bank_name": "Sandbox Bank",
                        "routing_number": "110000000"}  # fmt: skip
        swift = holder | {"account_number": number, "account_type": "checking",
                          "bank_address": _address("US"), "bank_name": "Sandbox Bank",
                          "swift_code": "SBOXUS20XXX"}  # fmt: skip
        return [_address_of("aba", aba), _address_of("swift", swift)]
    if name == "jp_bank_transfer":
        zengin = holder | {"account_number": f"{n:07d}", "account_type": "futsu",
                           "bank_address": _address("JP"), "bank_code": "0999",
                           "bank_name": "Sandbox Bank", "branch_code": "001",
                           "branch_name": "Head Office"}  # fmt: skip
        return [_address_of("zengin", zengin)]
    spei = holder | {"bank_address": _address("MX"), "bank_code": "999",
                     "bank_name": "Sandbox Bank", "clabe": clabe(n)}  # fmt: skip
    return [_address_of("spei", spei)]


def _address_of(kind: str, record: JSON) -> JSON:
    return {kind: record, "supported_networks": list(NETWORKS[kind]), "type": kind}


def virtual_account(store: Store, customer_id: str, options: Options) -> list[JSON]:
    """The customer's account for this transfer type and country, the same on every call."""
    accounts: dict[str, list[JSON]] = store.secret(customer_id).setdefault("virtual_accounts", {})
    key = f"{options.type}:{options.country or ''}"
    if key not in accounts:
        # Account numbers are unique across the sandbox's customers.
        number = store.private.setdefault("_virtual_accounts", {"next": 1})
        n = number["next"]
        number["next"] = n + 1
        accounts[key] = _financial_addresses(store, options.type, options.country, n)
    wanted = options.requested_address_types
    return [
        dict(address) for address in accounts[key] if wanted is None or address["type"] in wanted
    ]


def country_of(options: Options) -> str:
    return options.country or options.type[:2].upper()


# -- instructions on a PaymentIntent -----------------------------------------------------------


_REFERENCE_ALPHABET = "ABCDEFGHJKLMNPQRSTUVWXYZ23456789"


def new_reference() -> str:
    """A PaymentIntent's transfer reference (Stripe's format is not documented; this is the
    sandbox's: 12 upper-case letters and digits without look-alikes)."""
    return "".join(secrets.choice(_REFERENCE_ALPHABET) for _ in range(12))


def instructions(
    store: Store, pi: JSON, options: Options, reference: str, amount_remaining: int
) -> JSON:
    """`next_action` of a PaymentIntent waiting for a bank transfer."""
    return {
        "type": "display_bank_transfer_instructions",
        "display_bank_transfer_instructions": {
            "amount_remaining": amount_remaining,
            "currency": pi["currency"],
            "financial_addresses": virtual_account(store, pi["customer"], options),
            # Stripe's page is on an origin of its own; the sandbox's is on Checkout's.
            "hosted_instructions_url": f"{store.surface_url('checkout')}/c/pay/instructions/"
            f"{pi['id']}",
            "reference": reference,
            "type": options.type,
        },
    }
