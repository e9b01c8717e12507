"""What Stripe alone costs a view: the Stripe calls the portal made for it (the sandbox's log of
requests since its counts were reset), sent again all at once from a bare client on kept-alive
connections, and timed.

The sandbox's injected latency is not the whole of a round trip: the sandbox also takes its time
to answer (an invoice list of forty invoices is a few milliseconds to render), and, being one
process, answers the view's concurrent calls one after the other, where Stripe's servers answer
them side by side. A first view measured next to this replay, in turn, says what the portal
itself adds; measured against the injected latency alone, the sandbox's own time would count as
the portal's.
"""

from __future__ import annotations

import time
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass
from types import TracebackType

import httpx


@dataclass(frozen=True)
class Call:
    method: str
    path: str  # with its query
    stripe_version: str | None


def recorded(control: httpx.Client) -> list[Call]:
    """The API calls the sandbox answered since its counts were last reset."""
    found = control.get("/_sandbox/requests").json()["requests"]
    return [Call(c["method"], c["path"], c["stripe_version"]) for c in found]


class Replay:
    """A bare client for `time`: a thread per call (the calls at once), connections kept."""

    def __init__(self, sandbox_url: str, api_key: str, width: int = 8) -> None:
        self._client = httpx.Client(
            base_url=sandbox_url,
            auth=(api_key, ""),
            timeout=30,
            limits=httpx.Limits(max_keepalive_connections=width),
        )
        self._threads = ThreadPoolExecutor(width)

    def __enter__(self) -> Replay:
        return self

    def __exit__(
        self,
        kind: type[BaseException] | None,
        error: BaseException | None,
        trace: TracebackType | None,
    ) -> None:
        self._threads.shutdown()
        self._client.close()

    def _send(self, call: Call) -> None:
        if call.method != "GET":  # a view's calls are reads; a write is not sent twice
            raise RuntimeError(f"not a read: {call.method} {call.path}")
        headers = {"Stripe-Version": call.stripe_version} if call.stripe_version else {}
        answer = self._client.request(call.method, call.path, headers=headers)
        if answer.status_code >= 400:
            raise RuntimeError(f"{call.method} {call.path}: {answer.status_code}")

    def time(self, calls: list[Call]) -> float:
        """Milliseconds until the last of `calls`, all sent at once, is answered."""
        started = time.perf_counter()
        list(self._threads.map(self._send, calls))
        return (time.perf_counter() - started) * 1000
