"""The load generator's driver (portal_dev/bench/wrk.py): wrk's command line, its summary read
from the Lua hook's JSON line, and a plain message when wrk is not installed."""

from __future__ import annotations

import pytest

from portal_dev.bench import wrk

OUTPUT = """Running 1s test @ http://127.0.0.1:49408/
  2 threads and 50 connections
  4377 requests in 1.00s, 13.85MB read
Requests/sec:   4371.16

wrk-json {"requests": 4377, "duration_us": 1001335, "bytes": 14527263, "connect": 0, "read": 2, "write": 0, "status": 3, "timeout": 1, "p50_us": 11323, "p99_us": 14670}
"""


def test_the_summary_is_read_from_the_json_line() -> None:
    found = wrk.parse(OUTPUT)
    assert found.requests == 4377
    assert found.seconds == pytest.approx(1.001335)
    assert found.rps == pytest.approx(4377 / 1.001335)
    assert found.bytes_per_response == pytest.approx(14527263 / 4377)
    assert (found.socket_errors, found.status_errors) == (3, 3)
    assert (found.p50_ms, found.p99_ms) == (11.323, 14.67)


def test_output_without_a_summary_is_an_error() -> None:
    with pytest.raises(RuntimeError, match="no summary"):
        wrk.parse("unable to connect to 127.0.0.1:1 Connection refused\n")


def test_without_wrk_the_bench_says_how_to_install_it(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(wrk.shutil, "which", lambda name: None)
    with pytest.raises(wrk.WrkMissing, match=r"apt-get install wrk"):
        wrk.Wrk()


def test_the_command_line_carries_threads_connections_and_headers(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    monkeypatch.setattr(wrk.shutil, "which", lambda name: "/usr/bin/wrk")
    with wrk.Wrk(threads=2, connections=50) as w:
        argv = w.argv("http://127.0.0.1:8000/", 3, {"Cookie": "a=b; c=d", "Host": "h:1"})
        assert w.script.read_text() == wrk.DONE_SCRIPT
    assert argv[:5] == ["/usr/bin/wrk", "-t", "2", "-c", "50"]
    assert argv[argv.index("-d") + 1] == "3s"
    assert argv[-5:-1] == ["-H", "Cookie: a=b; c=d", "-H", "Host: h:1"]
    assert argv[-1] == "http://127.0.0.1:8000/"
