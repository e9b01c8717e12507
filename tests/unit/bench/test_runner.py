"""The bench's runner (portal_dev/bench/runner.py): the Dockerfile's command as the bench runs
it, and the order of the alternating rounds."""

from __future__ import annotations

import shlex
from pathlib import Path

import pytest

from portal_dev.bench import runner
from portal_dev.bench.report import Measured
from portal_dev.bench.wrk import Round

ROOT = Path(__file__).parents[3]


def test_the_dockerfiles_uvicorn_command_and_worker_count_are_read() -> None:
    command = runner.dockerfile_command(ROOT / "Dockerfile")
    assert command is not None
    assert command[0] == "uvicorn"
    assert "portal.asgi:application" in command
    assert runner.workers_of(command) >= 1
    assert runner.workers_of(["uvicorn", "app"]) == 1


def test_without_a_dockerfile_there_is_no_command(tmp_path: Path) -> None:
    assert runner.dockerfile_command(tmp_path / "Dockerfile") is None


def test_the_command_is_moved_to_loopback_and_the_benchs_port() -> None:
    command = shlex.split("uvicorn --factory a:b --host 0.0.0.0 --port 8000 --workers 2")
    moved = shlex.split("uvicorn --factory a:b --host 127.0.0.1 --port 4321 --workers 2")
    assert runner._on_port(command, 4321) == moved
    assert runner._on_port(["uvicorn", "a:b"], 1) == shlex.split(
        "uvicorn a:b --host 127.0.0.1 --port 1"
    )


class FakeWrk:
    def __init__(self) -> None:
        self.calls: list[tuple[str, float]] = []

    def run(self, url: str, seconds: float, headers: dict[str, str]) -> Round:
        self.calls.append((url, seconds))
        return Round(100, 1.0, 100 * 1_000, 0, 0, 1.0, 2.0)


def test_rounds_alternate_forth_and_back_after_one_warm_up_each(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    monkeypatch.setattr(runner.processes, "cpu_seconds", lambda pid: 0.0)
    targets = [runner.Target(name, f"http://{name}/", {}, 1, 900) for name in "abc"]
    fake = FakeWrk()
    found = runner.alternate(fake, targets, rounds=3, seconds=2, warmup=1)  # type: ignore[arg-type]
    assert fake.calls[:3] == [("http://a/", 1), ("http://b/", 1), ("http://c/", 1)]
    assert "".join(url[7] for url, _ in fake.calls[3:]) == "abccbaabc"
    assert {name: len(side) for name, side in found.items()} == {"a": 3, "b": 3, "c": 3}
    assert all(isinstance(m, Measured) for side in found.values() for m in side)


def test_an_answer_smaller_than_the_page_is_not_counted_as_the_page(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    monkeypatch.setattr(runner.processes, "cpu_seconds", lambda pid: 0.0)
    redirected = runner.Target("portal", "http://a/", {}, 1, size=9_000)  # 1,000 bytes each
    with pytest.raises(RuntimeError, match="not the page"):
        runner.measure(FakeWrk(), redirected, 1)  # type: ignore[arg-type]
