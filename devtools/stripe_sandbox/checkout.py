"""Checkout Sessions (/v1/checkout/sessions) in `setup` and `payment` mode, and what completing
one on the sandbox's hosted page does: a PaymentMethod from the chosen test card or IBAN, a
SetupIntent or PaymentIntent confirmed with it, the session `complete` and
`checkout.session.completed` emitted. A bank transfer completes the session unpaid, its
PaymentIntent waiting for the money (`checkout.session.async_payment_succeeded` when it is
there). The page itself lives in `pages.py`.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from stripe_sandbox import (
    bank_transfers,
    cash_balance,
    ids,
    intents,
    money,
    payment_methods,
    payments,
)
from stripe_sandbox.api import ApiRequest
from stripe_sandbox.errors import StripeError, invalid_request, missing_param, no_such
from stripe_sandbox.listing import list_object, newest_first
from stripe_sandbox.params import (
    Params,
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

SESSION_LIFETIME_S = 24 * 60 * 60
MIN_LIFETIME_S = 30 * 60  # the shortest `expires_at` Stripe accepts
PLACEHOLDER = "{CHECKOUT_SESSION_ID}"


def _line_items(params: Params) -> list[JSON]:
    items = get_list(params, "line_items") or []
    result = []
    for index, item in enumerate(items):
        param = f"line_items[{index}]"
        if not isinstance(item, dict):
            raise invalid_request(f"Invalid hash: {param}", param=param)
        if item.get("price"):
            raise invalid_request(
                "The sandbox has no Prices; use line_items[][price_data] instead.",
                param=f"{param}[price]",
            )
        price_data = item.get("price_data")
        if not isinstance(price_data, dict):
            raise missing_param(f"{param}[price_data]")
        currency = money.check_currency(
            str(price_data.get("currency") or ""), f"{param}[price_data][currency]"
        )
        unit = get_int(price_data, "unit_amount")
        if unit is None:
            raise missing_param(f"{param}[price_data][unit_amount]")
        quantity = get_int(item, "quantity") or 1
        product = price_data.get("product_data") or {}
        name = product.get("name") if isinstance(product, dict) else None
        if not name:
            raise missing_param(f"{param}[price_data][product_data][name]")
        result.append(
            {
                "id": ids.new_id("li"),
                "object": "item",
                "amount_discount": 0,
                "amount_subtotal": unit * quantity,
                "amount_tax": 0,
                "amount_total": unit * quantity,
                "currency": currency,
                "description": name,
                "price": {
                    "id": ids.new_id("price"),
                    "object": "price",
                    "active": False,
                    "currency": currency,
                    "product": ids.new_id("prod"),
                    "type": "one_time",
                    "unit_amount": unit,
                    "unit_amount_decimal": str(unit),
                },
                "quantity": quantity,
            }
        )
    return result


def create_session(call: ApiRequest) -> JSON:
    store, params = call.store, call.params
    mode = get_enum(params, "mode", ("payment", "setup", "subscription"))
    if mode is None:
        raise missing_param("mode")
    if mode == "subscription":
        raise invalid_request("The sandbox does not support subscription mode.", param="mode")
    success_url = require_str(params, "success_url")
    customer_id = get_str(params, "customer")
    if customer_id is not None and store.get("customers", customer_id) is None:
        raise no_such("customer", customer_id, "customer")
    items = _line_items(params)
    currency = get_str(params, "currency")
    total: int | None = None
    if mode == "payment":
        if not items:
            raise missing_param("line_items")
        currencies = {item["currency"] for item in items}
        if len(currencies) > 1:
            raise invalid_request("All line items must use the same currency.", param="line_items")
        currency = currencies.pop()
        total = sum(item["amount_total"] for item in items)
        error = money.charge_amount_error(total, currency, "line_items")
        if error is not None:
            raise error
    elif items:
        raise invalid_request("line_items cannot be used in setup mode.", param="line_items")
    now = store.now()
    expires_at = get_int(params, "expires_at")
    if expires_at is not None and not (
        now + MIN_LIFETIME_S <= expires_at <= now + SESSION_LIFETIME_S
    ):
        raise invalid_request(
            "The `expires_at` timestamp must be between 30 minutes and 24 hours from Checkout "
            "Session creation.",
            param="expires_at",
        )
    # Bank transfers need a customer to reconcile against (docs.stripe.com/payments/
    # bank-transfers, "Checkout requirement") and a currency the account takes them in.
    bank_transfer = (
        mode == "payment"
        and customer_id is not None
        and bank_transfers.transfer_type_for(currency, store.config.account_country) is not None
    )
    types = intents.account_method_types(
        params, currency, what="Checkout Session", paying=mode == "payment",
        bank_transfer=bank_transfer,
    )  # fmt: skip
    method_options: JSON = {}
    if "customer_balance" in types:
        given = (get_dict(params, "payment_method_options") or {}).get("customer_balance")
        options = bank_transfers.parse_options(
            given, currency, store.config.account_country,
            "payment_method_options[customer_balance]", default_country=True,
        )  # fmt: skip
        method_options["customer_balance"] = options.as_json() | {"setup_future_usage": None}
    session_id = ids.checkout_session_id()
    session: JSON = {
        "id": session_id,
        "object": "checkout.session",
        "adaptive_pricing": {"enabled": False},
        "after_expiration": None,
        "allow_promotion_codes": None,
        "allowed_payment_method_types": get_str_list(params, "allowed_payment_method_types"),
        "amount_subtotal": total,
        "amount_total": total,
        "automatic_tax": {"enabled": False, "liability": None, "provider": None, "status": None},
        "billing_address_collection": None,
        "branding_settings": None,
        "cancel_url": get_str(params, "cancel_url"),
        "client_reference_id": get_str(params, "client_reference_id"),
        "client_secret": None,
        "collected_information": None,
        "consent": None,
        "consent_collection": None,
        "created": now,
        "currency": currency.lower() if currency else None,
        "currency_conversion": None,
        "custom_fields": [],
        "custom_text": {"after_submit": None, "shipping_address": None, "submit": None,
                        "terms_of_service_acceptance": None},
        "customer": customer_id,
        "customer_account": None,
        "customer_creation": None,
        "customer_details": None,
        "customer_email": get_str(params, "customer_email"),
        "discounts": [],
        "excluded_payment_method_types": get_str_list(params, "excluded_payment_method_types"),
        "expires_at": expires_at or now + SESSION_LIFETIME_S,
        "integration_identifier": None,
        "invoice": None,
        "invoice_creation": None,
        "livemode": False,
        "locale": get_str(params, "locale"),
        "managed_payments": None,
        "metadata": {},
        "mode": mode,
        "name_collection": None,
        "optional_items": None,
        "origin_context": None,
        "payment_intent": None,
        "payment_link": None,
        "payment_method_collection": "always",
        "payment_method_configuration_details": None,
        "payment_method_options": method_options,
        "payment_method_types": types,
        "payment_status": "unpaid" if mode == "payment" else "no_payment_required",
        "permissions": None,
        "phone_number_collection": {"enabled": False},
        "presentment_details": None,
        "recovered_from": None,
        "redirect_on_completion": None,
        "return_url": None,
        "saved_payment_method_options": None,
        "setup_intent": None,
        "shipping_address_collection": None,
        "shipping_cost": None,
        "shipping_options": [],
        "status": "open",
        "submit_type": None,
        "subscription": None,
        "success_url": success_url,
        "tax_id_collection": {"enabled": False, "required": "never"},
        "total_details": {"amount_discount": 0, "amount_shipping": 0, "amount_tax": 0}
        if mode == "payment"
        else None,
        "ui_mode": "hosted",
        "url": f"{store.surface_url('checkout')}/c/pay/{session_id}",
        "wallet_options": None,
    }  # fmt: skip
    apply_metadata(session, params)
    secret = store.secret(session_id)
    secret["line_items"] = items
    secret["payment_intent_data"] = get_dict(params, "payment_intent_data") or {}
    secret["setup_intent_data"] = get_dict(params, "setup_intent_data") or {}
    store.insert("checkout_sessions", session)
    return store.render("checkout_sessions", session)


def retrieve_session(call: ApiRequest) -> JSON:
    session = call.store.require("checkout_sessions", call.path_id("session"), "checkout.session")
    return call.store.render("checkout_sessions", session)


def expire_session(call: ApiRequest) -> JSON:
    store = call.store
    session = store.require("checkout_sessions", call.path_id("session"), "checkout.session")
    if session["status"] != "open":
        raise invalid_request(
            f"Only Checkout Sessions with a status of open can be expired; this one is "
            f"{session['status']}."
        )
    expire(store, session)
    return store.render("checkout_sessions", session)


def expire(store: Store, session: JSON) -> None:
    session.update(status="expired", url=None)
    store.emit("checkout.session.expired", "checkout_sessions", session)


def list_sessions(call: ApiRequest) -> JSON:
    params = call.params
    filters = {key: get_str(params, key) for key in ("customer", "payment_intent", "status")}
    items = [
        session
        for session in call.store.values("checkout_sessions")
        if all(value is None or session.get(key) == value for key, value in filters.items())
    ]
    return list_object(
        call.store, "checkout_sessions", newest_first(items), params, "/v1/checkout/sessions"
    )


def list_line_items(call: ApiRequest) -> JSON:
    session = call.store.require("checkout_sessions", call.path_id("session"), "checkout.session")
    items = call.store.secret(session["id"]).get("line_items", [])
    return list_object(
        call.store, "line_items", items, call.params,
        f"/v1/checkout/sessions/{session['id']}/line_items", render=dict,
    )  # fmt: skip


# -- completing a session on the hosted page ---------------------------------------------------


@dataclass
class Result:
    """What the page does next: go to `redirect`, or show the page again with `error`."""

    redirect: str | None = None
    error: str | None = None


def success_url(session: JSON) -> str:
    return str(session["success_url"]).replace(PLACEHOLDER, session["id"])


def submit(store: Store, session: JSON, form: dict[str, str]) -> Result:
    if session["status"] != "open" or session["expires_at"] < store.now():
        return Result(error="This Checkout Session is no longer open.")
    method = form.get("method", "card")
    if method not in session["payment_method_types"]:
        return Result(error="That payment method is not offered in this session.")
    name = form.get("name") or None
    email = form.get("email") or session.get("customer_email") or None
    details: dict[str, Any] = {"name": name, "email": email}
    pm: JSON | None = None
    try:
        if method == "customer_balance":
            pass  # paid from the cash balance, by a transfer to come
        elif method == "sepa_debit":
            pm = payment_methods.new_sepa_debit(store, form.get("iban", ""), details)
        elif method == "ideal":
            pm = payment_methods.new_ideal(store, form.get("ideal_bank") or None, details)
        else:
            card = payment_methods.resolve(store, form.get("card") or "pm_card_visa", "card")
            card["billing_details"].update(name=name, email=email)
            pm = card
    except StripeError as error:
        return Result(error=error.message)
    store.secret(session["id"])["customer_details"] = details
    return_url = f"{store.surface_url('checkout')}/c/pay/{session['id']}/return"
    try:
        if session["mode"] == "setup":
            intent = _setup(store, session, pm, return_url)
        else:
            intent = _pay(store, session, pm, return_url)
    except StripeError as error:
        return Result(error=error.message)
    return _after_confirmation(store, session, intent)


def _setup(store: Store, session: JSON, pm: JSON | None, return_url: str) -> JSON:
    assert pm is not None
    data = store.secret(session["id"])["setup_intent_data"]
    seti = intents.new_setup_intent(store, session["customer"], session["payment_method_types"])
    seti["description"] = data.get("description") or None
    apply_metadata(seti, data)
    seti["payment_method"] = pm["id"]
    seti["status"] = "requires_confirmation"
    session["setup_intent"] = seti["id"]
    store.secret(seti["id"])["return_url"] = return_url
    store.emit("setup_intent.created", "setup_intents", seti)
    payments.confirm_setup(store, seti)
    return seti


def _pay(store: Store, session: JSON, pm: JSON | None, return_url: str) -> JSON:
    data = store.secret(session["id"])["payment_intent_data"]
    pi = intents.new_payment_intent(
        store,
        amount=session["amount_total"],
        currency=session["currency"],
        customer=session["customer"],
        description=data.get("description") or None,
        payment_method_types=session["payment_method_types"],
    )
    apply_metadata(pi, data)
    if data.get("setup_future_usage") in ("off_session", "on_session"):
        pi["setup_future_usage"] = data["setup_future_usage"]
    session["payment_intent"] = pi["id"]
    store.secret(pi["id"])["checkout_session"] = session["id"]
    if pm is None:
        options = bank_transfers.Options.from_json(
            session["payment_method_options"]["customer_balance"]
        )
        store.emit("payment_intent.created", "payment_intents", pi)
        cash_balance.await_transfer(store, pi, options, bank_transfers.new_reference())
        return pi
    pi["payment_method"] = pm["id"]
    pi["status"] = "requires_confirmation"
    store.emit("payment_intent.created", "payment_intents", pi)
    payments.confirm_payment(store, pi, off_session=False, return_url=return_url)
    return pi


def _after_confirmation(store: Store, session: JSON, intent: JSON) -> Result:
    status = intent["status"]
    next_action = intent.get("next_action") or {}
    if next_action.get("type") == "display_bank_transfer_instructions":
        # Complete but unpaid until the money arrives; the customer is sent to the transfer's
        # instructions rather than to `success_url` (Stripe's "Accept a bank transfer").
        _complete(store, session, paid=False)
        return Result(redirect=next_action["display_bank_transfer_instructions"]
                      ["hosted_instructions_url"])  # fmt: skip
    if status == "requires_action":
        return Result(redirect=next_action["redirect_to_url"]["url"])
    if status in ("succeeded", "processing"):
        _complete(store, session, paid=status == "succeeded")
        return Result(redirect=success_url(session))
    error = intent.get("last_payment_error") or intent.get("last_setup_error") or {}
    return Result(error=error.get("message") or "The payment could not be completed.")


def resume(store: Store, session: JSON) -> Result:
    """Back from the 3-D Secure page: finish the session if the intent got through."""
    if session["status"] == "complete":
        return Result(redirect=success_url(session))
    intent_id = session["setup_intent"] if session["mode"] == "setup" else session["payment_intent"]
    collection = "setup_intents" if session["mode"] == "setup" else "payment_intents"
    intent = store.get(collection, intent_id) if intent_id else None
    if intent is None:
        return Result(error="Nothing to resume.")
    return _after_confirmation(store, session, intent)


def _complete(store: Store, session: JSON, paid: bool) -> None:
    details = store.secret(session["id"]).get("customer_details") or {}
    customer = store.get("customers", session["customer"]) if session["customer"] else None
    session["customer_details"] = {
        "address": customer["address"] if customer else None,
        "business_name": None,
        "email": details.get("email") or (customer or {}).get("email"),
        "individual_name": None,
        "name": details.get("name") or (customer or {}).get("name"),
        "phone": None,
        "tax_exempt": "none",
        "tax_ids": [],
    }
    session["status"] = "complete"
    session["url"] = None
    if session["mode"] == "payment":
        session["payment_status"] = "paid" if paid else "unpaid"
    store.emit("checkout.session.completed", "checkout_sessions", session)


def _on_async_payment(succeeded: bool) -> payments.PaymentHook:
    def hook(store: Store, pi: JSON) -> None:
        session_id = store.secret(pi["id"]).get("checkout_session")
        session = store.get("checkout_sessions", session_id) if session_id else None
        if (
            session is None
            or session["status"] != "complete"
            or session["payment_status"] == "paid"
        ):
            return
        if succeeded:
            session["payment_status"] = "paid"
            store.emit("checkout.session.async_payment_succeeded", "checkout_sessions", session)
        else:
            store.emit("checkout.session.async_payment_failed", "checkout_sessions", session)

    return hook


# A SEPA debit completes the session while still `processing`; its settling comes later.
payments.PAYMENT_HOOKS.succeeded.append(_on_async_payment(True))
payments.PAYMENT_HOOKS.failed.append(_on_async_payment(False))
