"""`portal demo` as a newcomer runs it: one process, a banner, working pages, a clean Ctrl-C."""

from __future__ import annotations

import os
import signal
import socket
import subprocess
import threading
import time
from pathlib import Path

import httpx
import pytest

from tests.functional.test_cli import PORTAL
from tests.support.servers import free_port, free_ports


def _demo(tmp_path: Path) -> tuple[subprocess.Popen[str], int, int]:
    port, sandbox_port, smtp_port = free_port(), free_ports(4), free_port()
    env = {k: v for k, v in os.environ.items() if not k.startswith("PORTAL_")}
    process = subprocess.Popen(
        [
            str(PORTAL),
            "demo",
            "--port",
            str(port),
            "--sandbox-port",
            str(sandbox_port),
            "--smtp-port",
            str(smtp_port),
        ],
        cwd=tmp_path,
        env=env,
        stdout=subprocess.PIPE,
        stderr=subprocess.STDOUT,
        text=True,
    )
    return process, port, sandbox_port


@pytest.mark.parametrize("stop", [signal.SIGINT, signal.SIGTERM])
def test_demo_starts_everything_and_stops_cleanly(tmp_path: Path, stop: signal.Signals) -> None:
    process, port, sandbox_port = _demo(tmp_path)
    output: list[str] = []
    ready = threading.Event()

    def read() -> None:
        assert process.stdout is not None
        for line in process.stdout:
            output.append(line)
            if "Stop with Ctrl-C" in line:
                ready.set()

    reader = threading.Thread(target=read, daemon=True)
    reader.start()
    try:
        assert ready.wait(60), "".join(output)
        banner = "".join(output)
        assert f"open http://127.0.0.1:{port}/" in banner
        assert "@example" in banner  # the demo customers' addresses

        base = f"http://127.0.0.1:{port}"
        assert httpx.get(f"{base}/", follow_redirects=True).url.path == "/sign-in"
        assert httpx.get(f"{base}/_dev/mail").status_code == 200
        assert httpx.get(f"{base}/readyz").json() == {"database": "ok"}
        customers = httpx.get(
            f"http://127.0.0.1:{sandbox_port}/v1/customers",
            params={"limit": 100},
            headers={"Authorization": "Bearer sk_test_demo"},
        ).json()["data"]
        assert {c["preferred_locales"][0] for c in customers} >= {
            "de",
            "en",
            "nl",
            "es",
            "pl",
            "hr",
        }
    finally:
        process.send_signal(stop)
        try:
            code = process.wait(timeout=20)
        except subprocess.TimeoutExpired:
            process.kill()
            raise
        finally:
            reader.join(timeout=5)
            assert process.stdout is not None
            process.stdout.close()
    assert code == 0, "".join(output)
    assert "Traceback" not in "".join(output)
    assert (tmp_path / "data" / "demo" / "portal.sqlite3").exists()


def test_a_demo_stopped_while_it_fills_the_sandbox_exits_quietly_and_frees_its_ports(
    tmp_path: Path,
) -> None:
    process, port, _ = _demo(tmp_path)
    base = f"http://127.0.0.1:{port}"
    deadline = time.monotonic() + 30
    while True:  # the servers are up; the demo data is still being made
        try:
            httpx.get(f"{base}/readyz")
            break
        except httpx.TransportError:
            assert time.monotonic() < deadline
            time.sleep(0.05)
    process.send_signal(signal.SIGTERM)
    output, _ = process.communicate(timeout=20)
    assert process.returncode == 0, output
    assert "Traceback" not in output
    with socket.socket() as probe:  # nobody listens there any more (as a server binds it)
        probe.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
        probe.bind(("127.0.0.1", port))
