"""Currency rules Stripe enforces on charges: minimum amounts, zero- and three-decimal units."""

from __future__ import annotations

from stripe_sandbox.errors import StripeError, invalid_request

# Smallest charge per currency, in minor units (Stripe's table; see shared/stripe/README.md).
MINIMUM_CHARGE: dict[str, int] = {
    "usd": 50, "eur": 50, "gbp": 30, "pln": 200, "czk": 1500, "huf": 17500, "ron": 200,
    "bgn": 100, "dkk": 250, "nok": 300, "sek": 300, "chf": 50, "aud": 50, "cad": 50,
    "nzd": 50, "sgd": 50, "hkd": 400, "inr": 50, "jpy": 50, "mxn": 1000, "brl": 50,
    "aed": 200, "myr": 200,
}  # fmt: skip

ZERO_DECIMAL = frozenset(
    [
        "bif",
        "clp",
        "djf",
        "gnf",
        "jpy",
        "kmf",
        "krw",
        "mga",
        "pyg",
        "rwf",
        "ugx",
        "vnd",
        "vuv",
        "xaf",
        "xof",
        "xpf",
    ]
)
THREE_DECIMAL = frozenset(["bhd", "jod", "kwd", "omr", "tnd"])

# Currencies the sandbox accepts at all; anything else is refused like an unknown currency.
SUPPORTED = (
    frozenset(MINIMUM_CHARGE)
    | ZERO_DECIMAL
    | THREE_DECIMAL
    | frozenset(["isk", "try", "zar", "ils", "thb", "idr", "php", "twd", "cny"])
)


def exponent(currency: str) -> int:
    currency = currency.lower()
    if currency in ZERO_DECIMAL:
        return 0
    if currency in THREE_DECIMAL:
        return 3
    return 2


def format_amount(amount: int, currency: str) -> str:
    """`1234, "eur"` -> "12.34 EUR"; plain and locale-free (the sandbox's pages and PDF)."""
    digits = exponent(currency)
    sign = "-" if amount < 0 else ""
    whole, fraction = divmod(abs(amount), 10**digits)
    text = f"{whole:,}" + (f".{fraction:0{digits}d}" if digits else "")
    return f"{sign}{text} {currency.upper()}"


def check_currency(currency: str, param: str = "currency") -> str:
    currency = currency.lower()
    if currency not in SUPPORTED:
        raise invalid_request(
            f"Invalid currency: {currency}. Stripe currently supports these currencies: "
            + ", ".join(sorted(SUPPORTED)),
            param=param,
            code="parameter_invalid",
        )
    return currency


def charge_amount_error(amount: int, currency: str, param: str = "amount") -> StripeError | None:
    """Why Stripe would refuse to charge `amount` in `currency`, or None when it would not."""
    currency = currency.lower()
    if amount < 1:
        return invalid_request(
            "This value must be greater than or equal to 1.", param=param, code="parameter_invalid"
        )
    if currency in THREE_DECIMAL and amount % 10:
        return invalid_request(
            f"Amounts in {currency.upper()} must be a multiple of 10 (the last decimal is 0).",
            param=param,
            code="parameter_invalid",
        )
    minimum = MINIMUM_CHARGE.get(currency)
    if minimum is not None and amount < minimum:
        return invalid_request(
            f"Amount must be at least {format_amount(minimum, currency)}",
            param=param,
            code="amount_too_small",
        )
    return None
