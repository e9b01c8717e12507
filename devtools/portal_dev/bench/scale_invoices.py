"""`portal bench --scale`: a customer with thousands of invoices.

A customer billed for years has thousands of invoices. The overview reads what is unpaid (every
open and written-off invoice, `portal.billing.unpaid`), the newest page of the history and the
drafts Stripe will issue on a set date (`portal.billing.upcoming`, up to 100); the
history's older pages are read by cursor, a page at a time; so no view should cost more as the
invoices grow, except the overview of a customer with more unpaid invoices than Stripe lists at
once (100): one round trip more per further 100, since each page names the next.

Measured with the sandbox's latency per Stripe call, after a change (as a webhook leaves it, so
nothing is kept): the first view's p50 of the overview and of the history's pages 2 and 50, as a
multiple of one round trip, and the Stripe calls each view costs.
"""

from __future__ import annotations

import re
import statistics
import time
from dataclasses import dataclass

import httpx

from portal_dev.bench import alone, runner

TARGET = 1.3  # first-view p50 / one round trip, at most: the overview with 2,000 invoices
DAY = 86_400
MORE = re.compile(r"/history\?after=(in_[A-Za-z0-9]+)")
MANY_EMAIL = "years.of.invoices@example.de"
UNPAID_EMAIL = "many.unpaid@example.de"


@dataclass(frozen=True)
class View:
    name: str
    invoices: int  # the customer's
    unpaid: int
    calls: int  # Stripe calls of one first view
    p50_ms: float
    alone_ms: float  # p50 of the same calls from a bare client (`alone`), in turn with the views


@dataclass(frozen=True)
class ManyInvoices:
    latency_ms: int
    samples: int
    views: tuple[View, ...]

    def ratio(self, view: View) -> float:
        return view.p50_ms / self.latency_ms

    def markdown(self) -> str:
        lines = [
            f"First views of a customer with many invoices ({self.latency_ms} ms per Stripe"
            f" call, p50 of {self.samples}, after a change):",
            "",
            "| view | invoices | unpaid | Stripe calls | p50 | Stripe alone | p50 / round trip"
            " | p50 / Stripe alone |",
            "|---|---:|---:|---:|---:|---:|---:|---:|",
        ]
        for view in self.views:
            lines.append(
                f"| {view.name} | {view.invoices:,} | {view.unpaid:,} | {view.calls} |"
                f" {view.p50_ms:.0f} ms | {view.alone_ms:.0f} ms | {self.ratio(view):.2f} |"
                f" {view.p50_ms / view.alone_ms:.2f} |"
            )
        lines += ["", f"Target: the overview with 2,000 invoices within {TARGET} round trips."]
        return "\n".join(lines)


def _invoice(days_until_due: int, *, paid: bool, repeat: int) -> dict[str, object]:
    made: dict[str, object] = {
        "item": {"amount": 11_900, "currency": "eur", "description": "Wartung und Support"},
        "invoice": {"collection_method": "send_invoice", "days_until_due": days_until_due},
        "finalize": True,
        "repeat": repeat,
    }
    if paid:
        made["pay"] = {"paid_out_of_band": True}
    return made


def _bulk(control: httpx.Client, spec: dict[str, object]) -> str:
    answer = control.post("/_sandbox/bulk", json={"customers": [spec]}, timeout=600)
    answer.raise_for_status()
    return str(answer.json()["customers"][0]["id"])


def make_customer(control: httpx.Client, email: str, *, paid: int, overdue: int, due: int) -> str:
    """A customer billed for years: `paid` invoices spread over five years (the sandbox's clock
    moved back, then forward batch by batch), `overdue` ones due a month ago, `due` ones due in
    a month."""
    batches = max(1, paid // 50)
    customer = _bulk(control, {"params": {"email": email, "preferred_locales": ["de-DE"]}})
    try:
        control.post("/_sandbox/clock", json={"advance": -5 * 365 * DAY})
        for n in range(batches):
            repeat = paid // batches + (1 if n < paid % batches else 0)
            invoices = [_invoice(30, paid=True, repeat=repeat)]
            _bulk(control, {"customer": customer, "invoices": invoices})
            control.post("/_sandbox/clock", json={"advance": (5 * 365 - 90) * DAY // batches})
        control.post("/_sandbox/clock", json={"reset": True})
        control.post("/_sandbox/clock", json={"advance": -60 * DAY})
        if overdue:
            _bulk(
                control,
                {"customer": customer, "invoices": [_invoice(30, paid=False, repeat=overdue)]},
            )
    finally:
        control.post("/_sandbox/clock", json={"reset": True})
    if due:
        _bulk(control, {"customer": customer, "invoices": [_invoice(30, paid=False, repeat=due)]})
    return customer


def _cursors(client: httpx.Client, pages: set[int]) -> dict[int, str]:
    """The `after` cursor of each of the history's `pages` (page 1 is on the overview)."""
    found: dict[int, str] = {}
    text, page = client.get("/").text, 1
    while len(found) < len(pages):
        more = MORE.search(text)
        if more is None:
            raise RuntimeError(f"the history ends at page {page}")
        page += 1
        if page in pages:
            found[page] = more.group(1)
        text = client.get(f"/history?after={more.group(1)}").text
    return found


def _first_views(
    found: runner.Stack,
    control: httpx.Client,
    client: httpx.Client,
    customer: str,
    path: str,
    samples: int,
) -> tuple[int, float, float]:
    """Stripe calls of one first view of `path`, the p50 of `samples` first views, and the p50
    of their Stripe calls sent from a bare client, each after its view."""
    took, by_stripe, calls = [], [], 0
    with alone.Replay(found.sandbox_url, runner.SANDBOX_KEY) as replay:
        for _ in range(samples):
            runner._bump(found.portal_url, customer, control)  # also resets the sandbox's log
            started = time.perf_counter()
            answer = client.get(path)
            took.append((time.perf_counter() - started) * 1000)
            if answer.status_code != 200:
                raise RuntimeError(f"{path}: {answer.status_code}")
            made = alone.recorded(control)
            calls = len(made)
            by_stripe.append(replay.time(made))
    return calls, statistics.median(took), statistics.median(by_stripe)


def run(
    *,
    database_url: str | None = None,
    size: int = 2_000,
    unpaid: int = 250,
    latency_ms: int = 80,
    samples: int = 20,
) -> ManyInvoices:
    """A customer with `size` invoices (all but 40 paid, 20 of those overdue) and one with
    `unpaid` open invoices, each signed in through the e-mailed link."""
    views: list[View] = []
    deep = max(2, min(50, (size - 40) // 20))
    with (
        runner.stack(database_url=database_url) as found,
        httpx.Client(base_url=found.sandbox_url, timeout=30) as control,
    ):
        runner._progress(f"a customer with {size:,} invoices ...")
        many = make_customer(control, MANY_EMAIL, paid=size - 40, overdue=20, due=20)
        with runner.signed_in_client(found, MANY_EMAIL) as client:
            cursors = _cursors(client, {2, deep})
            control.post("/_sandbox/latency", json={"ms": latency_ms})
            for name, path in (
                ("overview", "/"),
                ("history, page 2", f"/history?after={cursors[2]}"),
                (f"history, page {deep}", f"/history?after={cursors[deep]}"),
            ):
                calls, p50, by_stripe = _first_views(found, control, client, many, path, samples)
                views.append(View(name, size, 40, calls, p50, by_stripe))
            control.post("/_sandbox/latency", json={"ms": 0})
        runner._progress(f"a customer with {unpaid:,} unpaid invoices ...")
        owing = make_customer(
            control, UNPAID_EMAIL, paid=0, overdue=unpaid // 2, due=unpaid - unpaid // 2
        )
        with runner.signed_in_client(found, UNPAID_EMAIL) as client:
            control.post("/_sandbox/latency", json={"ms": latency_ms})
            calls, p50, by_stripe = _first_views(found, control, client, owing, "/", samples)
            views.append(View("overview", unpaid, unpaid, calls, p50, by_stripe))
    return ManyInvoices(latency_ms, samples, tuple(views))
