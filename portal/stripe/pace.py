"""The pace of a batch job's Stripe calls: a token bucket below Stripe's rate limit, and a
refused call (429) tried again after a growing pause.

Stripe allows 25 requests/s in test mode and 100/s live, for the whole account, the serving
instances included (https://docs.stripe.com/rate-limits), and asks a client that meets a 429 to
back off and try again. A batch job that asked as fast as it could would meet a wall of 429s
and take the customers' pages' share; paced, it keeps below its own rate. The pace applies only
inside `paced(...)` (a context variable, which the tasks the job starts inherit): the serving
path never waits for it.
"""

from __future__ import annotations

import asyncio
import random
import time
from collections.abc import Awaitable, Callable, Iterator, Mapping
from contextlib import contextmanager
from contextvars import ContextVar
from dataclasses import dataclass, field

# What the SDK's HTTP client answers: body, status, headers.
Response = tuple[bytes, int, Mapping[str, str]]

BACKOFF_FIRST = 0.5  # seconds before the first retry of a 429, doubling with each
BACKOFF_MAX = 16.0


class TokenBucket:
    """`per_second` tokens a second, at most `burst` saved up. Taking a token when there is
    none reserves the next one: callers are served in the order they asked, each told how long
    to wait. With a one-second window at Stripe, `per_second + burst` must stay below the limit.
    """

    def __init__(
        self,
        per_second: float,
        *,
        burst: int = 1,
        clock: Callable[[], float] = time.monotonic,
        sleep: Callable[[float], Awaitable[None]] = asyncio.sleep,
    ) -> None:
        if per_second <= 0 or burst < 1:
            raise ValueError("a token bucket needs a positive rate and room for one token")
        self.per_second = per_second
        self.burst = burst
        self._clock = clock
        self._sleep = sleep
        self._tokens = float(burst)
        self._updated = clock()

    def _refill(self) -> None:
        now = self._clock()
        self._tokens = min(self.burst, self._tokens + (now - self._updated) * self.per_second)
        self._updated = now

    def reserve(self) -> float:
        """Take a token; the seconds to wait before using it (0: at once)."""
        self._refill()
        self._tokens -= 1
        return 0.0 if self._tokens >= 0 else -self._tokens / self.per_second

    def hold(self, seconds: float) -> None:
        """No new token for `seconds` from now: after a 429 the whole job backs off, not only
        the refused call."""
        self._refill()
        self._tokens = min(self._tokens, -seconds * self.per_second)

    async def take(self) -> None:
        delay = self.reserve()
        if delay > 0:
            await self._sleep(delay)


def backoff(attempt: int, jitter: float) -> float:
    """The pause before retry `attempt + 1` of a refused call: doubling from BACKOFF_FIRST up
    to BACKOFF_MAX, `jitter` (0 to 1) spreading it over its upper half, so that calls refused
    together do not come back together."""
    return float(min(BACKOFF_MAX, BACKOFF_FIRST * 2.0**attempt) * (0.5 + jitter / 2))


@dataclass
class Pace:
    """A batch job's pace: its bucket, how often a 429 is tried again, and how many it met."""

    bucket: TokenBucket
    retries: int = 8
    rate_limited: int = 0  # 429s met, retried or not
    jitter: Callable[[], float] = field(default=random.random, repr=False)

    async def send(self, request: Callable[[], Awaitable[Response]]) -> Response:
        """`request` made when a token allows, and made again after a 429 (Stripe refused it
        before doing anything; a repeated POST carries the same idempotency key). The last 429
        is handed back for the caller's own retries and errors."""
        attempt = 0
        while True:
            await self.bucket.take()
            response = await request()
            if response[1] != 429:
                return response
            self.rate_limited += 1
            if attempt >= self.retries:
                return response
            self.bucket.hold(backoff(attempt, self.jitter()))
            attempt += 1


def for_rate(per_second: float) -> Pace:
    return Pace(TokenBucket(per_second))


_current: ContextVar[Pace | None] = ContextVar("portal_stripe_pace", default=None)


@contextmanager
def paced(pace: Pace) -> Iterator[Pace]:
    """Every Stripe call made inside (and in the tasks started inside) goes at `pace`."""
    token = _current.set(pace)
    try:
        yield pace
    finally:
        _current.reset(token)


def current() -> Pace | None:
    return _current.get()
