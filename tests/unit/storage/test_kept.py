"""The rule of kept rows (`storage.kept.KeptRows`): given only while the listener is known to
hear, never a row whose read overlapped a change."""

from __future__ import annotations

import time

import pytest

from portal.storage import kept as kept_rows
from portal.storage.kept import MISSING, KeptRows


def hearing(budget: int = kept_rows.DEFAULT_BUDGET) -> KeptRows:
    kept = KeptRows(budget)
    kept.heard_until = time.monotonic()
    return kept


def test_nothing_is_given_before_the_listener_has_heard_a_ping() -> None:
    kept = KeptRows()
    kept.put("row", "value", kept.generation)
    assert kept.get("row") is MISSING


def test_a_row_is_given_while_pings_come_back() -> None:
    kept = hearing()
    kept.put("row", "value", kept.generation)
    assert kept.get("row") == "value"


def test_a_read_that_overlapped_a_change_is_not_kept() -> None:
    kept = hearing()
    generation = kept.generation
    kept.forget()  # a notice arrives while the read is under way
    kept.put("row", "old", generation)
    assert kept.get("row") is MISSING
    kept.put("row", "new", kept.generation)
    assert kept.get("row") == "new"


def test_rows_are_not_given_once_the_last_ping_is_too_old(monkeypatch: pytest.MonkeyPatch) -> None:
    kept = hearing()
    kept.put("row", "value", kept.generation)
    later = time.monotonic() + kept_rows.STALE_AFTER + 0.01
    monkeypatch.setattr(kept_rows.time, "monotonic", lambda: later)
    assert kept.get("row") is MISSING


def test_a_deaf_listener_forgets_everything() -> None:
    kept = hearing()
    kept.put("row", "value", kept.generation)
    kept.deaf()
    assert kept.get("row") is MISSING
    kept.heard_until = time.monotonic()
    assert kept.get("row") is MISSING  # forgotten, not only hidden


def test_kept_rows_are_bounded() -> None:
    kept = hearing()
    for number in range(kept_rows.MOST_ROWS + 1):
        kept.put(number, number, kept.generation)
    assert kept.get(kept_rows.MOST_ROWS) == kept_rows.MOST_ROWS
    assert kept.get(0) is MISSING


def test_kept_rows_stay_within_their_byte_budget() -> None:
    kept = hearing(budget=10_000)
    for number in range(20):
        kept.put(number, "x" * 1_000, kept.generation)
    assert kept.rows.bytes <= 10_000
    assert kept.get(19) == "x" * 1_000
    assert kept.get(0) is MISSING
