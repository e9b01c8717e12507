"""Identifiers and secrets in Stripe's formats (`cus_…`, `pi_…_secret_…`, `whsec_…`, `req_…`)."""

from __future__ import annotations

import secrets
import string

_ALPHABET = string.ascii_letters + string.digits
# Random bytes to letters and digits in C (bytes.translate): 248 (four times 62) of the 256 byte
# values map evenly onto the alphabet; the other 8 are dropped, so no character is likelier.
_EVEN = 4 * len(_ALPHABET)
_TO_ALPHABET = bytes((_ALPHABET * 5)[:256], "ascii")
_UNEVEN = bytes(range(_EVEN, 256))


def random_token(length: int) -> str:
    token = b""
    while len(token) < length:
        token += secrets.token_bytes(length + 8).translate(_TO_ALPHABET, _UNEVEN)
    return token[:length].decode("ascii")


def new_id(prefix: str, length: int = 24) -> str:
    """`prefix` is given without the underscore: new_id("cus") -> "cus_Q1w2…"."""
    return f"{prefix}_{random_token(length)}"


def checkout_session_id() -> str:
    return f"cs_test_{random_token(58)}"


def client_secret(object_id: str) -> str:
    return f"{object_id}_secret_{random_token(24)}"


def webhook_secret() -> str:
    return f"whsec_{random_token(32)}"


def request_id() -> str:
    return f"req_{random_token(14)}"


def invoice_prefix() -> str:
    # Stripe's prefixes are short upper-case alphanumerics unique to each customer.
    return "".join(secrets.choice(string.ascii_uppercase + string.digits) for _ in range(8))


def receipt_number() -> str:
    # As on Stripe's receipts: two groups of four digits ("1234-5678").
    return "-".join("".join(secrets.choice(string.digits) for _ in range(4)) for _ in range(2))
