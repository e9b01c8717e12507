"""The sandbox's settings: where webhooks go, injected latency, and the URLs it hands out."""

from __future__ import annotations

from dataclasses import dataclass

DEFAULT_API_VERSION = "2026-10-28.endive"


@dataclass
class SandboxConfig:
    # A webhook endpoint configured from outside (the CLI's --webhook-url), in addition to the
    # ones registered through POST /v1/webhook_endpoints.
    webhook_url: str | None = None
    webhook_secret: str | None = None
    # Delay before answering each /v1 call, so benchmarks can model Stripe's round trip.
    latency_ms: int = 0
    # Base of the URLs the sandbox hands out (hosted_invoice_url, invoice_pdf, checkout url, 3-D
    # Secure page). None: the base URL of the request that created the object.
    public_url: str | None = None
    # Waits between webhook delivery attempts; one attempt more than there are delays.
    webhook_retry_delays: tuple[float, ...] = (0.5, 1.0, 2.0, 4.0)
    webhook_timeout_s: float = 5.0
    # How long a SEPA Direct Debit PaymentIntent stays `processing`. 0: it settles as soon as the
    # confirming request has been answered (that response still says `processing`).
    sepa_settlement_delay_ms: int = 0
    # Who issues the invoices (shown on the hosted page and the PDF).
    account_name: str = "Sandbox Billing Ltd"
    account_country: str = "DE"
    api_version: str = DEFAULT_API_VERSION
