"""What happens when a PaymentIntent or SetupIntent is confirmed: the test instrument decides.

Cards succeed, decline (402 with a decline code, and a failed charge), or ask for 3-D Secure
(`requires_action` with a `redirect_to_url` to the sandbox's authentication page; off-session
they fail with `authentication_required`). SEPA debits go `processing` and settle afterwards.
Other modules (invoices) follow the outcomes through `PAYMENT_HOOKS`.
"""

from __future__ import annotations

import datetime
from collections.abc import Callable
from dataclasses import dataclass, field

from stripe_sandbox import ids, instruments, payment_methods, receipts
from stripe_sandbox.errors import StripeError, card_error, invalid_request
from stripe_sandbox.instruments import Decline
from stripe_sandbox.store import JSON, Store

AUTH_FAILURE_MESSAGE = (
    "The provided PaymentMethod has failed authentication. You can provide payment_method_data "
    "or a new PaymentMethod to attempt to fulfill this PaymentIntent again."
)
AUTH_REQUIRED_MESSAGE = "Your card was declined. This transaction requires authentication."

PaymentHook = Callable[[Store, JSON], None]


@dataclass
class PaymentHooks:
    """Called after a PaymentIntent changed state; the invoice module listens here."""

    succeeded: list[PaymentHook] = field(default_factory=list)
    failed: list[PaymentHook] = field(default_factory=list)
    canceled: list[PaymentHook] = field(default_factory=list)
    requires_action: list[PaymentHook] = field(default_factory=list)


PAYMENT_HOOKS = PaymentHooks()


def _run(hooks: list[PaymentHook], store: Store, intent: JSON) -> None:
    for hook in hooks:
        hook(store, intent)


# -- charges -----------------------------------------------------------------------------------


def new_charge(
    store: Store, pi: JSON, pm: JSON, status: str, decline: Decline | None = None
) -> JSON:
    succeeded = status == "succeeded"
    details: JSON = {"type": pm["type"]}
    if pm["type"] == "card":
        card = pm["card"]
        details["card"] = {
            "amount_authorized": pi["amount"] if succeeded else None,
            "brand": card["brand"],
            "checks": card["checks"],
            "country": card["country"],
            "exp_month": card["exp_month"],
            "exp_year": card["exp_year"],
            "fingerprint": card["fingerprint"],
            "funding": card["funding"],
            "last4": card["last4"],
            "network": card["brand"],
            "three_d_secure": None,
            "wallet": None,
        }
    elif pm["type"] == "ideal":
        details["ideal"] = {
            "bank": pm["ideal"]["bank"],
            "bic": pm["ideal"]["bic"],
            "generated_sepa_debit": None,
            "generated_sepa_debit_mandate": None,
            "iban_last4": "5264" if succeeded else None,
            "transaction_id": ids.random_token(16) if succeeded else None,
            "verified_name": pm["billing_details"]["name"] if succeeded else None,
        }
    elif pm["type"] == "customer_balance":
        details["customer_balance"] = {}
    else:
        details["sepa_debit"] = {
            key: pm["sepa_debit"][key]
            for key in ("bank_code", "branch_code", "country", "fingerprint", "last4")
        } | {"mandate": None}
    charge_id = ids.new_id("ch")
    charge: JSON = {
        "id": charge_id,
        "object": "charge",
        "amount": pi["amount"],
        "amount_captured": pi["amount"] if succeeded else 0,
        "amount_refunded": 0,
        "application": None,
        "application_fee": None,
        "application_fee_amount": None,
        "authorization_code": None,
        "balance_transaction": None,
        "billing_details": pm["billing_details"],
        "calculated_statement_descriptor": "SANDBOX",
        "captured": succeeded,
        "created": store.now(),
        "currency": pi["currency"],
        "customer": pi["customer"],
        "description": pi["description"],
        "disputed": False,
        "failure_balance_transaction": None,
        "failure_code": decline.code if decline else None,
        "failure_message": decline.message if decline else None,
        "fraud_details": {},
        "livemode": False,
        "metadata": dict(pi["metadata"]),
        "level3": None,
        "on_behalf_of": None,
        "outcome": _outcome(status, decline),
        "paid": succeeded,
        "payment_intent": pi["id"],
        "payment_method": pm["id"],
        "payment_method_details": details,
        "presentment_details": None,
        "radar_options": None,
        "receipt_email": pi.get("receipt_email"),
        "receipt_number": None,
        "receipt_url": f"{store.base_url()}/receipts/{charge_id}",
        "refunded": False,
        "review": None,
        "shipping": None,
        "source": None,
        "source_transfer": None,
        "statement_descriptor": None,
        "statement_descriptor_suffix": None,
        "status": status,
        "transfer": None,
        "transfer_data": None,
        "transfer_group": None,
    }
    store.insert("charges", charge)
    return charge


def _outcome(status: str, decline: Decline | None) -> JSON:
    declined = status == "failed"
    return {
        "advice_code": None,
        "network_advice_code": None,
        "network_decline_code": None,
        "network_status": "declined_by_network" if declined else "approved_by_network",
        "reason": decline.decline_code if (declined and decline) else None,
        "risk_level": "normal",
        "risk_score": 20,
        "seller_message": (
            "The bank did not return any further details with this decline."
            if declined
            else ("Payment complete." if status == "succeeded" else "Payment pending.")
        ),
        "type": "issuer_declined" if declined else "authorized",
    }


# -- payment intents ---------------------------------------------------------------------------


def _is_expired(store: Store, pm: JSON) -> bool:
    card = pm.get("card") or {}
    today = datetime.datetime.fromtimestamp(store.now(), datetime.UTC)
    return (card.get("exp_year", 9999), card.get("exp_month", 12)) < (today.year, today.month)


def _decline_error(decline: Decline, extra: JSON) -> StripeError:
    return card_error(
        decline.message,
        code=decline.code,
        decline_code=decline.decline_code,
        param=decline.param,
        extra=extra,
    )


def confirm_payment(
    store: Store,
    pi: JSON,
    *,
    off_session: bool,
    return_url: str | None,
    for_invoice: bool = False,
) -> None:
    """Attempt the payment with the intent's payment method. Raises the API error on failure.

    `for_invoice`: invoice payments that need 3-D Secure stop in `requires_action` even off
    session (so the customer can be brought back), as Stripe does for invoices.
    """
    pm_id = pi["payment_method"]
    pm = store.get("payment_methods", pm_id) if pm_id else None
    if pm is None:
        raise invalid_request(
            "You cannot confirm this PaymentIntent because it's missing a payment method. To "
            "confirm the PaymentIntent with a payment method, pass `payment_method`.",
            code="payment_intent_unexpected_state",
        )
    if pm["type"] not in pi["payment_method_types"]:
        raise invalid_request(
            f"The PaymentMethod provided ({pm['type']}) is not allowed for this PaymentIntent. "
            f"Allowed types: {', '.join(pi['payment_method_types'])}.",
            param="payment_method",
            code="payment_intent_incompatible_payment_method",
        )
    if pm["type"] == "sepa_debit" and pi["currency"] != "eur":
        raise invalid_request(
            "SEPA Direct Debit payments must be in EUR.",
            param="currency",
            code="payment_intent_incompatible_payment_method",
        )
    secret = store.secret(pi["id"])
    secret["off_session"] = off_session
    if return_url:
        secret["return_url"] = return_url
    pi["last_payment_error"] = None
    pi["next_action"] = None
    if pm["type"] == "sepa_debit":
        _start_debit(store, pi, pm)
        return
    authenticated = bool(secret.get("authenticated"))
    if pm["type"] == "ideal":
        _confirm_redirect(store, pi, pm, off_session=off_session, authenticated=authenticated)
        return
    card = payment_methods.card_profile(store, pm)
    if _is_expired(store, pm):
        _fail(store, pi, pm, instruments.EXPIRED)
    if card is None or card.outcome == "succeed":
        _succeed(store, pi, pm)
        return
    if card.outcome == "decline":
        assert card.decline is not None
        _fail(store, pi, pm, card.decline)
    set_up = bool(store.secret(pm["id"]).get("set_up"))
    needs_auth = card.outcome == "authenticate" or not (off_session and set_up)
    if needs_auth and not authenticated:
        if off_session and not for_invoice:
            _fail(
                store,
                pi,
                pm,
                Decline(
                    "authentication_required", "authentication_required", AUTH_REQUIRED_MESSAGE
                ),
                with_charge=False,
            )
        _require_action(store, pi)
        return
    if card.decline is not None and card.decline_after_authentication:
        _fail(store, pi, pm, card.decline)
    _succeed(store, pi, pm)


def _confirm_redirect(
    store: Store, pi: JSON, pm: JSON, *, off_session: bool, authenticated: bool
) -> None:
    """iDEAL: the customer always authorizes the payment at their bank (the sandbox's page),
    so it cannot be made without them, and it needs a page to return to."""
    if off_session:
        raise invalid_request(
            "The payment method type ideal cannot be used off_session: the customer must "
            "authorize each payment.",
            code="payment_intent_incompatible_payment_method",
        )
    if not store.secret(pi["id"]).get("return_url"):
        raise invalid_request(
            "A return_url is required to confirm a PaymentIntent with a payment method that "
            "redirects the customer (ideal).",
            param="return_url",
        )
    if authenticated:
        _succeed(store, pi, pm)
        return
    _require_action(store, pi)


def _require_action(store: Store, pi: JSON) -> None:
    secret = store.secret(pi["id"])
    pi["status"] = "requires_action"
    pi["next_action"] = {
        "type": "redirect_to_url",
        "redirect_to_url": {
            "return_url": secret.get("return_url"),
            "url": f"{store.surface_url('hooks')}/3ds/{pi['id']}",
        },
    }
    store.emit("payment_intent.requires_action", "payment_intents", pi)
    _run(PAYMENT_HOOKS.requires_action, store, pi)


def succeed(store: Store, pi: JSON, pm: JSON) -> None:
    """The payment went through (a bank transfer's money applied from the cash balance)."""
    _succeed(store, pi, pm)


def _succeed(store: Store, pi: JSON, pm: JSON) -> None:
    charge = new_charge(store, pi, pm, "succeeded")
    receipts.send_for(store, pi, charge)
    pi.update(
        status="succeeded",
        amount_received=pi["amount"],
        latest_charge=charge["id"],
        last_payment_error=None,
        next_action=None,
        processing=None,
    )
    if pi.get("setup_future_usage"):
        _save_for_later(store, pi, pm)
    store.emit("charge.succeeded", "charges", charge)
    store.emit("payment_intent.succeeded", "payment_intents", pi)
    _run(PAYMENT_HOOKS.succeeded, store, pi)


def _save_for_later(store: Store, pi: JSON, pm: JSON) -> None:
    store.secret(pm["id"])["set_up"] = True
    customer = store.get("customers", pi["customer"]) if pi["customer"] else None
    if customer is not None and pm["customer"] is None:
        payment_methods.attach_to_customer(store, pm["id"], customer)


def _fail(store: Store, pi: JSON, pm: JSON, decline: Decline, *, with_charge: bool = True) -> None:
    """Record the declined attempt, then raise the 402 the caller answers with."""
    charge = new_charge(store, pi, pm, "failed", decline) if with_charge else None
    error = _decline_error(decline, {})
    last_error = error.as_last_error()
    last_error["payment_method"] = store.render("payment_methods", pm)
    if charge is not None:
        last_error["charge"] = charge["id"]
    pi.update(
        status="requires_payment_method",
        last_payment_error=last_error,
        latest_charge=charge["id"] if charge else pi["latest_charge"],
        next_action=None,
        processing=None,
    )
    store.secret(pi["id"]).pop("authenticated", None)
    if charge is not None:
        store.emit("charge.failed", "charges", charge)
    store.emit("payment_intent.payment_failed", "payment_intents", pi)
    _run(PAYMENT_HOOKS.failed, store, pi)
    extra: JSON = {"payment_intent": store.render("payment_intents", pi)}
    extra["payment_method"] = store.render("payment_methods", pm)
    if charge is not None:
        extra["charge"] = charge["id"]
    raise _decline_error(decline, extra)


def _start_debit(store: Store, pi: JSON, pm: JSON) -> None:
    charge = new_charge(store, pi, pm, "pending")
    pi.update(status="processing", latest_charge=charge["id"], processing=None)
    store.emit("charge.pending", "charges", charge)
    store.emit("payment_intent.processing", "payment_intents", pi)
    store.later(store.config.sepa_settlement_delay_ms, lambda: settle_debit(store, pi["id"]))


def settle_debit(store: Store, pi_id: str) -> None:
    pi = store.get("payment_intents", pi_id)
    if pi is None or pi["status"] != "processing":
        return
    charge = store.get("charges", pi["latest_charge"])
    pm = store.get("payment_methods", pi["payment_method"])
    assert charge is not None
    assert pm is not None
    iban = store.secret(pm["id"]).get("iban", "")
    if instruments.iban_outcome(iban) == "succeed":
        charge.update(
            status="succeeded", paid=True, captured=True, amount_captured=charge["amount"]
        )
        charge["outcome"] = _outcome("succeeded", None)
        receipts.send_for(store, pi, charge)
        pi.update(status="succeeded", amount_received=pi["amount"])
        if pi.get("setup_future_usage"):
            _save_for_later(store, pi, pm)
        store.emit("charge.succeeded", "charges", charge)
        store.emit("payment_intent.succeeded", "payment_intents", pi)
        _run(PAYMENT_HOOKS.succeeded, store, pi)
        return
    decline = instruments.SEPA_FAILURE
    charge.update(status="failed", failure_code=decline.code, failure_message=decline.message)
    charge["outcome"] = _outcome("failed", decline)
    last_error = _decline_error(decline, {}).as_last_error()
    last_error["payment_method"] = store.render("payment_methods", pm)
    pi.update(status="requires_payment_method", last_payment_error=last_error)
    store.emit("charge.failed", "charges", charge)
    store.emit("payment_intent.payment_failed", "payment_intents", pi)
    _run(PAYMENT_HOOKS.failed, store, pi)


def finish_authentication(store: Store, pi: JSON, succeeded: bool) -> None:
    """The customer passed or failed 3-D Secure on the sandbox's page (may raise a decline)."""
    if pi["status"] != "requires_action":
        raise invalid_request("This PaymentIntent does not require authentication.")
    pm = store.get("payment_methods", pi["payment_method"])
    assert pm is not None
    secret = store.secret(pi["id"])
    if succeeded:
        secret["authenticated"] = True
        confirm_payment(
            store,
            pi,
            off_session=bool(secret.get("off_session")),
            return_url=secret.get("return_url"),
            for_invoice=True,
        )
        return
    last_error: JSON = {
        "code": "payment_intent_authentication_failure",
        "doc_url": "https://stripe.com/docs/error-codes/payment-intent-authentication-failure",
        "message": AUTH_FAILURE_MESSAGE,
        "payment_method": store.render("payment_methods", pm),
        "type": "invalid_request_error",
    }
    pi.update(status="requires_payment_method", last_payment_error=last_error, next_action=None)
    store.emit("payment_intent.payment_failed", "payment_intents", pi)
    _run(PAYMENT_HOOKS.failed, store, pi)


def cancel_payment(store: Store, pi: JSON, reason: str | None) -> None:
    pi.update(
        status="canceled",
        canceled_at=store.now(),
        cancellation_reason=reason,
        next_action=None,
    )
    store.emit("payment_intent.canceled", "payment_intents", pi)
    _run(PAYMENT_HOOKS.canceled, store, pi)


# -- setup intents -----------------------------------------------------------------------------


def confirm_setup(store: Store, seti: JSON) -> None:
    pm = store.get("payment_methods", seti["payment_method"]) if seti["payment_method"] else None
    if pm is None:
        raise invalid_request(
            "You cannot confirm this SetupIntent because it's missing a payment method.",
            code="setup_intent_unexpected_state",
        )
    if pm["type"] not in seti["payment_method_types"]:
        raise invalid_request(
            f"The PaymentMethod provided ({pm['type']}) is not allowed for this SetupIntent.",
            param="payment_method",
        )
    seti["last_setup_error"] = None
    seti["next_action"] = None
    secret = store.secret(seti["id"])
    card = payment_methods.card_profile(store, pm) if pm["type"] == "card" else None
    if card is not None:
        decline = instruments.EXPIRED if _is_expired(store, pm) else None
        if decline is None and card.outcome == "decline" and card.decline_on_setup:
            decline = card.decline
        if decline is not None:
            error = _decline_error(decline, {})
            last_error = error.as_last_error()
            last_error["payment_method"] = store.render("payment_methods", pm)
            seti.update(status="requires_payment_method", last_setup_error=last_error)
            store.emit("setup_intent.setup_failed", "setup_intents", seti)
            raise _decline_error(decline, {"setup_intent": store.render("setup_intents", seti)})
        needs_auth = card.outcome in ("authenticate", "authenticate_unless_setup")
        if needs_auth and not secret.get("authenticated"):
            seti["status"] = "requires_action"
            seti["next_action"] = {
                "type": "redirect_to_url",
                "redirect_to_url": {
                    "return_url": secret.get("return_url"),
                    "url": f"{store.surface_url('hooks')}/3ds/{seti['id']}",
                },
            }
            store.emit("setup_intent.requires_action", "setup_intents", seti)
            return
    seti["status"] = "succeeded"
    if seti["usage"] == "off_session":
        store.secret(pm["id"])["set_up"] = True
    customer = store.get("customers", seti["customer"]) if seti["customer"] else None
    if customer is not None:
        payment_methods.attach_to_customer(store, pm["id"], customer)
    if pm["type"] == "sepa_debit":
        seti["mandate"] = ids.new_id("mandate")
    store.emit("setup_intent.succeeded", "setup_intents", seti)


def finish_setup_authentication(store: Store, seti: JSON, succeeded: bool) -> None:
    if seti["status"] != "requires_action":
        raise invalid_request("This SetupIntent does not require authentication.")
    if succeeded:
        store.secret(seti["id"])["authenticated"] = True
        confirm_setup(store, seti)
        return
    pm = store.get("payment_methods", seti["payment_method"])
    seti.update(
        status="requires_payment_method",
        next_action=None,
        last_setup_error={
            "code": "setup_intent_authentication_failure",
            "doc_url": "https://stripe.com/docs/error-codes/setup-intent-authentication-failure",
            "message": AUTH_FAILURE_MESSAGE.replace("PaymentIntent", "SetupIntent"),
            "payment_method": store.render("payment_methods", pm) if pm else None,
            "type": "invalid_request_error",
        },
    )
    store.emit("setup_intent.setup_failed", "setup_intents", seti)
