"""Headers, Host, CSRF and error pages, checked over every route."""

from __future__ import annotations

import re

import httpx
import pytest
from starlette.routing import Route

from portal.assets import Assets
from portal.routes import routes
from tests.functional.portal_support import Portal, text_of

POST_ROUTES = sorted(
    {
        r.path
        for r in routes(assets=Assets(), demo=False)
        if isinstance(r, Route) and r.methods and "POST" in r.methods
    }
    - {"/stripe/webhook"}  # authenticated by Stripe's signature instead
)


def test_every_page_carries_the_security_headers(portal: Portal) -> None:
    response = portal.browser().get("/sign-in")
    csp = response.headers["content-security-policy"]
    assert "script-src 'self'" in csp
    assert "'unsafe-inline'" not in csp
    for directive in ("object-src 'none'", "base-uri 'none'", "frame-ancestors 'none'"):
        assert directive in csp
    assert response.headers["x-content-type-options"] == "nosniff"
    assert response.headers["referrer-policy"] == "same-origin"
    assert response.headers["cache-control"] == "no-store"
    assert "strict-transport-security" not in response.headers  # plain-http development only
    assert "<script" not in response.text
    assert " style=" not in response.text


def test_static_files_are_cached_for_a_year_under_hashed_names(portal: Portal) -> None:
    page = portal.browser().get("/sign-in")
    css = re.search(r'href="(/static/css/portal\.[0-9a-f]{12}\.css)"', page.text)
    assert css
    response = portal.browser().get(css.group(1))
    assert response.status_code == 200
    assert "immutable" in response.headers["cache-control"]
    assert portal.browser().get("/static/css/portal.css").status_code == 404


def test_requests_for_another_host_are_refused(portal: Portal) -> None:
    response = httpx.get(portal.url + "/sign-in", headers={"Host": "evil.example"})
    assert response.status_code == 421


def test_localhost_is_sent_to_the_configured_address(portal: Portal) -> None:
    port = portal.url.rsplit(":", 1)[1]
    response = httpx.get(f"http://localhost:{port}/sign-in?email=a%40b.de")
    assert response.status_code == 307
    assert response.headers["location"] == portal.url + "/sign-in?email=a%40b.de"


@pytest.mark.parametrize("path", POST_ROUTES)
def test_every_form_refuses_a_post_without_its_csrf_token(portal: Portal, path: str) -> None:
    browser = portal.browser()
    browser.get("/sign-in")
    response = browser.post(
        path,
        {"email": "a@example.de", "code": "AAAA-AAAA", "lang": "de", "customer": "cus_x"},
        csrf=False,
    )
    assert response.status_code == 403
    assert "nothing was done" in text_of(response)


def test_a_post_from_another_site_is_refused_even_with_a_token(portal: Portal) -> None:
    browser = portal.browser()
    browser.get("/sign-in")
    response = browser.client.post(
        "/sign-in",
        data={"csrf_token": browser.csrf, "email": "a@example.de"},
        headers={"Origin": "https://evil.example"},
    )
    assert response.status_code == 403


def test_unknown_pages_get_a_page_not_a_traceback(portal: Portal) -> None:
    response = portal.browser(**{"Accept-Language": "de"}).get("/no/such/page")
    assert response.status_code == 404
    assert '<html lang="de">' in response.text
    assert "Traceback" not in response.text


def test_language_switcher_remembers_the_choice_and_stays_on_the_page(portal: Portal) -> None:
    browser = portal.browser(**{"Accept-Language": "de"})
    browser.get("/sign-in")
    response = browser.post("/language", {"lang": "nl", "next": "/sign-in"})
    assert response.status_code == 303
    assert response.headers["location"] == "/sign-in"
    assert '<html lang="nl">' in browser.get("/sign-in").text


@pytest.mark.parametrize(
    "target",
    [
        "https://evil.example/",
        "//evil.example/",
        "javascript:alert(1)",
        "/\\evil.example/",
        "/\\/evil.example/",
        "/\t/evil.example/",
    ],
)
def test_language_switcher_is_no_open_redirect(portal: Portal, target: str) -> None:
    browser = portal.browser()
    browser.get("/sign-in")
    response = browser.post("/language", {"lang": "de", "next": target})
    assert response.headers["location"] == "/"


def test_the_url_with_a_sign_in_token_sends_no_referrer(portal: Portal) -> None:
    response = portal.browser().get("/sign-in/link/some-token-value")
    assert response.headers["referrer-policy"] == "no-referrer"
