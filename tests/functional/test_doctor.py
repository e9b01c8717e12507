"""`portal doctor` against a sandbox of its own (its configured webhook endpoint pointing at the
portal's address), a real mail server and a migrated database: all passing on a complete
set-up, and each failure naming what is wrong, with its fix."""

from __future__ import annotations

import asyncio
import os
import subprocess
import threading
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import httpx
import pytest
import stripe

from portal import doctor
from portal.billing.events import HANDLERS
from portal.settings import Settings, parse_smtp_url
from portal_dev.mailbox import DevMailbox, DevMailServer
from stripe_sandbox.app import SandboxConfig, create_sandbox_app
from tests.conftest import SANDBOX_KEY, make_settings
from tests.functional.app_support import migrate_database
from tests.functional.test_cli import PORTAL
from tests.support.servers import free_port, serve_in_thread

SECRET = "whsec_doctor_secret"
RANDOM = "k7Qx2mVb9PzL4tRw8YcN3hJd6FgS1aEu5WoZ0iXy"


@pytest.fixture
def setup(tmp_path: Path) -> Iterator[tuple[Settings, str]]:
    """A complete set-up: the settings and the sandbox's address."""
    port = free_port()
    base_url = f"http://127.0.0.1:{port}"
    config = SandboxConfig(webhook_url=f"{base_url}/stripe/webhook", webhook_secret=SECRET)
    mail = DevMailServer(DevMailbox(echo=None), free_port())
    mail.start()
    try:
        with serve_in_thread(create_sandbox_app(config)) as sandbox:
            settings = make_settings(
                tmp_path,
                base_url=base_url,
                secret_key=RANDOM,
                stripe_api_key=SANDBOX_KEY,
                stripe_api_base=sandbox,
                stripe_webhook_secret=SECRET,
                smtp=parse_smtp_url(f"smtp://127.0.0.1:{mail.port}?tls=none"),
            )
            migrate_database(settings.database_url)
            yield settings, sandbox
    finally:
        mail.stop()


def run(settings: Settings) -> dict[str, doctor.Finding]:
    return {f.check: f for f in asyncio.run(doctor.run(settings))}


def sdk(sandbox: str, key: str = SANDBOX_KEY) -> stripe.StripeClient:
    return stripe.StripeClient(key, base_addresses={"api": sandbox})


def endpoint_id(sandbox: str) -> str:
    found = httpx.get(f"{sandbox}/_sandbox/webhooks/config").json()["endpoint"]
    assert isinstance(found, str)
    return found


def environment(settings: Settings) -> dict[str, str]:
    """`settings` as the PORTAL_* variables a `portal` process reads."""
    return {k: v for k, v in os.environ.items() if not k.startswith("PORTAL_")} | {
        "PORTAL_BASE_URL": settings.base_url,
        "PORTAL_SECRET_KEY": settings.secret_key,
        "PORTAL_STRIPE_API_KEY": settings.stripe_api_key,
        "PORTAL_STRIPE_API_BASE": settings.stripe_api_base,
        "PORTAL_STRIPE_WEBHOOK_SECRET": SECRET,
        "PORTAL_SMTP_URL": f"smtp://{settings.smtp.host}:{settings.smtp.port}?tls=none",
        "PORTAL_MAIL_FROM": settings.mail_from,
        "PORTAL_DATABASE_URL": settings.database_url,
        "PORTAL_DATA_DIR": str(settings.data_dir),
    }


def failing(found: dict[str, doctor.Finding]) -> dict[str, doctor.Finding]:
    return {name: f for name, f in found.items() if not f.ok}


def test_a_complete_set_up_passes_every_check(setup: tuple[Settings, str]) -> None:
    settings, _ = setup
    found = run(settings)
    assert failing(found) == {}
    assert "Stripe webhook endpoint" in found
    assert any(name.startswith("Stripe permission charge") for name in found)


def test_an_endpoint_without_an_event_the_portal_handles_is_named(
    setup: tuple[Settings, str],
) -> None:
    settings, sandbox = setup
    events: Any = sorted(set(HANDLERS) - {"refund.failed"})
    sdk(sandbox).v1.webhook_endpoints.update(endpoint_id(sandbox), {"enabled_events": events})
    bad = failing(run(settings))
    assert list(bad) == ["Stripe webhook endpoint"]
    assert "refund.failed" in bad["Stripe webhook endpoint"].detail
    assert "refund.failed" in (bad["Stripe webhook endpoint"].fix or "")


def test_a_disabled_or_deleted_endpoint_is_named(setup: tuple[Settings, str]) -> None:
    settings, sandbox = setup
    client = sdk(sandbox)
    client.v1.webhook_endpoints.update(endpoint_id(sandbox), {"disabled": True})
    assert "disabled" in failing(run(settings))["Stripe webhook endpoint"].detail
    client.v1.webhook_endpoints.delete(endpoint_id(sandbox))
    gone = failing(run(settings))["Stripe webhook endpoint"]
    assert gone.detail == f"none for {settings.base_url}/stripe/webhook"


def test_a_key_without_a_permission_the_portal_uses_is_named(
    setup: tuple[Settings, str],
) -> None:
    settings, sandbox = setup
    everything = {
        "customer": "write",
        "invoice": "write",
        "credit_note": "read",
        "payment_intent": "write",
        "payment_method": "write",
        "checkout_session": "write",
        "setup_intent": "read",
        "tax_rate": "read",
        "coupon": "read",
        "webhook": "read",
    }  # no charge: no receipts, no refunds
    made = httpx.post(f"{sandbox}/_sandbox/keys", json={"permissions": everything})
    key = made.json()["key"]
    bad = failing(run(settings.replace(stripe_api_key=key)))
    assert list(bad) == ["Stripe permission charge (write)"]
    assert "rak_charge_write" in (bad["Stripe permission charge (write)"].fix or "")


def test_a_mail_server_or_database_that_is_not_there_is_named(
    setup: tuple[Settings, str], tmp_path: Path
) -> None:
    settings, _ = setup
    broken = settings.replace(
        smtp=parse_smtp_url(f"smtp://127.0.0.1:{free_port()}?tls=none"),
        database_url=f"sqlite+aiosqlite:///{tmp_path / 'never-migrated.sqlite3'}",
    )
    bad = failing(run(broken))
    assert set(bad) == {"mail server", "database"}
    assert bad["database"].fix == "run `portal migrate`"


def test_the_command_prints_the_checklist_and_fails_when_a_check_fails(
    setup: tuple[Settings, str],
) -> None:
    settings, sandbox = setup
    env = environment(settings)
    done = subprocess.run([str(PORTAL), "doctor"], env=env, capture_output=True, text=True)
    assert done.returncode == 0, done.stdout + done.stderr
    assert done.stdout.splitlines()[-1].endswith(", 0 failed")
    sdk(sandbox).v1.webhook_endpoints.delete(endpoint_id(sandbox))
    done = subprocess.run([str(PORTAL), "doctor"], env=env, capture_output=True, text=True)
    assert done.returncode == 1
    assert "FAIL  Stripe webhook endpoint" in done.stdout


def test_serve_logs_a_warning_per_failed_check_once_it_listens(
    setup: tuple[Settings, str],
) -> None:
    settings, sandbox = setup
    sdk(sandbox).v1.webhook_endpoints.delete(endpoint_id(sandbox))
    port = int(settings.base_url.rsplit(":", 1)[1])
    env = environment(settings) | {"PORTAL_LOG_FORMAT": "text"}
    process = subprocess.Popen(
        [str(PORTAL), "serve", "--port", str(port)],
        env=env,
        stdout=subprocess.DEVNULL,
        stderr=subprocess.PIPE,
        text=True,
    )
    warnings: list[str] = []
    warned = threading.Event()

    def read() -> None:
        assert process.stderr is not None
        for line in process.stderr:
            if "portal doctor:" in line:
                warnings.append(line)
                warned.set()

    reader = threading.Thread(target=read, daemon=True)
    reader.start()
    try:
        assert warned.wait(30), "no warning"
        assert httpx.get(f"{settings.base_url}/healthz").status_code == 200  # serving anyway
    finally:
        process.terminate()
        process.wait(timeout=20)
        reader.join(timeout=5)
        if process.stderr is not None:
            process.stderr.close()
    assert len(warnings) == 1
    assert "Stripe webhook endpoint: none for" in warnings[0]
