"""Reads at the same time, without a task for what is already there.

`asyncio.gather` makes a task of every coroutine it is given, and a task costs several turns of
the event loop even when its coroutine finishes without ever waiting. On a repeat view the
Stripe cache answers every read, and the overview's reads cost more as tasks than as reads
(about 40 µs of a view's CPU, the bench's profile). So a read that can answer at once returns
`Ready` (an awaitable that never waits) instead of a coroutine; `at_once` gives all values at
once when every read is `Ready`, and otherwise hands the rest to `asyncio.gather`, as before.
`then` keeps a `Ready` ready through a step that only rearranges its value.

A read is `Ready` only if it knows its answer before it starts: a coroutine, once running, is
left to its task (libraries bind their timeouts and cancel scopes to the task they started in).
"""

from __future__ import annotations

import asyncio
from collections.abc import Awaitable, Callable, Generator
from typing import Any, Generic, TypeVar, overload

T = TypeVar("T")
U = TypeVar("U")
A = TypeVar("A")
B = TypeVar("B")
C = TypeVar("C")
D = TypeVar("D")


class Ready(Generic[T]):
    """A value already known, as an awaitable: `await` gives it without waiting."""

    __slots__ = ("value",)

    def __init__(self, value: T) -> None:
        self.value = value

    def __await__(self) -> Generator[Any, None, T]:
        yield from ()
        return self.value

    def __repr__(self) -> str:
        return f"Ready({self.value!r})"


@overload
def at_once(a: Awaitable[A], b: Awaitable[B], /) -> Awaitable[tuple[A, B]]: ...
@overload
def at_once(a: Awaitable[A], b: Awaitable[B], c: Awaitable[C], /) -> Awaitable[tuple[A, B, C]]: ...
@overload
def at_once(
    a: Awaitable[A], b: Awaitable[B], c: Awaitable[C], d: Awaitable[D], /
) -> Awaitable[tuple[A, B, C, D]]: ...
@overload
def at_once(*reads: Awaitable[T]) -> Awaitable[tuple[T, ...]]: ...
def at_once(*reads: Awaitable[Any]) -> Awaitable[tuple[Any, ...]]:
    """The values of `reads`, in their order, the reads running at the same time (as
    `asyncio.gather`: the first failure is raised, the other reads go on)."""
    if all(type(read) is Ready for read in reads):
        return Ready(tuple(read.value for read in reads))  # type: ignore[attr-defined]
    return _gathered(reads)


async def _gathered(reads: tuple[Awaitable[Any], ...]) -> tuple[Any, ...]:
    loop = asyncio.get_running_loop()
    found = await asyncio.gather(*(_done(loop, r) if type(r) is Ready else r for r in reads))
    return tuple(found)


def _done(loop: asyncio.AbstractEventLoop, ready: Ready[Any]) -> asyncio.Future[Any]:
    future = loop.create_future()
    future.set_result(ready.value)
    return future


def then(read: Awaitable[T], step: Callable[[T], U]) -> Awaitable[U]:
    """`step` applied to what `read` gives; still `Ready` if `read` was."""
    if isinstance(read, Ready):
        return Ready(step(read.value))
    return _after(read, step)


async def _after(read: Awaitable[T], step: Callable[[T], U]) -> U:
    return step(await read)
