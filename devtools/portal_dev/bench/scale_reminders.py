"""`portal bench --scale`: `portal send-reminders` over many open invoices at Stripe's test-mode
rate limit (issue 27): Stripe calls made, time taken, resumable when stopped halfway, no e-mail
twice.

A fresh stack; the sandbox makes `size` open invoices (ten per customer, a fifth of them due
for a reminder today, a fifth of the customers paying by bank transfer, six languages) and
refuses more than 25 requests a second. `portal send-reminders` runs as a process, as a
scheduler runs it, with its mail going to a counting SMTP sink (recipient and Message-ID only:
the development mailbox keeps whole messages); it is stopped with SIGTERM once half the
reminders are delivered and run again to the end. The serving portal's own outbox round, which
sends what it finds due, keeps running and is counted too (its mail goes to the stack's
mailbox).
"""

from __future__ import annotations

import asyncio
import os
import re
import signal
import subprocess
import sys
import threading
import time
from collections import Counter
from collections.abc import Callable, Mapping
from dataclasses import dataclass
from datetime import UTC, datetime
from email.parser import BytesHeaderParser
from pathlib import Path
from typing import Any

import httpx
from aiosmtpd.controller import Controller
from sqlalchemy import select

from portal.settings import load_database_url
from portal.storage.database import create_engine
from portal.storage.tables import mail_outbox
from portal_dev.bench import processes, runner

SIZE = 50_000
PER_CUSTOMER = 10  # invoices; the due dates below make two of each ten call for a reminder
RATE_LIMIT = 25.0  # Stripe's test mode, requests/s (https://docs.stripe.com/rate-limits)
LOCALES = ("de", "en", "nl", "es", "pl", "hr")
CUSTOMERS_PER_REQUEST = 250  # of /_sandbox/bulk: requests of a few MB
REMINDER_KINDS = ("due_soon:", "overdue:")
MESSAGE_ID = re.compile(r"^Message-ID: *(\S+)", re.MULTILINE | re.IGNORECASE)
REFUSED = re.compile(r"(\d+) Stripe requests refused")
DAY = 86_400


class CountingSink:
    """An SMTP server that keeps, of each message, only its recipients and Message-ID."""

    def __init__(self, port: int) -> None:
        self.port = port
        self.received: Counter[str] = Counter()  # Message-ID -> deliveries
        self._lock = threading.Lock()
        self._controller = Controller(self, hostname="127.0.0.1", port=port)

    @property
    def url(self) -> str:
        return f"smtp://127.0.0.1:{self.port}?tls=none"

    @property
    def delivered(self) -> int:
        with self._lock:
            return sum(self.received.values())

    async def handle_DATA(self, server: Any, session: Any, envelope: Any) -> str:
        headers = BytesHeaderParser().parsebytes(envelope.original_content)
        with self._lock:
            self.received[str(headers["Message-ID"])] += 1
        return "250 Message accepted for delivery"

    def __enter__(self) -> CountingSink:
        self._controller.start()
        return self

    def __exit__(self, *exc: object) -> None:
        self._controller.stop()


@dataclass(frozen=True)
class RemindersFigure:
    invoices: int  # open invoices made for the run (the demo's come on top)
    customers: int
    rate_limit: float  # the sandbox's, requests/s
    reminders: int  # reminders queued in the outbox by both runs
    stopped_after: int  # e-mails delivered when the first run was stopped
    delivered: int  # distinct reminders delivered, both runs and the serving portal's round
    duplicates: int  # deliveries beyond the first of a reminder: must be 0
    missing: int  # reminders queued but never delivered: must be 0
    stripe_calls: Mapping[str, int]  # both runs, by endpoint (the sandbox's count)
    refused: int  # 429s the runs met (and tried again)
    seconds_first: float  # until stopped
    seconds_second: float  # to the end
    peak_rss_mb: float  # of the send-reminders process, the larger of the two runs
    stopped_by: str = "SIGTERM"

    @property
    def calls(self) -> int:
        return sum(self.stripe_calls.values())

    def markdown(self) -> str:
        seconds = self.seconds_first + self.seconds_second
        rate = self.calls / seconds if seconds else 0.0
        rows = [
            ("open invoices / customers", f"{self.invoices:,} / {self.customers:,}"),
            ("reminders queued", f"{self.reminders:,}"),
            ("Stripe calls (both runs)", f"{self.calls:,} ({rate:.1f}/s)"),
            *(
                (f"- {endpoint}", f"{count:,}")
                for endpoint, count in sorted(self.stripe_calls.items(), key=lambda e: -e[1])
            ),
            (f"429s met (sandbox limit {self.rate_limit:g}/s)", f"{self.refused:,}"),
            (
                "wall time",
                f"{seconds:.0f} s ({self.stopped_by} after {self.seconds_first:.0f} s"
                f" and {self.stopped_after:,} e-mails, then {self.seconds_second:.0f} s)",
            ),
            ("e-mails delivered", f"{self.delivered:,}"),
            ("duplicates / missing", f"{self.duplicates} / {self.missing}"),
            ("peak RSS of send-reminders", f"{self.peak_rss_mb:.0f} MB"),
        ]
        lines = ["| `portal send-reminders` | |", "|---|---|"]
        lines += [f"| {name} | {value} |" for name, value in rows]
        return "\n".join(lines)


def bulk_body(first: int, count: int, now: datetime) -> dict[str, Any]:
    """Customers `first` .. `first + count - 1` and their open invoices. Of each customer's
    ten, one is overdue (by 3 or 9 days), one due in 3 days, eight due later: a fifth of the
    invoices call for a reminder today. Every fifth customer pays by bank transfer only or
    may (card as well): their reminders carry the transfer's instructions."""
    t0 = int(now.timestamp())
    customers = []
    for c in range(first, first + count):
        invoice: dict[str, Any] = {"collection_method": "send_invoice"}
        if c % 5 == 0:
            invoice["payment_settings"] = {
                "payment_method_types": ["customer_balance"]
                if c % 10 == 0
                else ["card", "customer_balance"],
                "payment_method_options": {
                    "customer_balance": {
                        "funding_type": "bank_transfer",
                        "bank_transfer": {
                            "type": "eu_bank_transfer",
                            "eu_bank_transfer": {"country": "DE"},
                        },
                    }
                },
            }
        wanted = []
        for i in range(PER_CUSTOMER):
            k = (c + i) % PER_CUSTOMER
            days = (-3 if c % 2 else -9) if k == 0 else 3 if k == 1 else 5 * k + 10
            wanted.append(
                {
                    "item": {
                        "amount": 1_000 + 100 * (c % 50),
                        "currency": "eur",
                        "description": f"Wartung {i + 1}",
                    },
                    "invoice": invoice | {"due_date": t0 + days * DAY},
                    "finalize": True,
                }
            )
        customers.append(
            {
                "params": {
                    "email": f"reminder{c}@example.com",
                    "name": f"Kunde {c}",
                    "preferred_locales": [LOCALES[c % len(LOCALES)]],
                },
                "invoices": wanted,
            }
        )
    return {"customers": customers}


def make_invoices(sandbox_url: str, size: int) -> int:
    """`size` open invoices (rounded up to whole customers); the number of customers."""
    customers = -(-size // PER_CUSTOMER)
    now = datetime.now(UTC)
    with httpx.Client(base_url=sandbox_url, timeout=600) as client:
        for first in range(0, customers, CUSTOMERS_PER_REQUEST):
            body = bulk_body(first, min(CUSTOMERS_PER_REQUEST, customers - first), now)
            client.post("/_sandbox/bulk", json=body).raise_for_status()
    return customers


@dataclass(frozen=True)
class Run:
    seconds: float
    peak_rss_mb: float
    refused: int
    output: str


def send_reminders(
    env: Mapping[str, str],
    log: Path,
    *,
    stop_when: Callable[[], bool] | None = None,
    stop_signal: signal.Signals = signal.SIGTERM,
    timeout: float = 3600,
) -> Run:
    """`portal send-reminders` as a process; `stop_signal` once `stop_when()` is true."""
    exe = str(Path(sys.executable).with_name("portal"))
    started = time.monotonic()
    with log.open("wb") as out:
        # The portal's own command, no outside input.
        process = subprocess.Popen(  # noqa: S603
            [exe, "send-reminders"], env=dict(env), stdout=out, stderr=subprocess.STDOUT
        )
        stopped = False
        try:
            while True:
                pid, status, usage = os.wait4(process.pid, os.WNOHANG)
                if pid:
                    break
                if stop_when is not None and not stopped and stop_when():
                    process.send_signal(stop_signal)
                    stopped = True
                if time.monotonic() - started > timeout:
                    process.kill()
                time.sleep(0.05)
        except BaseException:  # the bench interrupted: the job ends with it
            process.terminate()
            process.wait()
            raise
    process.returncode = os.waitstatus_to_exitcode(status)  # wait4 reaped it
    output = log.read_text()
    if process.returncode not in (0, 1, -signal.SIGKILL):
        raise RuntimeError(f"send-reminders failed ({process.returncode}): {output[-2000:]}")
    found = REFUSED.search(output)
    return Run(
        time.monotonic() - started,
        usage.ru_maxrss / 1024,  # KiB on Linux
        int(found.group(1)) if found else 0,
        output,
    )


async def _outbox(database_url: str) -> dict[str, str]:
    """Reminder keys in the outbox, each with its message's Message-ID."""
    engine = create_engine(database_url)
    try:
        async with engine.connect() as conn:
            rows = (
                await conn.execute(select(mail_outbox.c.dedupe_key, mail_outbox.c.message))
            ).all()
    finally:
        await engine.dispose()
    found: dict[str, str] = {}
    for key, message in rows:
        if str(key).startswith(REMINDER_KINDS):
            header = MESSAGE_ID.search(str(message))
            found[str(key)] = header.group(1) if header else ""
    return found


def run(
    *,
    database_url: str | None = None,
    size: int = SIZE,
    rate_limit: float = RATE_LIMIT,
    stop_signal: signal.Signals = signal.SIGTERM,
) -> RemindersFigure:
    """The figure; `stop_signal` SIGKILL shows what a stop the job cannot see costs (see
    `portal.mail.outbox`: the message in hand may go twice, or wait for its lease)."""
    with (
        runner.stack(database_url=database_url) as found,
        CountingSink(processes.free_port()) as sink,
    ):
        runner._progress(f"making {size:,} open invoices ...")
        customers = make_invoices(found.sandbox_url, size)
        expected = 2 * customers  # the bench's own; the demo's open invoices add theirs
        with httpx.Client(base_url=found.sandbox_url, timeout=30) as control:
            control.post("/_sandbox/rate_limit", json={"per_second": rate_limit})
            control.post("/_sandbox/stats/reset")
            env = found.env | {"PORTAL_SMTP_URL": sink.url}

            def delivered() -> int:
                return sink.delivered + len(found.mailbox.messages())

            runner._progress("send-reminders, stopped halfway ...")
            first = send_reminders(
                env,
                found.work / "reminders-1.log",
                stop_when=lambda: delivered() >= expected // 2,
                stop_signal=stop_signal,
            )
            stopped_after = delivered()
            runner._progress(f"stopped after {stopped_after:,} e-mails; again, to the end ...")
            second = send_reminders(env, found.work / "reminders-2.log")
            stats = control.get("/_sandbox/stats").json()
            control.post("/_sandbox/rate_limit", json={"per_second": None})
        queued = asyncio.run(_outbox(load_database_url(found.env)))
        counts = sink.received + Counter(
            str(m.message["Message-ID"]) for m in found.mailbox.messages()
        )
        ids = set(queued.values())
        return RemindersFigure(
            invoices=customers * PER_CUSTOMER,
            customers=customers,
            rate_limit=rate_limit,
            reminders=len(queued),
            stopped_after=stopped_after,
            delivered=sum(1 for i in ids if counts[i]),
            duplicates=sum(n - 1 for n in counts.values() if n > 1),
            missing=sum(1 for i in ids if not counts[i]),
            stripe_calls=dict(stats["by_endpoint"]),
            refused=first.refused + second.refused,
            seconds_first=first.seconds,
            seconds_second=second.seconds,
            peak_rss_mb=max(first.peak_rss_mb, second.peak_rss_mb),
            stopped_by=stop_signal.name,
        )


if __name__ == "__main__":  # pragma: no cover - `python -m portal_dev.bench.scale_reminders N`
    size = int(sys.argv[1]) if len(sys.argv) > 1 else SIZE
    killed = len(sys.argv) > 2 and sys.argv[2] == "kill"
    print(run(size=size, stop_signal=signal.SIGKILL if killed else signal.SIGTERM).markdown())
