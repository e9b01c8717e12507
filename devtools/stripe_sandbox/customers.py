"""Customers and their tax IDs: /v1/customers, /v1/customers/search, /v1/customers/{id}/tax_ids."""

from __future__ import annotations

from typing import Any

from stripe_sandbox import cash_balance, credit_balance, ids, payment_methods, tax_ids
from stripe_sandbox.api import ApiRequest
from stripe_sandbox.errors import invalid_request, no_such
from stripe_sandbox.expand import includable
from stripe_sandbox.listing import list_object, matches_range, newest_first, searcher
from stripe_sandbox.params import (
    Params,
    address,
    apply_metadata,
    get_dict,
    get_enum,
    get_int,
    get_list,
    get_str,
    get_str_list,
    require_str,
)
from stripe_sandbox.store import JSON, Store

SEARCH_FIELDS = frozenset({"created", "email", "metadata", "name", "phone"})
_TAX_EXEMPT = ("none", "exempt", "reverse")


def changes(before: JSON, after: JSON) -> JSON:
    """Stripe's `previous_attributes`: the old value of every top-level field that changed."""
    return {key: before.get(key) for key in after if before.get(key) != after.get(key)}


def require_customer(store: Store, customer_id: str, param: str = "customer") -> JSON:
    customer = store.get("customers", customer_id)
    if customer is None:
        raise no_such("customer", customer_id, param)
    return customer


# -- customers ---------------------------------------------------------------------------------


def create_customer(call: ApiRequest) -> JSON:
    store, params = call.store, call.params
    customer: JSON = {
        "id": ids.new_id("cus", 14),
        "object": "customer",
        "address": None,
        "balance": get_int(params, "balance") or 0,
        "business_name": None,
        "created": store.now(),
        "currency": None,
        "customer_account": None,
        "default_source": None,
        "delinquent": False,
        "description": None,
        "discount": None,
        "email": None,
        "individual_name": None,
        "invoice_prefix": get_str(params, "invoice_prefix") or ids.invoice_prefix(),
        "invoice_settings": {
            "custom_fields": None,
            "default_payment_method": None,
            "footer": None,
            "rendering_options": None,
        },
        "livemode": False,
        "metadata": {},
        "name": None,
        "next_invoice_sequence": get_int(params, "next_invoice_sequence") or 1,
        "phone": None,
        "preferred_locales": [],
        "shipping": None,
        "tax_exempt": "none",
        "test_clock": None,
    }
    tax_id_data = get_list(params, "tax_id_data") or []
    pending_tax_ids = [
        validated_tax_id(item, f"tax_id_data[{i}]") for i, item in enumerate(tax_id_data)
    ]
    store.insert("customers", customer)
    attached: JSON | None = None
    try:
        payment_method = get_str(params, "payment_method")
        if payment_method:
            # Attached first so invoice_settings[default_payment_method] may name it; Stripe
            # only attaches it and leaves the invoice default to invoice_settings.
            attached = payment_methods.attach_to_customer(
                store, payment_method, customer, "payment_method", emit=False
            )
        _apply_fields(store, customer, params)
        if not params.get("name"):
            # Stripe (2025-09-30.clover): a customer created without a name takes its
            # business_name, else its individual_name.
            customer["name"] = customer["business_name"] or customer["individual_name"]
    except Exception:
        store.remove("customers", customer["id"])
        if attached is not None:
            attached["customer"] = None
        raise
    store.emit("customer.created", "customers", customer)
    if attached is not None:
        store.emit("payment_method.attached", "payment_methods", attached)
    for tax_type, value in pending_tax_ids:
        add_tax_id(store, customer, tax_type, value)
    return store.render("customers", customer)


def _apply_fields(store: Store, customer: JSON, params: Params) -> None:
    for field in ("email", "name", "phone", "description", "business_name", "individual_name"):
        if field in params:
            customer[field] = get_str(params, field)
    if "address" in params:
        customer["address"] = address(params["address"], "address")
    if "shipping" in params:
        customer["shipping"] = _shipping(params)
    if "preferred_locales" in params:
        customer["preferred_locales"] = get_str_list(params, "preferred_locales") or []
    if "tax_exempt" in params:
        customer["tax_exempt"] = get_enum(params, "tax_exempt", _TAX_EXEMPT, "none")
    if "balance" in params:
        credit_balance.set_from_param(
            store, customer, get_int(params, "balance") or 0, creating=False
        )
    settings = (get_dict(params, "cash_balance") or {}).get("settings")
    if isinstance(settings, dict) and settings.get("reconciliation_mode"):
        chosen = get_enum(settings, "reconciliation_mode", cash_balance.MODES)
        assert chosen is not None
        cash_balance.set_mode(store, customer["id"], chosen)
    if params.get("invoice_prefix"):
        prefix = require_str(params, "invoice_prefix")
        if not (3 <= len(prefix) <= 12 and prefix.isalnum() and prefix.upper() == prefix):
            raise invalid_request(
                "Invalid invoice_prefix: must be 3-12 upper-case letters or digits.",
                param="invoice_prefix",
            )
        customer["invoice_prefix"] = prefix
    settings = get_dict(params, "invoice_settings")
    if settings is not None:
        current = customer["invoice_settings"]
        if "default_payment_method" in settings:
            pm_id = settings["default_payment_method"] or None
            if pm_id is not None:
                pm = store.get("payment_methods", pm_id)
                if pm is None:
                    raise no_such(
                        "PaymentMethod", pm_id, "invoice_settings[default_payment_method]"
                    )
                if pm.get("customer") != customer["id"]:
                    raise invalid_request(
                        f"The customer does not have a payment method with the ID {pm_id}. "
                        "The payment method must be attached to the customer.",
                        param="invoice_settings[default_payment_method]",
                        code="resource_missing",
                    )
            current["default_payment_method"] = pm_id
        if "footer" in settings:
            current["footer"] = settings["footer"] or None
        if "custom_fields" in settings:
            fields = settings["custom_fields"]
            current["custom_fields"] = fields if isinstance(fields, list) and fields else None
    apply_metadata(customer, params)


def _shipping(params: Params) -> JSON | None:
    shipping = get_dict(params, "shipping")
    if not shipping:
        return None
    if not shipping.get("name"):
        raise invalid_request("Missing required param: shipping[name].", param="shipping[name]")
    return {
        "address": address(shipping.get("address"), "shipping[address]"),
        "name": shipping.get("name"),
        "phone": shipping.get("phone") or None,
    }


def retrieve_customer(call: ApiRequest) -> JSON:
    customer_id = call.path_id("customer")
    customer = call.store.get("customers", customer_id)
    if customer is None:
        deleted = call.store.get("deleted_customers", customer_id)
        if deleted is not None:
            return {"id": customer_id, "object": "customer", "deleted": True}
        raise no_such("customer", customer_id)
    return call.store.render("customers", customer)


def update_customer(call: ApiRequest) -> JSON:
    store = call.store
    customer = require_customer(store, call.path_id("customer"), "id")
    before = store.render("customers", customer)
    _apply_fields(store, customer, call.params)
    after = store.render("customers", customer)
    previous = changes(before, after)
    if previous:
        store.emit("customer.updated", "customers", customer, previous)
    return after


def delete_customer(call: ApiRequest) -> JSON:
    store = call.store
    customer = require_customer(store, call.path_id("customer"), "id")
    if cash_balance.balances(store, customer["id"]):
        # "You cannot delete a customer with any cash balances, even if the balance is 0"
        # (the CashBalance object's `available`); the wording is the sandbox's.
        raise invalid_request("This customer has a cash balance and cannot be deleted.")
    store.remove("customers", customer["id"])
    store.insert("deleted_customers", customer)
    store.emit("customer.deleted", "deleted_customers", customer)
    return {"id": customer["id"], "object": "customer", "deleted": True}


def list_customers(call: ApiRequest) -> JSON:
    params = call.params
    email = params.get("email")
    items = [
        customer
        for customer in call.store.values("customers")
        # Stripe's email filter is exact and case-sensitive (search is not).
        if (email is None or customer.get("email") == email)
        and matches_range(customer["created"], params.get("created"), "created")
    ]
    return list_object(call.store, "customers", newest_first(items), params, "/v1/customers")


search_customers = searcher("customers", SEARCH_FIELDS, "/v1/customers/search")


@includable("customer", "tax_ids", "tax_ids")
def _customer_tax_ids(store: Store, customer: JSON) -> JSON:
    items = [t for t in store.values("tax_ids") if t["customer"] == customer["id"]]
    return list_object(
        store, "tax_ids", newest_first(items), {"limit": "100"},
        f"/v1/customers/{customer['id']}/tax_ids",
    )  # fmt: skip


# -- tax IDs -----------------------------------------------------------------------------------


def validated_tax_id(item: Any, param: str) -> tuple[str, str]:
    if not isinstance(item, dict):
        raise invalid_request(f"Invalid hash: {param}", param=param)
    tax_type = item.get("type") or ""
    raw_value = item.get("value") or ""
    if not tax_type:
        raise invalid_request(f"Missing required param: {param}[type].", param=f"{param}[type]")
    if not raw_value:
        raise invalid_request(f"Missing required param: {param}[value].", param=f"{param}[value]")
    if tax_type not in tax_ids.TYPES:
        raise invalid_request(
            f"Invalid value for type: {tax_type}", param=f"{param}[type]", code="parameter_invalid"
        )
    value = tax_ids.normalize(tax_type, raw_value)
    if not tax_ids.is_well_formed(tax_type, value):
        raise invalid_request(
            f"Invalid value for {tax_type}.", param=f"{param}[value]", code="tax_id_invalid"
        )
    return tax_type, value


def add_tax_id(store: Store, customer: JSON, tax_type: str, value: str) -> JSON:
    tax_id: JSON = {
        "id": ids.new_id("txi"),
        "object": "tax_id",
        "country": tax_ids.country_of(tax_type, value),
        "created": store.now(),
        "customer": customer["id"],
        "customer_account": None,
        "livemode": False,
        "owner": {"type": "customer", "customer": customer["id"], "account": None,
                  "application": None, "customer_account": None},
        "type": tax_type,
        "value": value,
        "verification": {
            "status": tax_ids.initial_status(tax_type),
            "verified_address": None,
            "verified_name": None,
        },
    }  # fmt: skip
    store.insert("tax_ids", tax_id)
    store.emit("customer.tax_id.created", "tax_ids", tax_id)
    final = tax_ids.resolved_status(tax_type, value)
    if final is not None:
        store.defer(lambda: _finish_verification(store, tax_id["id"], final))
    return tax_id


def _finish_verification(store: Store, tax_id_id: str, status: tax_ids.VerificationStatus) -> None:
    """Test-mode verification: settles right after the create call was answered (`pending`)."""
    tax_id = store.get("tax_ids", tax_id_id)
    if tax_id is None:
        return
    previous = {"verification": dict(tax_id["verification"])}
    customer = store.get("customers", tax_id["customer"]) or {}
    verified = status == "verified"
    tax_id["verification"] = {
        "status": status,
        "verified_address": _one_line(customer.get("address")) if verified else None,
        "verified_name": (customer.get("name") or "") if verified else None,
    }
    store.emit("customer.tax_id.updated", "tax_ids", tax_id, previous)


def _one_line(value: JSON | None) -> str | None:
    if not value:
        return None
    parts = [value.get(k) for k in ("line1", "line2", "postal_code", "city", "country")]
    return ", ".join(p for p in parts if p) or None


def create_tax_id(call: ApiRequest) -> JSON:
    store = call.store
    customer = require_customer(store, call.path_id("customer"), "customer")
    tax_type, value = validated_tax_id(
        {"type": call.params.get("type"), "value": call.params.get("value")}, "tax_id"
    )
    return store.render("tax_ids", add_tax_id(store, customer, tax_type, value))


def _require_tax_id(store: Store, customer_id: str, tax_id_id: str) -> JSON:
    tax_id = store.get("tax_ids", tax_id_id)
    if tax_id is None or tax_id["customer"] != customer_id:
        raise no_such("tax_id", tax_id_id)
    return tax_id


def retrieve_tax_id(call: ApiRequest) -> JSON:
    require_customer(call.store, call.path_id("customer"), "customer")
    tax_id = _require_tax_id(call.store, call.path_id("customer"), call.path_id("tax_id"))
    return call.store.render("tax_ids", tax_id)


def delete_tax_id(call: ApiRequest) -> JSON:
    store = call.store
    require_customer(store, call.path_id("customer"), "customer")
    tax_id = _require_tax_id(store, call.path_id("customer"), call.path_id("tax_id"))
    return remove_tax_id(store, tax_id)


def remove_tax_id(store: Store, tax_id: JSON) -> JSON:
    store.remove("tax_ids", tax_id["id"])
    store.emit("customer.tax_id.deleted", "tax_ids_deleted", tax_id)
    return {"id": tax_id["id"], "object": "tax_id", "deleted": True}


def list_tax_ids(call: ApiRequest) -> JSON:
    customer = require_customer(call.store, call.path_id("customer"), "customer")
    items = [t for t in call.store.values("tax_ids") if t["customer"] == customer["id"]]
    return list_object(
        call.store, "tax_ids", newest_first(items), call.params,
        f"/v1/customers/{customer['id']}/tax_ids",
    )  # fmt: skip
