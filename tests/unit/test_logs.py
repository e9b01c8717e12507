"""Log lines: JSON with the request id, and never a token from the URL."""

from __future__ import annotations

import json
import logging

import pytest

from portal.logs import JsonFormatter, TextFormatter, redact_path


@pytest.mark.parametrize(
    ("path", "logged"),
    [
        ("/sign-in/link/abcDEF123-_", "/sign-in/link/{token}"),
        ("/i/eyJpIjoi.abc.def", "/i/{token}"),
        ("/account/email/confirm/xyz", "/account/email/confirm/{token}"),
        ("/invoices/in_123", "/invoices/in_123"),
        ("/", "/"),
    ],
)
def test_tokens_never_reach_the_log(path: str, logged: str) -> None:
    assert redact_path(path) == logged


def test_json_lines_carry_the_request_id() -> None:
    record = logging.LogRecord(
        "portal.requests", logging.INFO, "x", 1, "GET %s %s", ("/", 200), None
    )
    record.request_id = "abcd1234abcd1234"
    record.status = 200
    data = json.loads(JsonFormatter().format(record))
    assert data["request_id"] == "abcd1234abcd1234"
    assert data["message"] == "GET / 200"
    assert data["status"] == 200
    assert data["level"] == "info"
    assert "[abcd1234abcd1234]" in TextFormatter().format(record)
