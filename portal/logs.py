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
from contextvars import ContextVar, Token
from datetime import UTC, datetime
from typing import Any

_request_id: ContextVar[str | None] = ContextVar("portal_request_id", default=None)
log = logging.getLogger("portal.requests")

# The token-carrying URLs (see portal.routes).
_TOKEN_PATHS = re.compile(r"^(/sign-in/link/|/i/|/account/email/confirm/)[^/]+")
_INCOMING_ID = re.compile(r"^[A-Za-z0-9-]{8,64}$")


def redact_path(path: str) -> str:
    return _TOKEN_PATHS.sub(lambda m: m.group(1) + "{token}", path)


def request_id() -> str | None:
    return _request_id.get()


def request_id_for(incoming: bytes | None) -> str:
    """This request's id: a well-formed one from the proxy (Fly.io's), else a new one."""
    text = (incoming or b"").decode("latin-1")
    return text if _INCOMING_ID.match(text) else secrets.token_hex(8)


def bind_request_id(rid: str) -> Token[str | None]:
    """Make `rid` the id of every log line (and error page) of this request."""
    return _request_id.set(rid)


def unbind_request_id(token: Token[str | None]) -> None:
    _request_id.reset(token)


def log_request(method: str, path: str, status: int, started: float) -> None:
    """The request's line, once it is answered (`started`: its `time.perf_counter()`)."""
    shown = redact_path(path)
    log.info(
        "%s %s %s",
        method,
        shown,
        status,
        extra={
            "http_method": method,
            "path": shown,
            "status": status,
            "duration_ms": round((time.perf_counter() - started) * 1000, 1),
        },
    )


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
    # Neither format shows where a line was logged from, nor the thread or process: not
    # finding them out is the logging HOWTO's "Optimization" (a frame walk per line, on
    # every request's line).
    logging._srcfile = None
    logging.logThreads = False
    logging.logProcesses = False
    logging.logMultiprocessing = False
    handler = logging.StreamHandler()
    handler.setFormatter(JsonFormatter() if json_lines else TextFormatter())
    handler.addFilter(_WithRequestId())
    root = logging.getLogger()
    root.handlers[:] = [handler]
    root.setLevel(level)
    for name in ("uvicorn", "uvicorn.error"):
        logging.getLogger(name).handlers[:] = []
        logging.getLogger(name).propagate = True
    logging.getLogger("uvicorn.access").disabled = True  # portal.middleware logs requests
    # The HTTP clients (Stripe SDK, sandbox webhooks), the migrations and the development SMTP
    # server log routine steps at INFO: only their problems are worth a line.
    for chatty in ("httpx", "stripe", "alembic", "mail.log"):
        logging.getLogger(chatty).setLevel(logging.WARNING)
