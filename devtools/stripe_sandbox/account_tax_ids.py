"""The Tax ID API, /v1/tax_ids: the account's own tax IDs (`owner[type]=self`, the default), and
customers' through the same endpoints (`owner[type]=customer`).

The account's tax IDs are what an invoice's `account_tax_ids` names: the seller's VAT number in
the invoice's header (https://docs.stripe.com/invoicing/taxes/account-tax-ids). Stripe
verifies only customers' tax IDs: the account's have `verification: null` (the example response
of https://docs.stripe.com/api/tax_ids/create), and no event is sent for them (the SDK's event
types have only `customer.tax_id.*`). The sandbox has one account and no Connect, so
`owner[type]=account` and `application` are refused.
"""

from __future__ import annotations

from stripe_sandbox import customers, ids, tax_ids
from stripe_sandbox.api import ApiRequest
from stripe_sandbox.errors import invalid_request, missing_param, no_such
from stripe_sandbox.listing import list_object, newest_first
from stripe_sandbox.params import Params, get_dict, get_enum, get_list
from stripe_sandbox.store import JSON, Store

OWNER_TYPES = ("account", "application", "customer", "self")
# "Invoices can now specify one or more tax IDs to appear on it (maximum of 10)"
# (https://support.stripe.com/questions/merchant-tax-ids-on-invoices).
MAX_PER_INVOICE = 10


def is_account_tax_id(tax_id: JSON) -> bool:
    return (tax_id.get("owner") or {}).get("type") == "self"


def _owner(params: Params) -> tuple[str, JSON]:
    """The owner's type and the `owner[...]` hash."""
    owner = get_dict(params, "owner") or {}
    kind = get_enum(owner, "type", OWNER_TYPES, "self") or "self"
    if kind in ("account", "application"):
        # Connect only: the sandbox is one account with no connected accounts or applications.
        raise invalid_request(
            f"owner[type]={kind} is only available to Connect platforms.", param="owner[type]"
        )
    return kind, owner


def _customer_of(call: ApiRequest, owner: JSON) -> JSON:
    customer_id = owner.get("customer") or None
    if not customer_id:
        raise missing_param("owner[customer]")
    return customers.require_customer(call.store, str(customer_id), "owner[customer]")


def create(call: ApiRequest) -> JSON:
    store, params = call.store, call.params
    kind, owner = _owner(params)
    tax_type, value = customers.validated_tax_id(
        {"type": params.get("type"), "value": params.get("value")}, "tax_id"
    )
    if kind == "customer":
        customer = _customer_of(call, owner)
        return store.render("tax_ids", customers.add_tax_id(store, customer, tax_type, value))
    tax_id: JSON = {
        "id": ids.new_id("txi"),
        "object": "tax_id",
        "country": tax_ids.country_of(tax_type, value),
        "created": store.now(),
        "customer": None,
        "customer_account": None,
        "livemode": False,
        "owner": {"type": "self", "account": None, "application": None, "customer": None,
                  "customer_account": None},
        "type": tax_type,
        "value": value,
        "verification": None,
    }  # fmt: skip
    store.insert("tax_ids", tax_id)
    return store.render("tax_ids", tax_id)


def _require(store: Store, tax_id_id: str) -> JSON:
    tax_id = store.get("tax_ids", tax_id_id)
    if tax_id is None:
        raise no_such("tax_id", tax_id_id)
    return tax_id


def retrieve(call: ApiRequest) -> JSON:
    return call.store.render("tax_ids", _require(call.store, call.path_id("tax_id")))


def delete(call: ApiRequest) -> JSON:
    store = call.store
    tax_id = _require(store, call.path_id("tax_id"))
    if not is_account_tax_id(tax_id):
        return customers.remove_tax_id(store, tax_id)
    store.remove("tax_ids", tax_id["id"])
    # Kept so that a finalized invoice naming it can still show it expanded.
    store.insert("deleted_tax_ids", tax_id)
    store.account_settings.default_account_tax_ids = [
        kept for kept in store.account_settings.default_account_tax_ids if kept != tax_id["id"]
    ]
    return {"id": tax_id["id"], "object": "tax_id", "deleted": True}


def render_deleted(tax_id: JSON) -> JSON:
    """A deleted tax ID as a finalized invoice's expanded `account_tax_ids` shows it: Stripe's
    shape for deleted objects (what Stripe shows there is not documented)."""
    return {"id": tax_id["id"], "object": "tax_id", "deleted": True}


def list_all(call: ApiRequest) -> JSON:
    store, params = call.store, call.params
    kind, owner = _owner(params)
    if kind == "customer":
        customer = _customer_of(call, owner)
        items = [t for t in store.values("tax_ids") if t["customer"] == customer["id"]]
    else:
        items = [t for t in store.values("tax_ids") if is_account_tax_id(t)]
    return list_object(store, "tax_ids", newest_first(items), params, "/v1/tax_ids")


def resolve_for_invoice(store: Store, params: Params, param: str) -> list[str] | None:
    """`account_tax_ids[]` checked: each an existing tax ID of the account. `""` unsets the
    field (None), so that finalization takes the account's defaults again."""
    if params.get(param) == "":
        return None
    given = get_list(params, param) or []
    if len(given) > MAX_PER_INVOICE:
        raise invalid_request(
            f"An invoice can have at most {MAX_PER_INVOICE} account tax IDs.", param=param
        )
    chosen: list[str] = []
    for index, value in enumerate(given):
        if not isinstance(value, str) or not value:
            raise invalid_request(f"Invalid string: {param}[{index}]", param=f"{param}[{index}]")
        tax_id = store.get("tax_ids", value)
        if tax_id is None or not is_account_tax_id(tax_id):
            # A customer's tax ID is no account tax ID: Stripe cannot find one by that id.
            raise no_such("tax_id", value, f"{param}[{index}]")
        if value not in chosen:
            chosen.append(value)
    return chosen


def defaults_at_finalization(store: Store, invoice: JSON) -> None:
    """ "Stripe automatically pulls your default tax IDs during invoice finalization"
    (https://docs.stripe.com/invoicing/taxes/account-tax-ids): an invoice that names none of
    its own gets the account's defaults (set in the Dashboard; here POST /_sandbox/account)."""
    if invoice["account_tax_ids"] is None and store.account_settings.default_account_tax_ids:
        invoice["account_tax_ids"] = list(store.account_settings.default_account_tax_ids)
