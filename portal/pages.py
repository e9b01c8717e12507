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
from collections import OrderedDict
from collections.abc import Hashable
from datetime import date, datetime, timedelta
from decimal import Decimal
from typing import Any

# At most this many pages per process, the least recently used going first (about 10 KB each).
KEPT_PAGES = 1_000

_VALUES = (str, int, float, bool, bytes, datetime, date, timedelta, Decimal, type(None))


def same(a: Any, b: Any) -> bool:
    """Whether a page made from `b` is the page made from `a`: the same objects, or equal
    values (containers and frozen dataclasses compared member by member). Anything else
    (functions, mutable objects) is the same only as itself."""
    if a is b:
        return True
    if type(a) is not type(b):
        return False
    if isinstance(a, list | tuple):
        return len(a) == len(b) and all(same(x, y) for x, y in zip(a, b, strict=True))
    if isinstance(a, dict):
        return a.keys() == b.keys() and all(same(a[k], b[k]) for k in a)
    if isinstance(a, _VALUES):
        return bool(a == b)
    if dataclasses.is_dataclass(a) and not isinstance(a, type) and _frozen(type(a)):
        return all(same(getattr(a, f.name), getattr(b, f.name)) for f in dataclasses.fields(a))
    return False


def _frozen(cls: type) -> bool:
    return bool(getattr(cls, "__dataclass_params__").frozen)  # noqa: B009 - not in typeshed


class KeptPages:
    """Pages by what addresses them (`key`), each with what it was made from."""

    def __init__(self, size: int = KEPT_PAGES) -> None:
        self.size = size
        self._pages: OrderedDict[Hashable, tuple[Any, str]] = OrderedDict()

    def get(self, key: Hashable, made_from: Any) -> str | None:
        found = self._pages.get(key)
        if found is None or not same(found[0], made_from):
            return None
        self._pages.move_to_end(key)
        return found[1]

    def put(self, key: Hashable, made_from: Any, html: str) -> None:
        self._pages[key] = (made_from, html)
        self._pages.move_to_end(key)
        while len(self._pages) > self.size:
            self._pages.popitem(last=False)
