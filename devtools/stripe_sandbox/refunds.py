"""Refunds (/v1/refunds) of succeeded payments, whole or in part.

A refund names a PaymentIntent or a Charge (not both), defaults to what is left to refund, and
is refused beyond that. Cards and iDEAL refunds succeed at once; a SEPA debit's refund is
`pending` first in real Stripe, which the sandbox does not model (it succeeds too). Refunding
a payment does not change the invoice it paid: Stripe leaves the invoice `paid` (a credit
note records a refund against an invoice; the sandbox has after-payment credit notes not).
"""

from __future__ import annotations

from stripe_sandbox import ids, money
from stripe_sandbox.api import ApiRequest
from stripe_sandbox.errors import invalid_request, no_such
from stripe_sandbox.listing import list_object, newest_first
from stripe_sandbox.params import apply_metadata, get_enum, get_int, get_str
from stripe_sandbox.store import JSON, Store

REASONS = ("duplicate", "fraudulent", "requested_by_customer")


def _charge_of(store: Store, payment_intent: str | None, charge_id: str | None) -> JSON:
    if payment_intent and charge_id:
        raise invalid_request(
            "You cannot specify both a charge and a payment_intent.", param="payment_intent"
        )
    if charge_id:
        return store.require("charges", charge_id, "charge", "charge")
    if not payment_intent:
        raise invalid_request(
            "One of the following params should be provided for this request: payment_intent "
            "or charge.",
        )
    pi = store.require("payment_intents", payment_intent, "payment_intent", "payment_intent")
    charge = store.get("charges", pi["latest_charge"] or "")
    if pi["status"] != "succeeded" or charge is None or charge["status"] != "succeeded":
        raise invalid_request(
            f"This PaymentIntent ({pi['id']}) does not have a successful charge to refund.",
            param="payment_intent",
            code="charge_not_refundable",
        )
    return charge


def create_refund(call: ApiRequest) -> JSON:
    store, params = call.store, call.params
    charge = _charge_of(store, get_str(params, "payment_intent"), get_str(params, "charge"))
    if charge["status"] != "succeeded":
        raise invalid_request(
            f"Charge {charge['id']} has not succeeded and cannot be refunded.",
            param="charge",
            code="charge_not_refundable",
        )
    left = charge["amount_captured"] - charge["amount_refunded"]
    if left <= 0:
        raise invalid_request(
            f"Charge {charge['id']} has already been refunded.", code="charge_already_refunded"
        )
    amount = get_int(params, "amount")
    if amount is None:
        amount = left
    if amount <= 0:
        raise invalid_request("Invalid positive integer", param="amount")
    if amount > left:
        raise invalid_request(
            f"Refund amount ({money.format_amount(amount, charge['currency'])}) is greater than "
            f"unrefunded amount on charge ({money.format_amount(left, charge['currency'])})",
            param="amount",
        )
    refund: JSON = {
        "id": ids.new_id("re"),
        "object": "refund",
        "amount": amount,
        "balance_transaction": None,
        "charge": charge["id"],
        "created": store.now(),
        "currency": charge["currency"],
        "customer": charge["customer"],
        "customer_account": None,
        "description": None,
        "destination_details": None,
        "failure_balance_transaction": None,
        "failure_reason": None,
        "instructions_email": None,
        "metadata": {},
        "next_action": None,
        "payment_intent": charge["payment_intent"],
        "payment_method": charge["payment_method"],
        "pending_reason": None,
        "presentment_details": None,
        "reason": get_enum(params, "reason", REASONS),
        "receipt_number": None,
        "source_transfer_reversal": None,
        "status": "succeeded",
        "transfer_reversal": None,
    }
    apply_metadata(refund, params)
    store.insert("refunds", refund)
    charge["amount_refunded"] += amount
    charge["refunded"] = charge["amount_refunded"] == charge["amount_captured"]
    store.emit("refund.created", "refunds", refund)
    store.emit("charge.refunded", "charges", charge)
    return store.render("refunds", refund)


def retrieve_refund(call: ApiRequest) -> JSON:
    refund = call.store.require("refunds", call.path_id("refund"), "refund")
    return call.store.render("refunds", refund)


def list_refunds(call: ApiRequest) -> JSON:
    params = call.params
    filters = {key: get_str(params, key) for key in ("charge", "payment_intent")}
    items = [
        refund
        for refund in call.store.values("refunds")
        if all(value is None or refund.get(key) == value for key, value in filters.items())
    ]
    wanted = filters["payment_intent"]
    if wanted and not items and call.store.get("payment_intents", wanted) is None:
        raise no_such("payment_intent", wanted, "payment_intent")
    return list_object(call.store, "refunds", newest_first(items), params, "/v1/refunds")
