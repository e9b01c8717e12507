"""/v1/coupons, and the discounts (`di_…`) a coupon becomes on an invoice or an invoice item.

A coupon takes `percent_off` or `amount_off` (with its `currency`) off what it is applied to
(https://docs.stripe.com/api/coupons/create). Redeeming it on an invoice or an invoice item
(`discounts[][coupon]`) makes a Discount object (https://docs.stripe.com/api/discounts/object),
which Stripe never serves by id: it is seen only through `expand[]` (`discounts`,
`total_discount_amounts.discount`, `lines.data.discounts`). On a one-off invoice every duration
applies once. What the sandbox leaves out, and refuses: `applies_to` (it has no products),
`currency_options`, promotion codes.
"""

from __future__ import annotations

import secrets
import string
from decimal import Decimal, InvalidOperation

from stripe_sandbox import money, totals
from stripe_sandbox.api import ApiRequest
from stripe_sandbox.customers import changes
from stripe_sandbox.errors import invalid_request, missing_param, no_such
from stripe_sandbox.ids import new_id
from stripe_sandbox.listing import list_object, matches_range, newest_first
from stripe_sandbox.params import (
    Params,
    apply_metadata,
    get_enum,
    get_int,
    get_list,
    get_str,
)
from stripe_sandbox.store import JSON, Store

DURATIONS = ("forever", "once", "repeating")
_UNSUPPORTED = ("applies_to", "currency_options")


def _refuse_unsupported(params: Params) -> None:
    for name in _UNSUPPORTED:
        if name in params:
            raise invalid_request(
                f"The sandbox does not support {name} on coupons (it has no products or "
                "per-currency amounts).",
                param=name,
            )


def _coupon_id() -> str:
    # Stripe's generated coupon ids are short codes of capitals and digits ("Z4OV52SU").
    return "".join(secrets.choice(string.ascii_uppercase + string.digits) for _ in range(8))


def _percent_off(params: Params) -> int | float | None:
    text = get_str(params, "percent_off")
    if text is None:
        return None
    try:
        value = Decimal(text)
    except InvalidOperation:
        raise invalid_request(
            f"Invalid decimal: {text}", param="percent_off", code="parameter_invalid"
        ) from None
    if not value.is_finite() or not 0 < value <= 100:
        raise invalid_request(
            "percent_off must be greater than 0 and at most 100.",
            param="percent_off",
            code="parameter_invalid",
        )
    return int(value) if value == value.to_integral_value() else float(value)


def create_coupon(call: ApiRequest) -> JSON:
    store, params = call.store, call.params
    _refuse_unsupported(params)
    percent_off = _percent_off(params)
    amount_off = get_int(params, "amount_off")
    if percent_off is not None and amount_off is not None:
        raise invalid_request(
            "You may only specify one of these parameters: amount_off, percent_off.",
            param="amount_off",
        )
    if percent_off is None and amount_off is None:
        raise invalid_request(
            "You must pass either amount_off or percent_off.", param="percent_off"
        )
    currency = get_str(params, "currency")
    if amount_off is not None:
        if amount_off <= 0:
            raise invalid_request(
                "amount_off must be a positive integer.",
                param="amount_off",
                code="parameter_invalid",
            )
        if currency is None:
            raise missing_param("currency")
        currency = money.check_currency(currency)
    elif currency is not None:
        raise invalid_request("currency is only for coupons with amount_off.", param="currency")
    duration = get_enum(params, "duration", DURATIONS, "once")
    months = get_int(params, "duration_in_months")
    if (duration == "repeating") != (months is not None):
        raise invalid_request(
            "duration_in_months is required with duration=repeating, and only then.",
            param="duration_in_months",
        )
    if months is not None and months <= 0:
        raise invalid_request(
            "duration_in_months must be positive.",
            param="duration_in_months",
            code="parameter_invalid",
        )
    coupon_id = get_str(params, "id") or _coupon_id()
    if store.get("coupons", coupon_id) is not None:
        raise invalid_request("Coupon already exists.", param="id", code="resource_already_exists")
    coupon: JSON = {
        "id": coupon_id,
        "object": "coupon",
        "amount_off": amount_off,
        "applies_to": None,
        "created": store.now(),
        "currency": currency,
        "currency_options": None,
        "duration": duration,
        "duration_in_months": months,
        "livemode": False,
        "max_redemptions": get_int(params, "max_redemptions"),
        "metadata": {},
        "name": get_str(params, "name"),
        "percent_off": percent_off,
        "redeem_by": get_int(params, "redeem_by"),
        "times_redeemed": 0,
        "valid": True,
    }
    apply_metadata(coupon, params)
    store.insert("coupons", coupon)
    store.emit("coupon.created", "coupons", coupon)
    return store.render("coupons", coupon)


def _require(store: Store, coupon_id: str) -> JSON:
    return store.require("coupons", coupon_id, "coupon")


def retrieve_coupon(call: ApiRequest) -> JSON:
    return call.store.render("coupons", _require(call.store, call.path_id("coupon")))


def update_coupon(call: ApiRequest) -> JSON:
    store, params = call.store, call.params
    _refuse_unsupported(params)
    coupon = _require(store, call.path_id("coupon"))
    before = store.render("coupons", coupon)
    if "name" in params:
        coupon["name"] = get_str(params, "name")
    apply_metadata(coupon, params)
    after = store.render("coupons", coupon)
    previous = changes(before, after)
    if previous:
        store.emit("coupon.updated", "coupons", coupon, previous)
    return after


def list_coupons(call: ApiRequest) -> JSON:
    params = call.params
    items = [
        coupon
        for coupon in call.store.values("coupons")
        if matches_range(coupon["created"], params.get("created"), "created")
    ]
    return list_object(call.store, "coupons", newest_first(items), params, "/v1/coupons")


def _still_valid(store: Store, coupon: JSON) -> bool:
    if coupon["redeem_by"] is not None and store.now() > coupon["redeem_by"]:
        return False
    limit = coupon["max_redemptions"]
    return limit is None or coupon["times_redeemed"] < limit


def render_coupon(store: Store, coupon: JSON) -> JSON:
    body = dict(coupon)
    body["valid"] = _still_valid(store, coupon)
    return body


# -- discounts ---------------------------------------------------------------------------------


def redeem(
    store: Store,
    params: Params,
    param: str,
    *,
    customer: str,
    currency: str,
    kept: list[str],
    invoice: str | None = None,
    invoice_item: str | None = None,
) -> list[str] | None:
    """The discount ids a `discounts` parameter asks for, or None when it was not sent.

    `[{coupon: X}]` redeems coupon X into a new discount; `[{discount: di_…}]` keeps one already
    on the object (`kept`); `discounts=` removes them all. Discounts no longer listed are deleted.
    """
    if param not in params:
        return None
    entries = get_list(params, param) or []
    # Everything is checked before anything is redeemed: a refused request redeems nothing.
    wanted: list[tuple[str, JSON | None]] = []
    for index, entry in enumerate(entries):
        name = f"{param}[{index}]"
        if not isinstance(entry, dict):
            raise invalid_request(f"Invalid hash: {name}", param=name, code="parameter_invalid")
        if entry.get("promotion_code"):
            raise invalid_request(
                "The sandbox does not support promotion codes.", param=f"{name}[promotion_code]"
            )
        given = [key for key in ("coupon", "discount") if entry.get(key)]
        if len(given) != 1:
            raise invalid_request(
                f"Specify exactly one of {name}[coupon] and {name}[discount].", param=name
            )
        if given == ["discount"]:
            discount_id = str(entry["discount"])
            if discount_id not in kept:
                raise no_such("discount", discount_id, f"{name}[discount]")
            wanted.append((discount_id, None))
            continue
        coupon = store.get("coupons", str(entry["coupon"]))
        if coupon is None:
            raise no_such("coupon", str(entry["coupon"]), f"{name}[coupon]")
        check_coupon(store, coupon, currency, f"{name}[coupon]")
        wanted.append(("", coupon))
    chosen = [
        found if coupon is None else _new_discount(store, coupon, customer, invoice, invoice_item)
        for found, coupon in wanted
    ]
    forget(store, [gone for gone in kept if gone not in chosen])
    return chosen


def check_coupon(store: Store, coupon: JSON, currency: str, param: str) -> None:
    if not _still_valid(store, coupon):
        raise invalid_request(
            f"Coupon {coupon['id']} is no longer valid.", param=param, code="coupon_expired"
        )
    if coupon["amount_off"] is not None and coupon["currency"] != currency:
        raise invalid_request(
            f"The coupon {coupon['id']} is in {coupon['currency']}, which does not match the "
            f"currency {currency}.",
            param=param,
        )


def _new_discount(
    store: Store, coupon: JSON, customer: str, invoice: str | None, invoice_item: str | None
) -> str:
    discount: JSON = {
        "id": new_id("di"),
        "object": "discount",
        "checkout_session": None,
        "customer": customer,
        "customer_account": None,
        "end": None,  # one-off invoices: whatever the duration, the discount applies once
        "invoice": invoice,
        "invoice_item": invoice_item,
        "promotion_code": None,
        "source": {"coupon": coupon["id"], "type": "coupon"},
        "start": store.now(),
        "subscription": None,
        "subscription_item": None,
    }
    store.insert("discounts", discount)
    coupon["times_redeemed"] += 1
    return str(discount["id"])


def forget(store: Store, discount_ids: list[str]) -> None:
    for discount_id in discount_ids:
        store.remove("discounts", discount_id)


def as_off(store: Store, discount_id: str) -> totals.Off:
    """A discount as the arithmetic takes it (its coupon's percentage or amount)."""
    discount = store.table("discounts")[discount_id]
    coupon = store.get("coupons", discount["source"]["coupon"])
    if coupon is None:  # never removed in the sandbox, but a discount must not break a total
        return totals.Off(discount_id, amount_off=0)
    if coupon["percent_off"] is not None:
        return totals.Off(discount_id, percent_off=Decimal(str(coupon["percent_off"])))
    return totals.Off(discount_id, amount_off=int(coupon["amount_off"]))
