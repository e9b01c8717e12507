"""Stripe's per-currency rules: the smallest amount it will charge, and the size of the minor unit.

Amounts everywhere in the portal are integers in Stripe's minor unit, so these two facts decide
whether a payment can be attempted at all and what an amount means when it is shown. The values
come from Stripe's currency table (https://docs.stripe.com/currencies, summarised in the shared
Stripe notes); Stripe's convention wins over ISO 4217 and CLDR where they differ.
"""

from __future__ import annotations

from typing import Final

# Smallest charge per currency, in minor units: Stripe refuses anything smaller.
MINIMUM_CHARGE: Final[dict[str, int]] = {
    "usd": 50, "eur": 50, "gbp": 30, "pln": 200, "czk": 1500, "huf": 17500, "ron": 200,
    "bgn": 100, "dkk": 250, "nok": 300, "sek": 300, "chf": 50, "aud": 50, "cad": 50,
    "nzd": 50, "sgd": 50, "hkd": 400, "inr": 50, "jpy": 50, "mxn": 1000, "brl": 50,
    "aed": 200, "myr": 200,
}  # fmt: skip

# For a currency outside the table, Stripe documents "USD 0.50 or the equivalent". 50 minor units
# is the lowest floor in the table: guessing low only means Stripe may refuse a tiny charge with a
# clear error, while guessing high would stop a customer from paying an amount Stripe accepts.
DEFAULT_MINIMUM_CHARGE: Final = 50

# Currencies whose Stripe amount is already the whole unit (JPY 500 is ¥500).
ZERO_DECIMAL: Final = frozenset(
    ["bif", "clp", "djf", "gnf", "jpy", "kmf", "krw", "mga", "pyg", "rwf", "ugx", "vnd", "vuv",
     "xaf", "xof", "xpf"]
)  # fmt: skip
# Currencies whose Stripe amount is in thousandths (KWD 1234 is 1.234 KWD).
THREE_DECIMAL: Final = frozenset(["bhd", "jod", "kwd", "omr", "tnd"])


def minor_unit_exponent(currency: str) -> int:
    """How many decimal places Stripe's integer amount has in `currency` (0, 2 or 3).

    ISK, HUF and TWD are two-decimal here even where cash has no subunits, because Stripe's API
    keeps them two-decimal for backwards compatibility (ISK 100 is 1 króna).
    """
    code = currency.lower()
    if code in ZERO_DECIMAL:
        return 0
    if code in THREE_DECIMAL:
        return 3
    return 2


def minimum_charge(currency: str) -> int:
    """The smallest amount, in minor units, that Stripe charges in `currency`."""
    return MINIMUM_CHARGE.get(currency.lower(), DEFAULT_MINIMUM_CHARGE)


def below_minimum(amount: int, currency: str) -> bool:
    """Whether Stripe would refuse to charge `amount` (minor units) on its own.

    A part of an invoice this small cannot be paid by itself; the page offers to pay it together
    with more of the invoice instead of letting the payment fail at Stripe.
    """
    return amount < minimum_charge(currency)
