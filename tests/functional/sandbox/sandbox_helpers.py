"""Helpers for the sandbox's functional tests: the official SDK pointed at a sandbox, a webhook
receiver's recorded state, and shortcuts for common set-ups."""

from __future__ import annotations

import contextlib
import threading
import time
from collections.abc import Callable, Iterator
from dataclasses import dataclass, field
from typing import Any

import httpx
import stripe

from stripe_sandbox import preview

API_KEY = "sk_test_sandbox_functional"
FAST_RETRIES = (0.05, 0.1, 0.2)
# Payment plans are a Stripe preview: requests that send or read them use a preview version.
PREVIEW: stripe.RequestOptions = {"stripe_version": preview.PREVIEW_VERSION}


@contextlib.contextmanager
def sdk_client(
    base_url: str, api_key: str = API_KEY, **options: Any
) -> Iterator[stripe.StripeClient]:
    """The official SDK pointed at a sandbox, its connection pool closed afterwards."""
    http = stripe.HTTPXClient(allow_sync_methods=True)
    try:
        yield stripe.StripeClient(
            api_key,
            base_addresses={"api": base_url, "files": base_url, "connect": base_url},
            http_client=http,
            max_network_retries=options.pop("max_network_retries", 0),
            **options,
        )
    finally:
        http.close()


@dataclass
class Sandbox:
    url: str
    client: stripe.StripeClient

    def control(self, method: str, path: str, json: object | None = None) -> httpx.Response:
        response = httpx.request(method, f"{self.url}/_sandbox/{path}", json=json, timeout=30)
        response.raise_for_status()
        return response

    def wait_for_webhooks(self, timeout: float = 10) -> None:
        pending = self.control("GET", f"webhooks/pending?wait={timeout}").json()["pending"]
        assert pending == 0, f"{pending} webhook deliveries still pending"


@dataclass
class Receiver:
    """Records webhook deliveries; answers 500 to the first `fail_first` of them."""

    url: str = ""
    fail_first: int = 0
    deliveries: list[tuple[bytes, dict[str, str]]] = field(default_factory=list)
    attempts: int = 0
    lock: threading.Lock = field(default_factory=threading.Lock)

    def bodies(self) -> list[bytes]:
        with self.lock:
            return [body for body, _ in self.deliveries]


def new_customer(client: stripe.StripeClient, **fields: object) -> stripe.Customer:
    params: dict[str, object] = {"email": "jan@example.com", "name": "Jan Kowalski"}
    params.update(fields)
    return client.v1.customers.create(params)  # type: ignore[arg-type]


def customer_with_card(
    client: stripe.StripeClient, token: str = "pm_card_visa", default: bool = True
) -> tuple[stripe.Customer, stripe.PaymentMethod]:
    customer = new_customer(client)
    pm = client.v1.payment_methods.attach(token, {"customer": customer.id})
    if default:
        client.v1.customers.update(
            customer.id, {"invoice_settings": {"default_payment_method": pm.id}}
        )
    return customer, pm


def open_invoice(
    client: stripe.StripeClient,
    customer_id: str,
    amount: int = 10000,
    currency: str = "eur",
    **fields: object,
) -> stripe.Invoice:
    params: dict[str, object] = {
        "customer": customer_id,
        "collection_method": "send_invoice",
        "days_until_due": 14,
        "currency": currency,
    }
    params.update(fields)
    invoice = client.v1.invoices.create(params)  # type: ignore[arg-type]
    client.v1.invoice_items.create(
        {"customer": customer_id, "invoice": invoice.id, "amount": amount,
         "currency": currency, "description": "Consulting"}
    )  # fmt: skip
    return client.v1.invoices.finalize_invoice(invoice.id)


def wait_until(check: Callable[[], bool], timeout: float = 5) -> None:
    """Poll `check` until it holds: for what the sandbox does after its settlement delay."""
    deadline = time.monotonic() + timeout
    while not check():
        assert time.monotonic() < deadline, "the sandbox did not get there in time"
        time.sleep(0.02)


def draft_invoice(client: stripe.StripeClient, customer_id: str, **fields: Any) -> stripe.Invoice:
    """A draft `send_invoice` invoice in euros, due 14 days after it is finalized."""
    params: dict[str, Any] = {
        "customer": customer_id,
        "collection_method": "send_invoice",
        "days_until_due": 14,
        "currency": "eur",
        **fields,
    }
    return client.v1.invoices.create(params)  # type: ignore[arg-type]
