"""Stripe's rate limits: a 429 is retried with backoff; a page whose reads are still refused
shows the last known data or a "busy, try again" page (503 with Retry-After), never an error
page, and nothing is logged as an error. The sandbox has a rate limiter of its own and the
portal its own sandbox here, so turning the limiter on disturbs no other test."""

from __future__ import annotations

import concurrent.futures
import logging
import re
import time
from collections.abc import Iterator
from pathlib import Path

import httpx
import pytest

from portal import i18n
from portal.stripe.errors import StripeRateLimited
from portal.stripe.gateway import StripeGateway
from stripe_sandbox.app import SandboxConfig, create_sandbox_app
from tests.conftest import SANDBOX_KEY
from tests.functional.billing.billing_support import customer_with_card, plan_invoice, signed_in
from tests.functional.portal_support import Browser, Portal, serve_portal, text_of
from tests.support.servers import serve_in_thread

BUSY = "Very busy right now"
# base.html's notice that the page shows data as of an earlier read.
STALE = re.compile(r'<p class="notice notice--warning" role="status">[^<]*\d{1,2}[:.]\d{2}')


@pytest.fixture(scope="module")
def sandbox(tmp_path_factory: pytest.TempPathFactory) -> Iterator[str]:
    with serve_in_thread(create_sandbox_app(SandboxConfig())) as url:
        yield url


@pytest.fixture(scope="module")
def portal(sandbox: str, tmp_path_factory: pytest.TempPathFactory) -> Iterator[Portal]:
    """The portal as deployed: the SDK's retries on (the tests' default portal has none)."""
    with serve_portal(
        Path(tmp_path_factory.mktemp("rate-limits")), sandbox, stripe_max_network_retries=2
    ) as found:
        yield found


@pytest.fixture
def control(sandbox: str) -> Iterator[httpx.Client]:
    client = httpx.Client(base_url=sandbox)
    yield client
    client.post("/_sandbox/faults/clear")
    client.post("/_sandbox/rate_limit", json={"per_second": None})
    client.post("/_sandbox/latency", json={"ms": 0})
    client.close()


@pytest.fixture
def errors_logged(caplog: pytest.LogCaptureFixture) -> Iterator[list[logging.LogRecord]]:
    """The ERROR (and worse) lines logged meanwhile, by any thread of this process."""
    with caplog.at_level(logging.INFO):
        found: list[logging.LogRecord] = []
        yield found
        found.extend(r for r in caplog.records if r.levelno >= logging.ERROR)


def is_busy_page(response: httpx.Response) -> bool:
    with i18n.use_locale("de"):
        busy = i18n.gettext(BUSY)
    return (
        response.status_code == 503
        and busy in text_of(response)
        and int(response.headers["retry-after"]) > 0
    )


def pages_of(browser: Browser, invoice: str) -> list[httpx.Response]:
    """The overview, the invoice's page, and its pay page (started by its form, then shown)."""
    answers = [browser.get("/"), browser.get(f"/invoices/{invoice}")]
    start = browser.post(f"/invoices/{invoice}/pay", {"what": "whole"})
    answers.append(start)
    if start.status_code == 303:
        answers.append(browser.get(start.headers["location"]))
    return answers


@pytest.mark.anyio
async def test_the_sdk_retries_a_429(sandbox: str) -> None:
    """The SDK retries a 429 only when Stripe adds `Stripe-Should-Retry: true`; the
    portal's client retries every 429 (Stripe refused before doing anything)."""
    gateway = StripeGateway(api_key=SANDBOX_KEY, api_base=sandbox, max_network_retries=2)
    customer = httpx.post(
        f"{sandbox}/v1/customers", auth=(SANDBOX_KEY, ""), data={"email": "a@example.de"}
    ).json()["id"]
    try:
        httpx.post(f"{sandbox}/_sandbox/faults", json={"status": 429, "count": 2})
        assert (await gateway.get_customer(customer)).id == customer
        httpx.post(f"{sandbox}/_sandbox/faults", json={"status": 429, "count": 3})
        with pytest.raises(StripeRateLimited):
            await gateway.get_customer(customer)
    finally:
        httpx.post(f"{sandbox}/_sandbox/faults/clear")
        await gateway.aclose()


@pytest.mark.anyio
async def test_the_calls_in_flight_are_capped(sandbox: str, control: httpx.Client) -> None:
    customer = httpx.post(
        f"{sandbox}/v1/customers", auth=(SANDBOX_KEY, ""), data={"email": "b@example.de"}
    ).json()["id"]
    gateway = StripeGateway(
        api_key=SANDBOX_KEY, api_base=sandbox, max_network_retries=0, max_concurrent_requests=2
    )
    control.post("/_sandbox/latency", json={"ms": 200})
    try:
        started = time.monotonic()
        await gateway.get_customers((customer,) * 6)
        # Six reads of 200 ms, two at a time: three rounds, not one.
        assert time.monotonic() - started >= 0.55
    finally:
        await gateway.aclose()


def test_refused_reads_show_the_last_known_data_or_the_busy_page(
    portal: Portal, control: httpx.Client, errors_logged: list[logging.LogRecord]
) -> None:
    email, customer, _ = customer_with_card(portal)
    invoice = plan_invoice(portal, customer, late=True)
    browser = signed_in(portal, email)
    assert [r.status_code for r in pages_of(browser, invoice)] == [200, 200, 303, 200]
    control.post("/_sandbox/faults", json={"status": 429, "count": 1000})
    overview, invoice_page, pay = pages_of(browser, invoice)
    for shown in (overview, invoice_page):  # read before: shown again, saying how old it is
        assert shown.status_code == 200
        assert STALE.search(shown.text), shown.text
    assert is_busy_page(pay)  # paying reads the invoice as it is now, or not at all
    newcomer = signed_in_despite_limits(portal, control)
    assert is_busy_page(newcomer.get("/"))  # nothing known yet: busy, try again
    assert errors_logged == []


def signed_in_despite_limits(portal: Portal, control: httpx.Client) -> Browser:
    control.post("/_sandbox/faults/clear")
    email, _, _ = customer_with_card(portal)
    browser = signed_in(portal, email)
    control.post("/_sandbox/faults", json={"status": 429, "count": 1000})
    return browser


def test_a_429_storm_gives_no_5xx_but_the_busy_page_and_logs_no_error(
    portal: Portal, control: httpx.Client, errors_logged: list[logging.LogRecord]
) -> None:
    customers = [customer_with_card(portal) for _ in range(6)]
    visits = []
    for email, customer, _ in customers:
        invoice = plan_invoice(portal, customer, late=True)
        visits.append((signed_in(portal, email), invoice))
    control.post("/_sandbox/rate_limit", json={"per_second": 5})
    with concurrent.futures.ThreadPoolExecutor(len(visits)) as pool:
        rounds = list(pool.map(lambda v: pages_of(*v) + pages_of(*v), visits))
    answers = [answer for visit in rounds for answer in visit]
    assert {a.status_code for a in answers} <= {200, 303, 503}
    assert all(is_busy_page(a) for a in answers if a.status_code == 503)
    assert any(a.status_code == 200 for a in answers)  # the limit lets some through
    assert any(a.status_code == 503 or STALE.search(a.text) for a in answers)  # and stops some
    assert errors_logged == []
