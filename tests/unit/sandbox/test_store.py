"""The sandbox store's timed work on its clock (`Store.at`, `run_due`), without a server or an
event loop: what requests and clock moves run."""

from __future__ import annotations

from stripe_sandbox.config import SandboxConfig
from stripe_sandbox.store import Store, current_request


def test_work_runs_once_its_moment_comes_earliest_first_at_its_own_moment() -> None:
    store = Store(SandboxConfig())
    start = store.now()
    ran: list[tuple[str, int, str | None]] = []

    def note(name: str) -> None:
        info = current_request.get()
        ran.append((name, store.now(), info.request_id if info else "outside"))

    store.at("b", start + 200, lambda: note("b"))
    store.at("a", start + 100, lambda: note("a"))
    store.at("c", start + 900, lambda: note("c"))
    store.run_due()
    assert ran == []
    store.clock_offset += 500
    store.run_due()
    # Each at its own moment, tied to no request; the clock then back where it was moved.
    assert ran == [("a", start + 100, None), ("b", start + 200, None)]
    assert store.now() >= start + 500
    store.run_due()
    assert len(ran) == 2


def test_rescheduled_and_cancelled_work() -> None:
    store = Store(SandboxConfig())
    start = store.now()
    ran: list[str] = []
    store.at("moved", start + 100, lambda: ran.append("first"))
    store.at("moved", start + 300, lambda: ran.append("moved"))
    store.at("gone", start + 100, lambda: ran.append("gone"))
    store.cancel_at("gone")
    store.clock_offset += 200
    store.run_due()
    assert ran == []
    store.clock_offset += 200
    store.run_due()
    assert ran == ["moved"]


def test_a_failing_piece_of_work_does_not_stop_the_others() -> None:
    store = Store(SandboxConfig())
    start = store.now()
    ran: list[str] = []

    def broken() -> None:
        raise RuntimeError("boom")

    store.at("broken", start + 10, broken)
    store.at("fine", start + 20, lambda: ran.append("fine"))
    store.clock_offset += 60
    store.run_due()
    assert ran == ["fine"]
