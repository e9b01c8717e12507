"""An unexpected error: a page in the visitor's language with a reference that is in the log."""

from __future__ import annotations

import logging
import re
from pathlib import Path

import pytest
from starlette.testclient import TestClient

from portal.app import create_app
from portal.auth import views as auth_views
from tests.conftest import make_settings
from tests.functional.app_support import migrate_database


def test_unexpected_error_page_has_a_reference_that_is_logged(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, caplog: pytest.LogCaptureFixture
) -> None:
    def broken(*args: object, **kwargs: object) -> None:
        raise RuntimeError("something broke")

    monkeypatch.setattr(auth_views, "clean_deliverable_email", broken)
    settings = make_settings(tmp_path)
    migrate_database(settings.database_url)
    with TestClient(
        create_app(settings), base_url=settings.base_url, raise_server_exceptions=False
    ) as client:
        client.get("/sign-in")
        csrf = re.search(r'name="csrf_token" value="([0-9a-f]+)"', client.get("/sign-in").text)
        assert csrf
        with caplog.at_level(logging.ERROR, logger="portal.errors"):
            response = client.post(
                "/sign-in",
                data={"csrf_token": csrf.group(1), "email": "a@example.de"},
                headers={"Accept-Language": "pl"},
            )
    assert response.status_code == 500
    assert "script-src 'self'" in response.headers["content-security-policy"]
    assert '<html lang="pl">' in response.text
    assert "Traceback" not in response.text
    assert "something broke" not in response.text
    reference = re.search(r"<code>([0-9a-f]{16})</code>", response.text)
    assert reference
    assert reference.group(1) == response.headers["x-request-id"]  # the request's own id
    assert reference.group(1) in caplog.text
    assert "something broke" in caplog.text


def test_not_found_page_has_a_logged_reference(
    tmp_path: Path, caplog: pytest.LogCaptureFixture
) -> None:
    settings = make_settings(tmp_path)
    migrate_database(settings.database_url)
    with (
        TestClient(create_app(settings), base_url=settings.base_url) as client,
        caplog.at_level(logging.INFO, logger="portal.errors"),
    ):
        response = client.get("/nowhere", headers={"Accept-Language": "hr"})
    assert response.status_code == 404
    reference = re.search(r"<code>([0-9a-f]{16})</code>", response.text)
    assert reference
    assert reference.group(1) in caplog.text


def test_each_request_is_logged_once_with_its_id_and_without_tokens(
    tmp_path: Path, caplog: pytest.LogCaptureFixture
) -> None:
    settings = make_settings(tmp_path)
    migrate_database(settings.database_url)
    with (
        TestClient(create_app(settings), base_url=settings.base_url) as client,
        caplog.at_level(logging.INFO, logger="portal.requests"),
    ):
        answer = client.get("/sign-in/link/SECRET-TOKEN-VALUE-123456", follow_redirects=False)
        client.get("/healthz", headers={"X-Request-Id": "fly-abc-123456789"})
    lines = [r for r in caplog.records if r.name == "portal.requests"]
    assert len(lines) == 2
    # The portal's own lines (the test's HTTP client logs its URLs when a test before this
    # one in the process turned INFO on for it).
    portal_lines = [r.getMessage() for r in caplog.records if r.name.startswith("portal")]
    assert all("SECRET-TOKEN-VALUE" not in line for line in portal_lines)
    assert lines[0].getMessage().startswith("GET /sign-in/link/{token} ")
    assert answer.headers["x-request-id"]
    assert lines[1].status == 200  # type: ignore[attr-defined]
