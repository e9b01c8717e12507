"""Production installs what the tests use: the portal, with only the runtime lock's packages
(`requirements/portal.txt`, what the Dockerfile installs), serves and signs a staff member in
through a real OpenID Connect provider, without a deprecation warning from its libraries.

The development install has more (the test tools, the sandbox's): a package the portal imports
at run time that only they bring would pass every other test and fail, or fall back to other
code, in production."""

from __future__ import annotations

import os
import subprocess
import sys
import time
from collections.abc import Iterator
from pathlib import Path
from types import SimpleNamespace
from typing import cast

import httpx
import pytest

from tests.conftest import SANDBOX_KEY
from tests.functional.app_support import migrate_database
from tests.functional.portal_support import Browser, Portal, onward_target
from tests.support.oidc_provider import serve_oidc_provider
from tests.support.servers import free_port

ROOT = Path(__file__).resolve().parents[2]


@pytest.fixture(scope="module")
def runtime_python(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """A virtual environment with the runtime lock's packages and nothing else; the portal
    itself comes from this checkout (PYTHONPATH), as the image copies it."""
    venv = tmp_path_factory.mktemp("runtime") / "venv"
    subprocess.run([sys.executable, "-m", "venv", str(venv)], check=True)
    python = venv / "bin" / "python"
    installed = subprocess.run(
        [str(python), "-m", "pip", "install", "-q", "--require-hashes", "-r",
         str(ROOT / "requirements" / "portal.txt")],
        capture_output=True, text=True, timeout=600,
    )  # fmt: skip
    if installed.returncode != 0:
        pytest.fail(f"the runtime lock does not install: {installed.stderr[-2000:]}")
    return python


@pytest.fixture
def runtime_portal(
    runtime_python: Path, sandbox_url: str, tmp_path: Path
) -> Iterator[tuple[str, subprocess.Popen[bytes], object]]:
    port = free_port()
    url = f"http://127.0.0.1:{port}"
    database_url = f"sqlite+aiosqlite:///{tmp_path / 'portal.sqlite3'}"
    migrate_database(database_url)
    with serve_oidc_provider(redirect_uris=[f"{url}/staff/callback"]) as provider:
        env = {k: v for k, v in os.environ.items() if not k.startswith("PORTAL_")} | {
            "PYTHONPATH": str(ROOT),
            "PORTAL_BASE_URL": url,
            "PORTAL_SECRET_KEY": "runtime-lock-" + "x" * 40,
            "PORTAL_STRIPE_API_KEY": SANDBOX_KEY,
            "PORTAL_STRIPE_API_BASE": sandbox_url,
            "PORTAL_STRIPE_WEBHOOK_SECRET": "whsec_runtime",
            "PORTAL_SMTP_URL": f"smtp://127.0.0.1:{free_port()}?tls=none",
            "PORTAL_MAIL_FROM": "Billing <billing@example.com>",
            "PORTAL_DATABASE_URL": database_url,
            "PORTAL_DATA_DIR": str(tmp_path),
            "PORTAL_LOG_FORMAT": "text",
            "PORTAL_STAFF_OIDC_ISSUER": provider.issuer,
            "PORTAL_STAFF_OIDC_CLIENT_ID": provider.client_id,
            "PORTAL_STAFF_OIDC_CLIENT_SECRET": provider.client_secret,
            "PORTAL_STAFF_OIDC_SCOPES": "openid email profile groups",
            "PORTAL_STAFF_EMAIL_DOMAINS": "example.com",
            "PORTAL_STAFF_GROUPS": "billing-support",
            # Every warning shown, once per place: a deprecated import is a line on stderr.
            # But one: the stripe SDK passes request bodies the way httpx 0.28 deprecates
            # (as pyproject's test settings note); the SDK's to fix, not the lock's.
            "PYTHONWARNINGS": "default,ignore:Use 'content=<...>' to upload raw bytes:DeprecationWarning",
        }
        process = subprocess.Popen(
            [str(runtime_python), "-m", "portal", "serve", "--port", str(port)],
            env=env,
            cwd=tmp_path,
            stdout=subprocess.DEVNULL,
            stderr=subprocess.PIPE,
        )
        try:
            deadline = time.monotonic() + 30
            while True:
                try:
                    if httpx.get(f"{url}/healthz").status_code == 200:
                        break
                except httpx.TransportError:
                    pass
                assert process.poll() is None, process.stderr and process.stderr.read().decode()
                assert time.monotonic() < deadline, "the portal did not start"
                time.sleep(0.1)
            yield url, process, provider
        finally:
            process.terminate()
            process.wait(timeout=10)
            if process.stderr is not None:
                process.stderr.close()


def test_the_runtime_lock_alone_serves_the_staff_sign_in(
    runtime_portal: tuple[str, subprocess.Popen[bytes], object],
) -> None:
    url, process, provider = runtime_portal
    with httpx.Client(base_url=url) as client:
        browser = Browser(client, cast(Portal, SimpleNamespace(url=url)))
        browser.get("/staff")
        page = browser.post("/staff/sign-in")
        assert page.status_code == 200, page.text
        with httpx.Client() as person:
            back = provider.log_in(person, onward_target(page), "anna")  # type: ignore[attr-defined]
        done = browser.get(back.removeprefix(url))
        assert done.status_code == 303, done.text
        assert "anna@example.com" in browser.get("/staff").text
    process.terminate()
    process.wait(timeout=10)
    assert process.stderr is not None
    errors = process.stderr.read().decode()
    assert "Traceback" not in errors, errors
    assert "DeprecationWarning" not in errors, errors
