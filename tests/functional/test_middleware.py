"""The one layer every request passes (`portal.middleware`): what each answer carries, whatever
answered it (a page, a refused Host, the 500 page), and in which order the rules apply."""

from __future__ import annotations

import logging
from collections.abc import Iterator
from pathlib import Path

import pytest
from starlette.testclient import TestClient

from portal.app import create_app
from portal.auth import views as auth_views
from portal.security import CSP, csp_header
from tests.conftest import make_settings
from tests.functional.app_support import migrate_database

BROWSER = "portal_browser"


@pytest.fixture
def client(tmp_path: Path) -> Iterator[TestClient]:
    settings = make_settings(tmp_path)
    migrate_database(settings.database_url)
    with TestClient(
        create_app(settings), base_url=settings.base_url, raise_server_exceptions=False
    ) as found:
        yield found


def test_a_new_browser_gets_its_id_on_the_first_answer_only(client: TestClient) -> None:
    first = client.get("/sign-in")
    assert first.headers["set-cookie"].startswith(f"{BROWSER}=")
    assert "HttpOnly" in first.headers["set-cookie"]
    assert "SameSite=lax" in first.headers["set-cookie"]
    again = client.get("/sign-in")  # the cookie came back: nothing to set
    assert "set-cookie" not in again.headers
    client.cookies.clear()
    client.cookies.set(BROWSER, "short")  # not an id the portal gives: a new one
    assert client.get("/sign-in").headers["set-cookie"].startswith(f"{BROWSER}=")


def test_every_answer_carries_the_request_id_and_the_security_headers(
    client: TestClient, monkeypatch: pytest.MonkeyPatch
) -> None:
    def broken(*args: object, **kwargs: object) -> None:
        raise RuntimeError("something broke")

    page = client.get("/sign-in")
    refused = client.get("/sign-in", headers={"Host": "evil.example"})
    monkeypatch.setattr(auth_views, "clean_deliverable_email", broken)
    failed = client.post(
        "/sign-in",
        data={"csrf_token": _csrf(page.text), "email": "a@example.de"},
    )
    assert (page.status_code, refused.status_code, failed.status_code) == (200, 421, 500)
    for answer in (page, refused, failed):
        assert answer.headers["content-security-policy"] == csp_header(CSP)
        assert answer.headers["x-frame-options"] == "DENY"
        assert answer.headers["cache-control"] == "no-store"
        assert len(answer.headers["x-request-id"]) == 16
    assert "set-cookie" not in refused.headers  # a refused Host gets nothing of the portal's


def test_a_refused_host_is_answered_in_the_visitors_language(client: TestClient) -> None:
    answer = client.get("/sign-in", headers={"Host": "evil.example", "Accept-Language": "de"})
    assert answer.status_code == 421
    assert "nicht" in answer.text


def test_the_proxys_request_id_is_kept_and_each_answer_logged(
    client: TestClient, caplog: pytest.LogCaptureFixture
) -> None:
    with caplog.at_level(logging.INFO, logger="portal.requests"):
        answer = client.get(
            "/healthz", headers={"Fly-Request-Id": "fly-0123456789", "X-Request-Id": "other-1234"}
        )
        made_up = client.get("/healthz", headers={"X-Request-Id": "bad id with spaces"})
    assert answer.headers["x-request-id"] == "fly-0123456789"
    assert len(made_up.headers["x-request-id"]) == 16  # not the client's malformed one
    first, _made_up = [r for r in caplog.records if r.name == "portal.requests"]
    assert (first.status, first.path) == (200, "/healthz")  # type: ignore[attr-defined]
    assert first.duration_ms >= 0  # type: ignore[attr-defined]


def _csrf(html: str) -> str:
    marker = 'name="csrf_token" value="'
    start = html.index(marker) + len(marker)
    return html[start : html.index('"', start)]
