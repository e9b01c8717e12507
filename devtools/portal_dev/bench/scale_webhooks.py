"""`portal bench --scale`: a burst of webhook events (issue 27).

Real events: customers (each with a card attached) and their finalized invoices are made in the
sandbox in bulk, some invoices are then paid through /v1, and `size` of the events the portal
handles are taken from /v1/events. A tenth of them are delivered twice (half of those at the
same moment as the first delivery, as Stripe sometimes does), all in shuffled order, signed as
Stripe signs them, at `RATE` per second over many connections, with the sandbox answering each
API call after 80 ms. Then the portal's database is read until every event is handled, and
what happened is checked: each event recorded once, its effect (the change counter of its
customer, moved by each handled event) applied once, every answer a 2xx.
"""

from __future__ import annotations

import asyncio
import hashlib
import hmac
import json
import math
import random
import statistics
import time
from collections import Counter
from dataclasses import dataclass
from typing import Any

import httpx
from sqlalchemy import func, select
from sqlalchemy.ext.asyncio import create_async_engine

from portal.billing import inbox
from portal.billing.events import HANDLERS
from portal.settings import load_database_url
from portal.storage.tables import customer_changes, webhook_events, webhook_inbox
from portal_dev.bench import processes, runner

RATE = 100  # deliveries per second
DUPLICATED = 0.10  # share of events delivered twice
LATENCY_MS = 80  # per Stripe call, as the bench's other figures
INVOICES_PER_CUSTOMER = 8
PAID = 0.15  # share of the invoices then paid (out of band): invoice.paid events
WAIT_FOR_HANDLING_S = 300.0
ANSWER_WITHIN_S = inbox.ANSWER_WITHIN.total_seconds()


@dataclass(frozen=True)
class WebhookBurst:
    """What a burst of `deliveries` webhook deliveries did to the portal."""

    database: str
    events: int  # distinct events sent
    deliveries: int
    duplicates: int  # deliveries of an event after its first
    at_once: int  # of those, sent at the same moment as the first
    types: dict[str, int]
    sending_s: float
    statuses: dict[int, int]  # HTTP status -> answers
    answer_p50_ms: float
    answer_p95_ms: float
    answer_max_ms: float
    answered_later: int  # 202: handling went on after the answer
    answered_duplicate: int
    handled_after_s: float  # from the first delivery until every event was handled
    recorded: int  # the sent events in `webhook_events`
    effects: int  # customer change counters moved by them
    left_in_inbox: int
    portal_cpu_ms_per_event: float  # the portal process's CPU, answering and handling
    stripe_calls: int
    stripe_calls_by_endpoint: dict[str, int]

    @property
    def per_second(self) -> float:
        return self.deliveries / self.sending_s if self.sending_s else 0.0

    def markdown(self) -> str:
        ok = sum(n for status, n in self.statuses.items() if 200 <= status < 300)
        types = ", ".join(f"{t} {n}" for t, n in sorted(self.types.items()))
        rows = [
            ("events (distinct)", f"{self.events} ({types})"),
            (
                "deliveries",
                f"{self.deliveries} in {self.sending_s:.1f} s ({self.per_second:.0f}/s);"
                f" {self.duplicates} duplicates, {self.at_once} of them at the same moment",
            ),
            ("answers 2xx", f"{ok} of {self.deliveries} ({self.answered_later} were 202)"),
            (
                "answer time p50 / p95 / max",
                f"{self.answer_p50_ms:.0f} / {self.answer_p95_ms:.0f}"
                f" / {self.answer_max_ms:.0f} ms",
            ),
            (
                "Stripe's timeout",
                "no figure published; Stripe asks for a 2xx quickly, before any complex logic."
                f" A delivery waits for its handling {ANSWER_WITHIN_S:g} s at most",
            ),
            ("all handled after", f"{self.handled_after_s:.1f} s from the first delivery"),
            (
                "handled once",
                f"{self.recorded} recorded, {self.effects} effects for {self.events} events;"
                f" {self.answered_duplicate} deliveries answered as duplicates",
            ),
            ("portal CPU", f"{self.portal_cpu_ms_per_event:.1f} ms per event"),
            (
                "Stripe calls",
                f"{self.stripe_calls} ({self.stripe_calls / max(self.events, 1):.2f} per event,"
                f" {LATENCY_MS} ms each)",
            ),
        ]
        lines = [
            f"Webhook burst on {self.database}",
            "",
            "| | |",
            "|---|---|",
            *(f"| {name} | {value} |" for name, value in rows),
        ]
        return "\n".join(lines)


def run(*, database_url: str | None = None, size: int = 1_000, seed: int = 27) -> WebhookBurst:
    """A fresh stack, `size` real events delivered in a burst (see the module's docstring)."""
    with (
        runner.stack(database_url=database_url) as found,
        httpx.Client(
            base_url=found.sandbox_url, auth=(runner.SANDBOX_KEY, ""), timeout=120
        ) as control,
    ):
        events = _real_events(control, size)
        control.post("/_sandbox/latency", json={"ms": LATENCY_MS}).raise_for_status()
        control.post("/_sandbox/stats/reset").raise_for_status()
        plan = _deliveries(events, random.Random(seed))  # noqa: S311 - an order, no secret
        cpu = processes.cpu_seconds(found.portal_pid)
        burst = asyncio.run(_burst(found, plan, load_database_url(found.env)))
        cpu = processes.cpu_seconds(found.portal_pid) - cpu
        stats = control.get("/_sandbox/stats").json()
    at_once = sum(1 for _, together in plan if together)
    return WebhookBurst(
        database="SQLite" if database_url is None else "PostgreSQL",
        events=len(events),
        deliveries=len(plan),
        duplicates=len(plan) - len(events),
        at_once=at_once,
        types=dict(Counter(e["type"] for e in events)),
        portal_cpu_ms_per_event=cpu * 1000 / len(events),
        stripe_calls=int(stats["requests"]),
        stripe_calls_by_endpoint={k: int(v) for k, v in stats["by_endpoint"].items()},
        **burst,
    )


def _real_events(control: httpx.Client, size: int) -> list[dict[str, Any]]:
    """At least `size` events of handled types, made by real activity in the sandbox."""
    # Each customer: a card attached (payment_method.attached) and its invoices finalized
    # (invoice.finalized); some invoices are then paid (invoice.paid).
    per_customer = 1 + INVOICES_PER_CUSTOMER + INVOICES_PER_CUSTOMER * PAID
    customers = math.ceil(size / per_customer) + 1
    made = control.post(
        "/_sandbox/bulk",
        json={
            "customers": [
                {
                    "params": {
                        "email": f"burst{n}@example.com",
                        "name": f"Burst {n}",
                        "payment_method": "pm_card_visa",
                    },
                    "invoices": [
                        {
                            "item": {"amount": 1000 + n, "currency": "eur"},
                            "invoice": {"collection_method": "send_invoice", "days_until_due": 30},
                            "finalize": True,
                            "repeat": INVOICES_PER_CUSTOMER,
                        }
                    ],
                }
                for n in range(customers)
            ]
        },
    )
    made.raise_for_status()
    invoices = [i for c in made.json()["customers"] for i in c["invoices"]]
    for invoice in invoices[: math.ceil(len(invoices) * PAID)]:
        paid = control.post(f"/v1/invoices/{invoice}/pay", data={"paid_out_of_band": "true"})
        paid.raise_for_status()
    ours = {c["id"] for c in made.json()["customers"]}
    found: list[dict[str, Any]] = []
    after: str | None = None
    while True:
        params: dict[str, Any] = {"limit": 100}
        if after is not None:
            params["starting_after"] = after
        page = control.get("/v1/events", params=params).json()
        for event in page["data"]:
            obj = event["data"]["object"]
            if event["type"] in HANDLERS and (obj.get("customer") in ours):
                found.append(event)
        if not page["has_more"]:
            break
        after = page["data"][-1]["id"]
    if len(found) < size:
        raise RuntimeError(f"the sandbox made {len(found)} handled events, not {size}")
    return random.Random(size).sample(found, size)  # noqa: S311 - a sample, no secret


def _deliveries(
    events: list[dict[str, Any]], rng: random.Random
) -> list[tuple[dict[str, Any], bool]]:
    """Each event once, a tenth twice, shuffled; (event, sent together with the one before)."""
    plan: list[list[tuple[dict[str, Any], bool]]] = [[(e, False)] for e in events]
    twice = rng.sample(range(len(events)), round(len(events) * DUPLICATED))
    later = []
    for n, index in enumerate(twice):
        if n % 2 == 0:  # at the same moment: two requests in flight at once
            plan[index].append((events[index], True))
        else:  # some time later, anywhere in the burst
            later.append([(events[index], False)])
    groups = plan + later
    rng.shuffle(groups)
    return [delivery for group in groups for delivery in group]


def _signed(event: dict[str, Any]) -> tuple[bytes, dict[str, str]]:
    body = json.dumps(event).encode()
    t = int(time.time())
    key = runner.WEBHOOK_SECRET.encode()
    sig = hmac.new(key, f"{t}.".encode() + body, hashlib.sha256).hexdigest()
    return body, {"Stripe-Signature": f"t={t},v1={sig}", "Content-Type": "application/json"}


CONNECTIONS = 200  # the client's: enough that no delivery waits for one


async def _burst(
    found: runner.Stack, plan: list[tuple[dict[str, Any], bool]], database_url: str
) -> dict[str, Any]:
    """Send `plan` at `RATE` (a delivery sent together with the one before at the same moment)
    from `CONNECTIONS` keep-alive connections; each answer's time counts from the moment its
    delivery was due, so a client falling behind shows as slower answers, not as a slower rate.
    A client of plain asyncio streams: at a hundred requests a second, an HTTP library's own
    CPU on this machine would be measured as the portal's."""
    host, port = found.portal_url.removeprefix("http://").split(":")
    slot, due = 0, []
    for _, together in plan:
        slot += 0 if together else 1
        due.append(slot / RATE)
    requests = [_request(found.host, event) for event, _ in plan]
    queue: asyncio.Queue[int] = asyncio.Queue()
    for index in range(len(plan)):
        queue.put_nowait(index)
    answers: list[tuple[int, float, bool]] = []
    began = time.perf_counter() + 0.5  # all connections open before the first delivery

    async def connection() -> None:
        reader, writer = await asyncio.open_connection(host, int(port))
        try:
            while not queue.empty():
                index = queue.get_nowait()
                wait = began + due[index] - time.perf_counter()
                if wait > 0:
                    await asyncio.sleep(wait)
                writer.write(requests[index])
                status, body = await _response(reader)
                ms = (time.perf_counter() - began - due[index]) * 1000
                duplicate = status < 300 and bool(json.loads(body).get("duplicate"))
                answers.append((status, ms, duplicate))
        finally:
            writer.close()

    await asyncio.gather(*(connection() for _ in range(CONNECTIONS)))
    sending = time.perf_counter() - began
    ids = sorted({event["id"] for event, _ in plan})
    customers = sorted({event["data"]["object"]["customer"] for event, _ in plan})
    recorded, effects, left = await _handled(database_url, ids, customers, began)
    handled_after = time.perf_counter() - began
    times = sorted(ms for _, ms, _ in answers)
    return {
        "sending_s": sending,
        "statuses": dict(Counter(status for status, _, _ in answers)),
        "answer_p50_ms": statistics.median(times),
        "answer_p95_ms": times[min(len(times) - 1, math.ceil(0.95 * len(times)) - 1)],
        "answer_max_ms": times[-1],
        "answered_later": sum(1 for status, _, _ in answers if status == 202),
        "answered_duplicate": sum(1 for _, _, duplicate in answers if duplicate),
        "handled_after_s": handled_after,
        "recorded": recorded,
        "effects": effects,
        "left_in_inbox": left,
    }


def _request(host: str, event: dict[str, Any]) -> bytes:
    body, headers = _signed(event)
    head = ["POST /stripe/webhook HTTP/1.1", f"Host: {host}", f"Content-Length: {len(body)}"]
    head += [f"{name}: {value}" for name, value in headers.items()]
    return ("\r\n".join(head) + "\r\n\r\n").encode() + body


async def _response(reader: asyncio.StreamReader) -> tuple[int, bytes]:
    """Status and body of one HTTP/1.1 answer (the portal's carry a Content-Length)."""
    head = await reader.readuntil(b"\r\n\r\n")
    lines = head.decode("latin-1").split("\r\n")
    status = int(lines[0].split(" ")[1])
    length = 0
    for line in lines[1:]:
        name, _, value = line.partition(":")
        if name.strip().lower() == "content-length":
            length = int(value)
    return status, await reader.readexactly(length)


async def _handled(
    database_url: str, ids: list[str], customers: list[str], began: float
) -> tuple[int, int, int]:
    """Wait until every sent event is recorded and none is left to handle; what was found."""
    engine = create_async_engine(database_url)
    try:
        while True:
            async with engine.connect() as conn:
                recorded = await conn.scalar(
                    select(func.count()).where(webhook_events.c.event_id.in_(ids))
                )
                left = await conn.scalar(
                    select(func.count()).where(webhook_inbox.c.event_id.in_(ids))
                )
                effects = await conn.scalar(
                    select(func.coalesce(func.sum(customer_changes.c.version), 0)).where(
                        customer_changes.c.customer_id.in_(customers)
                    )
                )
            done = recorded == len(ids) and left == 0
            if done or time.perf_counter() - began > WAIT_FOR_HANDLING_S:
                return int(recorded or 0), int(effects or 0), int(left or 0)
            await asyncio.sleep(0.1)
    finally:
        await engine.dispose()
