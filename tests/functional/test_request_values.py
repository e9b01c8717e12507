"""Every route of the table, sent what no database or header can hold: a NUL (PostgreSQL
refuses it), a lone surrogate (it has no UTF-8, which both databases store) and a euro sign (no
Latin-1, which headers are), in each path parameter, in the query string, in the form and as the
CSRF token. The answer is a page, never a 5xx, on SQLite and on PostgreSQL.

The requests reach the views: the path's other parameters are the signed-in customer's own
invoice and payment, staff routes are asked by signed-in staff, and forms carry a valid CSRF
token. A URL carries a surrogate only as its UTF-8 bytes (`%ED%A0%80`), which are decoded to
U+FFFD; a form delivers one as it is in a multipart body whose declared charset (UTF-7) decodes
to it, so the forms are sent both ways.
"""

from __future__ import annotations

import contextlib
import logging
import re
import uuid
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path
from urllib.parse import quote

import httpx
import pytest

from portal import i18n
from portal.assets import Assets
from portal.csrf import FIELD
from portal.principals import Access
from portal.routes import routes
from portal.routing import PortalRoute
from tests.functional.billing.billing_support import customer_with_card, open_pay_page, signed_in
from tests.functional.portal_support import Browser, Portal, text_of
from tests.functional.staff.staff_support import StaffSetup, staff_portal

PORTAL_SOURCE = Path(__file__).resolve().parents[2] / "portal"

# Each value as a URL carries it (percent-encoded UTF-8) and as a form does.
BAD = {"nul": ("%00", "\x00"), "surrogate": ("%ED%A0%80", "\ud800"), "euro": ("%E2%82%AC", "€")}


def _names_the_views_read() -> list[str]:
    """The query and form fields the portal's code asks for by name (`form.get("code")`)."""
    found = set()
    for module in PORTAL_SOURCE.rglob("*.py"):
        found.update(
            re.findall(
                r'\b(?:query_params|params|form|form_data)\.get\(\s*"([^"]+)"', module.read_text()
            )
        )
    return sorted(found - {FIELD})


NAMES = _names_the_views_read()
TABLE = [r for r in routes(assets=Assets(), demo=False) if isinstance(r, PortalRoute)]
ROWS = [
    (route, method) for route in TABLE for method in sorted(route.methods or ()) if method != "HEAD"
]


def test_the_names_include_those_that_reach_the_database() -> None:
    assert {"staff", "customer", "token", "code", "session_id", "q"} <= set(NAMES)


@dataclass
class Site:
    portal: Portal
    staff: StaffSetup
    email: str
    invoice_id: str
    payment_id: str
    customer_browser: Browser | None = None
    staff_browser: Browser | None = None

    def browser_for(self, access: Access) -> Browser:
        """A browser that may reach a route with `access`: signed-in staff, the signed-in
        customer, or a new visitor (who has a CSRF token for the sign-in forms)."""
        if access is Access.STAFF:
            if (
                self.staff_browser is None
                or self.staff_browser.get("/staff/audit").status_code != 200
            ):
                self.staff_browser = self.staff.sign_in()
            return self.staff_browser
        if access in (Access.CUSTOMER, Access.INVOICE):
            if self.customer_browser is None or self.customer_browser.get("/").status_code != 200:
                self.customer_browser = signed_in(self.portal, self.email)
            return self.customer_browser
        browser = self.portal.browser()
        browser.get("/sign-in")
        return browser

    def real(self, param: str) -> str:
        """A path parameter's value that finds something of the signed-in customer's."""
        return {
            "invoice_id": self.invoice_id,
            "payment_id": self.payment_id,
            "currency": "eur",
        }.get(param, f"{param}_1")


@contextlib.contextmanager
def _site(data_dir: Path, sandbox_url: str, postgres_url: str | None) -> Iterator[Site]:
    with staff_portal(data_dir, sandbox_url, postgres_url=postgres_url) as staff:
        portal = staff.portal
        email, customer, _method = customer_with_card(portal)
        invoice_id = portal.invoice(customer).id
        browser = signed_in(portal, email)
        payment = open_pay_page(browser, invoice_id, "whole").removeprefix("/payments/")
        site = Site(portal, staff, email, invoice_id, payment)
        site.customer_browser = browser
        yield site


@pytest.fixture(
    scope="module", params=["sqlite", pytest.param("postgresql", marks=pytest.mark.postgres)]
)
def site(
    request: pytest.FixtureRequest, sandbox_url: str, tmp_path_factory: pytest.TempPathFactory
) -> Iterator[Site]:
    """On PostgreSQL, the session's database, emptied afterwards (`staff_portal`)."""
    postgres_url = (
        request.getfixturevalue("postgres_url") if request.param == "postgresql" else None
    )
    with _site(tmp_path_factory.mktemp("values"), sandbox_url, postgres_url) as found:
        yield found


def _path(site: Site, route: PortalRoute, spoiled: str | None, bad_url: str) -> str:
    def fill(found: re.Match[str]) -> str:
        param = found.group(1).split(":")[0]
        value = quote(site.real(param), safe="")
        return value + bad_url if param == spoiled else value

    return re.sub(r"\{([^}]+)\}", fill, route.path)


def _multipart(fields: dict[str, str]) -> tuple[bytes, dict[str, str]]:
    """A multipart form declared as UTF-7, which carries any code point, a lone surrogate too."""
    boundary = uuid.uuid4().hex
    parts = [
        f'--{boundary}\r\ncontent-disposition: form-data; name="{name}"\r\n\r\n'.encode()
        + value.encode("utf-7")
        + b"\r\n"
        for name, value in fields.items()
    ]
    body = b"".join(parts) + f"--{boundary}--\r\n".encode()
    return body, {"content-type": f"multipart/form-data; boundary={boundary}; charset=utf-7"}


def _urlencoded(fields: dict[str, str]) -> tuple[bytes, dict[str, str]]:
    body = "&".join(
        f"{quote(k)}={quote(v.encode('utf-8', 'surrogatepass'))}" for k, v in fields.items()
    )
    return body.encode(), {"content-type": "application/x-www-form-urlencoded"}


def _label(row: tuple[PortalRoute, str]) -> str:
    route, method = row
    return f"{method} {route.name}"


@pytest.mark.parametrize("row", ROWS, ids=[_label(r) for r in ROWS])
def test_what_no_database_can_store_gets_a_page_not_a_server_error(
    site: Site, row: tuple[PortalRoute, str], caplog: pytest.LogCaptureFixture
) -> None:
    route, method = row
    caplog.set_level(logging.INFO)
    params = re.findall(r"\{([^}:]+)", route.path)
    signed = route.needs.access in (Access.CUSTOMER, Access.INVOICE)
    failures = []
    for kind, (bad_url, bad_text) in BAD.items():
        sent: list[tuple[str, httpx.Response]] = []
        browser = site.browser_for(route.needs.access)
        clean = _path(site, route, None, "")
        for param in params:
            path = _path(site, route, param, bad_url)
            sent.append((f"path {param}", _send(browser, method, path)))
        query = "&".join(f"{name}=x{bad_url}" for name in NAMES)
        sent.append(("query", _send(browser, method, f"{clean}?{query}")))
        if method == "POST":
            fields = {FIELD: browser.csrf} | {name: f"x{bad_text}" for name in NAMES}
            for how, encode in (("form", _urlencoded), ("multipart form", _multipart)):
                body, headers = encode(fields)
                sent.append((how, browser.client.post(clean, content=body, headers=headers)))
            body, headers = _urlencoded({FIELD: browser.csrf + bad_text})
            sent.append(("CSRF token", browser.client.post(clean, content=body, headers=headers)))
        failures += [
            f"{kind} in {where}: {answer.status_code}"
            for where, answer in sent
            if answer.status_code >= 500
            # the view was reached: neither sent to sign in nor refused the CSRF token
            or (signed and answer.headers.get("location", "").endswith("/sign-in"))
            or (where.endswith("form") and answer.status_code == 403)
        ]
    assert not failures
    assert not [r.getMessage() for r in caplog.records if r.levelno >= logging.ERROR]


def _send(browser: Browser, method: str, path: str) -> httpx.Response:
    if method == "POST":
        body, headers = _urlencoded({FIELD: browser.csrf})
        return browser.client.post(path, content=body, headers=headers)
    return browser.client.get(path)


def _in(locale: str, message: str) -> str:
    with i18n.use_locale(locale):
        return i18n.gettext(message)


@pytest.mark.parametrize(
    "path", ["/payments/%00abc", "/payments/%00abc/check", "/payments/x%00/paid-at-stripe"]
)
def test_a_nul_in_an_address_finds_nothing(site: Site, path: str) -> None:
    browser = site.browser_for(Access.CUSTOMER)
    browser.client.headers["Accept-Language"] = "de"
    try:
        page = _send(browser, "POST" if path.endswith("/check") else "GET", path)
    finally:
        del browser.client.headers["Accept-Language"]
    assert page.status_code == 404
    assert _in("de", "Page not found") in text_of(page)


def test_a_payment_address_beyond_ascii_finds_nothing(site: Site) -> None:
    page = site.browser_for(Access.CUSTOMER).get(f"/payments/{site.payment_id}%E2%82%AC")
    assert page.status_code == 404


@pytest.mark.parametrize(
    ("query", "fields"),
    [
        ("staff=%00", ["staff"]),
        ("customer=%00", ["customer"]),
        ("customer=cus_%00&staff=a%00", ["staff", "customer"]),
        ("customer=cus_%00&format=csv", ["customer"]),
    ],
)
def test_a_nul_in_the_audit_filters_is_explained_next_to_the_field(
    site: Site, query: str, fields: list[str]
) -> None:
    page = site.browser_for(Access.STAFF).get(f"/staff/audit?{query}")
    assert page.status_code == 400
    assert page.headers["content-type"].startswith("text/html")  # no CSV of nothing
    for field in fields:
        assert f'id="{field}-error"' in page.text
        assert f'id="{field}"' in page.text
    assert 'value="cus_' in page.text or "customer=cus_" not in query  # what was typed, kept


def test_a_lone_surrogate_in_a_form_is_refused_before_the_view(site: Site) -> None:
    browser = site.portal.browser(**{"Accept-Language": "es"})
    browser.get("/sign-in")
    body, headers = _multipart({FIELD: browser.csrf, "email": "ana\ud800@example.es"})
    page = browser.client.post("/sign-in", content=body, headers=headers)
    assert page.status_code == 400
    assert _in("es", "Not possible") in text_of(page)
    assert not [m for m in site.portal.mailbox.messages() if "example.es" in str(m.recipients)]


def test_a_csrf_token_beyond_ascii_is_refused_as_any_wrong_one(site: Site) -> None:
    browser = site.portal.browser()
    browser.get("/sign-in")
    body, headers = _urlencoded({FIELD: browser.csrf[:-1] + "€", "email": "a@example.de"})
    page = browser.client.post("/sign-in", content=body, headers=headers)
    assert page.status_code == 403
