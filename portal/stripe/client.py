"""The connection under every section of the gateway: the SDK's client, and the HTTP beneath it.

One `Connection` per process: the SDK's `StripeClient` with its async HTTPX client, the configured
`api_base`, a timeout and the SDK's own network retries, extended to Stripe's 429s, with at most
a configured number of calls under way (`StripeHttp`). The gateway's sections (`customers.py`,
`invoices.py`, ...) are mixins over it, composed into one `StripeGateway` in `gateway.py`.
"""

from __future__ import annotations

import asyncio
from collections.abc import Mapping
from datetime import timedelta
from typing import Any, cast

import httpx
import stripe

from portal.settings import STRIPE_INVOICE_API_VERSION, STRIPE_MAX_CONCURRENT_REQUESTS
from portal.stripe import pace as pacing
from portal.stripe.errors import stripe_errors

# The SDK's longest backoff between two tries of one request.
RETRY_DELAY = timedelta(seconds=2)


def longest(requests: int, *, timeout: float, max_network_retries: int) -> timedelta:
    """The most time `requests` Stripe requests made one after another can take, each tried
    `1 + max_network_retries` times for up to `timeout` seconds: a lease held across them
    outlasts them."""
    tries = 1 + max_network_retries
    one_request = timedelta(seconds=timeout) * tries + RETRY_DELAY * max_network_retries
    return one_request * requests


class StripeHttp(stripe.HTTPXClient):
    """The SDK's HTTPX client, with two things Stripe's rate limits ask for
    (https://docs.stripe.com/rate-limits):

    - at most `max_in_flight` requests under way at once; the others wait their turn here
      rather than be refused by Stripe's concurrency limiter. A retry waits for its backoff
      without holding a place;
    - a 429 is retried with the SDK's backoff (0.5 s doubling, with jitter), like a 5xx. The
      SDK itself retries a 429 only when Stripe adds `Stripe-Should-Retry: true` (lock
      timeouts), not for `rate_limit`. Repeating is safe: Stripe refused the request before
      doing anything, and a repeated POST carries the same idempotency key.

    Inside a batch job's `pace.paced(...)`, each request also waits for the job's pace, which
    tries a 429 again more patiently than the SDK (`portal.stripe.pace`).
    """

    def __init__(self, *, timeout: float, max_in_flight: int) -> None:
        super().__init__(timeout=timeout)
        self._slots = asyncio.Semaphore(max_in_flight)

    async def request_async(
        self, method: str, url: str, headers: Mapping[str, str], post_data: Any = None
    ) -> tuple[bytes, int, Mapping[str, str]]:
        pace = pacing.current()
        if pace is None:
            return await self._one(method, url, headers, post_data)
        return await pace.send(lambda: self._one(method, url, headers, post_data))

    async def _one(
        self, method: str, url: str, headers: Mapping[str, str], post_data: Any
    ) -> tuple[bytes, int, Mapping[str, str]]:
        async with self._slots:
            return await super().request_async(method, url, headers, post_data)

    def _should_retry(
        self,
        response: tuple[Any, int, Mapping[str, str] | None] | None,
        api_connection_error: stripe.APIConnectionError | None,
        num_retries: int,
        max_network_retries: int | None,
    ) -> bool:
        if response is not None and response[1] == 429 and num_retries < (max_network_retries or 0):
            headers = response[2] or {}
            return headers.get("stripe-should-retry") != "false"
        return bool(
            super()._should_retry(response, api_connection_error, num_retries, max_network_retries)
        )


class Connection:
    """What every section of the gateway shares: the SDK's client and a plain one for files."""

    def __init__(
        self,
        *,
        api_key: str,
        api_base: str = "https://api.stripe.com",
        timeout: float = 10.0,
        max_network_retries: int = 2,
        invoice_api_version: str = STRIPE_INVOICE_API_VERSION,
        max_concurrent_requests: int = STRIPE_MAX_CONCURRENT_REQUESTS,
    ) -> None:
        self._api_base = api_base.rstrip("/")
        # Sent with every read of invoices (see `_invoice_reads`); the rest of the requests go
        # with the version the SDK pins and types, so writes never meet preview behaviour.
        self._invoice_version = invoice_api_version
        self._http = StripeHttp(timeout=timeout, max_in_flight=max_concurrent_requests)
        self._client = stripe.StripeClient(
            api_key,
            # The sandbox (and any Stripe-compatible server) answers for all three hosts.
            base_addresses={
                "api": self._api_base,
                "files": self._api_base,
                "connect": self._api_base,
            }
            if self._api_base != "https://api.stripe.com"
            else None,
            http_client=self._http,
            max_network_retries=max_network_retries,
        )
        self._files = httpx.AsyncClient(timeout=timeout, follow_redirects=False)

    async def aclose(self) -> None:
        await self._files.aclose()
        close: Any = self._http.close_async  # untyped in the SDK
        await close()

    def _invoice_reads(self) -> stripe.RequestOptions:
        """Per-request options for reading invoices: with the preview API version, without
        which Stripe leaves out payment plans (`amounts_due`) and `automatically_finalizes_at`
        (https://docs.stripe.com/sdks/set-version)."""
        return {"stripe_version": self._invoice_version}

    async def _get(self, path: str, **params: Any) -> dict[str, Any]:
        """A read through the SDK's raw request: the same requestor (key, retries, errors),
        without building StripeObjects, which costs about a millisecond per invoice, the largest
        share of a page's own time. `path` ids are quoted (they may come from a form)."""
        async with stripe_errors():
            response = await self._client.raw_request_async("get", path, **params)
        return cast(dict[str, Any], response.data)
