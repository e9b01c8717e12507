"""The `portal` command as an operator runs it: a real process, its output and exit status."""

from __future__ import annotations

import os
import signal
import subprocess
import sys
from pathlib import Path

import httpx

from portal.storage import migrate
from tests.support.servers import free_port
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
    port = free_port()
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
        assert process.wait(timeout=20) == 0
        assert process.stdout is not None
        process.stdout.close()


def test_sandbox_webhook_options_go_together(tmp_path: Path) -> None:
    result = run_portal("sandbox", "--webhook-url", "http://127.0.0.1:1/hook", env={}, cwd=tmp_path)
    assert result.returncode == 2
    assert "--webhook-url and --webhook-secret go together" in result.stderr
