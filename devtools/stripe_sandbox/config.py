"""The sandbox's settings: where webhooks go, injected latency, and the URLs it hands out."""

from __future__ import annotations

import dataclasses
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
    # Base of the URLs the sandbox hands out (hosted_invoice_url, invoice_pdf, receipts, and the
    # surfaces below when they have no base of their own). None: the base URL of the request
    # that created the object.
    public_url: str | None = None
    # Stripe serves 3-D Secure (hooks.stripe.com), Checkout (checkout.stripe.com) and the files
    # invoice_pdf redirects to (files.stripe.com) on origins other than the API's; a browser
    # treats each as foreign (CSP form-action, cookies). Each base set here gets the surface's
    # URLs, and that surface is then served only on that origin and refused on every other, so
    # a test cannot pass because everything shares one origin. None: on the API's base.
    hooks_url: str | None = None
    checkout_url: str | None = None
    files_url: str | None = None
    # Waits between webhook delivery attempts; one attempt more than there are delays.
    webhook_retry_delays: tuple[float, ...] = (0.5, 1.0, 2.0, 4.0)
    webhook_timeout_s: float = 5.0
    # How long money takes to reach a bank: a SEPA Direct Debit PaymentIntent stays `processing`,
    # and an asynchronous refund `pending` (or, for the failing test card, `succeeded` before it
    # fails), this long. 0: it moves as soon as the request has been answered (that response still
    # shows the first status).
    sepa_settlement_delay_ms: int = 0
    # Who issues the invoices (shown on the hosted page and the PDF).
    account_name: str = "Sandbox Billing Ltd"
    account_country: str = "DE"
    # The account's "Successful payments" customer e-mail setting (Dashboard > Settings >
    # Customer emails). Off by default: Stripe's receipts guide has it switched on as a step
    # of setting receipts up (https://docs.stripe.com/receipts). Stripe's test mode sends receipts
    # only to the account's team members' verified addresses (`team_emails`); see
    # `stripe_sandbox.receipts`. Both changeable at run time (POST /_sandbox/account).
    email_successful_payments: bool = False
    team_emails: tuple[str, ...] = ()
    api_version: str = DEFAULT_API_VERSION
    # Stripe's Search API is eventually consistent: a new or changed object shows up in search
    # results after a delay (up to about a minute). Seconds on the sandbox clock; 0: at once.
    search_delay_s: float = 0.0
    # Requests per second before 429 `rate_limit` (Stripe: 25 in test mode, 100 live). None:
    # no limit. Changeable at run time (POST /_sandbox/rate_limit).
    rate_limit: float | None = None
    # The Search API's own limit (Stripe: 20/s), counted on top of the global one; applied only
    # while `rate_limit` is on.
    search_rate_limit: float = 20.0

    def surface_urls(self) -> dict[str, str]:
        """The surfaces with a base URL of their own: name -> base (no trailing slash)."""
        bases = {"hooks": self.hooks_url, "checkout": self.checkout_url, "files": self.files_url}
        return {name: url.rstrip("/") for name, url in bases.items() if url}


# The surfaces served on ports of their own by `portal sandbox` and `portal demo`, in the order
# of the ports after the API's: API port + 1, + 2, + 3.
OWN_PORT_SURFACES = ("hooks", "checkout", "files")


def on_own_ports(config: SandboxConfig, host: str, api_port: int) -> SandboxConfig:
    """`config` with 3-D Secure, Checkout and files on the ports after the API's."""
    hooks, checkout, files = (
        f"http://{host}:{api_port + offset}" for offset in range(1, len(OWN_PORT_SURFACES) + 1)
    )
    return dataclasses.replace(config, hooks_url=hooks, checkout_url=checkout, files_url=files)
