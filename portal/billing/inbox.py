"""Webhook events recorded on receipt and handled from there, during or after the answer.

The request that receives an event records it (`webhook_inbox`). When this process has room
(fewer than `AT_ONCE` events under way) the request handles it and answers when done, or after
`ANSWER_WITHIN` with handling going on; otherwise it answers at once and the instance's worker
(`work_off`) takes it up as room frees. So a burst is answered quickly and worked off at the
pace Stripe and the database allow. An event whose handling failed, or whose process stopped
before it was done, is taken up again by the worker of any instance: nothing acknowledged is
lost.

Handled once: the handler's effects are applied in the transaction that inserts the event's
`webhook_events` row and deletes its inbox row, so a second handling finds the row and applies
nothing. A claim (`claimed_until`) keeps a second delivery, or another instance, from handling
an event that is being handled; taken by one conditional UPDATE, with `FOR UPDATE SKIP LOCKED`
on PostgreSQL (SQLite has one writer at a time).
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
import weakref
from collections.abc import AsyncIterator, Coroutine
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta
from typing import Any, Literal

from sqlalchemy import delete, or_, select, update
from sqlalchemy.ext.asyncio import AsyncConnection, AsyncEngine

from portal.billing.events import HANDLERS, Reaction
from portal.mail import outbox
from portal.services import Services
from portal.storage.database import insert_once, transaction
from portal.storage.tables import webhook_events, webhook_inbox
from portal.stripe import changes
from portal.stripe.errors import NotFound as StripeNotFound
from portal.stripe.models import WebhookEvent

log = logging.getLogger(__name__)

# How long a delivery waits for its event's handling before answering and leaving it to go on:
# Stripe asks for a quick 2xx and publishes no figure for its timeout.
ANSWER_WITHIN = timedelta(seconds=1)
# How long a claim holds: longer than a handler takes (a few Stripe calls, each with the
# gateway's timeout and retries). A process that stopped without giving its claims up holds
# its events this long.
CLAIM = timedelta(seconds=120)
# How many events one process handles at once (what the answers' event loop has to share; a
# few more when deliveries find room at the same moment), and how often its worker looks for
# events due that no delivery woke it for.
AT_ONCE = 16
POLL_SECONDS = 1.0
# How long a stopping process lets the handling under way finish before it gives it up (a
# deploy's grace period is longer: fly.toml's kill_timeout).
FINISH_WITHIN = timedelta(seconds=5)
# Waits after the first, second, ... failed try; the last repeats (Stripe retries for days).
RETRY_AFTER = tuple(timedelta(seconds=s) for s in (5, 30, 120, 600, 3600))


# What a delivery found: its event to handle now, left to the worker, or handled (being handled).
Recorded = Literal["claimed", "queued", "duplicate"]


@dataclass(frozen=True)
class Handled:
    first: bool  # False: it had been handled before (its effects were not applied again)


@dataclass
class _Box:
    """This process's handling under way, per database."""

    handling: dict[str, asyncio.Task[Handled]] = field(default_factory=dict)
    # E-mails sent after a commit: held so that they are not collected half-way.
    sending: set[asyncio.Task[Any]] = field(default_factory=set)
    # Set when an event was left for the worker, or room freed up.
    wake: asyncio.Event = field(default_factory=asyncio.Event)
    # SQLite: this process's writes here take turns in the event loop, in order, rather than
    # in SQLite's busy handler, whose growing sleeps leave some answers waiting for seconds.
    turns: asyncio.Lock = field(default_factory=asyncio.Lock)

    def has_room(self) -> bool:
        return len(self.handling) < AT_ONCE


_boxes: weakref.WeakKeyDictionary[AsyncEngine, _Box] = weakref.WeakKeyDictionary()


def _box(engine: AsyncEngine) -> _Box:
    found = _boxes.get(engine)
    if found is None:
        found = _boxes[engine] = _Box()
    return found


@contextlib.asynccontextmanager
async def _writing(engine: AsyncEngine) -> AsyncIterator[AsyncConnection]:
    if engine.dialect.name != "sqlite":  # row locks and SKIP LOCKED: no need to take turns
        async with transaction(engine) as conn:
            yield conn
        return
    async with _box(engine).turns, transaction(engine) as conn:
        yield conn


async def record(svc: Services, event: WebhookEvent, now: datetime) -> Recorded:
    """Record `event`: claimed for this delivery to handle when the process has room, left to
    the worker otherwise; or found handled before, or under a claim that still holds."""
    claim = _box(svc.engine).has_room()
    async with _writing(svc.engine) as conn:
        if await _handled(conn, event.id):
            return "duplicate"
        if await insert_once(conn, webhook_inbox, _row(event, now, claim)):
            return "claimed" if claim else "queued"
        if not claim:  # the worker takes it when it is due and unclaimed
            return "duplicate"
        taken = await conn.execute(
            update(webhook_inbox)
            .where(webhook_inbox.c.event_id == event.id, _unclaimed(now))
            .values(claimed_until=now + CLAIM)
        )
        return "claimed" if taken.rowcount == 1 else "duplicate"


def wake(engine: AsyncEngine) -> None:
    """Have this process's worker look for events to take now."""
    _box(engine).wake.set()


async def _handled(conn: AsyncConnection, event_id: str) -> bool:
    found = await conn.execute(
        select(webhook_events.c.event_id).where(webhook_events.c.event_id == event_id)
    )
    return found.first() is not None


def _row(event: WebhookEvent, now: datetime, claim: bool) -> dict[str, Any]:
    return {
        "event_id": event.id,
        "type": event.type,
        "object_type": event.object_type,
        "object_id": event.object_id,
        "customer_id": event.customer_id,
        "created": event.created,
        "received_at": now,
        "claimed_until": now + CLAIM if claim else None,
        "attempts": 0,
        "next_try_at": now,
    }


def _unclaimed(now: datetime) -> Any:
    return or_(webhook_inbox.c.claimed_until.is_(None), webhook_inbox.c.claimed_until < now)


def start(svc: Services, event: WebhookEvent) -> asyncio.Task[Handled]:
    """Handle a claimed event in a task of its own, which outlives the request."""
    box = _box(svc.engine)
    task = asyncio.create_task(handle(svc, event))
    box.handling[event.id] = task

    def done(finished: asyncio.Task[Handled]) -> None:
        box.handling.pop(event.id, None)
        box.wake.set()
        if not finished.cancelled() and finished.exception() is not None:
            log.warning("webhook %s %s: handling failed, tried again later", event.type, event.id)

    task.add_done_callback(done)
    return task


async def handle(svc: Services, event: WebhookEvent) -> Handled:
    """React to a claimed event and apply its effects once; a failure (Stripe unreachable)
    gives the claim up and puts the next try off, then propagates."""
    try:
        reaction = await _react(svc, event)
        now = datetime.now(UTC)
        async with _writing(svc.engine) as conn:
            first = await insert_once(
                conn, webhook_events, {"event_id": event.id, "type": event.type, "received_at": now}
            )
            if first and reaction is not None:
                for effect in reaction.effects:
                    await effect(conn, now)
                if reaction.customer_id:
                    await changes.bump(conn, reaction.customer_id, now)
            await conn.execute(delete(webhook_inbox).where(webhook_inbox.c.event_id == event.id))
    except Exception:
        await _put_off(svc.engine, event.id, datetime.now(UTC))
        raise
    if first and reaction is not None and reaction.mail:
        _spawn(svc.engine, outbox.send_due(svc.engine, svc.settings.smtp))
    return Handled(first)


async def _react(svc: Services, event: WebhookEvent) -> Reaction | None:
    handler = HANDLERS.get(event.type)
    if handler is None or event.object_id is None:
        return None
    try:
        return await handler(svc, event, event.object_id)
    except StripeNotFound:
        # Deleted since (a customer, a tax ID): nothing of it left to act on. Stripe being
        # unreachable, on the other hand, propagates: the event is tried again.
        log.info("webhook %s: its %s is gone at Stripe", event.type, event.object_type)
        return Reaction(event.customer_id)


async def _put_off(engine: AsyncEngine, event_id: str, now: datetime) -> None:
    async with _writing(engine) as conn:
        found = await conn.execute(
            select(webhook_inbox.c.attempts).where(webhook_inbox.c.event_id == event_id)
        )
        attempts = found.scalar()
        if attempts is None:
            return
        wait = RETRY_AFTER[min(attempts, len(RETRY_AFTER) - 1)]
        await conn.execute(
            update(webhook_inbox)
            .where(webhook_inbox.c.event_id == event_id)
            .values(claimed_until=None, attempts=attempts + 1, next_try_at=now + wait)
        )


def _spawn(engine: AsyncEngine, work: Coroutine[Any, Any, Any]) -> None:
    sending = _box(engine).sending
    task = asyncio.create_task(work)
    sending.add(task)
    task.add_done_callback(sending.discard)


async def take_due(svc: Services, now: datetime) -> int:
    """Claim the events due for a try that nobody holds, as many as this process has room
    for, and start handling them; how many were taken."""
    box = _box(svc.engine)
    room = AT_ONCE - len(box.handling)
    if room <= 0:
        return 0
    due = (
        select(webhook_inbox.c.event_id)
        .where(webhook_inbox.c.next_try_at <= now, _unclaimed(now))
        .order_by(webhook_inbox.c.next_try_at)
        .limit(room)
        .with_for_update(skip_locked=True)  # PostgreSQL: rows another instance claims now
    )
    async with _writing(svc.engine) as conn:
        taken = await conn.execute(
            update(webhook_inbox)
            .where(webhook_inbox.c.event_id.in_(due))
            .values(claimed_until=now + CLAIM)
            .returning(
                webhook_inbox.c.event_id.label("id"),
                webhook_inbox.c.type,
                webhook_inbox.c.object_type,
                webhook_inbox.c.object_id,
                webhook_inbox.c.customer_id,
                webhook_inbox.c.created,
            )
        )
        rows = taken.all()
    for row in rows:
        start(svc, WebhookEvent(**row._mapping))
    return len(rows)


async def work_off(svc: Services) -> None:
    """`take_due` when woken, and every `POLL_SECONDS`, until cancelled; then the handling
    under way gets `FINISH_WITHIN` to finish, and what has not is stopped and its claims given
    up, for the next process to take at once."""
    box = _box(svc.engine)
    try:
        while True:
            with contextlib.suppress(TimeoutError):
                await asyncio.wait_for(box.wake.wait(), POLL_SECONDS)
            box.wake.clear()
            try:
                await take_due(svc, datetime.now(UTC))
            except Exception:
                log.exception("taking up webhook events failed; trying again")
    finally:
        await _give_up(svc.engine)


async def _give_up(engine: AsyncEngine) -> None:
    box = _box(engine)
    if box.handling:
        await asyncio.wait(list(box.handling.values()), timeout=FINISH_WITHIN.total_seconds())
    unfinished = list(box.handling.items())
    for _, task in unfinished:
        task.cancel()
    await _settled([task for _, task in unfinished])
    ids = [event_id for event_id, _ in unfinished]
    if ids:
        async with _writing(engine) as conn:
            await conn.execute(
                update(webhook_inbox)
                .where(webhook_inbox.c.event_id.in_(ids))
                .values(claimed_until=None)
            )
    for task in list(box.sending):
        task.cancel()
    await _settled(list(box.sending))


async def _settled(tasks: list[asyncio.Task[Any]]) -> None:
    """Wait for cancelled `tasks` to end, their failures read (none is left unretrieved)."""
    if not tasks:
        return
    await asyncio.wait(tasks)
    for task in tasks:
        if not task.cancelled():
            task.exception()
