"""A real OpenID Connect provider for tests: panva's oidc-provider (tests/support/oidc/provider.mjs)
run by Node on loopback, and a stand-in for the person at its login screens, driven over HTTP.

It needs `node` and the repository's node_modules (`npm ci`); without them the tests that use it
are skipped rather than failed, since the portal itself needs no Node.js.
"""

from __future__ import annotations

import contextlib
import json
import os
import queue
import secrets
import shutil
import subprocess
import tempfile
import threading
import time
from collections.abc import Iterator
from dataclasses import dataclass
from html.parser import HTMLParser
from pathlib import Path
from typing import Literal
from urllib.parse import urljoin, urlsplit

import httpx
import pytest

ROOT = Path(__file__).resolve().parents[2]
SCRIPT = ROOT / "tests" / "support" / "oidc" / "provider.mjs"
START_TIMEOUT = 20.0  # seconds; a cold Node start on a busy CI machine takes a few
MAX_STEPS = 12  # redirects and forms in one sign-in; a well-behaved one needs at most seven

DEFAULT_USERS: dict[str, dict[str, object]] = {
    "anna": {
        "email": "anna@example.com",
        "email_verified": True,
        "name": "Anna Support",
        "groups": ["billing-support"],
    },
    "bert": {
        "email": "bert@example.com",
        "email_verified": True,
        "name": "Bert Support",
        "groups": ["billing-support"],
    },
    "mallory": {
        "email": "mallory@other.example",
        "email_verified": True,
        "name": "Mallory",
        "groups": [],
    },
}


class OidcLoginError(AssertionError):
    """The provider's screens did not lead back to the relying party."""


@dataclass
class OidcProvider:
    issuer: str
    client_id: str
    client_secret: str
    users: dict[str, dict[str, object]]  # the accounts and their claims, by login

    def fault(self, **id_token_claims: object) -> None:
        """Make the next token response carry an ID token with these claims overridden (None
        removes a claim), re-signed with the provider's key so only the claims are wrong."""
        self._control("/__test/faults", {"id_token": id_token_claims})

    def clear_faults(self) -> None:
        self._control("/__test/faults/clear", {})

    def honour_reauthentication(self, honour: bool) -> None:
        """With False the provider ignores `prompt` and `max_age` on authorization requests, as
        some real ones do: a browser with a session there is sent back without a new login."""
        self._control("/__test/reauthentication", {"honour": honour})

    def age_sessions(self, seconds: int) -> None:
        """Every sign-in at the provider so far counts as made `seconds` earlier (its auth_time
        and the provider's own max_age checks alike), as if that much time had passed there."""
        self._control("/__test/sessions/age", {"seconds": seconds})

    def log_in(
        self, client: httpx.Client, authorization_url: str, user: str, *, consent: bool = True
    ) -> str:
        """Play the person in the browser: open `authorization_url`, sign in as `user` (any
        password) and grant or refuse consent when asked, following redirects only while they
        stay on the provider. Returns the redirect back to the relying party (`?code=...&state=...`
        or `?error=...`) without following it.

        `client` plays the browser, so it keeps the provider's cookies: once signed in, the next
        authorization goes straight back unless it asks for a new login (`prompt=login`,
        `max_age`), and `user` only matters when a login form is shown.
        """
        response = client.get(authorization_url, follow_redirects=False)
        for _ in range(MAX_STEPS):
            if response.is_redirect:
                location = urljoin(str(response.url), response.headers["location"])
                if not self._serves(location):
                    return location
                response = client.get(location, follow_redirects=False)
                continue
            if response.status_code != 200:
                raise OidcLoginError(
                    f"{response.request.method} {response.url} answered "
                    f"{response.status_code}: {response.text}"
                )
            form = _Form.parse(response.text)
            action = urljoin(str(response.url), form.action)
            prompt = form.fields.get("prompt")
            if prompt == "login":
                if user not in self.users:
                    # The dev login screen takes any login; an unknown one fails later as a 500.
                    raise OidcLoginError(f"no user {user!r} at the provider: {sorted(self.users)}")
                data = {**form.fields, "login": user, "password": "any password will do"}
                response = client.post(action, data=data, follow_redirects=False)
            elif prompt == "consent" and consent:
                response = client.post(action, data=form.fields, follow_redirects=False)
            elif prompt == "consent":
                # The dev screens' "cancel" link: the provider answers access_denied.
                response = client.get(f"{action}/abort", follow_redirects=False)
            else:
                raise OidcLoginError(f"unexpected page at {response.url}: {response.text[:500]}")
        raise OidcLoginError(f"no way back to the relying party after {MAX_STEPS} steps")

    def _serves(self, url: str) -> bool:
        ours, theirs = urlsplit(self.issuer), urlsplit(url)
        return (ours.scheme, ours.netloc) == (theirs.scheme, theirs.netloc)

    def _control(self, path: str, body: dict[str, object]) -> None:
        httpx.post(f"{self.issuer}{path}", json=body, timeout=5).raise_for_status()


class _Form(HTMLParser):
    """The first form on a page: where it posts and its prefilled (hidden) fields."""

    def __init__(self) -> None:
        super().__init__()
        self.action = ""
        self.fields: dict[str, str] = {}
        self._state: Literal["before", "inside", "after"] = "before"

    @classmethod
    def parse(cls, html: str) -> _Form:
        form = cls()
        form.feed(html)
        form.close()
        if form._state == "before":
            raise OidcLoginError(f"no form on the provider's page: {html[:500]}")
        return form

    def handle_starttag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
        attributes = dict(attrs)
        if tag == "form" and self._state == "before":
            self._state = "inside"
            self.action = attributes.get("action") or ""
        elif tag == "input" and self._state == "inside" and attributes.get("name"):
            self.fields[str(attributes["name"])] = attributes.get("value") or ""

    def handle_endtag(self, tag: str) -> None:
        if tag == "form" and self._state == "inside":
            self._state = "after"


@contextlib.contextmanager
def serve_oidc_provider(
    *,
    redirect_uris: list[str],
    users: dict[str, dict[str, object]] | None = None,
    client_id: str = "portal",
    client_secret: str | None = None,
    token_endpoint_auth_method: str = "client_secret_basic",
) -> Iterator[OidcProvider]:
    """Run the provider with one confidential client until the block ends.

    The client's redirect URIs are registered at start, so the relying party's port must be
    chosen first. A random client secret is made when none is given.
    """
    node = shutil.which("node")
    if node is None:
        pytest.skip("the OpenID Connect provider tests need Node.js (`node` on PATH)")
    if not (ROOT / "node_modules" / "oidc-provider" / "package.json").exists():
        pytest.skip("the OpenID Connect provider tests need `npm ci` run in the repository root")
    secret = client_secret or secrets.token_urlsafe(24)
    accounts = DEFAULT_USERS if users is None else users
    config = {
        "port": 0,
        "clients": [
            {
                "client_id": client_id,
                "client_secret": secret,
                "redirect_uris": redirect_uris,
                "token_endpoint_auth_method": token_endpoint_auth_method,
            }
        ],
        "users": accounts,
    }
    env = {**os.environ, "OIDC_TEST_CONFIG": json.dumps(config)}
    with tempfile.TemporaryFile(mode="w+", encoding="utf-8") as stderr:
        # stdin stays open for the provider's lifetime: it exits when the pipe closes, even if
        # this process dies without reaching the `finally` below.
        process = subprocess.Popen(
            [node, str(SCRIPT)],
            cwd=ROOT,
            env=env,
            stdin=subprocess.PIPE,
            stdout=subprocess.PIPE,
            stderr=stderr,
            text=True,
        )
        lines: queue.Queue[str | None] = queue.Queue()
        reader = threading.Thread(target=_read_lines, args=(process, lines), daemon=True)
        reader.start()
        try:
            try:
                issuer = _wait_until_ready(lines)
            except RuntimeError as exc:
                _stop(process, reader)  # first, so that stderr is complete
                stderr.seek(0)
                raise RuntimeError(
                    f"the OpenID Connect test provider did not start ({exc}):\n{stderr.read()}"
                ) from None
            yield OidcProvider(issuer, client_id, secret, accounts)
        finally:
            _stop(process, reader)


def _read_lines(process: subprocess.Popen[str], lines: queue.Queue[str | None]) -> None:
    # Drains stdout for the provider's whole life, so it never blocks on a full pipe.
    assert process.stdout is not None
    with process.stdout:
        for line in process.stdout:
            lines.put(line)
    lines.put(None)


def _wait_until_ready(lines: queue.Queue[str | None]) -> str:
    deadline = time.monotonic() + START_TIMEOUT
    while True:
        try:
            line = lines.get(timeout=max(deadline - time.monotonic(), 0))
        except queue.Empty:
            raise RuntimeError(f"no READY line within {START_TIMEOUT:.0f} s") from None
        if line is None:
            raise RuntimeError("it exited before it was ready")
        if line.startswith("READY "):
            return line.removeprefix("READY ").strip()


def _stop(process: subprocess.Popen[str], reader: threading.Thread) -> None:
    if process.stdin is not None:
        process.stdin.close()
    process.terminate()
    try:
        process.wait(timeout=5)
    except subprocess.TimeoutExpired:
        process.kill()
        process.wait()
    reader.join(timeout=5)
