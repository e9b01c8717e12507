"""Health checks for the platform: `/healthz` (the process answers) and `/readyz` (it can work)."""

from __future__ import annotations

from datetime import UTC, datetime

from sqlalchemy import delete, insert, text
from sqlalchemy.ext.asyncio import AsyncEngine
from starlette.requests import Request
from starlette.responses import JSONResponse, PlainTextResponse, Response

from portal.services import services
from portal.storage import migrate
from portal.storage.database import SQLITE_BUSY_TIMEOUT_MS
from portal.storage.tables import rate_limits

# A row no limit ever uses, written and rolled back: a read-only or locked database cannot
# take the sign-ins, sessions and payments every page writes, so it is not ready.
_PROBE_KEY = "readyz:write-probe"
PROBE_WAIT_MS = 1000


async def healthz(request: Request) -> Response:
    return PlainTextResponse("ok")


async def readyz(request: Request) -> Response:
    """Ready when the database answers and carries the schema this code expects.

    Stripe is deliberately not checked: an outage there must not take every instance out of
    the load balancer, since pages can still explain the outage to customers.
    """
    engine = services(request).engine
    try:
        async with engine.connect() as conn:
            await conn.execute(text("SELECT 1"))
        schema_ok = await migrate.is_current(engine)
    except Exception:  # any database failure means "not ready", whatever its type
        return JSONResponse({"database": "unreachable"}, status_code=503)
    if not schema_ok:
        return JSONResponse({"database": "schema not current"}, status_code=503)
    try:
        await _write_and_roll_back(engine)
    except Exception:
        return JSONResponse({"database": "not writable"}, status_code=503)
    return JSONResponse({"database": "ok"})


async def _write_and_roll_back(engine: AsyncEngine) -> None:
    async with engine.connect() as conn:
        transaction = await conn.begin()
        try:
            # A check answers within the platform's timeout: wait a second for a lock, not the
            # half a minute a request would.
            if engine.dialect.name == "sqlite":
                await conn.execute(text(f"PRAGMA busy_timeout={PROBE_WAIT_MS}"))
            else:
                await conn.execute(text(f"SET LOCAL lock_timeout = {PROBE_WAIT_MS}"))
            await conn.execute(delete(rate_limits).where(rate_limits.c.key == _PROBE_KEY))
            await conn.execute(
                insert(rate_limits).values(key=_PROBE_KEY, window_start=datetime.now(UTC), count=0)
            )
        finally:
            await transaction.rollback()
            if engine.dialect.name == "sqlite":
                await conn.execute(text(f"PRAGMA busy_timeout={SQLITE_BUSY_TIMEOUT_MS}"))
