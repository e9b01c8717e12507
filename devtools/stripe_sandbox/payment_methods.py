"""Payment methods made from Stripe's test cards and test IBANs: create, attach, detach, list.

A test token id (`pm_card_visa`, `pm_card_chargeDeclined`, …) may be used wherever a payment
method id is expected: as at Stripe, each use creates a new `pm_…` object with that card's details.
"""

from __future__ import annotations

import datetime
from typing import Any

from stripe_sandbox import ids, instruments
from stripe_sandbox.api import ApiRequest
from stripe_sandbox.errors import StripeError, invalid_request, missing_param, no_such
from stripe_sandbox.instruments import CardProfile
from stripe_sandbox.listing import list_object, newest_first
from stripe_sandbox.params import (
    ADDRESS_FIELDS,
    Params,
    apply_metadata,
    get_dict,
    get_enum,
    get_int,
    get_str,
    require_str,
)
from stripe_sandbox.store import JSON, Store

TYPES = ("card", "sepa_debit", "ideal")


def _billing_details(value: Any = None) -> JSON:
    details: JSON = {
        "address": {field: None for field in ADDRESS_FIELDS},
        "email": None,
        "name": None,
        "phone": None,
        "tax_id": None,
    }
    if isinstance(value, dict):
        _merge_billing_details(details, value)
    return details


def _merge_billing_details(details: JSON, value: dict[str, Any]) -> None:
    for field in ("email", "name", "phone", "tax_id"):
        if field in value:
            details[field] = value[field] or None
    if "address" in value:
        given = value["address"]
        if given == "":
            details["address"] = {field: None for field in ADDRESS_FIELDS}
        elif isinstance(given, dict):
            for field in ADDRESS_FIELDS:
                if field in given:
                    details["address"][field] = given[field] or None


def _base(store: Store, pm_type: str, billing_details: Any, metadata: Params | None) -> JSON:
    pm: JSON = {
        "id": ids.new_id("pm"),
        "object": "payment_method",
        "allow_redisplay": "unspecified",
        "billing_details": _billing_details(billing_details),
        "created": store.now(),
        "customer": None,
        "customer_account": None,
        "livemode": False,
        "metadata": {},
        "radar_options": None,
        "type": pm_type,
    }
    if metadata:
        apply_metadata(pm, metadata)
    return pm


def new_card(
    store: Store,
    card: CardProfile,
    billing_details: Any = None,
    metadata: Params | None = None,
) -> JSON:
    today = datetime.datetime.fromtimestamp(store.now(), datetime.UTC)
    pm = _base(store, "card", billing_details, metadata)
    pm["card"] = {
        "brand": card.brand,
        "checks": {
            "address_line1_check": None,
            "address_postal_code_check": None,
            "cvc_check": "pass",
        },
        "country": card.country,
        "display_brand": card.display_brand,
        "exp_month": today.month,
        "exp_year": today.year + 3,
        "fingerprint": card.fingerprint,
        "funding": card.funding,
        "generated_from": None,
        "last4": card.last4,
        "networks": {"available": [card.brand], "preferred": None},
        "regulated_status": "unregulated",
        "three_d_secure_usage": {"supported": True},
        "wallet": None,
    }
    store.insert("payment_methods", pm)
    store.secret(pm["id"])["card_number"] = card.number
    return pm


def new_sepa_debit(
    store: Store, iban: str, billing_details: Any, metadata: Params | None = None
) -> JSON:
    text = instruments.normalize_iban(iban)
    if text not in instruments.IBANS and not instruments.iban_is_valid(text):
        raise invalid_request(
            f"The IBAN you provided ({iban}) is invalid.",
            param="sepa_debit[iban]",
            code="invalid_bank_account_iban",
        )
    details = billing_details if isinstance(billing_details, dict) else {}
    for field in ("name", "email"):
        if not details.get(field):
            raise missing_param(f"billing_details[{field}]")
    pm = _base(store, "sepa_debit", billing_details, metadata)
    pm["sepa_debit"] = {
        "bank_code": text[4:12] if text.startswith("DE") else text[4:9],
        "branch_code": "",
        "country": text[:2],
        "fingerprint": instruments.fingerprint(text),
        "generated_from": {"charge": None, "setup_attempt": None},
        "last4": text[-4:],
    }
    store.insert("payment_methods", pm)
    store.secret(pm["id"])["iban"] = text
    return pm


# iDEAL banks and their BICs (a part of the list in `PaymentMethod.Ideal.bank`).
IDEAL_BANKS = {
    "abn_amro": "ABNANL2A",
    "asn_bank": "ASNBNL21",
    "bunq": "BUNQNL2A",
    "ing": "INGBNL2A",
    "knab": "KNABNL2H",
    "rabobank": "RABONL2U",
    "sns_bank": "SNSBNL2A",
    "triodos_bank": "TRIONL2U",
}


def new_ideal(store: Store, bank: str | None, billing_details: Any) -> JSON:
    """An iDEAL payment method (used once: the customer confirms at their bank)."""
    if bank is not None and bank not in IDEAL_BANKS:
        raise invalid_request(
            f"Invalid ideal[bank]: must be one of {', '.join(IDEAL_BANKS)}", param="ideal[bank]"
        )
    pm = _base(store, "ideal", billing_details, None)
    pm["ideal"] = {"bank": bank, "bic": IDEAL_BANKS[bank] if bank else None}
    store.insert("payment_methods", pm)
    return pm


def new_customer_balance(store: Store) -> JSON:
    """The payment method Stripe records for money paid from the customer's cash balance."""
    pm = _base(store, "customer_balance", None, None)
    pm["customer_balance"] = {}
    store.insert("payment_methods", pm)
    return pm


def card_profile(store: Store, pm: JSON) -> CardProfile | None:
    number = store.secret(pm["id"]).get("card_number")
    return instruments.CARDS_BY_NUMBER.get(number) if isinstance(number, str) else None


def resolve(store: Store, pm_id: str, param: str = "payment_method") -> JSON:
    """An existing payment method, or a new one made from a test token like `pm_card_visa`."""
    card = instruments.card_for_token(pm_id)
    if card is not None:
        return new_card(store, card)
    pm = store.get("payment_methods", pm_id)
    if pm is None:
        raise no_such("PaymentMethod", pm_id, param)
    return pm


def attach_to_customer(
    store: Store, pm_id: str, customer: JSON, param: str = "payment_method", emit: bool = True
) -> JSON:
    pm = resolve(store, pm_id, param)
    if pm["customer"] == customer["id"]:
        return pm
    if pm["customer"] is not None:
        raise invalid_request(
            "The payment method you provided has already been attached to a customer.",
            param=param,
        )
    if store.secret(pm["id"]).get("detached"):
        raise invalid_request(
            "This PaymentMethod was previously used without being attached to a Customer or "
            "was detached from a Customer, and may not be used again.",
            param=param,
            code="payment_method_unexpected_state",
        )
    pm["customer"] = customer["id"]
    if emit:
        store.emit("payment_method.attached", "payment_methods", pm)
    return pm


def _card_from_params(params: Params) -> CardProfile:
    card = get_dict(params, "card") or {}
    token = card.get("token")
    if token:
        profile = instruments.card_for_token(token)
        if profile is None:
            raise no_such("token", token, "card[token]")
        return profile
    number = "".join(str(card.get("number") or "").split())
    if not number:
        raise missing_param("card[token]")
    profile = instruments.CARDS_BY_NUMBER.get(number)
    if profile is None:
        raise StripeError(
            402,
            "card_error",
            "Your card number is incorrect.",
            code="incorrect_number",
            param="card[number]",
        )
    return profile


# -- handlers ----------------------------------------------------------------------------------


def create_payment_method(call: ApiRequest) -> JSON:
    store, params = call.store, call.params
    pm_type = get_enum(params, "type", TYPES)
    if pm_type is None:
        raise missing_param("type")
    billing = get_dict(params, "billing_details")
    if pm_type == "card":
        pm = new_card(store, _card_from_params(params), billing, params)
        _apply_card_expiry(pm, params)
    elif pm_type == "ideal":
        pm = new_ideal(store, get_str(get_dict(params, "ideal") or {}, "bank"), billing)
        apply_metadata(pm, params)
    else:
        sepa = get_dict(params, "sepa_debit") or {}
        if not sepa.get("iban"):
            raise missing_param("sepa_debit[iban]")
        pm = new_sepa_debit(store, sepa["iban"], billing, params)
    return store.render("payment_methods", pm)


def _apply_card_expiry(pm: JSON, params: Params) -> None:
    card = get_dict(params, "card") or {}
    for field in ("exp_month", "exp_year"):
        if card.get(field):
            value = get_int(card, field)
            assert value is not None
            if field == "exp_month" and not 1 <= value <= 12:
                raise invalid_request(
                    "Your card's expiration month is invalid.",
                    param="card[exp_month]",
                    code="invalid_expiry_month",
                )
            pm["card"][field] = value


def retrieve_payment_method(call: ApiRequest) -> JSON:
    return call.store.render("payment_methods", resolve(call.store, call.path_id("pm"), "id"))


def update_payment_method(call: ApiRequest) -> JSON:
    store, params = call.store, call.params
    pm = resolve(store, call.path_id("pm"), "id")
    before = store.render("payment_methods", pm)
    billing = get_dict(params, "billing_details")
    if billing is not None:
        _merge_billing_details(pm["billing_details"], billing)
    if "card" in params:
        if pm["type"] != "card":
            raise invalid_request("You can only update card details on a card.", param="card")
        _apply_card_expiry(pm, params)
    if "allow_redisplay" in params:
        pm["allow_redisplay"] = get_enum(
            params, "allow_redisplay", ("always", "limited", "unspecified"), "unspecified"
        )
    apply_metadata(pm, params)
    after = store.render("payment_methods", pm)
    previous = {k: before[k] for k in after if before.get(k) != after.get(k)}
    if previous:
        store.emit("payment_method.updated", "payment_methods", pm, previous)
    return after


def attach_payment_method(call: ApiRequest) -> JSON:
    store = call.store
    customer_id = require_str(call.params, "customer")
    customer = store.get("customers", customer_id)
    if customer is None:
        raise no_such("customer", customer_id, "customer")
    found = resolve(store, call.path_id("pm"))
    if found["type"] == "ideal":
        # iDEAL pays once; Stripe saves it for later only as a SEPA Direct Debit mandate.
        raise invalid_request(
            "PaymentMethods of type ideal cannot be attached to a Customer; save a "
            "sepa_debit PaymentMethod generated from an iDEAL payment instead."
        )
    pm = attach_to_customer(store, found["id"], customer, "payment_method")
    return store.render("payment_methods", pm)


def detach_payment_method(call: ApiRequest) -> JSON:
    store = call.store
    pm = resolve(store, call.path_id("pm"), "id")
    customer_id = pm["customer"]
    if customer_id is None:
        raise invalid_request(
            "The payment method you provided is not attached to a customer so detachment is "
            "impossible."
        )
    pm["customer"] = None
    store.secret(pm["id"])["detached"] = True
    customer = store.get("customers", customer_id)
    if customer is not None and customer["invoice_settings"]["default_payment_method"] == pm["id"]:
        previous = {"invoice_settings": dict(customer["invoice_settings"])}
        customer["invoice_settings"]["default_payment_method"] = None
        store.emit("customer.updated", "customers", customer, previous)
    store.emit("payment_method.detached", "payment_methods", pm, {"customer": customer_id})
    return store.render("payment_methods", pm)


def _customer_methods(store: Store, customer_id: str | None, pm_type: str | None) -> list[JSON]:
    return newest_first(
        [
            pm
            for pm in store.values("payment_methods")
            if (
                (customer_id is None and pm["customer"] is not None)
                or pm["customer"] == customer_id
            )
            and (pm_type is None or pm["type"] == pm_type)
        ]
    )


def list_payment_methods(call: ApiRequest) -> JSON:
    params = call.params
    customer_id = get_str(params, "customer")
    if customer_id is not None and call.store.get("customers", customer_id) is None:
        raise no_such("customer", customer_id, "customer")
    items = _customer_methods(call.store, customer_id, get_str(params, "type"))
    return list_object(call.store, "payment_methods", items, params, "/v1/payment_methods")


def list_customer_payment_methods(call: ApiRequest) -> JSON:
    customer_id = call.path_id("customer")
    if call.store.get("customers", customer_id) is None:
        raise no_such("customer", customer_id, "customer")
    items = _customer_methods(call.store, customer_id, get_str(call.params, "type"))
    return list_object(
        call.store, "payment_methods", items, call.params,
        f"/v1/customers/{customer_id}/payment_methods",
    )  # fmt: skip


def retrieve_customer_payment_method(call: ApiRequest) -> JSON:
    pm = call.store.get("payment_methods", call.path_id("pm"))
    if pm is None or pm["customer"] != call.path_id("customer"):
        raise no_such("PaymentMethod", call.path_id("pm"))
    return call.store.render("payment_methods", pm)
