"""Reads at the same time: values already known are given without a task, the rest as
`asyncio.gather` would."""

from __future__ import annotations

import asyncio

import pytest

from portal.concurrency import Ready, at_once, then


def tasks_made(work: object) -> tuple[object, int]:
    """What `work` (a coroutine function's call, made inside the loop) gives, and how many
    tasks besides the main one were created meanwhile."""
    made: list[object] = []

    async def main() -> object:
        loop = asyncio.get_running_loop()
        default = loop.get_task_factory()

        def counting(loop: asyncio.AbstractEventLoop, coro: object, **kwargs: object) -> object:
            made.append(coro)
            if default is not None:
                return default(loop, coro, **kwargs)  # type: ignore[arg-type]
            return asyncio.Task(coro, loop=loop, **kwargs)  # type: ignore[arg-type]

        loop.set_task_factory(counting)  # type: ignore[arg-type]
        assert callable(work)
        try:
            return await work()
        finally:
            loop.set_task_factory(default)  # asyncio.run's own tasks at its end are not counted

    return asyncio.run(main()), len(made)


def test_a_ready_value_is_awaited_without_waiting() -> None:
    ready = Ready(3)
    steps = ready.__await__()
    with pytest.raises(StopIteration) as done:
        next(steps)
    assert done.value.value == 3


def test_ready_reads_are_given_at_once_without_a_task() -> None:
    async def work() -> object:
        both = at_once(Ready(1), Ready("a"))
        assert isinstance(both, Ready)  # nested in another at_once, still no task
        return await both

    assert tasks_made(work) == ((1, "a"), 0)


def test_a_read_that_waits_is_gathered_with_the_ready_ones_in_order() -> None:
    async def slow() -> str:
        await asyncio.sleep(0.01)
        return "slow"

    async def work() -> tuple[str, ...]:
        return await at_once(Ready("first"), slow(), Ready("last"))

    found, tasks = tasks_made(work)
    assert found == ("first", "slow", "last")
    assert tasks == 1  # only the read that waits is a task


def test_the_first_failure_is_raised_as_by_gather() -> None:
    async def failing() -> int:
        await asyncio.sleep(0)
        raise LookupError("gone")

    async def work() -> object:
        return await at_once(Ready(1), failing())

    with pytest.raises(LookupError, match="gone"):
        asyncio.run(work())


def test_then_keeps_a_ready_value_ready_and_waits_for_the_others() -> None:
    assert isinstance(then(Ready([1, 2]), len), Ready)

    async def later() -> list[int]:
        await asyncio.sleep(0)
        return [1, 2, 3]

    async def work() -> int:
        return await then(later(), len)

    assert asyncio.run(work()) == 3
