"""Rows kept in memory between requests on PostgreSQL, for as long as this instance can know
they are current.

The rows read on every request (a customer's session, a customer's change counter) are kept
by name (`storage.database.read_one(..., keep_as=...)`). On SQLite every connection learns of
any commit from `PRAGMA data_version`; PostgreSQL has no such counter, but it has LISTEN/NOTIFY:
a trigger on each table whose rows are kept (migration 0015) sends a notice on `CHANNEL` in the
same transaction as every change to it, and PostgreSQL delivers it, once that transaction has
committed, to every connection listening: one per instance, held by `Listener`. On a notice
every kept row is forgotten, the same rule as SQLite's (any change), and a row whose read
overlapped a notice is not kept (the read may have seen the database before the change).

Kept rows are given only while the listener is known to hear: it sends itself a ping every
`PING_EVERY`, and PostgreSQL delivers notices in commit order, so a ping come back means every
change committed before it was sent has been heard. Once the last ping to come back was sent
more than `STALE_AFTER` ago (the connection lost, the network silent), or while the listener
is not connected, every read goes to the database, and the listener connects again.

This instance's own writes forget its kept rows at once, as they commit
(`storage.database.transaction`), without waiting for their notice.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
import os
import time
from collections.abc import Hashable
from typing import TYPE_CHECKING, Any, Final

from sqlalchemy.engine import Row, make_url

from portal.lru import MB, LruCache, size_of

if TYPE_CHECKING:  # imported by the listener when it runs: a process on SQLite needs no asyncpg
    import asyncpg

log = logging.getLogger(__name__)

CHANNEL: Final = "portal_kept"

# How often the listener pings itself, and how old the last ping back may be for kept rows to
# be given: at most this long can a change committed by another instance go unheard here.
PING_EVERY: Final = 0.2
STALE_AFTER: Final = 0.75
# Waiting before connecting again after a failure, doubled each time up to the last.
RECONNECT_DELAYS: Final = (0.1, 0.5, 1.0, 2.0, 5.0)
# At most this many rows kept (each a session's or a counter), and at most this many bytes
# (settings: a share of PORTAL_CACHE_MB), the least recently used going first.
MOST_ROWS: Final = 10_000
DEFAULT_BUDGET: Final = 4 * MB
# A kept row's own bytes besides its values (the row object, the cache's bookkeeping).
ROW_SIZE: Final = 200

MISSING: Final = object()


def application_name(pid: int) -> str:
    """The listening connection's name in `pg_stat_activity`: whose it is, for whoever looks."""
    return f"portal kept rows {pid}"


def row_size(name: Hashable, found: Any) -> int:
    """The estimated bytes of what a read found (a row, None, or a tuple of rows) kept under
    `name`."""
    rows = found if isinstance(found, tuple) else () if found is None else (found,)
    return size_of(name) + ROW_SIZE + sum(_one_row_size(row) for row in rows)


def _one_row_size(row: Any) -> int:
    # A Row holds its values as a tuple does, which `size_of` walks; it is no tuple itself.
    return ROW_SIZE + size_of(tuple(row) if isinstance(row, Row) else row)


class Rows:
    """Rows by name within a byte budget. A row found may be None (nothing there), so
    `MISSING` says there is none kept."""

    def __init__(self, budget: int = DEFAULT_BUDGET) -> None:
        self._rows: LruCache[Hashable, Any] = LruCache(budget, most=MOST_ROWS)

    def __len__(self) -> int:
        return len(self._rows)

    @property
    def bytes(self) -> int:
        return self._rows.bytes

    def get(self, name: Hashable) -> Any:
        return self._rows.get(name) if name in self._rows else MISSING

    def put(self, name: Hashable, found: Any) -> None:
        self._rows.put(name, found, row_size(name, found))

    def clear(self) -> None:
        self._rows.clear()


class KeptRows:
    """The rows kept by name, and whether they may be given (see the module's docstring)."""

    def __init__(self, budget: int = DEFAULT_BUDGET) -> None:
        self.rows = Rows(budget)
        # Moved by every notice of a change and every local write: a read that saw it move
        # keeps nothing.
        self.generation = 0
        # When the newest ping that came back was sent (time.monotonic()); 0: never.
        self.heard_until = 0.0

    def current(self) -> bool:
        return time.monotonic() - self.heard_until <= STALE_AFTER

    def get(self, name: Hashable) -> Any:
        """The row kept under `name`, or `MISSING` (none, or none may be given now)."""
        if not self.current():
            return MISSING
        return self.rows.get(name)

    def put(self, name: Hashable, row: Any, generation: int) -> None:
        """Keep `row`, read while `generation` was current, unless a change came meanwhile."""
        if generation != self.generation or not self.current():
            return
        self.rows.put(name, row)

    def forget(self) -> None:
        self.generation += 1
        self.rows.clear()

    def deaf(self) -> None:
        """The listener lost its connection: nothing kept may be given until it hears again."""
        self.heard_until = 0.0
        self.forget()


class Listener:
    """One connection of this instance's, listening on `CHANNEL` for as long as it runs."""

    def __init__(self, database_url: str, kept: KeptRows) -> None:
        # asyncpg's own URL: SQLAlchemy's without its driver name.
        url = make_url(database_url).set(drivername="postgresql")
        self._dsn = url.render_as_string(hide_password=False)
        self.kept = kept
        self._pings: dict[str, float] = {}
        self._lost = asyncio.Event()

    async def run(self) -> None:
        """Listen, ping, and connect again whenever the connection is lost; until cancelled."""
        import asyncpg

        failures = 0
        while True:
            try:
                await self._listen()
                failures = 0
            except (OSError, asyncpg.PostgresError, asyncpg.InterfaceError, TimeoutError) as exc:
                log.warning("kept rows: listening failed (%s); reading every row meanwhile", exc)
                failures += 1
            self.kept.deaf()
            await asyncio.sleep(RECONNECT_DELAYS[min(failures, len(RECONNECT_DELAYS) - 1)])

    async def _listen(self) -> None:
        import asyncpg

        conn: asyncpg.Connection = await asyncpg.connect(
            self._dsn,
            timeout=5,
            server_settings={"application_name": application_name(os.getpid())},
        )
        self._lost.clear()
        conn.add_termination_listener(lambda _conn: self._lost.set())
        try:
            await conn.add_listener(CHANNEL, self._heard)
            # Whatever was kept before this connection listened may have changed unheard.
            self.kept.forget()
            number = 0
            while not self._lost.is_set():
                number += 1
                token = f"ping {id(self)} {number}"
                self._pings[token] = time.monotonic()
                await conn.execute("SELECT pg_notify($1, $2)", CHANNEL, token, timeout=STALE_AFTER)
                with contextlib.suppress(TimeoutError):
                    await asyncio.wait_for(self._lost.wait(), PING_EVERY)
                if self.kept.heard_until and not self.kept.current():
                    raise TimeoutError("no ping came back in time")
        finally:
            self._pings.clear()
            with contextlib.suppress(Exception):
                await asyncio.wait_for(conn.close(), 1)

    def _heard(self, _conn: Any, _pid: int, _channel: str, payload: str) -> None:
        sent = self._pings.pop(payload, None)
        if sent is not None:
            # Every change committed before this ping was sent has been heard.
            self.kept.heard_until = max(self.kept.heard_until, sent)
            # Older pings that never came back will not: they are not waited for.
            for token in [t for t, at in self._pings.items() if at < sent]:
                del self._pings[token]
        elif not payload.startswith("ping "):
            self.kept.forget()
