"""Hashing and signing in one place, each use under a purpose of its own.

- `digest`: what is stored instead of a random token the browser or an e-mail holds (sign-in
  links, session ids, e-mail change and undo links, the staff sign-in's `state`): SHA-256, so a
  read of the database cannot be replayed. The tokens carry 256 random bits; no salt is needed.
- `mac`: a value only the portal can compute, under `PORTAL_SECRET_KEY`: CSRF tokens (bound to
  the browser's id) and sign-in codes (bound to their link), HMAC-SHA256 over
  `"<purpose>:<value>"`, so that no value made for one purpose passes for another.
- `serializer`: signed, timestamped data handed out (invoice links), itsdangerous with the
  purpose as its salt.

The model is Warehouse's token service: one salt per purpose
(https://github.com/pypi/warehouse/blob/main/warehouse/accounts/services.py).
"""

from __future__ import annotations

import hashlib
import hmac
from enum import StrEnum
from typing import Any

from itsdangerous import URLSafeTimedSerializer


class Purpose(StrEnum):
    CSRF = "csrf"
    SIGN_IN_CODE = "sign-in-code"
    INVOICE_LINK = "portal.invoice-link.v1"


def digest(token: str) -> str:
    """The SHA-256 (hex) of a random token, as stored in its place."""
    return hashlib.sha256(token.encode()).hexdigest()


def mac(secret: str, purpose: Purpose, value: str) -> str:
    """HMAC-SHA256 (hex) of `value` for `purpose` under the secret key."""
    message = f"{purpose}:{value}".encode()
    # `hmac.digest`: the same HMAC as `hmac.new(...).hexdigest()`, in one C call (CSRF tokens
    # are made on every page).
    return hmac.digest(secret.encode(), message, "sha256").hex()


def same(a: str, b: str) -> bool:
    """Compare two digests or MACs in constant time. As bytes: `compare_digest` raises on text
    beyond ASCII, which a forged form field may hold and no digest does."""
    return hmac.compare_digest(_bytes(a), _bytes(b))


def _bytes(text: str) -> bytes:
    return text.encode("utf-8", "surrogatepass")


def serializer(secret: str, purpose: Purpose, **options: Any) -> URLSafeTimedSerializer:
    """Signs and reads data for `purpose` (`options`: itsdangerous's, e.g. a signer)."""
    return URLSafeTimedSerializer(secret, salt=str(purpose), **options)
