"""The async engine and the few cross-database operations the portal needs.

Text neither database can store (`UnstorableText`) is refused before it reaches the driver,
on both alike: a request's value that no check before caught becomes the client's error rather
than the driver's (PostgreSQL refuses a NUL that SQLite would keep).
"""

from __future__ import annotations

import re
import sqlite3
import threading
import weakref
from collections.abc import AsyncIterator, Hashable, Mapping
from contextlib import asynccontextmanager
from pathlib import Path
from typing import Any

import sqlalchemy
from sqlalchemy import Executable, Row, Table, event
from sqlalchemy.engine import Connection, make_url
from sqlalchemy.ext.asyncio import AsyncConnection, AsyncEngine, create_async_engine
from sqlalchemy.pool import ConnectionPoolEntry, SingletonThreadPool

from portal.storage.kept import DEFAULT_BUDGET, MISSING, KeptRows, Listener, Rows

# How long a writer waits for another one on SQLite before "database is locked".
SQLITE_BUSY_TIMEOUT_MS = 30_000
# How long a read on the event loop's own thread (`read_one`) may wait for SQLite before it
# goes the usual way instead: in WAL mode readers do not wait for writers, so only rare
# moments (a checkpoint's lock) come near it, and the loop must never stall for long.
QUICK_READ_BUSY_MS = 50

# SQLite engines' quick reads (`read_one`), made on first use.
_quick: weakref.WeakKeyDictionary[AsyncEngine, QuickReads | None] = weakref.WeakKeyDictionary()
# PostgreSQL engines' kept rows, where a listener keeps them current (`storage.kept`).
_kept: weakref.WeakKeyDictionary[AsyncEngine, KeptRows] = weakref.WeakKeyDictionary()
# The bytes of rows each engine keeps (`create_engine`'s `kept_budget`).
_budgets: weakref.WeakKeyDictionary[AsyncEngine, int] = weakref.WeakKeyDictionary()

_SURROGATE = re.compile("[\ud800-\udfff]")


class UnstorableText(ValueError):
    """A text value holding a NUL (PostgreSQL's text cannot) or a lone surrogate (it has no
    UTF-8, which both databases store): refused before the statement is sent."""


def create_engine(database_url: str, *, kept_budget: int = DEFAULT_BUDGET) -> AsyncEngine:
    """An engine for `database_url` (already normalised by the settings to an async driver),
    keeping at most `kept_budget` bytes of rows read with `keep_as`."""
    url = make_url(database_url)
    if url.get_backend_name() == "sqlite":
        if url.database and url.database != ":memory:":
            Path(url.database).parent.mkdir(parents=True, exist_ok=True)
        engine = create_async_engine(url, connect_args={"timeout": 30})
        event.listen(engine.sync_engine, "connect", _sqlite_connect)
        event.listen(engine.sync_engine, "begin", _sqlite_begin)
    else:
        engine = create_async_engine(url, pool_size=10, max_overflow=10, pool_pre_ping=True)
    event.listen(engine.sync_engine, "before_cursor_execute", _refuse_unstorable)
    _budgets[engine] = kept_budget
    return engine


def _refuse_unstorable(
    _conn: Connection,
    _cursor: Any,
    _statement: str,
    parameters: Any,
    _context: Any,
    executemany: bool,
) -> None:
    # The driver's parameters: a tuple or a dict per row, a list of them for executemany.
    for row in parameters if executemany else (parameters,):
        for value in row.values() if isinstance(row, Mapping) else row or ():
            if isinstance(value, str) and unstorable(value):
                raise UnstorableText("a NUL or a lone surrogate in a value to store")


def unstorable(value: str) -> bool:
    """Whether `value` is text neither database stores as it is (see `UnstorableText`)."""
    # isascii() is a flag CPython keeps on every string: the search runs only beyond ASCII.
    return "\x00" in value or (not value.isascii() and _SURROGATE.search(value) is not None)


def _sqlite_connect(dbapi_connection: Any, _record: ConnectionPoolEntry) -> None:
    # The sqlite3 module's own implicit transactions start late and never as IMMEDIATE;
    # SQLAlchemy's documented recipe turns them off and emits BEGIN itself (`_sqlite_begin`).
    dbapi_connection.isolation_level = None
    # WAL lets readers proceed while one writer commits; the busy timeout makes a second
    # writer (another request, another process) wait instead of failing with "locked". The
    # timeout first: turning WAL on takes a lock too, which two connections opening a new
    # database at once (two instances migrating) would otherwise meet as "locked" at once.
    cursor = dbapi_connection.cursor()
    cursor.execute(f"PRAGMA busy_timeout={SQLITE_BUSY_TIMEOUT_MS}")
    cursor.execute("PRAGMA journal_mode=WAL")
    cursor.execute("PRAGMA foreign_keys=ON")
    cursor.close()


class QuickReads:
    """A file-based SQLite database read on the event loop's own thread: a synchronous twin
    of the async engine with one connection per thread (the loop's), opened once and held, in
    autocommit, so that each read sees what is committed when it runs and nothing stays open
    between reads (no transaction, no snapshot: writers never wait for it). Held, because
    checking a connection out of the pool per read cost more than the read.

    Rows read with a name (`keep_as`) are kept on that connection and given again while
    SQLite's `data_version` says no other connection committed since; this one never writes,
    so every commit anywhere (this process or another) moves it.
    """

    def __init__(self, engine: AsyncEngine, budget: int = DEFAULT_BUDGET) -> None:
        self.budget = budget
        self.engine = sqlalchemy.create_engine(
            engine.url.set(drivername="sqlite"),
            poolclass=SingletonThreadPool,
            connect_args={"timeout": QUICK_READ_BUSY_MS / 1000, "check_same_thread": False},
        )
        event.listen(self.engine, "connect", _sqlite_quick_connect)
        event.listen(self.engine, "before_cursor_execute", _refuse_unstorable)
        self._held: dict[int, Connection] = {}

    def connection(self) -> Connection:
        """This thread's connection, opened on its first read."""
        thread = threading.get_ident()
        found = self._held.get(thread)
        if found is None or found.closed:
            found = self._held[thread] = self.engine.connect()
        return found

    def read(
        self,
        query: Executable,
        params: Mapping[str, Any] | None,
        keep_as: Hashable | None,
        *,
        many: bool = False,
    ) -> Any:
        """The one row (or None), or with `many` all rows (a tuple), `query` finds."""
        conn = self.connection()
        try:
            kept = self._kept(conn) if keep_as is not None else None
            if kept is not None and (found := kept.get(keep_as)) is not MISSING:
                return found
            result = conn.execute(query, params)
            found = tuple(result.all()) if many else result.one_or_none()
            if kept is not None:
                kept.put(keep_as, found)
            return found
        finally:
            # Only SQLAlchemy's bookkeeping: in autocommit no BEGIN was sent, nothing is held.
            conn.rollback()

    def _kept(self, conn: Connection) -> Rows:
        """The rows kept on `conn`, emptied when the database has changed since they were read."""
        dbapi = conn.connection.dbapi_connection
        assert dbapi is not None
        version = dbapi.execute("PRAGMA data_version").fetchone()[0]
        info = conn.info
        kept: Rows | None = info.get("kept_rows")
        if kept is None:
            kept = info["kept_rows"] = Rows(self.budget)
        if info.get("data_version") != version:
            kept.clear()
            info["data_version"] = version
        return kept

    def close(self) -> None:
        for conn in self._held.values():
            conn.close()
        self._held.clear()
        self.engine.dispose()


def _quick_reads(engine: AsyncEngine) -> QuickReads | None:
    """The quick reads of a file-based SQLite engine; None for any other database."""
    try:
        return _quick[engine]
    except KeyError:
        pass
    url = engine.url
    on_file = url.get_backend_name() == "sqlite" and url.database not in (None, "", ":memory:")
    found = _quick[engine] = (
        QuickReads(engine, _budgets.get(engine, DEFAULT_BUDGET)) if on_file else None
    )
    return found


def _sqlite_quick_connect(dbapi_connection: Any, _record: ConnectionPoolEntry) -> None:
    dbapi_connection.isolation_level = None  # no transaction: nothing held between reads
    cursor = dbapi_connection.cursor()
    cursor.execute(f"PRAGMA busy_timeout={QUICK_READ_BUSY_MS}")
    cursor.close()


async def read_one(
    engine: AsyncEngine,
    query: Executable,
    params: Mapping[str, Any] | None = None,
    *,
    keep_as: Hashable | None = None,
) -> Row[Any] | None:
    """The one row `query` (with its bound `params`) finds, or None: for reads on every
    request (the session). Build `query` once, with `bindparam`s: building a statement costs
    more than running it.

    On SQLite the read runs right here, on the event loop's thread (`QuickReads`): it takes
    microseconds, while the async driver hands each query to a thread of its own and back,
    which cost a third of a repeat page view's CPU (the bench's profile). Should SQLite be busy
    beyond `QUICK_READ_BUSY_MS`, the read goes the usual way. PostgreSQL's driver is async
    itself. With `keep_as`, the answer is kept under that name until the next commit: SQLite's
    by `QuickReads`, PostgreSQL's where the instance listens for changes (`listen`).
    """
    found: Row[Any] | None = await _read(engine, query, params, keep_as, many=False)
    return found


async def read_all(
    engine: AsyncEngine,
    query: Executable,
    params: Mapping[str, Any] | None = None,
    *,
    keep_as: Hashable | None = None,
) -> tuple[Row[Any], ...]:
    """Every row `query` finds, read and kept as `read_one` reads and keeps one (a page's
    reads of tables that change rarely: keep the statement built once)."""
    found: tuple[Row[Any], ...] = await _read(engine, query, params, keep_as, many=True)
    return found


async def _read(
    engine: AsyncEngine,
    query: Executable,
    params: Mapping[str, Any] | None,
    keep_as: Hashable | None,
    *,
    many: bool,
) -> Any:
    quick = _quick_reads(engine)
    if quick is not None:
        try:
            return quick.read(query, params, keep_as, many=many)
        except sqlalchemy.exc.OperationalError as exc:
            if not isinstance(exc.orig, sqlite3.OperationalError):
                raise
    kept = _kept.get(engine) if keep_as is not None else None
    generation = 0
    if kept is not None:
        found = kept.get(keep_as)
        if found is not MISSING:
            return found
        generation = kept.generation
    async with engine.connect() as conn:
        result = await conn.execute(query, params)
        rows = tuple(result.all()) if many else result.one_or_none()
    if kept is not None:
        kept.put(keep_as, rows, generation)
    return rows


def kept_rows(engine: AsyncEngine) -> tuple[int, int]:
    """How many rows the engine keeps, and their estimated bytes."""
    quick = _quick.get(engine)
    found: list[Rows] = []
    if quick is not None:
        found = [c.info["kept_rows"] for c in quick._held.values() if "kept_rows" in c.info]
    kept = _kept.get(engine)
    if kept is not None:
        found.append(kept.rows)
    return sum(len(rows) for rows in found), sum(rows.bytes for rows in found)


def listen(engine: AsyncEngine) -> Listener | None:
    """A PostgreSQL engine's listener for changes (`storage.kept`), to run for as long as rows
    may be kept (`Listener.run`); None for SQLite, which needs none. While it hears, `read_one`
    keeps rows."""
    if engine.url.get_backend_name() != "postgresql":
        return None
    kept = _kept.setdefault(engine, KeptRows(_budgets.get(engine, DEFAULT_BUDGET)))
    return Listener(engine.url.render_as_string(hide_password=False), kept)


async def dispose(engine: AsyncEngine) -> None:
    """Close the engine's connections (and those of its synchronous twin, if it has one)."""
    quick = _quick.pop(engine, None)
    if quick is not None:
        quick.close()
    await engine.dispose()


def _sqlite_begin(conn: Connection) -> None:
    mode = "IMMEDIATE" if conn.get_execution_options().get("write") else "DEFERRED"
    conn.exec_driver_sql(f"BEGIN {mode}")


@asynccontextmanager
async def transaction(engine: AsyncEngine, *, write: bool = True) -> AsyncIterator[AsyncConnection]:
    """One transaction: committed when the block ends, rolled back when it raises.

    A writing transaction on SQLite starts with BEGIN IMMEDIATE, so that a read-then-write
    (consume a token, count a rate limit) cannot interleave with another writer and fail half-way
    with "database is locked"; PostgreSQL gets the same guarantee from row locks and unique
    constraints in the statements themselves.
    """
    async with engine.connect() as conn:
        await conn.execution_options(write=write)
        async with conn.begin():
            yield conn
    kept = _kept.get(engine) if write else None
    if kept is not None:
        # This instance's own change is known here now, before its notice comes back.
        kept.forget()


async def insert_once(conn: AsyncConnection, table: Table, values: Mapping[str, Any]) -> bool:
    """Insert a row unless one with the same primary key or unique key exists.

    Returns True when this call inserted it. Concurrent callers racing on the same key get
    exactly one True between them, on both databases, without an error to catch.
    """
    dialect = conn.dialect.name
    stmt: Any
    # Each dialect's module is loaded by its engine already: one database's, not both.
    if dialect == "postgresql":
        from sqlalchemy.dialects import postgresql

        stmt = postgresql.insert(table).values(dict(values)).on_conflict_do_nothing()
    elif dialect == "sqlite":
        from sqlalchemy.dialects import sqlite

        stmt = sqlite.insert(table).values(dict(values)).on_conflict_do_nothing()
    else:  # pragma: no cover - the settings accept only the two
        raise RuntimeError(f"unsupported database {dialect}")
    result = await conn.execute(stmt)
    return bool(result.rowcount == 1)
