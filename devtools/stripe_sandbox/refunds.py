"""Refunds (/v1/refunds) of succeeded payments, whole or in part, and how they settle.

A refund names a PaymentIntent or a Charge (not both), defaults to what is left to refund, and
is refused beyond that. Most card and iDEAL refunds succeed at once. After the sandbox's
settlement delay (`sepa_settlement_delay_ms`), a SEPA Direct Debit's or `pm_card_pendingRefund`'s
refund goes from `pending` to `succeeded`, and `pm_card_refundFail`'s from `succeeded` to
`failed` (docs.stripe.com/testing, "Simulate an asynchronous refund"), each change emitting
`refund.updated`, `charge.refund.updated` and for a failure `refund.failed`. A pending refund
counts in the charge's `amount_refunded`; a failed or canceled one gives its amount back, as
Stripe returns it to the balance. `/_sandbox/refunds/{id}` moves a refund at once (`move`).
Not modelled: balance transactions (`balance_transaction`, `failure_balance_transaction` stay
null), `requires_action` refunds, and refunds of bank transfers (refused). Refunding a payment leaves the invoice it paid `paid`, as
Stripe does (a credit note records a refund against an invoice; the sandbox has no
after-payment credit notes).
"""

from __future__ import annotations

from typing import Literal

from stripe_sandbox import ids, instruments, money, payment_methods
from stripe_sandbox.api import ApiRequest
from stripe_sandbox.customers import changes
from stripe_sandbox.errors import StripeError, invalid_request, no_such
from stripe_sandbox.instruments import RefundOutcome
from stripe_sandbox.listing import list_object, newest_first
from stripe_sandbox.params import apply_metadata, get_enum, get_int, get_str
from stripe_sandbox.store import JSON, Store

REASONS = ("duplicate", "fraudulent", "requested_by_customer")
# Refund.failure_reason's documented values (the SDK types it as a plain string).
FAILURE_REASONS = (
    "charge_for_pending_refund_disputed", "declined", "expired_or_canceled_card",
    "insufficient_funds", "lost_or_stolen_card", "merchant_request", "unknown",
)  # fmt: skip
# What `pm_card_refundFail` fails with (https://docs.stripe.com/terminal/references/testing).
CARD_FAILURE_REASON = "expired_or_canceled_card"

Status = Literal["succeeded", "failed", "canceled"]
# Where a refund may go from where it is: a pending one settles, fails or is canceled; a
# succeeded one may still fail, as card refunds can in live mode.
MOVES: dict[str, frozenset[str]] = {
    "pending": frozenset({"succeeded", "failed", "canceled"}),
    "succeeded": frozenset({"failed"}),
}


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


def _outcome(store: Store, charge: JSON) -> RefundOutcome:
    """What a refund of this charge does, by what paid it."""
    pm = store.get("payment_methods", charge["payment_method"] or "")
    if pm is None:
        return "succeed"
    if pm["type"] == "sepa_debit":
        return instruments.SEPA_REFUND
    card = payment_methods.card_profile(store, pm) if pm["type"] == "card" else None
    return card.refund if card is not None else "succeed"


# Bank transfer refunds go to the customer's bank once the customer gives its details
# (`requires_action`, then `pending`), or back to the cash balance from the Dashboard; a cash
# balance is refunded with `origin=customer_balance` (docs.stripe.com/payments/customer-balance/
# refunding). None of that is modelled: refused rather than pretended.
NOT_MODELLED = "The sandbox does not refund bank transfers or cash balances."


def create_refund(call: ApiRequest) -> JSON:
    store, params = call.store, call.params
    if get_str(params, "origin") is not None:
        raise invalid_request(NOT_MODELLED, param="origin")
    charge = _charge_of(store, get_str(params, "payment_intent"), get_str(params, "charge"))
    pm = store.get("payment_methods", charge["payment_method"] or "")
    if pm is not None and pm["type"] == "customer_balance":
        raise invalid_request(NOT_MODELLED, param="payment_intent")
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
    outcome = _outcome(store, charge)
    pending = outcome == "pending"
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
        "pending_reason": "processing" if pending else None,
        "presentment_details": None,
        "reason": get_enum(params, "reason", REASONS),
        "receipt_number": None,
        "source_transfer_reversal": None,
        "status": "pending" if pending else "succeeded",
        "transfer_reversal": None,
    }
    apply_metadata(refund, params)
    store.insert("refunds", refund)
    charge["amount_refunded"] += amount
    charge["refunded"] = charge["amount_refunded"] == charge["amount_captured"]
    store.emit("refund.created", "refunds", refund)
    store.emit("charge.refunded", "charges", charge)
    delay = store.config.sepa_settlement_delay_ms
    refund_id = refund["id"]
    if pending:
        store.later(delay, lambda: _settle(store, refund_id, "pending", "succeeded"))
    elif outcome == "fail_later":
        store.later(delay, lambda: _settle(store, refund_id, "succeeded", "failed"))
    return store.render("refunds", refund)


def _settle(store: Store, refund_id: str, expected: str, status: Status) -> None:
    """The bank's answer, unless the refund was moved another way meanwhile."""
    refund = store.get("refunds", refund_id)
    if refund is not None and refund["status"] == expected:
        move(store, refund, status, CARD_FAILURE_REASON if status == "failed" else None)


def refusal(refund: JSON, status: str, failure_reason: str | None) -> StripeError | None:
    """Why `refund` cannot go to `status` (with `failure_reason`), or None if it can."""
    if status not in MOVES.get(refund["status"], frozenset()):
        return invalid_request(f"A {refund['status']} refund cannot become {status}.")
    if failure_reason is not None and status != "failed":
        return invalid_request("failure_reason is only for a refund that failed.")
    if failure_reason is not None and failure_reason not in FAILURE_REASONS:
        return invalid_request(f"failure_reason must be one of {', '.join(FAILURE_REASONS)}.")
    return None


def move(store: Store, refund: JSON, status: Status, failure_reason: str | None = None) -> None:
    """Change a refund's status as its bank's answer would, with Stripe's events; a failed or
    canceled refund gives its amount back to the charge. Check `refusal` first."""
    before = store.render("refunds", refund)
    refund.update(status=status, pending_reason=None)
    if status == "failed":
        refund["failure_reason"] = failure_reason or "unknown"
    if status in ("failed", "canceled"):
        charge = store.get("charges", refund["charge"])
        if charge is not None:
            charge["amount_refunded"] -= refund["amount"]
            charge["refunded"] = charge["amount_refunded"] == charge["amount_captured"]
    previous = changes(before, store.render("refunds", refund))
    store.emit("refund.updated", "refunds", refund, previous)
    store.emit("charge.refund.updated", "refunds", refund, previous)
    if status == "failed":
        store.emit("refund.failed", "refunds", refund, previous)


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
