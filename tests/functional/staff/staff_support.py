"""A portal with staff sign-in against a real OpenID Connect provider on loopback
(tests/support/oidc), and a browser that signs in there; on SQLite or PostgreSQL."""

from __future__ import annotations

import contextlib
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path

import httpx
from sqlalchemy import select

from portal.storage.tables import audit_log
from tests.functional.portal_support import Browser, Portal, PostgresDb, onward_target, serve_portal
from tests.support.oidc_provider import OidcProvider, serve_oidc_provider
from tests.support.servers import free_port


@dataclass
class StaffSetup:
    portal: Portal
    provider: OidcProvider

    def sign_in(self, user: str = "anna") -> Browser:
        """Sign in at /staff through the provider's screens; returns the staff browser."""
        browser = self.portal.browser()
        done = browser.get(self.at_provider(self.start(browser), user))
        assert done.status_code == 303, done.text
        return browser

    def at_provider(self, authorization_url: str, user: str) -> str:
        """The person signs in at the provider (a browser of its own); returns the portal path
        the provider sends them back to."""
        with httpx.Client() as client:
            back = self.provider.log_in(client, authorization_url, user)
        return back.removeprefix(self.portal.url)

    def start(self, browser: Browser) -> str:
        """Press "sign in": the provider's authorization URL the portal's page goes on to."""
        browser.get("/staff")
        return self.to_provider(browser.post("/staff/sign-in"))

    def to_provider(self, answer: httpx.Response) -> str:
        """The form's answer is the portal's own page (CSP form-action 'self' blocks a redirect
        off-site after a POST), which goes on to the provider."""
        assert answer.status_code == 200, answer.text
        assert "location" not in answer.headers
        url = onward_target(answer)
        assert url.startswith(self.provider.issuer), url
        return url

    def audit(self, action: str | None = None) -> list[tuple[str, str | None, str, str]]:
        """(action, customer, outcome, staff e-mail), oldest first."""
        with self.portal.db.connect() as conn:
            query = select(audit_log).order_by(audit_log.c.id)
            if action:
                query = query.where(audit_log.c.action == action)
            rows = conn.execute(query).all()
        return [(r.action, r.customer_id, r.outcome, r.staff_email) for r in rows]


@contextlib.contextmanager
def staff_portal(
    data_dir: Path, sandbox_url: str, *, postgres_url: str | None = None
) -> Iterator[StaffSetup]:
    """The portal with staff sign-in; on PostgreSQL at `postgres_url` (an empty database,
    emptied again afterwards), else on SQLite in `data_dir`."""
    port = free_port()
    storage = {"database_url": postgres_url} if postgres_url else {}
    with (
        serve_oidc_provider(redirect_uris=[f"http://127.0.0.1:{port}/staff/callback"]) as provider,
        serve_portal(
            data_dir,
            sandbox_url,
            port=port,
            **storage,
            staff_oidc_issuer=provider.issuer,
            staff_oidc_client_id=provider.client_id,
            staff_oidc_client_secret=provider.client_secret,
            staff_oidc_scopes="openid email profile groups",
            staff_email_domains=("example.com",),
            staff_groups=("billing-support",),
        ) as portal,
    ):
        if postgres_url is None:
            yield StaffSetup(portal, provider)
            return
        assert isinstance(portal.db, PostgresDb)
        try:
            yield StaffSetup(portal, provider)
        finally:
            portal.db.empty()
