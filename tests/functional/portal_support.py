"""The real portal for functional tests: served over HTTP on loopback, talking to the sandbox
through the official SDK and sending e-mail to a real SMTP server (aiosmtpd)."""

from __future__ import annotations

import asyncio
import concurrent.futures
import contextlib
import re
import time
import uuid
from collections.abc import Iterator
from dataclasses import dataclass
from html import unescape
from pathlib import Path
from typing import Any

import httpx
import pytest
import stripe
from sqlalchemy import Executable, Result, text
from sqlalchemy import create_engine as create_sync_engine
from sqlalchemy.engine import Engine
from sqlalchemy.ext.asyncio import create_async_engine
from sqlalchemy.pool import NullPool

from portal.app import create_app
from portal.settings import STRIPE_INVOICE_API_VERSION, Settings, parse_smtp_url
from portal_dev.mailbox import DevMailbox, DevMailServer, ReceivedMail
from tests.conftest import SANDBOX_KEY, make_settings
from tests.functional.app_support import migrate_database
from tests.support.servers import free_port, serve_in_thread

CSRF = re.compile(r'name="csrf_token" value="([0-9a-f]+)"')
LINK = re.compile(r"(http://127\.0\.0\.1:\d+/sign-in/link/[A-Za-z0-9_-]+)")
CODE = re.compile(r"\b([A-Z2-9]{4}-[A-Z2-9]{4})\b")


@dataclass
class Portal:
    url: str
    settings: Settings
    mailbox: DevMailbox
    sdk: stripe.StripeClient
    db: Engine | PostgresDb  # for arranging and reading rows the way a test needs
    clients: list[httpx.Client]

    def browser(self, **headers: str) -> Browser:
        client = httpx.Client(base_url=self.url, headers=headers, timeout=30)
        self.clients.append(client)
        return Browser(client, self)

    def close_browsers(self) -> None:
        while self.clients:
            self.clients.pop().close()

    def wait_for_mail(self, to: str, count: int = 1, timeout: float = 10) -> ReceivedMail:
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            found = [m for m in self.mailbox.messages() if to in m.recipients]
            if len(found) >= count:
                return found[0]  # newest first
            time.sleep(0.05)
        raise AssertionError(f"no e-mail #{count} to {to}")

    def customer(
        self,
        *,
        email: str | None = None,
        name: str = "Müller & Söhne GmbH",
        locale: str = "de",
        country: str | None = None,
    ) -> str:
        email = email or f"kunde-{uuid.uuid4().hex[:8]}@example.de"
        params: stripe.params.CustomerCreateParams = {
            "email": email,
            "name": name,
            "preferred_locales": [locale],
        }
        if country is not None:
            params["address"] = {"country": country}
        return self.sdk.v1.customers.create(params).id

    def invoice(
        self,
        customer_id: str,
        *,
        amount: int = 12000,
        currency: str = "eur",
        days_until_due: int = 14,
        finalize: bool = True,
        **extra: Any,
    ) -> stripe.Invoice:
        params: dict[str, Any] = {
            "customer": customer_id,
            "collection_method": "send_invoice",
            "currency": currency,
            **extra,
        }
        if "due_date" not in extra and "amounts_due" not in extra:
            params["days_until_due"] = days_until_due
        invoice = self.sdk.v1.invoices.create(params)  # type: ignore[arg-type]
        self.sdk.v1.invoice_items.create(
            {
                "customer": customer_id,
                "invoice": invoice.id,
                "amount": amount,
                "currency": currency,
                "description": "Wartungsvertrag",
            }
        )
        return self.sdk.v1.invoices.finalize_invoice(invoice.id) if finalize else invoice


class Browser:
    """One browser: its own cookies, following no redirects on its own."""

    def __init__(self, client: httpx.Client, portal: Portal) -> None:
        self.client = client
        self.portal = portal
        self.csrf = ""

    def get(self, path: str, **kwargs: Any) -> httpx.Response:
        response = self.client.get(path, **kwargs)
        found = CSRF.search(response.text)
        if found:
            self.csrf = found.group(1)
        return response

    def post(
        self, path: str, data: dict[str, str] | None = None, *, csrf: bool = True
    ) -> httpx.Response:
        if csrf and not self.csrf:
            self.get("/sign-in")
        form = {"csrf_token": self.csrf, **(data or {})} if csrf else dict(data or {})
        return self.client.post(path, data=form)

    def request_link(self, email: str) -> httpx.Response:
        self.get("/sign-in")
        return self.post("/sign-in", {"email": email})

    def sign_in(self, email: str) -> httpx.Response:
        """The whole flow in this browser: request, e-mail, link, button."""
        before = len([m for m in self.portal.mailbox.messages() if email in m.recipients])
        assert self.request_link(email).status_code == 303
        mail = self.portal.wait_for_mail(email, before + 1)
        link = link_in(mail)
        assert self.get(link).status_code == 303
        self.get("/sign-in/confirm")
        return self.post("/sign-in/confirm")


def link_in(mail: ReceivedMail) -> str:
    found = LINK.search(mail.part("text/plain") or "")
    assert found, mail.part("text/plain")
    return found.group(1)


def code_in(mail: ReceivedMail) -> str:
    found = CODE.search(mail.part("text/plain") or "")
    assert found, mail.part("text/plain")
    return found.group(1)


def onward_target(page: httpx.Response) -> str:
    """Where the portal's interstitial page sends the browser on to."""
    found = re.search(r'<meta http-equiv="refresh" content="0;url=([^"]+)">', page.text)
    assert found, page.text
    return unescape(found.group(1))


def text_of(response: httpx.Response) -> str:
    """The visible text, with Babel's no-break spaces as plain ones."""
    text = unescape(re.sub(r"<[^>]+>", " ", response.text))
    return text.replace("\u00a0", " ").replace("\u202f", " ")


class PostgresDb:
    """What the tests do with `Portal.db` (`connect`, `begin`, `execute`) on PostgreSQL, whose
    only driver here is asyncpg: each statement runs and commits on its own, on a loop of its
    own, its rows read before it returns."""

    def __init__(self, url: str) -> None:
        self.url = url

    @contextlib.contextmanager
    def connect(self) -> Iterator[PostgresDb]:
        yield self

    begin = connect

    def execute(self, statement: Executable, params: dict[str, Any] | None = None) -> Result[Any]:
        async def run() -> Result[Any]:
            engine = create_async_engine(self.url, poolclass=NullPool)
            try:
                async with engine.begin() as conn:
                    result = await conn.execute(statement, params)
                    return result.freeze()() if result.returns_rows else result
            finally:
                await engine.dispose()

        return asyncio.run(run())

    def dispose(self) -> None:
        """Nothing held between statements."""

    def empty(self) -> None:
        """Every table gone, for the next module's portal to migrate afresh."""
        self.execute(text("DROP SCHEMA public CASCADE"))
        self.execute(text("CREATE SCHEMA public"))


@contextlib.contextmanager
def serve_portal(
    data_dir: Path,
    sandbox_url: str,
    *,
    api_key: str = SANDBOX_KEY,
    port: int | None = None,
    smtputf8: bool = False,
    **overrides: Any,
) -> Iterator[Portal]:
    """The real portal on a loopback port, against the sandbox, with an SMTP mailbox (offering
    SMTPUTF8 with `smtputf8`)."""
    mailbox = DevMailbox(echo=None)
    mail_server = DevMailServer(mailbox, free_port(), smtputf8=smtputf8)
    # Every link in a page or an e-mail is built from base_url: the port is chosen first.
    port = port or free_port()
    settings = make_settings(
        data_dir,
        **{
            "base_url": f"http://127.0.0.1:{port}",
            "stripe_api_base": sandbox_url,
            "stripe_api_key": api_key,
            "smtp": parse_smtp_url(f"smtp://127.0.0.1:{mail_server.port}?tls=none"),
            **overrides,
        },
    )
    # In a thread of its own: under Playwright's sync API this thread counts as inside an event
    # loop, where asyncio.run() (which migrating uses) refuses to run.
    with concurrent.futures.ThreadPoolExecutor(max_workers=1) as pool:
        pool.submit(migrate_database, settings.database_url).result()
    # Arranging data the way the portal reads it: payment plans exist only under the preview.
    sdk = stripe.StripeClient(
        api_key,
        base_addresses={"api": sandbox_url, "files": sandbox_url},
        max_network_retries=0,
        stripe_version=STRIPE_INVOICE_API_VERSION,
    )
    db: Engine | PostgresDb = (
        PostgresDb(settings.database_url)
        if settings.database_url.startswith("postgresql")
        else create_sync_engine(settings.database_url.replace("+aiosqlite", ""))
    )
    mail_server.start()
    try:
        with serve_in_thread(create_app(settings), port=port) as url:
            found = Portal(url, settings, mailbox, sdk, db, [])
            yield found
            found.close_browsers()
    finally:
        mail_server.stop()
        db.dispose()


@pytest.fixture(scope="module")
def portal(sandbox_url: str, tmp_path_factory: pytest.TempPathFactory) -> Iterator[Portal]:
    with serve_portal(
        tmp_path_factory.mktemp("portal"), sandbox_url, support_email="hilfe@example.de"
    ) as found:
        yield found


@pytest.fixture(scope="module")
def utf8_portal(sandbox_url: str, tmp_path_factory: pytest.TempPathFactory) -> Iterator[Portal]:
    """A portal whose mail server offers SMTPUTF8."""
    with serve_portal(tmp_path_factory.mktemp("utf8"), sandbox_url, smtputf8=True) as found:
        yield found
        found.close_browsers()


def unique(local: str, domain: str = "example.de") -> str:
    return f"{local}-{uuid.uuid4().hex[:8]}@{domain}"
