"""A batch job's pace (`portal.stripe.pace`): the token bucket keeps any one-second window
within its rate, a 429 holds the whole job back and is tried again, the pace applies only
inside `paced`."""

from __future__ import annotations

import asyncio
import random
from collections.abc import Awaitable, Callable

import pytest

from portal.stripe import pace
from portal.stripe.pace import Pace, Response, TokenBucket, backoff


class Clock:
    def __init__(self) -> None:
        self.now = 100.0

    def __call__(self) -> float:
        return self.now

    async def sleep(self, seconds: float) -> None:
        self.now += seconds


def test_a_full_bucket_answers_at_once_then_spaces_the_callers_in_order() -> None:
    clock = Clock()
    bucket = TokenBucket(10, clock=clock)
    assert [round(bucket.reserve(), 3) for _ in range(4)] == [0.0, 0.1, 0.2, 0.3]
    clock.now += 10  # idle for a while: saves up no more than `burst`
    assert [round(bucket.reserve(), 3) for _ in range(2)] == [0.0, 0.1]


@pytest.mark.parametrize(("rate", "burst"), [(20, 1), (20, 5), (3.5, 2)])
def test_no_one_second_window_holds_more_than_rate_plus_burst(rate: float, burst: int) -> None:
    clock = Clock()
    bucket = TokenBucket(rate, burst=burst, clock=clock)
    rng = random.Random(7)
    sent = []
    for _ in range(600):  # callers arriving in bursts and lulls
        clock.now += rng.choice((0.0, 0.0, 0.01, 0.3))
        sent.append(clock.now + bucket.reserve())
    sent.sort()
    busiest = max(sum(1 for t in sent[i:] if t < start + 1.0) for i, start in enumerate(sent))
    assert busiest <= rate + burst


def test_holding_the_bucket_delays_every_next_caller() -> None:
    clock = Clock()
    bucket = TokenBucket(20, clock=clock)
    bucket.hold(2.0)
    assert bucket.reserve() >= 2.0
    assert bucket.reserve() >= 2.05


def test_the_backoff_doubles_up_to_its_cap_and_jitter_spreads_its_upper_half() -> None:
    assert [backoff(n, 1.0) for n in range(7)] == [0.5, 1.0, 2.0, 4.0, 8.0, 16.0, 16.0]
    assert backoff(2, 0.0) == 1.0
    assert 1.0 <= backoff(2, 0.5) <= 2.0


def test_a_bucket_needs_a_rate() -> None:
    with pytest.raises(ValueError, match="positive rate"):
        TokenBucket(0)


def answers(*statuses: int) -> tuple[list[int], Callable[[], Awaitable[Response]]]:
    asked: list[int] = []
    left = list(statuses)

    async def request() -> Response:
        asked.append(1)
        return b"{}", left.pop(0), {}

    return asked, request


def test_a_429_is_tried_again_after_the_backoff_and_counted() -> None:
    clock = Clock()
    job = Pace(TokenBucket(10, clock=clock, sleep=clock.sleep), jitter=lambda: 1.0)
    asked, request = answers(429, 429, 200)
    start = clock.now
    response = asyncio.run(job.send(request))
    assert response[1] == 200
    assert (len(asked), job.rate_limited) == (3, 2)
    assert clock.now - start >= 0.5 + 1.0  # the two pauses, whole (jitter 1)


def test_after_its_retries_the_last_429_goes_back_to_the_caller() -> None:
    clock = Clock()
    job = Pace(TokenBucket(10, clock=clock, sleep=clock.sleep), retries=2)
    asked, request = answers(429, 429, 429, 200)
    assert asyncio.run(job.send(request))[1] == 429
    assert (len(asked), job.rate_limited) == (3, 3)


def test_the_pace_applies_inside_paced_and_to_the_tasks_started_there() -> None:
    job = pace.for_rate(20)

    async def seen() -> Pace | None:
        return pace.current()

    async def main() -> tuple[Pace | None, Pace | None, Pace | None]:
        with pace.paced(job):
            inside = await asyncio.create_task(seen())
        return pace.current(), inside, await asyncio.create_task(seen())

    assert asyncio.run(main()) == (None, job, None)
