"""List and search responses: Stripe's cursor pagination, range filters and page tokens."""

from __future__ import annotations

import base64
from collections.abc import Callable
from typing import TYPE_CHECKING, Any

from stripe_sandbox import search
from stripe_sandbox.errors import invalid_request
from stripe_sandbox.params import Params, get_int, require_str
from stripe_sandbox.store import JSON, Store

if TYPE_CHECKING:
    from stripe_sandbox.api import ApiRequest

DEFAULT_LIMIT = 10
MAX_LIMIT = 100


def limit_of(params: Params) -> int:
    limit = get_int(params, "limit")
    if limit is None:
        return DEFAULT_LIMIT
    if limit < 1:
        raise invalid_request(
            "This value must be greater than or equal to 1.",
            param="limit",
            code="parameter_invalid",
        )
    if limit > MAX_LIMIT:
        raise invalid_request(
            "This value must be less than or equal to 100.", param="limit", code="parameter_invalid"
        )
    return limit


def newest_first(items: list[JSON]) -> list[JSON]:
    """Objects are stored in creation order; Stripe lists them newest first."""
    return list(reversed(items))


def list_object(
    store: Store,
    collection: str,
    items: list[JSON],
    params: Params,
    url: str,
    render: Callable[[JSON], JSON] | None = None,
) -> JSON:
    """One page of `items` (already filtered and ordered) as a Stripe list object."""
    limit = limit_of(params)
    starting_after = params.get("starting_after") or None
    ending_before = params.get("ending_before") or None
    if starting_after and ending_before:
        raise invalid_request(
            "You may only specify one of these parameters: ending_before, starting_after."
        )
    position = {obj["id"]: index for index, obj in enumerate(items)}
    if starting_after:
        if starting_after not in position:
            raise invalid_request(
                f"No such object: '{starting_after}'",
                param="starting_after",
                code="resource_missing",
            )
        rest = items[position[starting_after] + 1 :]
        page, has_more = rest[:limit], len(rest) > limit
    elif ending_before:
        if ending_before not in position:
            raise invalid_request(
                f"No such object: '{ending_before}'",
                param="ending_before",
                code="resource_missing",
            )
        before = items[: position[ending_before]]
        page, has_more = before[-limit:], len(before) > limit
    else:
        page, has_more = items[:limit], len(items) > limit
    draw = render or (lambda obj: store.render(collection, obj))
    return {
        "object": "list",
        "data": [draw(obj) for obj in page],
        "has_more": has_more,
        "url": url,
    }


def search_result(
    store: Store, collection: str, items: list[JSON], params: Params, url: str
) -> JSON:
    limit = limit_of(params)
    page_token = params.get("page") or None
    offset = _decode_page(page_token) if page_token else 0
    page = items[offset : offset + limit]
    has_more = len(items) > offset + limit
    result: JSON = {
        "object": "search_result",
        "data": [store.render(collection, obj) for obj in page],
        "has_more": has_more,
        "next_page": _encode_page(offset + limit) if has_more else None,
        "url": url,
    }
    if "total_count" in (params.get("expand") or []):
        result["total_count"] = len(items)
    return result


def _encode_page(offset: int) -> str:
    return base64.urlsafe_b64encode(f"sandbox:{offset}".encode()).decode()


def _decode_page(token: str) -> int:
    try:
        text = base64.urlsafe_b64decode(token.encode()).decode()
        prefix, _, number = text.partition(":")
        if prefix == "sandbox" and number.isdigit():
            return int(number)
    except (ValueError, UnicodeDecodeError):
        pass
    raise invalid_request("Invalid page token.", param="page", code="parameter_invalid")


def matches_range(value: Any, condition: Any, param: str) -> bool:
    """Stripe's range filter: `created=123` or `created[gte]=…&created[lt]=…`."""
    if condition is None or condition == "":
        return True
    if not isinstance(value, int):
        return False
    if isinstance(condition, str):
        return value == _as_int(condition, param)
    if isinstance(condition, dict):
        checks: dict[str, Callable[[int, int], bool]] = {
            "gt": lambda a, b: a > b,
            "gte": lambda a, b: a >= b,
            "lt": lambda a, b: a < b,
            "lte": lambda a, b: a <= b,
        }
        for operator, bound in condition.items():
            if operator not in checks:
                raise invalid_request(
                    f"Invalid range operator: {param}[{operator}]", param=f"{param}[{operator}]"
                )
            if not checks[operator](value, _as_int(bound, f"{param}[{operator}]")):
                return False
        return True
    raise invalid_request(f"Invalid {param}", param=param)


def _as_int(text: Any, param: str) -> int:
    if isinstance(text, str) and text.lstrip("-").isdigit():
        return int(text)
    raise invalid_request(f"Invalid integer: {text}", param=param, code="parameter_invalid")


def searcher(collection: str, fields: frozenset[str], url: str) -> Callable[[ApiRequest], JSON]:
    """The `GET /v1/{collection}/search` handler: the query language of `stripe_sandbox.search`
    over `fields`, newest first, paged as Stripe pages search results."""

    def handle(call: ApiRequest) -> JSON:
        query = search.parse(require_str(call.params, "query"), fields)
        # Stripe's search index lags (SandboxConfig.search_delay_s): an object is matched in the
        # state the index has caught up with, and not at all before it was first indexed.
        items = [
            obj
            for obj in newest_first(call.store.values(collection))
            if (indexed := call.store.as_search_sees(obj)) is not None
            and query.matches(indexed, search.default_getter)
        ]
        return search_result(call.store, collection, items, call.params, url)

    return handle
