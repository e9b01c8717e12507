"""/v1/payment_intents, /v1/setup_intents and /v1/charges (the part of them the portal uses)."""

from __future__ import annotations

from stripe_sandbox import cash_balance, ids, money, payment_methods, payments
from stripe_sandbox.api import ApiRequest
from stripe_sandbox.errors import invalid_request, no_such
from stripe_sandbox.listing import list_object, matches_range, newest_first, searcher
from stripe_sandbox.params import (
    Params,
    apply_metadata,
    get_bool,
    get_dict,
    get_enum,
    get_str,
    get_str_list,
    require_int,
    require_str,
)
from stripe_sandbox.store import JSON, Store

PI_SEARCH_FIELDS = frozenset({"amount", "created", "currency", "customer", "metadata", "status"})
_UPDATABLE = ("requires_payment_method", "requires_confirmation", "requires_action")
_CANCELABLE = ("requires_payment_method", "requires_capture", "requires_confirmation",
               "requires_action")  # fmt: skip
_PM_TYPES = ("card", "sepa_debit", "ideal")


def _customer_or_none(store: Store, params: Params) -> JSON | None:
    customer_id = get_str(params, "customer")
    if customer_id is None:
        return None
    customer = store.get("customers", customer_id)
    if customer is None:
        raise no_such("customer", customer_id, "customer")
    return customer


def _automatic_payment_methods(params: Params) -> JSON | None:
    """Automatic payment methods are the default since 2023-08-16 (and the only way in endive,
    which removed `payment_method_types` from creation): on unless turned off explicitly."""
    given = get_dict(params, "automatic_payment_methods") or {}
    if given.get("enabled") == "false":
        return None
    allow = get_enum(given, "allow_redirects", ("always", "never"), "always")
    return {"allow_redirects": allow, "enabled": True}


def account_method_types(
    params: Params,
    currency: str | None,
    *,
    what: str,
    paying: bool = True,
    redirects: bool = True,
    bank_transfer: bool = False,
) -> list[str]:
    """What the account's settings offer (the sandbox's: cards, SEPA Direct Debit for euros,
    and for paying euros iDEAL, a method that sends the customer to their bank), narrowed by
    `allowed_payment_method_types` / `excluded_payment_method_types`: for automatic payment
    methods and for Checkout Sessions alike (endive removed `payment_method_types` from
    creating both). iDEAL is not offered for saving a method (Stripe saves it as a SEPA
    mandate; the sandbox does not model that) nor with `allow_redirects=never`. Bank transfers
    (`customer_balance`) are offered where the caller says they can be (`bank_transfer`:
    Checkout in payment mode with a customer). `what` names the object in the refusal."""
    offered = ["card", "sepa_debit"] if currency in (None, "eur") else ["card"]
    if paying and redirects and currency == "eur":
        offered.append("ideal")
    if bank_transfer:
        offered.append("customer_balance")
    allowed = get_str_list(params, "allowed_payment_method_types")
    excluded = set(get_str_list(params, "excluded_payment_method_types") or [])
    types = [t for t in offered if (allowed is None or t in allowed) and t not in excluded]
    if not types:
        raise invalid_request(
            f"None of the allowed payment method types can be used for this {what} "
            f"(the sandbox offers {', '.join(offered)}).",
            param="allowed_payment_method_types" if allowed else "excluded_payment_method_types",
        )
    return types


def _payment_method_types(params: Params) -> list[str]:
    """With automatic payment methods turned off: `allowed_payment_method_types`, else cards."""
    types = get_str_list(params, "allowed_payment_method_types") or ["card"]
    for pm_type in types:
        if pm_type not in _PM_TYPES:
            raise invalid_request(
                f"The payment method type {pm_type!r} is not supported by the sandbox "
                f"(supported: {', '.join(_PM_TYPES)}).",
                param="allowed_payment_method_types",
            )
    return types


def use_payment_method(store: Store, intent: JSON, pm_id: str) -> JSON:
    """Set the intent's payment method (a test token becomes a new pm_…); checks its owner."""
    pm = payment_methods.resolve(store, pm_id)
    if pm["customer"] is not None and pm["customer"] != intent["customer"]:
        raise invalid_request(
            "The provided PaymentMethod was previously attached to a Customer. To use a "
            "PaymentMethod that has been attached to a Customer, pass that Customer's ID as "
            "`customer`."
            if intent["customer"] is None
            else f"The provided PaymentMethod belongs to a different Customer ({pm['customer']}).",
            param="payment_method",
        )
    intent["payment_method"] = pm["id"]
    return pm


# -- payment intents ---------------------------------------------------------------------------


def new_payment_intent(
    store: Store,
    *,
    amount: int,
    currency: str,
    customer: str | None,
    description: str | None = None,
    payment_method_types: list[str] | None = None,
    metadata: dict[str, str] | None = None,
) -> JSON:
    pi_id = ids.new_id("pi")
    pi: JSON = {
        "id": pi_id,
        "object": "payment_intent",
        "amount": amount,
        "amount_capturable": 0,
        "amount_details": {"tip": {}},
        "allowed_payment_method_types": None,
        "amount_received": 0,
        "application": None,
        "application_fee_amount": None,
        "automatic_payment_methods": None,
        "canceled_at": None,
        "cancellation_reason": None,
        "capture_method": "automatic",
        "client_secret": ids.client_secret(pi_id),
        "confirmation_method": "automatic",
        "created": store.now(),
        "currency": currency,
        "customer": customer,
        "customer_account": None,
        "description": description,
        "excluded_payment_method_types": None,
        "hooks": None,
        "last_payment_error": None,
        "latest_charge": None,
        "livemode": False,
        "managed_payments": None,
        "metadata": dict(metadata or {}),
        "next_action": None,
        "on_behalf_of": None,
        "payment_details": None,
        "payment_method": None,
        "payment_method_configuration_details": None,
        "payment_method_options": {},
        "payment_method_types": payment_method_types or ["card"],
        "payment_record": None,
        "presentment_details": None,
        "processing": None,
        "receipt_email": None,
        "review": None,
        "setup_future_usage": None,
        "shipping": None,
        "source": None,
        "statement_descriptor": None,
        "statement_descriptor_suffix": None,
        "status": "requires_payment_method",
        "transfer_data": None,
        "transfer_group": None,
    }
    store.insert("payment_intents", pi)
    return pi


def _check_amount(amount: int, currency: str) -> None:
    error = money.charge_amount_error(amount, currency)
    if error is not None:
        raise error


def create_payment_intent(call: ApiRequest) -> JSON:
    store, params = call.store, call.params
    amount = require_int(params, "amount")
    currency = money.check_currency(require_str(params, "currency"))
    _check_amount(amount, currency)
    customer = _customer_or_none(store, params)
    if get_enum(params, "capture_method", ("automatic", "automatic_async", "manual")) == "manual":
        raise invalid_request(
            "The sandbox does not support capture_method=manual.", param="capture_method"
        )
    confirm = bool(get_bool(params, "confirm", False))
    off_session = get_bool(params, "off_session")
    if off_session is not None and not confirm:
        raise invalid_request(
            "You can only pass `off_session` when `confirm` is true.", param="off_session"
        )
    automatic = _automatic_payment_methods(params)
    types = (
        account_method_types(
            params, currency, what="payment", redirects=automatic["allow_redirects"] == "always"
        )
        if automatic
        else _payment_method_types(params)
    )
    pi = new_payment_intent(
        store,
        amount=amount,
        currency=currency,
        customer=customer["id"] if customer else None,
        description=get_str(params, "description"),
        payment_method_types=types,
    )
    pi["automatic_payment_methods"] = automatic
    try:
        _apply_updates(store, pi, params)
    except Exception:
        store.remove("payment_intents", pi["id"])
        raise
    if pi["payment_method"] and not confirm:
        pi["status"] = "requires_confirmation"
    store.emit("payment_intent.created", "payment_intents", pi)
    if confirm:
        _require_return_url(pi, params, bool(off_session))
        payments.confirm_payment(
            store,
            pi,
            off_session=bool(off_session),
            return_url=get_str(params, "return_url"),
        )
    return store.render("payment_intents", pi)


def _require_return_url(pi: JSON, params: Params, off_session: bool) -> None:
    """Stripe refuses to confirm a PaymentIntent on automatic payment methods without a
    `return_url` (some of the account's methods may need a full-page redirect), unless it is
    off session or was created with `allow_redirects=never` (changelog 2023-08-16)."""
    automatic = pi["automatic_payment_methods"]
    if not automatic or automatic.get("allow_redirects") == "never" or off_session:
        return
    if get_str(params, "return_url"):
        return
    raise invalid_request(
        "A `return_url` must be specified because this Payment Intent is configured to "
        "automatically accept the payment methods enabled in the Dashboard, some of which may "
        "require a full page redirect to succeed. If you do not want to accept redirect-based "
        "payment methods, set `automatic_payment_methods[enabled]` to `true` and "
        "`automatic_payment_methods[allow_redirects]` to `never` when creating Setup Intents "
        "and Payment Intents."
    )


def _apply_updates(store: Store, pi: JSON, params: Params) -> None:
    if "customer" in params:
        customer = _customer_or_none(store, params)
        pi["customer"] = customer["id"] if customer else None
    if "amount" in params:
        amount = require_int(params, "amount")
        _check_amount(amount, pi["currency"])
        pi["amount"] = amount
    if "currency" in params:
        pi["currency"] = money.check_currency(require_str(params, "currency"))
        _check_amount(pi["amount"], pi["currency"])
    if {"allowed_payment_method_types", "excluded_payment_method_types"} & params.keys():
        pi["payment_method_types"] = (
            account_method_types(
                params,
                pi["currency"],
                what="payment",
                redirects=pi["automatic_payment_methods"]["allow_redirects"] == "always",
            )
            if pi["automatic_payment_methods"]
            else _payment_method_types(params)
        )
    for field in ("description", "receipt_email", "statement_descriptor",
                  "statement_descriptor_suffix"):  # fmt: skip
        if field in params:
            pi[field] = get_str(params, field)
    if "setup_future_usage" in params:
        pi["setup_future_usage"] = get_enum(
            params, "setup_future_usage", ("off_session", "on_session")
        )
    if get_str(params, "payment_method"):
        use_payment_method(store, pi, require_str(params, "payment_method"))
    apply_metadata(pi, params)


def retrieve_payment_intent(call: ApiRequest) -> JSON:
    pi = call.store.require("payment_intents", call.path_id("intent"), "payment_intent")
    return call.store.render("payment_intents", pi)


def update_payment_intent(call: ApiRequest) -> JSON:
    store = call.store
    pi = store.require("payment_intents", call.path_id("intent"), "payment_intent")
    money_fields = {"amount", "currency", "payment_method", "customer",
                    "allowed_payment_method_types", "excluded_payment_method_types"}  # fmt: skip
    if pi["status"] not in _UPDATABLE and money_fields & call.params.keys():
        raise invalid_request(
            f"This PaymentIntent's {', '.join(sorted(money_fields & call.params.keys()))} could "
            f"not be updated because it has a status of {pi['status']}. You may only update "
            "these fields of a PaymentIntent with one of the following statuses: "
            + ", ".join(_UPDATABLE)
            + ".",
            code="payment_intent_unexpected_state",
        )
    if store.secret(pi["id"]).get("invoice") and money_fields & call.params.keys():
        raise invalid_request(
            "You cannot update the amount or payment details of a PaymentIntent created by an "
            "invoice; pay the invoice instead.",
            code="payment_intent_invalid_parameter",
        )
    before = store.render("payment_intents", pi)
    _apply_updates(store, pi, call.params)
    if "amount" in call.params and pi["amount"] != before["amount"]:
        # A partly funded bank transfer's money goes back to the cash balance (Stripe's
        # "Accept a bank transfer": "When you change the amount of a partially funded
        # PaymentIntent, the funds are returned to the customer balance").
        cash_balance.return_funds(store, pi)
    if pi["status"] == "requires_payment_method" and pi["payment_method"]:
        pi["status"] = "requires_confirmation"
    # Stripe has no `payment_intent.updated` event (the SDK's list of event types): an update
    # is announced by nothing, but search sees the new state.
    store.remember_for_search("payment_intents", pi)
    return store.render("payment_intents", pi)


def confirm_payment_intent(call: ApiRequest) -> JSON:
    store, params = call.store, call.params
    pi = store.require("payment_intents", call.path_id("intent"), "payment_intent")
    if pi["status"] not in _UPDATABLE:
        raise invalid_request(
            f"You cannot confirm this PaymentIntent because it has a status of {pi['status']}.",
            code="payment_intent_unexpected_state",
            param=None,
        )
    if get_str(params, "payment_method"):
        use_payment_method(store, pi, require_str(params, "payment_method"))
    if "setup_future_usage" in params:
        pi["setup_future_usage"] = get_enum(
            params, "setup_future_usage", ("off_session", "on_session")
        )
    off_session = bool(get_bool(params, "off_session", False))
    _require_return_url(pi, params, off_session)
    payments.confirm_payment(
        store,
        pi,
        off_session=off_session,
        return_url=get_str(params, "return_url"),
        for_invoice=bool(store.secret(pi["id"]).get("invoice")),
    )
    return store.render("payment_intents", pi)


def cancel_payment_intent(call: ApiRequest) -> JSON:
    store = call.store
    pi = store.require("payment_intents", call.path_id("intent"), "payment_intent")
    if store.secret(pi["id"]).get("invoice"):
        raise invalid_request(
            "You cannot cancel this PaymentIntent because it was created by an invoice.",
            code="payment_intent_unexpected_state",
        )
    if pi["status"] not in _CANCELABLE:
        raise invalid_request(
            f"You cannot cancel this PaymentIntent because it has a status of {pi['status']}. "
            "Only a PaymentIntent with one of the following statuses may be canceled: "
            + ", ".join(_CANCELABLE)
            + ".",
            code="payment_intent_unexpected_state",
        )
    reason = get_enum(
        call.params,
        "cancellation_reason",
        ("duplicate", "fraudulent", "requested_by_customer", "abandoned"),
    )
    payments.cancel_payment(store, pi, reason)
    return store.render("payment_intents", pi)


def list_payment_intents(call: ApiRequest) -> JSON:
    params = call.params
    customer = get_str(params, "customer")
    items = [
        pi
        for pi in call.store.values("payment_intents")
        if (customer is None or pi["customer"] == customer)
        and matches_range(pi["created"], params.get("created"), "created")
    ]
    return list_object(
        call.store, "payment_intents", newest_first(items), params, "/v1/payment_intents"
    )


search_payment_intents = searcher("payment_intents", PI_SEARCH_FIELDS, "/v1/payment_intents/search")


# -- setup intents -----------------------------------------------------------------------------


def new_setup_intent(
    store: Store, customer: str | None, types: list[str], usage: str = "off_session"
) -> JSON:
    seti_id = ids.new_id("seti")
    seti: JSON = {
        "id": seti_id,
        "object": "setup_intent",
        "allowed_payment_method_types": None,
        "application": None,
        "attach_to_self": None,
        "automatic_payment_methods": None,
        "cancellation_reason": None,
        "client_secret": ids.client_secret(seti_id),
        "created": store.now(),
        "customer": customer,
        "customer_account": None,
        "description": None,
        "excluded_payment_method_types": None,
        "flow_directions": None,
        "last_setup_error": None,
        "latest_attempt": None,
        "livemode": False,
        "managed_payments": None,
        "mandate": None,
        "metadata": {},
        "next_action": None,
        "on_behalf_of": None,
        "payment_method": None,
        "payment_method_configuration_details": None,
        "payment_method_options": {},
        "payment_method_types": types,
        "single_use_mandate": None,
        "status": "requires_payment_method",
        "usage": usage,
    }
    store.insert("setup_intents", seti)
    return seti


def create_setup_intent(call: ApiRequest) -> JSON:
    store, params = call.store, call.params
    customer = _customer_or_none(store, params)
    usage = get_enum(params, "usage", ("off_session", "on_session"), "off_session")
    assert usage is not None
    automatic = _automatic_payment_methods(params)
    types = (
        account_method_types(params, None, what="setup", paying=False)
        if automatic
        else _payment_method_types(params)
    )
    seti = new_setup_intent(store, customer["id"] if customer else None, types, usage)
    seti["automatic_payment_methods"] = automatic
    seti["description"] = get_str(params, "description")
    apply_metadata(seti, params)
    try:
        if get_str(params, "payment_method"):
            use_payment_method(store, seti, require_str(params, "payment_method"))
            seti["status"] = "requires_confirmation"
    except Exception:
        store.remove("setup_intents", seti["id"])
        raise
    store.emit("setup_intent.created", "setup_intents", seti)
    if get_bool(params, "confirm", False):
        _confirm_setup(store, seti, params)
    return store.render("setup_intents", seti)


def _confirm_setup(store: Store, seti: JSON, params: Params) -> None:
    return_url = get_str(params, "return_url")
    if return_url:
        store.secret(seti["id"])["return_url"] = return_url
    payments.confirm_setup(store, seti)


def retrieve_setup_intent(call: ApiRequest) -> JSON:
    seti = call.store.require("setup_intents", call.path_id("intent"), "setup_intent")
    return call.store.render("setup_intents", seti)


def update_setup_intent(call: ApiRequest) -> JSON:
    store, params = call.store, call.params
    seti = store.require("setup_intents", call.path_id("intent"), "setup_intent")
    if "description" in params:
        seti["description"] = get_str(params, "description")
    if get_str(params, "payment_method"):
        use_payment_method(store, seti, require_str(params, "payment_method"))
        seti["status"] = "requires_confirmation"
    apply_metadata(seti, params)
    return store.render("setup_intents", seti)


def confirm_setup_intent(call: ApiRequest) -> JSON:
    store, params = call.store, call.params
    seti = store.require("setup_intents", call.path_id("intent"), "setup_intent")
    if seti["status"] not in _UPDATABLE:
        raise invalid_request(
            f"You cannot confirm this SetupIntent because it has a status of {seti['status']}.",
            code="setup_intent_unexpected_state",
        )
    if get_str(params, "payment_method"):
        use_payment_method(store, seti, require_str(params, "payment_method"))
    _confirm_setup(store, seti, params)
    return store.render("setup_intents", seti)


def cancel_setup_intent(call: ApiRequest) -> JSON:
    store = call.store
    seti = store.require("setup_intents", call.path_id("intent"), "setup_intent")
    if seti["status"] in ("succeeded", "canceled"):
        raise invalid_request(
            f"You cannot cancel this SetupIntent because it has a status of {seti['status']}.",
            code="setup_intent_unexpected_state",
        )
    seti.update(status="canceled", cancellation_reason=get_str(call.params, "cancellation_reason"))
    store.emit("setup_intent.canceled", "setup_intents", seti)
    return store.render("setup_intents", seti)


def list_setup_intents(call: ApiRequest) -> JSON:
    params = call.params
    customer = get_str(params, "customer")
    pm = get_str(params, "payment_method")
    items = [
        seti
        for seti in call.store.values("setup_intents")
        if (customer is None or seti["customer"] == customer)
        and (pm is None or seti["payment_method"] == pm)
    ]
    return list_object(
        call.store, "setup_intents", newest_first(items), params, "/v1/setup_intents"
    )


# -- charges -----------------------------------------------------------------------------------


def retrieve_charge(call: ApiRequest) -> JSON:
    charge = call.store.require("charges", call.path_id("charge"), "charge")
    return call.store.render("charges", charge)


def list_charges(call: ApiRequest) -> JSON:
    params = call.params
    customer = get_str(params, "customer")
    payment_intent = get_str(params, "payment_intent")
    items = [
        charge
        for charge in call.store.values("charges")
        if (customer is None or charge["customer"] == customer)
        and (payment_intent is None or charge["payment_intent"] == payment_intent)
        and matches_range(charge["created"], params.get("created"), "created")
    ]
    return list_object(call.store, "charges", newest_first(items), params, "/v1/charges")
