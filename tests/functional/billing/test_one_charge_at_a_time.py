"""At most one charge per invoice in flight: two payment pages on one invoice, pressed at the same
moment (threads), charge once, and Stripe's records (the invoice's payments and PaymentIntents)
agree; on SQLite and PostgreSQL, since the claim lives in the database. And when Stripe's answer
to a charge is lost after Stripe made it, the page says it is checking, never that nothing was
charged, and its button finds out with the same idempotency keys."""

from __future__ import annotations

import asyncio
import concurrent.futures
import contextlib
import time
from collections.abc import Iterator
from dataclasses import dataclass, field
from pathlib import Path

import httpx
import pytest
from starlette.applications import Starlette
from starlette.requests import Request
from starlette.responses import Response
from starlette.routing import Route

from portal import i18n
from tests.functional.billing.billing_support import (
    customer_with_card,
    follow,
    open_pay_page,
    plan_invoice,
    signed_in,
)
from tests.functional.portal_support import Portal, serve_portal, text_of
from tests.support.servers import serve_in_thread


@pytest.fixture
def any_portal(database_url: str, sandbox_url: str, tmp_path: Path) -> Iterator[Portal]:
    with serve_portal(tmp_path, sandbox_url, database_url=database_url) as found:
        yield found


@pytest.fixture
def slow_stripe(any_portal: Portal) -> Iterator[httpx.Client]:
    """The sandbox's latency control; back to none afterwards (the sandbox is shared)."""
    control = httpx.Client(base_url=any_portal.settings.stripe_api_base)
    yield control
    control.post("/_sandbox/latency", json={"ms": 0})
    control.close()


def stripe_records(portal: Portal, customer: str, invoice: str) -> tuple[list[int], int, int]:
    """What Stripe says was charged: the customer's succeeded PaymentIntents, the sum of the
    invoice's paid payments, and the invoice's `amount_paid`."""
    intents = portal.sdk.v1.payment_intents.list({"customer": customer, "limit": 100}).data
    paid = portal.sdk.v1.invoice_payments.list({"invoice": invoice, "limit": 100}).data
    return (
        sorted(i.amount for i in intents if i.status == "succeeded"),
        sum(p.amount_paid or 0 for p in paid if p.status == "paid"),
        portal.sdk.v1.invoices.retrieve(invoice).amount_paid,
    )


@pytest.mark.parametrize(
    ("first", "second", "latency_ms"),
    [
        ("next_installment", "next_installment", 200),
        # Stripe slow to answer the first: the second would charge the whole remainder on
        # top of the installment, more than the invoice's `amount_remaining`.
        ("next_installment", "whole", 1500),
    ],
)
def test_two_payment_pages_on_one_invoice_pressed_at_once_charge_once(
    any_portal: Portal, slow_stripe: httpx.Client, first: str, second: str, latency_ms: int
) -> None:
    portal = any_portal
    email, customer, pm = customer_with_card(portal)
    invoice = plan_invoice(portal, customer, late=False)  # 3 x 100 EUR
    browser = signed_in(portal, email)
    tabs = [open_pay_page(browser, invoice, first), open_pay_page(browser, invoice, second)]
    slow_stripe.post("/_sandbox/latency", json={"ms": latency_ms}).raise_for_status()

    def press(action: str) -> httpx.Response:
        return browser.post(action, {"payment_method": pm})

    with concurrent.futures.ThreadPoolExecutor(2) as pool:
        answers = list(pool.map(press, tabs))
    slow_stripe.post("/_sandbox/latency", json={"ms": 0})
    assert [a.status_code for a in answers] == [303, 303], [a.text for a in answers]
    intents, invoice_paid, amount_paid = stripe_records(portal, customer, invoice)
    assert len(intents) == 1, intents
    assert invoice_paid == amount_paid == intents[0]
    pages = [text_of(follow(browser, browser.get(action))) for action in tabs]
    with i18n.use_locale("de"):
        thanked = [p for p in pages if i18n.gettext("Thank you for your payment") in p]
        refused = [p for p in pages if i18n.gettext("Nothing was charged") in p]
    assert (len(thanked), len(refused)) == (1, 1)


@dataclass
class LossyStripe:
    """A proxy in front of the sandbox that, for requests whose path ends with one of `lose`,
    passes the request on, lets Stripe act, and then keeps the answer longer than the
    portal waits: the answer is lost after Stripe made the charge."""

    url: str = ""
    lose: set[str] = field(default_factory=set)
    lost: list[str] = field(default_factory=list)
    # Well past the portal's wait (`LOSSY_TIMEOUT`): the answer is lost.
    hold_seconds: float = 4.5


# How long the portal waits for Stripe behind `lossy_stripe`: short, so that a lost answer
# costs a test little, yet long enough for every other answer on a loaded machine (the suite's
# four processes on two cores).
LOSSY_TIMEOUT = 2.0


@contextlib.contextmanager
def lossy_stripe(upstream: str) -> Iterator[LossyStripe]:
    lossy = LossyStripe()
    skipped = {"content-length", "content-encoding", "transfer-encoding", "connection"}

    async def forward(request: Request) -> Response:
        headers = [(k, v) for k, v in request.headers.items() if k.lower() not in skipped]
        async with httpx.AsyncClient(base_url=upstream, timeout=30) as client:
            answer = await client.request(
                request.method,
                request.url.path,
                params=request.query_params,
                content=await request.body(),
                headers=headers,
            )
        if request.method == "POST" and any(request.url.path.endswith(s) for s in lossy.lose):
            lossy.lost.append(request.url.path)
            await asyncio.sleep(lossy.hold_seconds)
        kept = {k: v for k, v in answer.headers.items() if k.lower() not in skipped}
        return Response(answer.content, answer.status_code, kept)

    app = Starlette(routes=[Route("/{path:path}", forward, methods=["GET", "POST", "DELETE"])])
    with serve_in_thread(app) as url:
        lossy.url = url
        yield lossy


@pytest.mark.parametrize(
    ("what", "request_lost"), [("whole", "/pay"), ("next_installment", "/confirm")]
)
def test_a_charge_whose_answer_is_lost_is_never_called_nothing_charged(
    sandbox_url: str, tmp_path: Path, what: str, request_lost: str
) -> None:
    with (
        lossy_stripe(sandbox_url) as lossy,
        serve_portal(tmp_path, lossy.url, stripe_timeout=LOSSY_TIMEOUT) as portal,
    ):
        email, customer, pm = customer_with_card(portal)
        invoice = plan_invoice(portal, customer, late=False)
        browser = signed_in(portal, email)
        action = open_pay_page(browser, invoice, what)
        lossy.lose.add(request_lost)
        page = follow(browser, browser.post(action, {"payment_method": pm}))
        assert lossy.lost, "the charge's request did not go through the proxy"
        expected = 30000 if what == "whole" else 10000
        intents, _, amount_paid = stripe_records(portal, customer, invoice)
        assert (intents, amount_paid) == ([expected], expected)  # Stripe charged
        with i18n.use_locale("de"):
            text = text_of(page)
            assert i18n.gettext("We are checking whether your payment went through") in text
            assert i18n.gettext("Nothing was charged") not in text
            unavailable = i18n.gettext(
                "Our payment provider cannot be reached right now. Nothing was changed or charged. Please try again in a few minutes."
            )
            assert unavailable not in text
        lossy.lose.clear()
        time.sleep(lossy.hold_seconds)  # the held answer has gone out meanwhile
        result = follow(browser, browser.post(f"{action}/check"))
        with i18n.use_locale("de"):
            assert i18n.gettext("Thank you for your payment") in text_of(result)
        assert stripe_records(portal, customer, invoice)[0] == [expected]  # once
