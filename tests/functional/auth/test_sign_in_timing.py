"""Whether an address belongs to a customer does not show in how long the answer takes: over
many interleaved samples the medians of known and unknown addresses lie within the noise.

The timing client runs in a process of its own, as an attacker's would: in the test's process
it would share the interpreter with the portal's threads, and the e-mail the portal sends after
answering would slow the client's reading of the answer, not the answer."""

from __future__ import annotations

import json
import math
import statistics
import subprocess
import sys
import uuid
from collections.abc import Iterator
from pathlib import Path

import pytest

from tests.functional.portal_support import Portal, serve_portal

SAMPLES = 60

CLIENT = r"""
import json, re, sys, time
import httpx

url, pairs = sys.argv[1], json.loads(sys.argv[2])
csrf = re.compile(r'name="csrf_token" value="([0-9a-f]+)"')
times = {"known": [], "unknown": []}

def timed(email, n):
    # Each sample from its own address, so the per-IP limit does not end the run.
    with httpx.Client(base_url=url, headers={"X-Forwarded-For": f"198.51.{n // 250}.{n % 250}"}) as c:
        token = csrf.search(c.get("/sign-in").text).group(1)
        started = time.perf_counter()
        answer = c.post("/sign-in", data={"csrf_token": token, "email": email})
        elapsed = time.perf_counter() - started
        assert answer.status_code == 303, answer.status_code
        return elapsed

for n in range(5):
    timed(f"warm-{n}@example.de", 10_000 + n)
for i, (known, unknown) in enumerate(pairs):  # interleaved: a noisy moment hits both alike
    times["known"].append(timed(known, 2 * i))
    times["unknown"].append(timed(unknown, 2 * i + 1))
print(json.dumps(times))
"""


@pytest.fixture
def portal_behind_proxy(sandbox_url: str, tmp_path: Path) -> Iterator[Portal]:
    with serve_portal(tmp_path, sandbox_url, client_ip_header="x-forwarded-for") as found:
        yield found


def test_known_and_unknown_addresses_take_the_same_time(portal_behind_proxy: Portal) -> None:
    portal = portal_behind_proxy
    known = [f"kunde-{uuid.uuid4().hex[:8]}@example.de" for _ in range(SAMPLES)]
    for email in known:
        portal.customer(email=email)
    unknown = [f"fremd-{uuid.uuid4().hex[:8]}@example.de" for _ in range(SAMPLES)]
    run = subprocess.run(
        [
            sys.executable,
            "-c",
            CLIENT,
            portal.url,
            json.dumps(list(zip(known, unknown, strict=True))),
        ],
        capture_output=True,
        text=True,
        timeout=120,
        check=True,
    )
    times = json.loads(run.stdout)
    # Each known sample is paired with the unknown one right after it, so a noisy moment of the
    # machine moves both; the median of the pairs' differences is the estimate, and how much it
    # wanders is judged from the pairs themselves (their median absolute deviation), never
    # tighter than 2 ms. Before the e-mail was composed after the answer, known addresses took
    # about 9 ms longer; that stays far outside.
    pairs = [a - b for a, b in zip(times["known"], times["unknown"], strict=True)]
    difference = statistics.median(pairs)
    deviation = statistics.median(abs(d - difference) for d in pairs)
    # The median's standard error for roughly normal noise, 1.2533 * sigma / sqrt(n), with sigma
    # estimated as 1.4826 * MAD; four of them leave room for the samples not being independent.
    wander = 4 * 1.2533 * 1.4826 * deviation / math.sqrt(len(pairs))
    assert abs(difference) < max(0.002, wander), (difference, wander)
