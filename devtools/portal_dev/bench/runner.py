"""`portal bench`: the numbers issue 8 asks for, from real processes on this machine.

It starts the Stripe sandbox (demo data, then an injected latency per API call), a `portal serve`
process on SQLite, a bare Starlette + Jinja2 app, and a development mailbox; signs a demo
customer in through the e-mailed link; and measures:

- Stripe calls per page view (first view after a change, repeat view), counted by the sandbox;
- overview latency p50/p95, first and repeat view, and the ratio to one Stripe round trip;
- repeat-view throughput of the overview with 50 concurrent clients from a separate process,
  next to the bare page's (the framework's floor), and their ratio;
- the resident memory of the portal process afterwards.
"""

from __future__ import annotations

import asyncio
import json
import os
import re
import statistics
import subprocess
import sys
import tempfile
import time
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path

import httpx

from portal_dev.demo.seed import seed_demo
from portal_dev.mailbox import DevMailbox, DevMailServer

CUSTOMER_EMAIL = "oliver.bennett@example.co.uk"  # one account; invoices in every state
SANDBOX_KEY = "sk_test_portal_bench"
WEBHOOK_SECRET = "whsec_bench_secret"  # noqa: S105 - the local sandbox's, not a real secret
LINK = re.compile(r"(/sign-in/link/[A-Za-z0-9_-]+)")
CSRF = re.compile(r'name="csrf_token" value="([0-9a-f]+)"')


def _free_port() -> int:
    return _free_ports(1)


def _free_ports(count: int) -> int:
    """The first of `count` consecutive free ports (the sandbox serves its API and its pages
    for 3-D Secure, Checkout and files on four)."""
    import random
    import socket

    for _ in range(100):
        first = random.randint(20_000, 60_000)  # noqa: S311 (a port, not a secret)
        sockets = []
        try:
            for port in range(first, first + count):
                s = socket.socket()
                sockets.append(s)
                s.bind(("127.0.0.1", port))
            return first
        except OSError:
            continue
        finally:
            for s in sockets:
                s.close()
    raise RuntimeError("no free ports")


@contextmanager
def _process(
    argv: list[str], env: dict[str, str], ready_url: str, log: Path
) -> Iterator[subprocess.Popen[bytes]]:
    """A server process whose output goes to `log` (a pipe nobody reads would fill up and
    stall it: every request writes a log line)."""
    out = log.open("wb")
    # The argv is this package's own commands (sys.executable, the portal script), no input.
    process = subprocess.Popen(argv, env=env, stdout=out, stderr=subprocess.STDOUT)  # noqa: S603
    try:
        deadline = time.monotonic() + 60
        while True:
            try:
                if httpx.get(ready_url, timeout=2).status_code < 500:
                    break
            except httpx.TransportError:
                pass
            if process.poll() is not None or time.monotonic() > deadline:
                raise RuntimeError(f"{argv[0]} did not start: {log.read_text()[-2000:]}")
            time.sleep(0.1)
        yield process
    finally:
        process.terminate()
        try:
            process.wait(timeout=15)
        except subprocess.TimeoutExpired:
            process.kill()
        out.close()


def _rss_mb(pid: int) -> float:
    for line in Path(f"/proc/{pid}/status").read_text().splitlines():
        if line.startswith("VmRSS:"):
            return int(line.split()[1]) / 1024
    return 0.0


@dataclass
class Result:
    latency_ms: int
    calls: dict[str, tuple[int, int]]  # page -> (first view, repeat view)
    first: list[float]
    repeat: list[float]
    portal_load: dict[str, object]
    bare_load: dict[str, object]
    rss_mb: float

    def table(self) -> str:
        round_trip = self.latency_ms
        p = statistics.quantiles
        f50, f95 = statistics.median(self.first), p(self.first, n=20)[18]
        r50, r95 = statistics.median(self.repeat), p(self.repeat, n=20)[18]
        ratio = float(self.portal_load["rps"]) / float(self.bare_load["rps"])  # type: ignore[arg-type]
        rows = [
            ("Stripe round trip (injected)", f"{round_trip} ms", ""),
            *(
                (f"Stripe calls, {page}", f"first {c[0]} at once, repeat {c[1]}", "repeat 0")
                for page, c in self.calls.items()
            ),
            ("Overview first view p50 / p95", f"{f50:.0f} / {f95:.0f} ms", ""),
            ("  p50 / one round trip", f"{f50 / round_trip:.2f}", "<= 1.3"),
            ("Overview repeat view p50 / p95", f"{r50:.1f} / {r95:.1f} ms", ""),
            ("Overview repeat view, 50 clients", f"{self.portal_load['rps']} req/s", ""),
            ("Bare Starlette + Jinja2, 50 clients", f"{self.bare_load['rps']} req/s", ""),
            ("  portal / bare", f"{ratio:.2f}", ">= 0.6"),
            ("Resident memory, portal process", f"{self.rss_mb:.0f} MB", "< 150 MB"),
        ]
        width = max(len(r[0]) for r in rows) + 2
        lines = [f"{'measure'.ljust(width)}{'value'.ljust(26)}target", "-" * (width + 34)]
        lines += [f"{a.ljust(width)}{b.ljust(26)}{c}" for a, b, c in rows]
        return "\n".join(lines)


@dataclass
class Stack:
    """The processes a measurement runs against."""

    portal_url: str
    sandbox_url: str
    bare_url: str
    mailbox: DevMailbox
    portal_pid: int
    portal_log: Path


@contextmanager
def stack(*, log_dir: Path | None = None) -> Iterator[Stack]:
    """Sandbox with the demo data, `portal serve` (SQLite, default settings: the cache on), a
    bare Starlette + Jinja2 app and a development mailbox, each a process of its own."""
    work = log_dir or Path(tempfile.mkdtemp(prefix="portal-bench-"))
    sandbox_port, portal_port, bare_port = _free_ports(4), _free_port(), _free_port()
    sandbox_url = f"http://127.0.0.1:{sandbox_port}"
    portal_url = f"http://127.0.0.1:{portal_port}"
    mailbox = DevMailbox(echo=None)
    mail = DevMailServer(mailbox, _free_port())
    mail.start()
    exe = str(Path(sys.executable).with_name("portal"))
    base_env = {k: v for k, v in os.environ.items() if not k.startswith("PORTAL_")}
    env = base_env | {
        "PORTAL_BASE_URL": portal_url,
        "PORTAL_SECRET_KEY": "bench-" + "x" * 40,
        "PORTAL_STRIPE_API_KEY": SANDBOX_KEY,
        "PORTAL_STRIPE_API_BASE": sandbox_url,
        "PORTAL_STRIPE_WEBHOOK_SECRET": WEBHOOK_SECRET,
        "PORTAL_SMTP_URL": f"smtp://127.0.0.1:{mail.port}?tls=none",
        "PORTAL_MAIL_FROM": "Bench <bench@example.com>",
        "PORTAL_DATA_DIR": str(work),
        "PORTAL_LOG_FORMAT": "text",
    }
    bare = [sys.executable, "-m", "uvicorn", "portal_dev.bench.bare:app", "--port", str(bare_port)]
    bare += ["--no-access-log", "--log-level", "warning"]
    try:
        with _process(
            [exe, "sandbox", "--port", str(sandbox_port)],
            base_env,
            f"{sandbox_url}/_sandbox/stats",
            work / "sandbox.log",
        ):
            print("seeding the sandbox with the demo data ...", file=sys.stderr)
            asyncio.run(seed_demo(sandbox_url))
            subprocess.run([exe, "migrate"], env=env, check=True, capture_output=True)  # noqa: S603
            with (
                _process(
                    [exe, "serve", "--port", str(portal_port)],
                    env,
                    f"{portal_url}/healthz",
                    work / "portal.log",
                ) as portal,
                _process(bare, base_env, f"http://127.0.0.1:{bare_port}/", work / "bare.log"),
            ):
                yield Stack(
                    portal_url,
                    sandbox_url,
                    f"http://127.0.0.1:{bare_port}",
                    mailbox,
                    portal.pid,
                    work / "portal.log",
                )
    finally:
        mail.stop()


def run(*, latency_ms: int = 80, samples: int = 30, seconds: float = 10.0) -> Result:
    with stack() as found:
        return _measure(found, latency_ms=latency_ms, samples=samples, seconds=seconds)


@contextmanager
def signed_in_client(found: Stack) -> Iterator[httpx.Client]:
    """A client signed in as the demo customer, through the e-mailed link."""
    with httpx.Client(
        base_url=found.portal_url, headers={"origin": found.portal_url}, timeout=30
    ) as client:
        _sign_in(client, found.mailbox)
        yield client


def _sign_in(client: httpx.Client, mailbox: DevMailbox) -> None:
    page = client.get("/sign-in")
    csrf = CSRF.search(page.text)
    assert csrf
    client.post("/sign-in", data={"csrf_token": csrf.group(1), "email": CUSTOMER_EMAIL})
    deadline = time.monotonic() + 20
    while time.monotonic() < deadline:
        found = [m for m in mailbox.messages() if CUSTOMER_EMAIL in m.recipients]
        if found:
            break
        time.sleep(0.05)
    link = LINK.search(found[0].part("text/plain") or "")
    assert link
    confirm = client.get(link.group(1), follow_redirects=True)
    csrf = CSRF.search(confirm.text)
    assert csrf
    done = client.post("/sign-in/confirm", data={"csrf_token": csrf.group(1)})
    assert done.status_code == 303, done.text


def _measure(found: Stack, *, latency_ms: int, samples: int, seconds: float) -> Result:
    with (
        httpx.Client(base_url=found.sandbox_url, timeout=30) as control,
        signed_in_client(found) as client,
    ):
        return _measure_with(found, control, client, latency_ms, samples, seconds)


def _measure_with(
    found: Stack,
    control: httpx.Client,
    client: httpx.Client,
    latency_ms: int,
    samples: int,
    seconds: float,
) -> Result:
    portal_url = found.portal_url
    overview = client.get("/")
    invoice = re.search(r'href="[^"]*(/invoices/in_[A-Za-z0-9]+)"', overview.text)
    assert invoice
    customer_id = _customer_id(control)
    control.post("/_sandbox/latency", json={"ms": latency_ms})

    def changed() -> None:  # what a webhook does: every instance reads again
        _bump(portal_url, customer_id, control)

    def calls(path: str) -> tuple[int, int]:
        counted = []
        for _ in range(2):
            control.post("/_sandbox/stats/reset")
            assert client.get(path).status_code == 200, path
            counted.append(int(control.get("/_sandbox/stats").json()["requests"]))
        return counted[0], counted[1]

    pages = {
        "overview": "/",
        "invoice page": invoice.group(1),
        "payment methods": "/payment-methods",
        "billing details": "/account",
    }
    result_calls = {}
    for name, path in pages.items():
        changed()
        result_calls[name] = calls(path)

    first, repeat = [], []
    for _ in range(samples):
        changed()
        started = time.perf_counter()
        client.get("/")
        first.append((time.perf_counter() - started) * 1000)
        started = time.perf_counter()
        client.get("/")
        repeat.append((time.perf_counter() - started) * 1000)

    cookies = [f"{k}={v}" for k, v in client.cookies.items()]
    portal_load = load([f"{portal_url}/"], cookies, seconds)
    bare_load = load([f"{found.bare_url}/"], [], seconds)
    return Result(
        latency_ms, result_calls, first, repeat, portal_load, bare_load, _rss_mb(found.portal_pid)
    )


def _customer_id(control: httpx.Client) -> str:
    found = control.get(
        "/v1/customers", params={"email": CUSTOMER_EMAIL}, auth=(SANDBOX_KEY, "")
    ).json()
    return str(found["data"][0]["id"])


def _bump(portal_url: str, customer_id: str, control: httpx.Client) -> None:
    """Mark the customer's Stripe data changed, as a webhook would, through the portal's own
    signed endpoint (the sandbox knows the secret only when it delivers; sign it here)."""
    import hashlib
    import hmac

    body = json.dumps(
        {
            "id": f"evt_bench_{time.perf_counter_ns()}",
            "object": "event",
            "type": "customer.updated",
            "created": int(time.time()),
            "data": {"object": {"id": customer_id, "object": "customer"}},
        }
    ).encode()
    t = int(time.time())
    sig = hmac.new(WEBHOOK_SECRET.encode(), f"{t}.".encode() + body, hashlib.sha256).hexdigest()
    answer = httpx.post(
        f"{portal_url}/stripe/webhook",
        content=body,
        headers={"Stripe-Signature": f"t={t},v1={sig}", "Content-Type": "application/json"},
        timeout=30,
    )
    assert answer.status_code == 200, answer.text
    control.post("/_sandbox/stats/reset")


def load(
    urls: list[str], cookies: list[str], seconds: float, concurrency: int = 50
) -> dict[str, object]:
    """The load generator, as a process of its own (see load.py)."""
    argv = [sys.executable, "-m", "portal_dev.bench.load", *urls, "--concurrency", str(concurrency)]
    argv += ["--seconds", str(seconds), *(a for c in cookies for a in ("--cookie", c))]
    done = subprocess.run(argv, capture_output=True, text=True, check=True)  # noqa: S603
    return dict(json.loads(done.stdout))
