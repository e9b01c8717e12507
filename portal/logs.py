"""Logging: one line per request with a request id, JSON in production, readable in the demo.

The request id is also the reference an error page shows, so support finds the customer's
failure in the log. Nothing secret is logged: paths that carry a token (sign-in links, invoice
links, e-mail confirmations) are logged with the token replaced, and query strings are left
out altogether (a Checkout session id or a search term is not the log's business).
"""

from __future__ import annotations

import json
import logging
import re
import secrets
import time
from contextvars import ContextVar
from datetime import UTC, datetime
from typing import Any

from starlette.types import ASGIApp, Message, Receive, Scope, Send

_request_id: ContextVar[str | None] = ContextVar("portal_request_id", default=None)
log = logging.getLogger("portal.requests")

# The token-carrying URLs (see portal.routes).
_TOKEN_PATHS = re.compile(r"^(/sign-in/link/|/i/|/account/email/confirm/)[^/]+")
_INCOMING_ID = re.compile(r"^[A-Za-z0-9-]{8,64}$")


def redact_path(path: str) -> str:
    return _TOKEN_PATHS.sub(lambda m: m.group(1) + "{token}", path)


def request_id() -> str | None:
    return _request_id.get()


class RequestLogMiddleware:
    """Gives every request an id (or keeps a well-formed one from the proxy, e.g. Fly.io's),
    returns it as `X-Request-Id`, and logs the request when it is done."""

    def __init__(self, app: ASGIApp) -> None:
        self.app = app

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return
        headers = dict(scope.get("headers") or [])
        incoming = (headers.get(b"fly-request-id") or headers.get(b"x-request-id") or b"").decode(
            "latin-1"
        )
        rid = incoming if _INCOMING_ID.match(incoming) else secrets.token_hex(8)
        token = _request_id.set(rid)
        started = time.perf_counter()
        status = 500

        async def sending(message: Message) -> None:
            nonlocal status
            if message["type"] == "http.response.start":
                status = message["status"]
                message.setdefault("headers", [])
                message["headers"] = [*message["headers"], (b"x-request-id", rid.encode())]
            await send(message)

        try:
            await self.app(scope, receive, sending)
        finally:
            log.info(
                "%s %s %s",
                scope["method"],
                redact_path(scope["path"]),
                status,
                extra={
                    "http_method": scope["method"],
                    "path": redact_path(scope["path"]),
                    "status": status,
                    "duration_ms": round((time.perf_counter() - started) * 1000, 1),
                },
            )
            _request_id.reset(token)


class _WithRequestId(logging.Filter):
    def filter(self, record: logging.LogRecord) -> bool:
        record.request_id = _request_id.get()
        return True


_FIELDS = ("http_method", "path", "status", "duration_ms")


class JsonFormatter(logging.Formatter):
    def format(self, record: logging.LogRecord) -> str:
        data: dict[str, Any] = {
            "time": datetime.fromtimestamp(record.created, UTC).isoformat(timespec="milliseconds"),
            "level": record.levelname.lower(),
            "logger": record.name,
            "message": record.getMessage(),
        }
        rid = getattr(record, "request_id", None)
        if rid:
            data["request_id"] = rid
        for field in _FIELDS:
            if hasattr(record, field):
                data[field] = getattr(record, field)
        if record.exc_info:
            data["error"] = self.formatException(record.exc_info)
        return json.dumps(data, ensure_ascii=False)


class TextFormatter(logging.Formatter):
    def format(self, record: logging.LogRecord) -> str:
        rid = getattr(record, "request_id", None)
        line = f"{record.levelname:<7} {record.name}: {record.getMessage()}"
        if rid:
            line += f" [{rid}]"
        if record.exc_info:
            line += "\n" + self.formatException(record.exc_info)
        return line


def configure(*, json_lines: bool, level: int = logging.INFO) -> None:
    """Route the portal's (and uvicorn's error) logs to stderr in the chosen format."""
    handler = logging.StreamHandler()
    handler.setFormatter(JsonFormatter() if json_lines else TextFormatter())
    handler.addFilter(_WithRequestId())
    root = logging.getLogger()
    root.handlers[:] = [handler]
    root.setLevel(level)
    for name in ("uvicorn", "uvicorn.error"):
        logging.getLogger(name).handlers[:] = []
        logging.getLogger(name).propagate = True
    logging.getLogger("uvicorn.access").disabled = True  # RequestLogMiddleware logs requests
    # The HTTP clients (Stripe SDK, sandbox webhooks), the migrations and the development SMTP
    # server log routine steps at INFO: only their problems are worth a line.
    for chatty in ("httpx", "stripe", "alembic", "mail.log"):
        logging.getLogger(chatty).setLevel(logging.WARNING)
