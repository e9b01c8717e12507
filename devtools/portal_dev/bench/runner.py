"""`portal bench`: the numbers issues 8 and 16 ask for, from real processes on this machine.

It starts the Stripe sandbox (demo data, then an injected latency per API call), a `portal serve`
process on SQLite and a development mailbox; signs a demo customer in through the e-mailed link;
and measures:

- Stripe calls per page view (first view after a change, repeat view), counted by the sandbox;
- overview latency p50/p95, first and repeat view, and the ratio to one Stripe round trip;
- the repeat view of the overview and of an invoice page under load from wrk (its own process,
  2 threads, 50 connections), each next to a bare Starlette + Jinja2 page of the same size and
  shape (bare.py, started once the portal's pages are measured): after a warm-up, portal and
  floor alternately in several short rounds, so that a noisy machine moves both alike; the
  median ratio and its spread; and the CPU time per view of each server process (/proc);
- the overview with the Dockerfile's uvicorn command and worker count, and the floor with as
  many workers, one round each;
- the resident memory of the portal's processes afterwards.

`slowed_portal` (serve.py: the same app with CPU burnt per request) is for the test that shows
the ratio moves when the portal gets slower; `load` (load.py, a Python client) is for the
suite's load test, which asks whether the portal holds up, not how fast it is.
"""

from __future__ import annotations

import asyncio
import hashlib
import hmac
import json
import os
import re
import subprocess
import sys
import tempfile
import time
from collections.abc import Iterator, Sequence
from contextlib import contextmanager
from dataclasses import dataclass, field
from pathlib import Path
from urllib.parse import urlsplit

import httpx

from portal_dev.bench import alone, bare, processes
from portal_dev.bench.report import Comparison, Machine, Measured, Result, Workers
from portal_dev.bench.wrk import Wrk, version
from portal_dev.demo.seed import seed_demo
from portal_dev.mailbox import DevMailbox, DevMailServer, ReceivedMail

CUSTOMER_EMAIL = "oliver.bennett@example.co.uk"  # one account; invoices in every state
SANDBOX_KEY = "sk_test_portal_bench"
WEBHOOK_SECRET = "whsec_bench_secret"  # noqa: S105 - the local sandbox's, not a real secret
LINK = re.compile(r"(/sign-in/link/[A-Za-z0-9_-]+)")
CSRF = re.compile(r'name="csrf_token" value="([0-9a-f]+)"')
INVOICE = re.compile(r'href="[^"]*(/invoices/in_[A-Za-z0-9]+)"')
DOCKERFILE = Path(__file__).parents[3] / "Dockerfile"


def _progress(text: str) -> None:
    print(text, file=sys.stderr, flush=True)


@dataclass
class Stack:
    """The processes a measurement runs against."""

    portal_url: str
    sandbox_url: str
    mailbox: DevMailbox
    portal_pid: int
    portal_log: Path
    work: Path  # logs and the SQLite database
    env: dict[str, str] = field(repr=False)  # the portal's (PORTAL_*)
    base_env: dict[str, str] = field(repr=False)  # without PORTAL_*: the other servers'

    @property
    def host(self) -> str:
        """The Host the portal answers to (its base URL's): other instances are asked for it."""
        return urlsplit(self.portal_url).netloc


@contextmanager
def stack(
    *,
    log_dir: Path | None = None,
    database_url: str | None = None,
    settings: dict[str, str] | None = None,
) -> Iterator[Stack]:
    """Sandbox with the demo data, `portal serve` (SQLite, or the PostgreSQL of
    `database_url`; default settings but any `PORTAL_*` of `settings`: the cache on) and a
    development mailbox, each a process of its own but the mailbox."""
    work = log_dir or Path(tempfile.mkdtemp(prefix="portal-bench-"))
    sandbox_port, portal_port = processes.free_ports(4), processes.free_port()
    sandbox_url = f"http://127.0.0.1:{sandbox_port}"
    portal_url = f"http://127.0.0.1:{portal_port}"
    mailbox = DevMailbox(echo=None)
    mail = DevMailServer(mailbox, processes.free_port())
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
    if database_url is not None:
        env["PORTAL_DATABASE_URL"] = database_url
    env |= settings or {}
    try:
        with processes.server(
            [exe, "sandbox", "--port", str(sandbox_port)],
            base_env,
            f"{sandbox_url}/_sandbox/stats",
            work / "sandbox.log",
        ):
            _progress("seeding the sandbox with the demo data ...")
            asyncio.run(seed_demo(sandbox_url))
            subprocess.run([exe, "migrate"], env=env, check=True, capture_output=True)  # noqa: S603
            with processes.server(
                [exe, "serve", "--port", str(portal_port)],
                env,
                f"{portal_url}/healthz",
                work / "portal.log",
            ) as portal:
                yield Stack(
                    portal_url,
                    sandbox_url,
                    mailbox,
                    portal.pid,
                    work / "portal.log",
                    work,
                    env,
                    base_env,
                )
    finally:
        mail.stop()


@dataclass(frozen=True)
class Server:
    url: str
    pid: int  # whose CPU time is read (uvicorn's supervisor when it has workers)


@contextmanager
def floor(
    found: Stack, pages: dict[str, bare.FloorPage], *, workers: int = 1, http: str | None = None
) -> Iterator[Server]:
    """The floor (bare.py) serving `pages` at /<name>, with uvicorn as the portal has it (its
    `--http` protocol class too, where the Dockerfile names one)."""
    port = processes.free_port()
    argv = [sys.executable, "-m", "uvicorn", "--factory", "portal_dev.bench.bare:create_app"]
    argv += ["--host", "127.0.0.1", "--port", str(port), "--no-access-log"]
    argv += ["--log-level", "warning", "--workers", str(workers)]
    if http is not None:
        argv += ["--http", http]
    env = found.base_env | {bare.PAGES_ENV: bare.encode_pages(pages)}
    url = f"http://127.0.0.1:{port}"
    with processes.server(argv, env, f"{url}/", found.work / f"floor-{port}.log") as process:
        yield Server(url, process.pid)


@contextmanager
def slowed_portal(found: Stack, *, burn_ms: float) -> Iterator[Server]:
    """A second portal on the same database, `burn_ms` of CPU slower per request (serve.py)."""
    port = processes.free_port()
    argv = [sys.executable, "-m", "portal_dev.bench.serve", "--port", str(port)]
    argv += ["--burn-ms", str(burn_ms)]
    url = f"http://127.0.0.1:{port}"
    with processes.server(
        argv, found.env, f"{url}/healthz", found.work / f"slowed-{port}.log", {"host": found.host}
    ) as process:
        yield Server(url, process.pid)


def dockerfile_command(dockerfile: Path = DOCKERFILE) -> list[str] | None:
    """The Dockerfile's CMD (exec form), or None without a Dockerfile."""
    if not dockerfile.is_file():
        return None
    for line in dockerfile.read_text().splitlines():
        if line.startswith("CMD "):
            return [str(word) for word in json.loads(line.removeprefix("CMD "))]
    return None


def workers_of(command: Sequence[str]) -> int:
    return int(command[command.index("--workers") + 1]) if "--workers" in command else 1


def _on_port(command: Sequence[str], port: int) -> list[str]:
    """The command with its --host and --port set to this machine's loopback and `port`."""
    argv = list(command)
    for option, value in (("--host", "127.0.0.1"), ("--port", str(port))):
        if option in argv:
            argv[argv.index(option) + 1] = value
        else:
            argv += [option, value]
    return argv


@contextmanager
def dockerfile_portal(found: Stack, command: Sequence[str]) -> Iterator[Server]:
    """The portal as the Dockerfile runs it (uvicorn's command, its worker count), on the same
    database, on another port."""
    port = processes.free_port()
    argv = _on_port(command, port)
    if argv[0] == "uvicorn":  # the venv's, whether or not its bin/ is on PATH
        argv = [sys.executable, "-m", *argv]
    url = f"http://127.0.0.1:{port}"
    with processes.server(
        argv, found.env, f"{url}/healthz", found.work / f"workers-{port}.log", {"host": found.host}
    ) as process:
        yield Server(url, process.pid)


@contextmanager
def signed_in_client(found: Stack, email: str = CUSTOMER_EMAIL) -> Iterator[httpx.Client]:
    """A client signed in as the customer of `email` (the demo's), through the e-mailed link."""
    with httpx.Client(
        base_url=found.portal_url, headers={"origin": found.portal_url}, timeout=30
    ) as client:
        _sign_in(client, found.mailbox, email)
        yield client


def _sign_in(client: httpx.Client, mailbox: DevMailbox, email: str) -> None:
    page = client.get("/sign-in")
    csrf = CSRF.search(page.text)
    assert csrf
    asked = client.post("/sign-in", data={"csrf_token": csrf.group(1), "email": email})
    if asked.status_code >= 400:  # e.g. 429: the sign-in limit, on a database used before
        raise RuntimeError(f"sign-in refused ({asked.status_code}): {asked.text[:500]}")
    deadline = time.monotonic() + 20
    found: list[ReceivedMail] = []
    while not found and time.monotonic() < deadline:
        found = [m for m in mailbox.messages() if email in m.recipients]
        time.sleep(0.05)
    if not found:
        raise RuntimeError(f"no sign-in e-mail to {email} within 20 s")
    link = LINK.search(found[0].part("text/plain") or "")
    assert link
    confirm = client.get(link.group(1), follow_redirects=True)
    csrf = CSRF.search(confirm.text)
    assert csrf
    done = client.post("/sign-in/confirm", data={"csrf_token": csrf.group(1)})
    assert done.status_code == 303, done.text


def portal_headers(found: Stack, client: httpx.Client) -> dict[str, str]:
    """What wrk sends to a portal: the signed-in session's cookies, the portal's Host."""
    cookie = "; ".join(f"{name}={value}" for name, value in client.cookies.items())
    return {"Cookie": cookie, "Host": found.host}


# -- the load rounds ------------------------------------------------------------------------


@dataclass(frozen=True)
class Target:
    """A page under load: where, with which headers, whose CPU, and its size (an answer much
    smaller than that is not the page: a redirect to the sign-in, say)."""

    name: str
    url: str
    headers: dict[str, str]
    pid: int
    size: int


def measure(wrk: Wrk, target: Target, seconds: float) -> Measured:
    before = processes.cpu_seconds(target.pid)
    found = wrk.run(target.url, seconds, target.headers)
    cpu = processes.cpu_seconds(target.pid) - before
    if found.requests == 0 or found.status_errors or found.socket_errors:
        raise RuntimeError(f"{target.name}: errors under load: {found}")
    if found.bytes_per_response < 0.95 * target.size:
        raise RuntimeError(
            f"{target.name}: {found.bytes_per_response:.0f} bytes per answer, the page has"
            f" {target.size}: not the page (signed out?)"
        )
    return Measured(found, cpu * 1000 / found.requests)


# How many warm-ups a target gets at most before its rounds, while it answers nothing.
WARMUPS = 10


def alternate(
    wrk: Wrk, targets: Sequence[Target], *, rounds: int, seconds: float, warmup: float = 1.0
) -> dict[str, list[Measured]]:
    """Each target warmed up until it answers (workers still starting answer nothing for a
    while on a busy machine), then `rounds` rounds of `seconds` each, in the targets' order and
    back (A B C D, D C B A, ...), so that neighbours meet the same moment."""
    for target in targets:
        for _ in range(WARMUPS):
            if wrk.run(target.url, warmup, target.headers).requests:
                break
    found: dict[str, list[Measured]] = {t.name: [] for t in targets}
    for n in range(rounds):
        _progress(f"round {n + 1} of {rounds} ...")
        for target in targets if n % 2 == 0 else reversed(targets):
            found[target.name].append(measure(wrk, target, seconds))
    return found


def _page(client: httpx.Client, path: str) -> str:
    answer = client.get(path)
    assert answer.status_code == 200, (path, answer.status_code)
    return answer.text


# -- the whole bench ------------------------------------------------------------------------


def run(
    *,
    latency_ms: int = 80,
    samples: int = 30,
    rounds: int = 5,
    seconds: float = 3.0,
    threads: int = 2,
    connections: int = 50,
    with_workers: bool = True,
    database_url: str | None = None,
) -> Result:
    """Raises `wrk.WrkMissing` (saying how to install it) before starting anything. The portal
    runs on SQLite, or on the PostgreSQL of `database_url` (production's shape)."""
    with Wrk(threads=threads, connections=connections) as wrk:
        machine = Machine.here(version())
        with (
            stack(database_url=database_url) as found,
            httpx.Client(base_url=found.sandbox_url, timeout=30) as control,
            signed_in_client(found) as client,
        ):
            invoice = INVOICE.search(_page(client, "/"))
            assert invoice
            paths = {"overview": "/", "invoice page": invoice.group(1)}
            calls, first, repeat, by_stripe = _stripe_and_latency(
                found, control, client, latency_ms, samples
            )
            headers = portal_headers(found, client)
            shapes = {name: bare.shape_of(_page(client, path)) for name, path in paths.items()}
            pages = _against_floors(wrk, found, headers, paths, shapes, rounds, seconds)
            rss = processes.rss_mb(found.portal_pid)
            command = dockerfile_command()
            workers = None
            if with_workers and command is not None:
                overview = shapes["overview"]
                workers = _with_workers(wrk, found, command, headers, overview, seconds)
    return Result(
        machine,
        latency_ms,
        rounds,
        seconds,
        threads,
        connections,
        calls,
        first,
        repeat,
        pages,
        workers,
        rss,
        "SQLite" if database_url is None else "PostgreSQL",
        by_stripe,
    )


def _against_floors(
    wrk: Wrk,
    found: Stack,
    headers: dict[str, str],
    paths: dict[str, str],
    shapes: dict[str, bare.PageShape],
    rounds: int,
    seconds: float,
) -> dict[str, Comparison]:
    """Each page of the portal next to its floor, in alternating rounds."""
    routes = {name: name.replace(" ", "-") for name in paths}
    floors = {routes[name]: bare.matching(shape) for name, shape in shapes.items()}
    with floor(found, floors) as floor_server:
        floor_urls = {name: f"{floor_server.url}/{routes[name]}" for name in paths}
        floor_sizes = {name: len(httpx.get(url).content) for name, url in floor_urls.items()}
        targets = []
        for name, path in paths.items():
            portal_url = found.portal_url + path
            targets += [
                Target(name, portal_url, headers, found.portal_pid, shapes[name].size),
                Target(f"floor, {name}", floor_urls[name], {}, floor_server.pid, floor_sizes[name]),
            ]
        measured = alternate(wrk, targets, rounds=rounds, seconds=seconds)
    return {
        name: Comparison(
            shapes[name].size,
            floor_sizes[name],
            shapes[name].rows,
            shapes[name].forms,
            measured[name],
            measured[f"floor, {name}"],
        )
        for name in paths
    }


def _with_workers(
    wrk: Wrk,
    found: Stack,
    command: Sequence[str],
    headers: dict[str, str],
    shape: bare.PageShape,
    seconds: float,
) -> Workers:
    count = workers_of(command)
    http = command[command.index("--http") + 1] if "--http" in command else None
    _progress(f"the Dockerfile's command, {count} workers ...")
    with (
        dockerfile_portal(found, command) as portal,
        floor(found, {"overview": bare.matching(shape)}, workers=count, http=http) as floor_server,
    ):
        targets = [
            Target("portal", f"{portal.url}/", headers, portal.pid, shape.size),
            Target("floor", f"{floor_server.url}/overview", {}, floor_server.pid, shape.size),
        ]
        # Each worker keeps its own cache: a longer warm-up fills them all.
        measured = alternate(wrk, targets, rounds=1, seconds=seconds, warmup=2)
        rss = [processes.rss_mb(pid) for pid in processes.workers(portal.pid)]
    portal_round, floor_round = measured["portal"][0].round, measured["floor"][0].round
    # The Dockerfile's own protocol class (portal.serving) sets TCP_NODELAY itself.
    nagle = workers_lose_nodelay() and http is None
    return Workers(count, portal_round, floor_round, sorted(rss), nagle)


def workers_lose_nodelay() -> bool:
    """Whether this uvicorn binds the socket it hands its workers without IPPROTO_TCP, which
    makes asyncio skip TCP_NODELAY on every connection they accept (Kludex/uvicorn#3149)."""
    import socket

    import uvicorn

    sock = uvicorn.Config("unused:app", host="127.0.0.1", port=0, log_config=None).bind_socket()
    try:
        return sock.proto != socket.IPPROTO_TCP
    finally:
        sock.close()


def _stripe_and_latency(
    found: Stack, control: httpx.Client, client: httpx.Client, latency_ms: int, samples: int
) -> tuple[dict[str, tuple[int, int]], list[float], list[float], list[float]]:
    """Stripe calls per page (first view after a change, repeat view), and the overview's
    first and repeat view latency from one client, with `latency_ms` per Stripe call, and
    what Stripe alone takes for each first view's calls (`alone`), measured after it."""
    portal_url = found.portal_url
    overview = client.get("/")
    invoice = INVOICE.search(overview.text)
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

    first, repeat, by_stripe = [], [], []
    with alone.Replay(found.sandbox_url, SANDBOX_KEY) as replay:
        for _ in range(samples):
            changed()
            started = time.perf_counter()
            client.get("/")
            first.append((time.perf_counter() - started) * 1000)
            by_stripe.append(replay.time(alone.recorded(control)))
            started = time.perf_counter()
            client.get("/")
            repeat.append((time.perf_counter() - started) * 1000)
    return result_calls, first, repeat, by_stripe


def _customer_id(control: httpx.Client, email: str = CUSTOMER_EMAIL) -> str:
    found = control.get("/v1/customers", params={"email": email}, auth=(SANDBOX_KEY, "")).json()
    return str(found["data"][0]["id"])


def _bump(portal_url: str, customer_id: str, control: httpx.Client) -> None:
    """Mark the customer's Stripe data changed, as a webhook would, through the portal's own
    signed endpoint (the sandbox knows the secret only when it delivers; sign it here)."""
    body = json.dumps(
        {
            "id": f"evt_bench_{time.perf_counter_ns()}",
            "object": "event",
            "type": "customer.updated",
            "created": int(time.time()),
            "livemode": False,
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
    """The Python load client (load.py), as a process of its own: for the suite's load test,
    which asks whether the portal holds up (no error under 100 clients), not how fast it is."""
    argv = [sys.executable, "-m", "portal_dev.bench.load", *urls, "--concurrency", str(concurrency)]
    argv += ["--seconds", str(seconds), *(a for c in cookies for a in ("--cookie", c))]
    done = subprocess.run(argv, capture_output=True, text=True, check=True)  # noqa: S603
    return dict(json.loads(done.stdout))
