"""Decoding Stripe's form encoding (request bodies and query strings) into nested values.

Stripe nests parameters with brackets: `a[b][c]=v` for objects, `a[0][c]=v` for indexed lists
(what the official SDKs send), `a[][c]=v` and `a[]=v` for appended lists (what Stripe's curl
examples use), and an empty value to unset a field. The result is plain dicts, lists and strings;
handlers coerce the strings to the types each parameter expects (see `params.py`).
"""

from __future__ import annotations

import re
from collections.abc import Iterable
from typing import Any
from urllib.parse import parse_qsl

from stripe_sandbox.errors import invalid_request

_KEY = re.compile(r"^([^\[\]]+)((?:\[[^\[\]]*\])*)$")
_SEGMENT = re.compile(r"\[([^\[\]]*)\]")

# Keys under these never turn into lists, even when they look like indexes (`metadata[0]=x`).
_FREE_FORM = frozenset({"metadata"})


class _Appended(list[Any]):
    """A list built from `[]` segments, told apart from one built from explicit indexes."""


def parse_form(body: str | bytes) -> dict[str, Any]:
    """Decode an `application/x-www-form-urlencoded` body or a query string."""
    text = body.decode("utf-8") if isinstance(body, bytes) else body
    return decode_pairs(parse_qsl(text, keep_blank_values=True))


def decode_pairs(pairs: Iterable[tuple[str, str]]) -> dict[str, Any]:
    root: dict[str, Any] = {}
    for key, value in pairs:
        match = _KEY.match(key)
        if match is None:
            raise invalid_request(f"Invalid parameter name: {key}", param=key)
        path = [match.group(1), *_SEGMENT.findall(match.group(2))]
        _assign(root, path, value, key)
    result: dict[str, Any] = _finish(root, None)
    return result


def _assign(container: dict[str, Any], path: list[str], value: str, key: str) -> None:
    node: Any = container
    for index, segment in enumerate(path):
        last = index == len(path) - 1
        if isinstance(node, _Appended):
            node = _append_slot(node, path[index:], value, key)
            if node is None:
                return
            continue
        if not isinstance(node, dict):
            raise invalid_request(f"Invalid parameter structure: {key}", param=key)
        if last:
            if isinstance(node.get(segment), dict | list):
                raise invalid_request(f"Invalid parameter structure: {key}", param=key)
            node[segment] = value
            return
        following = path[index + 1]
        child = node.get(segment)
        if following == "":
            if child is None:
                child = _Appended()
                node[segment] = child
            elif not isinstance(child, _Appended):
                raise invalid_request(f"Invalid parameter structure: {key}", param=key)
        elif child is None:
            child = {}
            node[segment] = child
        elif not isinstance(child, dict):
            raise invalid_request(f"Invalid parameter structure: {key}", param=key)
        node = child


def _append_slot(items: _Appended, rest: list[str], value: str, key: str) -> Any:
    """Handle the `[]` segment at rest[0]; returns the node to continue into, or None if done.

    As in Rack (which Stripe's parameter parsing follows), `a[][x]=1&a[][y]=2` fills one element
    while its keys are new, and `a[][x]=1&a[][x]=2` starts a second element.
    """
    if len(rest) == 1:
        items.append(value)
        return None
    field = rest[1]
    if field == "":
        raise invalid_request(f"Invalid parameter structure: {key}", param=key)
    current = items[-1] if items else None
    # A deeper path only opens a new element when its first key is already taken as a leaf.
    if isinstance(current, dict) and (
        (len(rest) == 2 and field not in current)
        or (len(rest) > 2 and not isinstance(current.get(field), str))
    ):
        return current
    element: dict[str, Any] = {}
    items.append(element)
    return element


def _finish(node: Any, name: str | None) -> Any:
    if isinstance(node, _Appended):
        return [_finish(item, None) for item in node]
    if isinstance(node, dict):
        done = {k: _finish(v, k) for k, v in node.items()}
        if name not in _FREE_FORM and done and all(k.isdigit() for k in done):
            return [done[k] for k in sorted(done, key=int)]
        return done
    return node
