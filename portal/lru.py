"""A least-recently-used cache bounded by the bytes of its entries, not only by their count.

The portal's caches grow with customers, sessions and invoices, and their entries differ a
thousandfold in size (a customer with two invoices, one with two thousand): a bound on the
count alone bounds nothing. Each entry is put with its size (`size_of`, or the length of a
page), and the least recently used go first once the sizes add up to more than the budget.
"""

from __future__ import annotations

import sys
from collections import OrderedDict
from collections.abc import Hashable
from typing import Generic, TypeVar

K = TypeVar("K", bound=Hashable)
V = TypeVar("V")

MB = 1024 * 1024


class LruCache(Generic[K, V]):
    """Values by key, within `budget` bytes and at most `most` entries. A value larger than
    the whole budget is not kept (it would push out everything else and then itself)."""

    def __init__(self, budget: int, *, most: int | None = None) -> None:
        self.budget = budget
        self.most = most
        self.bytes = 0
        self._entries: OrderedDict[K, tuple[V, int]] = OrderedDict()

    def __len__(self) -> int:
        return len(self._entries)

    def __contains__(self, key: object) -> bool:
        return key in self._entries

    def get(self, key: K) -> V | None:
        """The value kept under `key` (now the most recently used), or None."""
        found = self._entries.get(key)
        if found is None:
            return None
        self._entries.move_to_end(key)
        return found[0]

    def peek(self, key: K) -> V | None:
        """The value kept under `key`, leaving the order as it is."""
        found = self._entries.get(key)
        return None if found is None else found[0]

    def put(self, key: K, value: V, size: int) -> None:
        """Keep `value` under `key`, `size` bytes, dropping the least recently used beyond the
        budget."""
        self.pop(key)
        if size > self.budget:
            return
        self._entries[key] = (value, size)
        self.bytes += size
        while self.bytes > self.budget or (self.most is not None and len(self) > self.most):
            _, (_, dropped) = self._entries.popitem(last=False)
            self.bytes -= dropped

    def pop(self, key: K) -> V | None:
        found = self._entries.pop(key, None)
        if found is None:
            return None
        self.bytes -= found[1]
        return found[0]

    def clear(self) -> None:
        self._entries.clear()
        self.bytes = 0


# Leaves of the values walked below: their own size is all there is.
_LEAVES = (str, bytes, int, float, bool, type(None))


def size_of(value: object) -> int:
    """An estimate of the bytes `value` holds: its own and those of what it contains (lists,
        tuples, dicts, sets, and dataclasses' fields: the gateway's values); any other object
    counts alone. Shared
        objects count once per reference, which errs on the safe side. A loop, not recursion: a
        list of two thousand invoices is walked once, at the cost of a fraction of reading it."""
    getsizeof = sys.getsizeof
    total = 0
    pending = [value]
    while pending:
        item = pending.pop()
        total += getsizeof(item)
        if isinstance(item, _LEAVES):
            continue
        if isinstance(item, (list, tuple, set, frozenset)):
            pending.extend(item)
        elif isinstance(item, dict):
            pending.extend(item.keys())
            pending.extend(item.values())
        elif hasattr(type(item), "__dataclass_fields__"):  # not classes, functions, modules
            attributes = getattr(item, "__dict__", None)
            if attributes is not None:
                total += getsizeof(attributes)
                pending.extend(attributes.values())
    return total
