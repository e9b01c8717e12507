"""`expand[]`: replacing object ids in a response by the objects, as deep as the path goes.

Paths are dotted (`payment_intent.latest_charge`); in a list response they start at `data.`. A
list of ids (an invoice's `discounts`) expands each of them.
Any id whose prefix names a stored collection can be expanded; expanding a field the object
does not have fails like Stripe does ("This property cannot be expanded").
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

from stripe_sandbox.errors import invalid_request
from stripe_sandbox.store import JSON, Store

MAX_DEPTH = 4

# Fields that are only present in a response when expanded (Stripe's "includable" fields, like
# an invoice's `payments` or a customer's `tax_ids`), keyed by (object type, field).
Includer = Callable[[Store, JSON], Any]
INCLUDABLE: dict[tuple[str, str], Includer] = {}


def includable(object_type: str, field: str) -> Callable[[Includer], Includer]:
    def register(function: Includer) -> Includer:
        INCLUDABLE[(object_type, field)] = function
        return function

    return register


def apply(store: Store, body: JSON, paths: list[str]) -> JSON:
    for path in paths:
        parts = path.split(".")
        if len(parts) > MAX_DEPTH:
            raise invalid_request(
                f"You cannot expand more than {MAX_DEPTH} levels of a property. Property: {path}",
                param="expand",
            )
        _expand(store, body, parts, path)
    return body


def _expand(store: Store, node: Any, parts: list[str], path: str) -> None:
    if not parts or not isinstance(node, dict):
        return
    head, rest = parts[0], parts[1:]
    if head == "data" and node.get("object") in ("list", "search_result"):
        for item in node.get("data", []):
            _expand(store, item, rest, path)
        return
    include = INCLUDABLE.get((str(node.get("object")), head))
    if head not in node and include is not None:
        node[head] = include(store, node)
    if head not in node:
        if head == "total_count" and node.get("object") == "search_result":
            return
        raise invalid_request(
            f"This property cannot be expanded ({head}). Path: {path}", param="expand"
        )
    value = node[head]
    if isinstance(value, str):
        value = node[head] = _object(store, value, head, path)
    if isinstance(value, list):
        # A list of ids (an invoice's `discounts`) expands item by item.
        value = node[head] = [
            _object(store, item, head, path) if isinstance(item, str) else item for item in value
        ]
        for item in value:
            _expand(store, item, rest, path)
    else:
        _expand(store, value, rest, path)


def _object(store: Store, object_id: str, head: str, path: str) -> JSON:
    found = store.find(object_id)
    if found is None:
        raise invalid_request(
            f"This property cannot be expanded ({head}). Path: {path}", param="expand"
        )
    collection, obj = found
    return store.render(collection, obj)
