"""`portal bench --scale`: the resident memory of one `portal serve` process as customers come.

A fresh stack (runner.stack); the sandbox makes `size` customers with a few finalized invoices
each (`POST /_sandbox/bulk`); each customer gets a signed-in session the way the portal's own
sign-in makes one (`portal.identity.customer_sessions.create`, written to the portal's database;
the cookie carries the raw id it returns), since signing ten thousand in through e-mailed links
would take long and meet the sign-in rate limits. Then a concurrent client views every
customer's overview and one of their invoices, and /proc says the process's resident memory
(VmRSS) at rest (after start-up and a few views), every 1,000 customers, at the end and after
a pause. The caches' entries and estimated bytes come from the line the portal logs when it
stops (`portal.app`: "caches at shutdown").
"""

from __future__ import annotations

import asyncio
import re
import time
from dataclasses import dataclass
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import httpx

from portal.identity import customer_sessions
from portal.settings import load_database_url
from portal.storage.database import create_engine, dispose, transaction
from portal_dev.bench import processes, runner

INVOICES_EACH = 3
SAMPLE_EVERY = 1_000
CONCURRENCY = 8  # clients at once: more than the portal's one process has cores to answer
PAUSE_SECONDS = 10.0
BULK_CHUNK = 500  # customers per /_sandbox/bulk request
CACHES = re.compile(r"caches at shutdown \(entries/bytes\): (.*)")


@dataclass(frozen=True)
class CacheFigure:
    name: str
    entries: int
    bytes: int


@dataclass(frozen=True)
class MemoryFigure:
    customers: int
    invoices_each: int
    cache_mb: int | None  # PORTAL_CACHE_MB, None: the default
    at_rest_mb: float
    # (customers viewed so far, resident MB), every SAMPLE_EVERY customers
    during_mb: tuple[tuple[int, float], ...]
    after_mb: float
    after_pause_mb: float
    caches: tuple[CacheFigure, ...]
    seconds: float

    @property
    def peak_mb(self) -> float:
        return max([self.at_rest_mb, self.after_mb, *(mb for _, mb in self.during_mb)])

    def markdown(self) -> str:
        budget = "default" if self.cache_mb is None else f"{self.cache_mb} MB"
        lines = [
            f"Resident memory (VmRSS) of one `portal serve` process, {self.customers:,} customers"
            f" with {self.invoices_each} invoices each, each viewing the overview and an invoice"
            f" page (PORTAL_CACHE_MB: {budget}; {self.seconds:.0f} s):",
            "",
            "| When | Resident MB |",
            "| --- | --- |",
            f"| at rest (started, a few views) | {self.at_rest_mb:.1f} |",
            *(f"| after {n:,} customers | {mb:.1f} |" for n, mb in self.during_mb),
            f"| after all {self.customers:,} | {self.after_mb:.1f} |",
            f"| after a {PAUSE_SECONDS:.0f} s pause | {self.after_pause_mb:.1f} |",
            "",
            "Caches at the end, as the portal estimates them (its log line at shutdown):",
            "",
            "| Cache | Entries | Estimated KB |",
            "| --- | --- | --- |",
            *(f"| {c.name} | {c.entries:,} | {c.bytes / 1024:,.0f} |" for c in self.caches),
        ]
        return "\n".join(lines)


def run(
    *, database_url: str | None = None, size: int = 10_000, cache_mb: int | None = None
) -> MemoryFigure:
    started = time.monotonic()
    settings = {} if cache_mb is None else {"PORTAL_CACHE_MB": str(cache_mb)}
    with runner.stack(database_url=database_url, settings=settings) as found:
        pid = found.portal_pid
        with runner.signed_in_client(found) as client:
            for _ in range(3):
                _view_demo(client)
        time.sleep(1)
        at_rest = processes.rss_mb(pid)
        runner._progress(f"scale memory: making {size:,} customers in the sandbox ...")
        customers = _make_customers(found.sandbox_url, size)
        runner._progress("scale memory: signing them in ...")
        cookies = asyncio.run(_sessions(load_database_url(found.env), customers))
        runner._progress("scale memory: viewing each customer's pages ...")
        during = asyncio.run(_view_all(found, pid, customers, cookies))
        after = processes.rss_mb(pid)
        time.sleep(PAUSE_SECONDS)
        after_pause = processes.rss_mb(pid)
        log = found.portal_log
    return MemoryFigure(
        customers=size,
        invoices_each=INVOICES_EACH,
        cache_mb=cache_mb,
        at_rest_mb=at_rest,
        during_mb=tuple(during),
        after_mb=after,
        after_pause_mb=after_pause,
        caches=_caches(log),
        seconds=time.monotonic() - started,
    )


def _view_demo(client: httpx.Client) -> None:
    overview = client.get("/")
    assert overview.status_code == 200, overview.status_code
    invoice = runner.INVOICE.search(overview.text)
    if invoice:
        assert client.get(invoice.group(1)).status_code == 200


@dataclass(frozen=True)
class Customer:
    id: str
    email: str
    name: str
    invoice: str


def _make_customers(sandbox_url: str, size: int) -> list[Customer]:
    made: list[Customer] = []
    with httpx.Client(base_url=sandbox_url, timeout=300) as sandbox:
        for first in range(0, size, BULK_CHUNK):
            specs = [_spec(n) for n in range(first, min(size, first + BULK_CHUNK))]
            answer = sandbox.post("/_sandbox/bulk", json={"customers": specs})
            answer.raise_for_status()
            for spec, customer in zip(specs, answer.json()["customers"], strict=True):
                params = spec["params"]
                made.append(
                    Customer(
                        customer["id"], params["email"], params["name"], customer["invoices"][0]
                    )
                )
    return made


def _spec(n: int) -> dict[str, Any]:
    return {
        "params": {"email": f"scale{n}@example.com", "name": f"Scale Customer {n}"},
        "invoices": [
            {
                "item": {
                    "amount": 1_000 + n,
                    "currency": "eur",
                    "description": f"Subscription, month {n % 12 + 1}",
                },
                "invoice": {"collection_method": "send_invoice", "days_until_due": 30},
                "finalize": True,
                "repeat": INVOICES_EACH,
            }
        ],
    }


async def _sessions(database_url: str, customers: list[Customer]) -> list[str]:
    """A signed-in session per customer, as the sign-in makes it: the cookie values."""
    engine = create_engine(database_url)
    now = datetime.now(UTC)
    try:
        async with transaction(engine) as conn:
            return [
                await customer_sessions.create(
                    conn,
                    email=c.email,
                    accounts=(customer_sessions.Account(c.id, c.name),),
                    customer_id=c.id,
                    now=now,
                )
                for c in customers
            ]
    finally:
        await dispose(engine)


async def _view_all(
    found: runner.Stack, pid: int, customers: list[Customer], cookies: list[str]
) -> list[tuple[int, float]]:
    """Each customer's overview and invoice page, `CONCURRENCY` customers at once, in order;
    the resident memory every `SAMPLE_EVERY` customers."""
    samples: list[tuple[int, float]] = []
    done = 0
    queue = iter(range(len(customers)))
    async with httpx.AsyncClient(
        base_url=found.portal_url,
        timeout=60,
        limits=httpx.Limits(max_connections=CONCURRENCY),
    ) as client:

        async def viewer() -> None:
            nonlocal done
            for index in queue:
                customer = customers[index]
                headers = {"cookie": f"portal_session={cookies[index]}"}
                for path in ("/", f"/invoices/{customer.invoice}"):
                    answer = await client.get(path, headers=headers)
                    if answer.status_code != 200 or customer.name not in answer.text:
                        raise RuntimeError(f"{path} for {customer.id}: {answer.status_code}")
                done += 1
                if done % SAMPLE_EVERY == 0:
                    samples.append((done, processes.rss_mb(pid)))
                    runner._progress(f"scale memory: {done:,} customers viewed")

        await asyncio.gather(*(viewer() for _ in range(CONCURRENCY)))
    return samples


def _caches(log: Path) -> tuple[CacheFigure, ...]:
    """The portal's own figures from its log line at shutdown."""
    found = CACHES.findall(log.read_text(errors="replace"))
    if not found:
        return ()
    figures = []
    for item in found[-1].split():
        name, _, value = item.partition("=")
        entries, _, size = value.partition("/")
        figures.append(CacheFigure(name, int(entries), int(size)))
    return tuple(figures)
