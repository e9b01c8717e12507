"""The `portal` command as an operator runs it: a real process, its output and exit status."""

from __future__ import annotations

import os
import signal
import sqlite3
import subprocess
import sys
from pathlib import Path

import httpx

from portal.storage import migrate
from tests.support.servers import free_port, free_ports
from tests.unit.test_settings import VALID

PORTAL = Path(sys.executable).with_name("portal")


def run_portal(*args: str, env: dict[str, str], cwd: Path) -> subprocess.CompletedProcess[str]:
    clean = {k: v for k, v in os.environ.items() if not k.startswith("PORTAL_")}
    return subprocess.run(
        [str(PORTAL), *args], env=clean | env, cwd=cwd, capture_output=True, text=True, timeout=60
    )


def test_serve_without_secret_key_says_so_and_exits_2(tmp_path: Path) -> None:
    env = {k: v for k, v in VALID.items() if k != "PORTAL_SECRET_KEY"}
    result = run_portal("serve", env=env, cwd=tmp_path)
    assert result.returncode == 2
    assert result.stderr.startswith("portal: PORTAL_SECRET_KEY is required")
    assert len(result.stderr.strip().splitlines()) == 1
    assert "Traceback" not in result.stderr


def test_serve_lists_every_problem_one_per_line(tmp_path: Path) -> None:
    result = run_portal("serve", env={"PORTAL_BASE_URL": "ftp://x"}, cwd=tmp_path)
    assert result.returncode == 2
    lines = result.stderr.strip().splitlines()
    assert len(lines) == 6  # the malformed URL and the five other required settings
    assert all(line.startswith("portal: PORTAL_") for line in lines)


def test_serve_refuses_a_database_without_the_current_schema(tmp_path: Path) -> None:
    result = run_portal("serve", env=VALID | {"PORTAL_DATA_DIR": str(tmp_path)}, cwd=tmp_path)
    assert result.returncode == 2
    assert "run `portal migrate` first" in result.stderr


def test_migrate_creates_the_schema(tmp_path: Path) -> None:
    env = {"PORTAL_DATABASE_URL": f"sqlite:///{tmp_path / 'p.db'}"}
    first = run_portal("migrate", env=env, cwd=tmp_path)
    again = run_portal("migrate", env=env, cwd=tmp_path)
    assert first.returncode == again.returncode == 0, first.stderr
    assert f"database at revision {migrate.head_revision()}" in again.stdout


def test_purge_runs_on_a_migrated_database(tmp_path: Path) -> None:
    env = {"PORTAL_DATABASE_URL": f"sqlite:///{tmp_path / 'p.db'}"}
    assert run_portal("migrate", env=env, cwd=tmp_path).returncode == 0
    result = run_portal("purge", env=env, cwd=tmp_path)
    assert result.returncode == 0, result.stderr
    assert "purged" in result.stdout


def test_migrate_reports_an_unreachable_database_plainly(tmp_path: Path) -> None:
    env = {"PORTAL_DATABASE_URL": "postgresql://nobody@127.0.0.1:1/none"}
    result = run_portal("migrate", env=env, cwd=tmp_path)
    assert result.returncode == 2
    assert result.stderr.startswith("portal: migration failed:")
    assert "Traceback" not in result.stderr


def test_sandbox_command_serves_stripes_api_with_demo_data(tmp_path: Path) -> None:
    port = free_ports(4)  # the API and the three pages' origins
    clean = {k: v for k, v in os.environ.items() if not k.startswith("PORTAL_")}
    process = subprocess.Popen(
        [str(PORTAL), "sandbox", "--port", str(port), "--seed", "demo"],
        cwd=tmp_path,
        env=clean,
        stdout=subprocess.PIPE,
        stderr=subprocess.DEVNULL,
        text=True,
    )
    try:
        assert process.stdout is not None
        lines = []
        for line in process.stdout:
            lines.append(line)
            if "belongs to 2 customers" in line:
                break
        assert f"Stripe sandbox at http://127.0.0.1:{port}" in "".join(lines)
        customers = httpx.get(
            f"http://127.0.0.1:{port}/v1/customers",
            params={"email": "anna.schmidt@example.de"},
            headers={"Authorization": "Bearer sk_test_anything"},
        ).json()["data"]
        assert len(customers) == 2
    finally:
        process.send_signal(signal.SIGINT)
        stopped = process.wait(timeout=20)
        assert process.stdout is not None
        process.stdout.close()
    assert stopped == 0


def test_sandbox_webhook_options_go_together(tmp_path: Path) -> None:
    result = run_portal("sandbox", "--webhook-url", "http://127.0.0.1:1/hook", env={}, cwd=tmp_path)
    assert result.returncode == 2
    assert "--webhook-url and --webhook-secret go together" in result.stderr


def test_serve_lets_a_request_in_flight_finish_on_sigterm(tmp_path: Path, sandbox_url: str) -> None:
    """Graceful shutdown: a deploy's SIGTERM waits for the request Stripe is still answering."""
    import concurrent.futures
    import time

    from tests.conftest import SANDBOX_KEY
    from tests.functional.billing.test_webhooks import event, signed

    port = free_port()
    env = VALID | {
        "PORTAL_BASE_URL": f"http://127.0.0.1:{port}",
        "PORTAL_DATA_DIR": str(tmp_path),
        "PORTAL_STRIPE_API_KEY": SANDBOX_KEY,
        "PORTAL_STRIPE_API_BASE": sandbox_url,
        "PORTAL_STRIPE_WEBHOOK_SECRET": "whsec_graceful_secret",
        "PORTAL_SMTP_URL": "smtp://127.0.0.1:1?tls=none",
        "PORTAL_LOG_FORMAT": "text",
    }
    assert run_portal("migrate", env=env, cwd=tmp_path).returncode == 0
    customer = httpx.post(
        f"{sandbox_url}/v1/customers", data={"name": "Langsam GmbH"}, auth=(SANDBOX_KEY, "")
    ).json()["id"]
    clean = {k: v for k, v in os.environ.items() if not k.startswith("PORTAL_")}
    process = subprocess.Popen(
        [str(PORTAL), "serve", "--port", str(port)],
        cwd=tmp_path,
        env=clean | env,
        stdout=subprocess.DEVNULL,
        stderr=subprocess.PIPE,
    )
    url = f"http://127.0.0.1:{port}"
    try:
        for _ in range(100):
            try:
                if httpx.get(f"{url}/healthz").status_code == 200:
                    break
            except httpx.TransportError:
                time.sleep(0.1)
        httpx.post(f"{sandbox_url}/_sandbox/latency", json={"ms": 1500})
        updated = event("customer.updated", {"id": customer, "object": "customer"})
        body, headers = signed(updated, secret=env["PORTAL_STRIPE_WEBHOOK_SECRET"])
        with concurrent.futures.ThreadPoolExecutor(1) as pool:
            # The webhook re-reads the customer from Stripe: 1.5 s in flight.
            answer = pool.submit(
                httpx.post, f"{url}/stripe/webhook", content=body, headers=headers, timeout=30
            )
            time.sleep(0.5)
            process.send_signal(signal.SIGTERM)
            # 202: answered before Stripe did, the handling still under way (billing.inbox).
            assert answer.result().status_code in (200, 202)
        assert process.wait(timeout=20) == 0
        with sqlite3.connect(tmp_path / "portal.sqlite3") as db:  # handled before the exit
            handled = "SELECT 1 FROM webhook_events WHERE event_id = ?"
            assert db.execute(handled, (updated["id"],)).fetchone() is not None
    finally:
        httpx.post(f"{sandbox_url}/_sandbox/latency", json={"ms": 0})
        if process.poll() is None:
            process.kill()
        assert process.stderr is not None
        errors = process.stderr.read().decode()
        process.stderr.close()
    assert "Traceback" not in errors
