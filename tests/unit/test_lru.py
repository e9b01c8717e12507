"""The cache bounded by bytes (`portal.lru`)."""

from __future__ import annotations

import sys
from dataclasses import dataclass

from portal.lru import LruCache, size_of


def test_the_least_recently_used_go_first_once_over_the_budget() -> None:
    cache: LruCache[str, str] = LruCache(100)
    cache.put("a", "A", 40)
    cache.put("b", "B", 40)
    assert cache.get("a") == "A"  # now b is the least recently used
    cache.put("c", "C", 40)
    assert "b" not in cache
    assert cache.get("a") == "A"
    assert cache.get("c") == "C"
    assert cache.bytes == 80


def test_one_large_entry_pushes_out_many_small_ones() -> None:
    cache: LruCache[int, str] = LruCache(1_000, most=100)
    for n in range(50):
        cache.put(n, "small", 10)
    cache.put(99, "large", 900)
    assert len(cache) == 11  # the ten newest small ones and the large one
    assert cache.bytes <= 1_000
    assert 0 not in cache


def test_an_entry_larger_than_the_budget_is_not_kept_and_keeps_the_rest() -> None:
    cache: LruCache[str, str] = LruCache(100)
    cache.put("a", "A", 50)
    cache.put("huge", "H", 101)
    assert "huge" not in cache
    assert cache.get("a") == "A"


def test_the_count_bound_holds_too() -> None:
    cache: LruCache[int, int] = LruCache(10**9, most=3)
    for n in range(5):
        cache.put(n, n, 1)
    assert [n for n in range(5) if n in cache] == [2, 3, 4]
    assert cache.bytes == 3


def test_putting_a_key_again_replaces_its_size() -> None:
    cache: LruCache[str, str] = LruCache(100)
    cache.put("a", "A", 60)
    cache.put("a", "A2", 30)
    assert cache.bytes == 30
    assert cache.pop("a") == "A2"
    assert cache.bytes == 0


def test_peek_leaves_the_order() -> None:
    cache: LruCache[str, str] = LruCache(100)
    cache.put("a", "A", 50)
    cache.put("b", "B", 50)
    assert cache.peek("a") == "A"
    cache.put("c", "C", 50)
    assert "a" not in cache  # still the least recently used


@dataclass(frozen=True)
class Line:
    text: str


@dataclass(frozen=True)
class Invoice:
    number: str
    lines: tuple[Line, ...]


def test_size_of_counts_what_a_value_holds() -> None:
    small = Invoice("1", (Line("x"),))
    large = Invoice("1", tuple(Line("x" * 1_000) for _ in range(100)))
    assert size_of(large) > 100 * 1_000 > size_of(small)
    assert size_of("x" * 5_000) == sys.getsizeof("x" * 5_000)
    assert size_of({"a": ["b" * 100]}) > 100


def test_size_of_does_not_walk_into_classes_or_functions() -> None:
    alone = sys.getsizeof(size_of) + sys.getsizeof(Invoice) + sys.getsizeof(sys)
    assert size_of([size_of, Invoice, sys]) == sys.getsizeof([size_of, Invoice, sys]) + alone
