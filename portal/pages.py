"""Repeat views' pages, kept with what they were made from.

A page of the overview or of an invoice is the same HTML as long as everything it is made from
is the same: the template, the address, the language and formats, the CSRF token (one per
browser, so never another browser's page), the signed-in session, and the view's data, most of
it the cached Stripe objects themselves (`portal.stripe.cache` hands out the objects it keeps,
so an unchanged read is the very same object). Rendering it again cost a third of a repeat
view's CPU (the bench's profile), so `portal.templating.render(..., keep=True)` keeps the HTML
with what it was made from and serves it while `same` finds that unchanged: compared by
identity first, by value where the view made new values (states, totals, an invoice read
again), so a change anywhere (a webhook, a payment, another day making an invoice overdue)
makes a new page. Pages that show support's view or stale data are never kept.
"""

from __future__ import annotations

import dataclasses
from collections.abc import Hashable
from datetime import date, datetime, timedelta
from decimal import Decimal
from typing import Any

from portal.lru import MB, LruCache, size_of

# The bytes of pages kept per process (settings: a share of PORTAL_CACHE_MB), the least
# recently used going first, and at most this many pages however small.
DEFAULT_BUDGET = 12 * MB
KEPT_PAGES = 1_000

_VALUES = (str, int, float, bool, bytes, datetime, date, timedelta, Decimal, type(None))


def same(a: Any, b: Any) -> bool:
    """Whether a page made from `b` is the page made from `a`: the same objects, or equal
    values (containers and frozen dataclasses compared member by member). Anything else
    (functions, mutable objects) is the same only as itself. Loops rather than generators:
    it runs on every repeat view, over every row."""
    if a is b:
        return True
    kind = type(a)
    if kind is not type(b):
        return False
    if kind is list or kind is tuple:
        if len(a) != len(b):
            return False
        for x, y in zip(a, b, strict=True):  # noqa: SIM110 - a loop: no generator per call
            if x is not y and not same(x, y):
                return False
        return True
    if kind is dict:
        if a.keys() != b.keys():
            return False
        for name, value in a.items():  # noqa: SIM110
            if not same(value, b[name]):
                return False
        return True
    if isinstance(a, _VALUES):
        return bool(a == b)
    names = _frozen_fields(kind)
    if names is None:
        return False
    for name in names:  # noqa: SIM110
        if not same(getattr(a, name), getattr(b, name)):
            return False
    return True


# Frozen dataclasses' field names by type (None: not one), found once per type.
_FIELDS: dict[type, tuple[str, ...] | None] = {}


def _frozen_fields(kind: type) -> tuple[str, ...] | None:
    """A frozen dataclass's field names (its values cannot change under a kept page); None
    for any other type."""
    if kind not in _FIELDS:
        params = getattr(kind, "__dataclass_params__", None)
        frozen = params is not None and params.frozen
        _FIELDS[kind] = tuple(f.name for f in dataclasses.fields(kind)) if frozen else None
    return _FIELDS[kind]


class KeptPages:
    """Pages by what addresses them (`key`), each with what it was made from, within `budget`
    bytes: a page's HTML and what it was made from (most of that is the Stripe cache's own
    objects, counted there too: the two budgets together bound both)."""

    def __init__(self, budget: int = DEFAULT_BUDGET, *, size: int = KEPT_PAGES) -> None:
        self._pages: LruCache[Hashable, tuple[Any, str]] = LruCache(budget, most=size)

    def kept(self) -> tuple[int, int]:
        """How many pages are kept, and their estimated bytes."""
        return len(self._pages), self._pages.bytes

    def get(self, key: Hashable, made_from: Any) -> str | None:
        found = self._pages.peek(key)
        if found is None or not same(found[0], made_from):
            return None
        self._pages.get(key)  # now the most recently used
        return found[1]

    def put(self, key: Hashable, made_from: Any, html: str) -> None:
        size = size_of(html) + size_of(key) + size_of(made_from)
        self._pages.put(key, (made_from, html), size)
