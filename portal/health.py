"""Health checks for the platform: `/healthz` (the process answers) and `/readyz` (it can work)."""

from __future__ import annotations

from sqlalchemy import text
from starlette.requests import Request
from starlette.responses import JSONResponse, PlainTextResponse, Response

from portal.services import services
from portal.storage import migrate


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
    return JSONResponse({"database": "ok"})
