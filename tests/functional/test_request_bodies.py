"""Oversize and malformed bodies on every POST route of the table: a 4xx page, never a 5xx
with a traceback, and nothing read beyond the route's limit."""

from __future__ import annotations

import logging
import re

import httpx
import pytest
from starlette.routing import Route

from portal.assets import Assets
from portal.limits import FORM_BODY_BYTES, WEBHOOK_BODY_BYTES
from portal.routes import routes
from tests.functional.portal_support import Portal


def _post_paths() -> list[str]:
    table = [r for r in routes(assets=Assets(), demo=False) if isinstance(r, Route)]
    return sorted(
        {
            re.sub(r"\{[^}]+\}", "x", route.path)
            for route in table
            if route.methods and "POST" in route.methods
        }
    )


POST_PATHS = _post_paths()
FORM = {"content-type": "application/x-www-form-urlencoded"}


@pytest.fixture
def no_errors_logged(caplog: pytest.LogCaptureFixture) -> pytest.LogCaptureFixture:
    caplog.set_level(logging.INFO)
    return caplog


def _assert_quiet(caplog: pytest.LogCaptureFixture) -> None:
    errors = [r for r in caplog.records if r.levelno >= logging.ERROR]
    assert not errors, [r.getMessage() for r in errors]


def test_the_table_has_post_routes() -> None:
    assert "/sign-in" in POST_PATHS
    assert "/stripe/webhook" in POST_PATHS


@pytest.mark.parametrize("path", POST_PATHS)
def test_ten_megabytes_are_refused_as_too_large(
    portal: Portal, path: str, no_errors_logged: pytest.LogCaptureFixture
) -> None:
    browser = portal.browser()
    body = b"a=" + b"x" * (10 * 1024 * 1024)
    response = browser.client.post(path, content=body, headers=FORM)
    assert response.status_code == 413, (path, response.status_code)
    _assert_quiet(no_errors_logged)


@pytest.mark.parametrize("path", POST_PATHS)
def test_two_hundred_thousand_fields_are_refused(
    portal: Portal, path: str, no_errors_logged: pytest.LogCaptureFixture
) -> None:
    browser = portal.browser()
    body = "&".join(f"f{i}=1" for i in range(200_000)).encode()
    response = browser.client.post(path, content=body, headers=FORM)
    assert response.status_code == 413, (path, response.status_code)
    _assert_quiet(no_errors_logged)


@pytest.mark.parametrize("path", POST_PATHS)
def test_multipart_without_a_boundary_is_a_client_error(
    portal: Portal, path: str, no_errors_logged: pytest.LogCaptureFixture
) -> None:
    browser = portal.browser()
    browser.get("/sign-in")
    response = browser.client.post(
        path,
        content=b"--x\r\ncontent-disposition: form-data; name=a\r\n\r\n1\r\n--x--\r\n",
        headers={"content-type": "multipart/form-data"},
    )
    assert 400 <= response.status_code < 500, (path, response.status_code)
    _assert_quiet(no_errors_logged)


def test_a_body_without_a_declared_length_is_counted(portal: Portal) -> None:
    # Chunked transfer: no Content-Length to refuse early; the bytes are counted as they come.
    def chunks() -> object:
        for _ in range(FORM_BODY_BYTES // 1024 + 2):
            yield b"a" * 1024

    browser = portal.browser()
    response = browser.client.post("/sign-in", content=chunks(), headers=FORM)  # type: ignore[arg-type]
    assert response.status_code == 413


def test_a_form_within_the_limit_is_read(portal: Portal) -> None:
    browser = portal.browser()
    browser.get("/sign-in")
    padding = "x" * (FORM_BODY_BYTES // 2)
    response = browser.post("/sign-in", {"email": "nobody@example.de", "padding": padding})
    assert response.status_code == 303


def test_webhooks_may_be_larger_than_forms(portal: Portal) -> None:
    body = b"{" + b" " * (FORM_BODY_BYTES * 2) + b"}"
    response = httpx.post(
        f"{portal.url}/stripe/webhook",
        content=body,
        headers={"stripe-signature": "t=1,v1=00"},
    )
    assert response.status_code == 400  # read, then refused for its signature
    assert len(body) < WEBHOOK_BODY_BYTES
