"""`expand[]`: replacing object ids in a response by the objects, as deep as the path goes.

Paths are dotted (`payment_intent.latest_charge`); in a list response they start at `data.`. A
list of ids (an invoice's `discounts`) expands each of them.
Any id whose prefix names a stored collection can be expanded; expanding a field the object
does not have fails like Stripe does ("This property cannot be expanded"). A `guard` sees the
collection of every object about to be shown expanded (a restricted key's read permission).
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

from stripe_sandbox.errors import invalid_request
from stripe_sandbox.store import JSON, Store

MAX_DEPTH = 4

# Fields that are only present in a response when expanded (Stripe's "includable" fields, like
# an invoice's `payments` or a customer's `tax_ids`), keyed by (object type, field), with the
# collection whose objects they show.
Includer = Callable[[Store, JSON], Any]
Guard = Callable[[str], None]
INCLUDABLE: dict[tuple[str, str], tuple[str, Includer]] = {}


def includable(object_type: str, field: str, collection: str) -> Callable[[Includer], Includer]:
    def register(function: Includer) -> Includer:
        INCLUDABLE[(object_type, field)] = (collection, function)
        return function

    return register


def _allow_all(collection: str) -> None:
    return None


def apply(store: Store, body: JSON, paths: list[str], guard: Guard = _allow_all) -> JSON:
    for path in paths:
        parts = path.split(".")
        if len(parts) > MAX_DEPTH:
            raise invalid_request(
                f"You cannot expand more than {MAX_DEPTH} levels of a property. Property: {path}",
                param="expand",
            )
        _expand(store, body, parts, path, guard)
    return body


def _expand(store: Store, node: Any, parts: list[str], path: str, guard: Guard) -> None:
    if not parts or not isinstance(node, dict):
        return
    head, rest = parts[0], parts[1:]
    if head == "data" and node.get("object") in ("list", "search_result"):
        for item in node.get("data", []):
            _expand(store, item, rest, path, guard)
        return
    included = INCLUDABLE.get((str(node.get("object")), head))
    if head not in node and included is not None:
        collection, include = included
        guard(collection)
        node[head] = include(store, node)
    if head not in node:
        if head == "total_count" and node.get("object") == "search_result":
            return
        raise invalid_request(
            f"This property cannot be expanded ({head}). Path: {path}", param="expand"
        )
    value = node[head]
    if isinstance(value, str):
        value = node[head] = _object(store, value, head, path, guard)
    if isinstance(value, list):
        # A list of ids (an invoice's `discounts`) expands item by item.
        value = node[head] = [
            _object(store, item, head, path, guard) if isinstance(item, str) else item
            for item in value
        ]
        for item in value:
            _expand(store, item, rest, path, guard)
    else:
        _expand(store, value, rest, path, guard)


def _object(store: Store, object_id: str, head: str, path: str, guard: Guard) -> JSON:
    found = store.find(object_id)
    if found is None:
        raise invalid_request(
            f"This property cannot be expanded ({head}). Path: {path}", param="expand"
        )
    collection, obj = found
    guard(collection)
    return store.render(collection, obj)
