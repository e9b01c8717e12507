"""Stripe's REST API spoken as plain HTTP: its form encoding, its errors and a small client.

The demo seeder talks to Stripe the way any user of the API would, so it fills the local sandbox
and a real Stripe test-mode account alike. It deliberately does not use the `stripe` SDK: only
`portal.stripe` may import it, and the seeder would otherwise be a second door to Stripe.
"""

from __future__ import annotations

import asyncio
import uuid
from collections.abc import Mapping, Sequence
from datetime import datetime
from decimal import Decimal
from typing import Any, TypeAlias
from urllib.parse import urlencode

import httpx

__all__ = [
    "JSON",
    "FormValue",
    "StripeAPIError",
    "StripeHTTP",
    "encode_form",
]

# --- Stripe's form encoding ------------------------------------------------------------------

FormValue: TypeAlias = (
    str | int | bool | Decimal | datetime | Mapping[str, "FormValue"] | Sequence["FormValue"] | None
)


def encode_form(params: Mapping[str, FormValue]) -> list[tuple[str, str]]:
    """Flatten parameters into the `(key, value)` pairs Stripe expects in a form body.

    Nested mappings become `a[b][c]`, lists become `a[0][c]` (indexed, as Stripe's SDKs send
    them), booleans `true`/`false`, datetimes Unix timestamps and Decimals plain decimal strings
    (for `unit_amount_decimal`). None and empty containers send nothing: the caller leaves a
    field out rather than unsetting it, which Stripe spells as an empty string.
    """
    pairs: list[tuple[str, str]] = []
    for key, value in params.items():
        _encode_into(pairs, key, value)
    return pairs


def _encode_into(pairs: list[tuple[str, str]], key: str, value: FormValue) -> None:
    if value is None:
        return
    # bool before int: True is an int, and Stripe wants the word.
    if isinstance(value, bool):
        pairs.append((key, "true" if value else "false"))
    elif isinstance(value, str | int):
        pairs.append((key, str(value)))
    elif isinstance(value, Decimal):
        pairs.append((key, format(value, "f")))
    elif isinstance(value, datetime):
        if value.tzinfo is None:
            raise ValueError(f"{key}: naive datetime, Stripe timestamps need a time zone")
        pairs.append((key, str(int(value.timestamp()))))
    elif isinstance(value, Mapping):
        for sub_key, sub_value in value.items():
            _encode_into(pairs, f"{key}[{sub_key}]", sub_value)
    else:
        for index, item in enumerate(value):
            _encode_into(pairs, f"{key}[{index}]", item)


# --- a minimal HTTP client -----------------------------------------------------------------

JSON: TypeAlias = dict[str, Any]


class StripeAPIError(RuntimeError):
    """A non-2xx answer, carrying Stripe's own error message so a failed seed says why."""

    def __init__(self, method: str, path: str, status: int, error: Mapping[str, Any]) -> None:
        self.method = method
        self.path = path
        self.status = status
        self.type = str(error.get("type") or "")
        self.code = str(error.get("code") or "")
        self.param = str(error.get("param") or "")
        self.stripe_message = str(error.get("message") or "(no message)")
        details = ", ".join(
            f"{name}={value}"
            for name, value in (("type", self.type), ("code", self.code), ("param", self.param))
            if value
        )
        super().__init__(
            f"{method} {path} failed with HTTP {status}: {self.stripe_message}"
            + (f" ({details})" if details else "")
        )


class StripeHTTP:
    """POST/GET against a Stripe-compatible API, with Stripe's auth, encoding and errors."""

    # Attempts per request when the connection drops; POSTs are safe to repeat because each
    # carries an Idempotency-Key, as Stripe's SDKs do when they retry.
    ATTEMPTS = 3

    def __init__(self, client: httpx.AsyncClient) -> None:
        self._client = client

    async def post(
        self,
        path: str,
        params: Mapping[str, FormValue] | None = None,
        *,
        stripe_version: str | None = None,
    ) -> JSON:
        """POST form parameters; `stripe_version` for the few calls that need another API
        version than the account's default (a preview feature's parameters)."""
        body = urlencode(encode_form(params or {}))
        headers = {
            "Content-Type": "application/x-www-form-urlencoded",
            "Idempotency-Key": f"demo-seed-{uuid.uuid4()}",
        }
        if stripe_version is not None:
            headers["Stripe-Version"] = stripe_version
        return await self._send("POST", path, content=body, headers=headers)

    async def get(self, path: str, params: Mapping[str, FormValue] | None = None) -> JSON:
        return await self._send("GET", path, params=encode_form(params or {}))

    async def _send(self, method: str, path: str, **kwargs: Any) -> JSON:
        for attempt in range(1, self.ATTEMPTS + 1):
            try:
                response = await self._client.request(method, path, **kwargs)
                break
            except httpx.TransportError:
                if attempt == self.ATTEMPTS:
                    raise
                await asyncio.sleep(0.2 * attempt)
        try:
            body = response.json()
        except ValueError:
            body = {"error": {"message": response.text[:200] or response.reason_phrase}}
        if not response.is_success:
            error = body.get("error") if isinstance(body, dict) else None
            raise StripeAPIError(method, path, response.status_code, error or {})
        if not isinstance(body, dict):
            raise StripeAPIError(
                method, path, response.status_code, {"message": "not a JSON object"}
            )
        return body
