"""/v1/tax_rates: the rates an invoice's lines are taxed at (https://docs.stripe.com/api/tax_rates).

A rate's `percentage` and `inclusive` are fixed once it exists (the SDK's update parameters leave
them out); its name, country, jurisdiction, description, type and `active` can change. An
inactive rate keeps working where it is already set but cannot be set anywhere new.
"""

from __future__ import annotations

from decimal import Decimal, InvalidOperation

from stripe_sandbox import ids
from stripe_sandbox.api import ApiRequest
from stripe_sandbox.customers import changes
from stripe_sandbox.errors import invalid_request, missing_param, no_such
from stripe_sandbox.listing import list_object, matches_range, newest_first
from stripe_sandbox.params import Params, apply_metadata, get_bool, get_str, require_str
from stripe_sandbox.store import JSON, Store

_TEXT_FIELDS = ("country", "description", "display_name", "jurisdiction", "state", "tax_type")


def _percentage(params: Params) -> int | float:
    """Stripe's `percentage`: 0 to 100, shown as a JSON number (19, 7.7)."""
    text = require_str(params, "percentage")
    try:
        value = Decimal(text)
    except InvalidOperation:
        raise invalid_request(
            f"Invalid decimal: {text}", param="percentage", code="parameter_invalid"
        ) from None
    if not value.is_finite() or not 0 <= value <= 100:
        raise invalid_request(
            "The percentage must be between 0 and 100.",
            param="percentage",
            code="parameter_invalid",
        )
    return int(value) if value == value.to_integral_value() else float(value)


def percentage_of(rate: JSON) -> Decimal:
    # Through str: a float such as 7.7 stays 7.7, not its binary neighbour.
    return Decimal(str(rate["percentage"]))


def _apply(rate: JSON, params: Params) -> None:
    for name in _TEXT_FIELDS:
        if name in params:
            value = get_str(params, name)
            if name == "display_name" and not value:
                raise missing_param("display_name")
            rate[name] = value.upper() if name == "country" and value else value
    if "active" in params:
        rate["active"] = bool(get_bool(params, "active", True))
    apply_metadata(rate, params)


def create_tax_rate(call: ApiRequest) -> JSON:
    store, params = call.store, call.params
    require_str(params, "display_name")
    if get_bool(params, "inclusive") is None:
        raise missing_param("inclusive")
    rate: JSON = {
        "id": ids.new_id("txr"),
        "object": "tax_rate",
        "active": True,
        "country": None,
        "created": store.now(),
        "description": None,
        "display_name": "",
        "effective_percentage": None,
        "flat_amount": None,
        "inclusive": bool(get_bool(params, "inclusive")),
        "jurisdiction": None,
        "jurisdiction_level": None,
        "livemode": False,
        "metadata": {},
        "percentage": _percentage(params),
        "rate_type": None,  # only Stripe Tax's own rates have one
        "state": None,
        "tax_type": None,
    }
    _apply(rate, params)
    store.insert("tax_rates", rate)
    store.emit("tax_rate.created", "tax_rates", rate)
    return store.render("tax_rates", rate)


def _require(store: Store, rate_id: str) -> JSON:
    return store.require("tax_rates", rate_id, "tax_rate")


def retrieve_tax_rate(call: ApiRequest) -> JSON:
    return call.store.render("tax_rates", _require(call.store, call.path_id("tax_rate")))


def update_tax_rate(call: ApiRequest) -> JSON:
    store = call.store
    rate = _require(store, call.path_id("tax_rate"))
    before = store.render("tax_rates", rate)
    _apply(rate, call.params)
    after = store.render("tax_rates", rate)
    previous = changes(before, after)
    if previous:
        store.emit("tax_rate.updated", "tax_rates", rate, previous)
    return after


def list_tax_rates(call: ApiRequest) -> JSON:
    params = call.params
    active, inclusive = get_bool(params, "active"), get_bool(params, "inclusive")
    items = [
        rate
        for rate in call.store.values("tax_rates")
        if (active is None or rate["active"] == active)
        and (inclusive is None or rate["inclusive"] == inclusive)
        and matches_range(rate["created"], params.get("created"), "created")
    ]
    return list_object(call.store, "tax_rates", newest_first(items), params, "/v1/tax_rates")


def resolve(store: Store, value: object, param: str, kept: list[str] | None = None) -> list[str]:
    """The tax rate ids of a `tax_rates[]` / `default_tax_rates[]` parameter, each checked to
    exist and, unless it was set already (`kept`), to be active."""
    if value in (None, ""):
        return []
    items = list(value.values()) if isinstance(value, dict) else value
    if isinstance(items, str):
        items = [items]
    if not isinstance(items, list) or not all(isinstance(i, str) for i in items):
        raise invalid_request(f"Invalid array: {param}", param=param, code="parameter_invalid")
    found = []
    for index, rate_id in enumerate(item for item in items if item):
        rate = store.get("tax_rates", rate_id)
        if rate is None:
            raise no_such("tax_rate", rate_id, param)
        if rate_id not in (kept or []) and not rate["active"]:
            raise invalid_request(
                f"Tax rate {rate_id} is inactive: inactive tax rates cannot be applied.",
                param=f"{param}[{index}]",
            )
        if rate_id in found:
            raise invalid_request(
                f"Tax rate {rate_id} is listed more than once.", param=f"{param}[{index}]"
            )
        found.append(rate_id)
    return found


def render_all(store: Store, rate_ids: list[str]) -> list[JSON]:
    """Tax rate ids as the objects Stripe nests in invoices and invoice items."""
    return [store.render("tax_rates", store.table("tax_rates")[r]) for r in rate_ids]
