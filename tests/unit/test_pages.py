"""Kept pages: a page is served again only while what it was made from is the same."""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import UTC, datetime

from portal.pages import KeptPages, same


@dataclass(frozen=True)
class Step:
    amount: int
    when: datetime
    parts: tuple[int, ...] = ()


@dataclass
class Loose:  # mutable: it could change without anything seeing it
    amount: int
    notes: list[str] = field(default_factory=list)


NOW = datetime(2026, 12, 1, tzinfo=UTC)


def test_the_same_objects_or_equal_values_are_the_same() -> None:
    invoice = object()
    assert same([(invoice, "overdue", Step(100, NOW))], [(invoice, "overdue", Step(100, NOW))])
    assert same({"a": [1, 2], "b": None}, {"a": [1, 2], "b": None})
    assert same(Step(1, NOW, (1, 2)), Step(1, NOW, (1, 2)))


def test_any_difference_is_another_page() -> None:
    assert not same([(object(), "open")], [(object(), "open")])  # other objects: not known same
    assert not same(Step(100, NOW), Step(101, NOW))
    assert not same(Step(1, NOW, (1, 2)), Step(1, NOW, (1, 3)))
    assert not same([1, 2], [1, 2, 3])
    assert not same({"a": 1}, {"a": 1, "b": 2})
    assert not same(1, True)  # equal in Python, not the same value for a page
    assert not same("1", 1)
    assert not same(Loose(1), Loose(1))  # mutable: only itself
    kept = Loose(1)
    assert same(kept, kept)


def test_pages_are_kept_by_key_while_made_from_the_same() -> None:
    pages = KeptPages(size=2)
    invoice = object()
    pages.put("overview", (invoice, "open"), "<p>A</p>")
    assert pages.get("overview", (invoice, "open")) == "<p>A</p>"
    assert pages.get("overview", (invoice, "overdue")) is None  # the invoice became overdue
    assert pages.get("other", (invoice, "open")) is None


def test_the_least_recently_used_page_goes_first() -> None:
    pages = KeptPages(size=2)
    pages.put("a", 1, "A")
    pages.put("b", 1, "B")
    assert pages.get("a", 1) == "A"  # used: b is now the oldest
    pages.put("c", 1, "C")
    assert pages.get("b", 1) is None
    assert (pages.get("a", 1), pages.get("c", 1)) == ("A", "C")


def test_kept_pages_stay_within_their_byte_budget() -> None:
    pages = KeptPages(budget=20_000, size=100)
    for n in range(10):
        pages.put(("page", n), (Step(n, datetime(2026, 1, 1, tzinfo=UTC)),), "x" * 5_000)
    entries, size = pages.kept()
    assert 1 < entries < 10
    assert size <= 20_000
    assert pages.get(("page", 9), (Step(9, datetime(2026, 1, 1, tzinfo=UTC)),)) is not None
    assert pages.get(("page", 0), (Step(0, datetime(2026, 1, 1, tzinfo=UTC)),)) is None
