"""Customers' cash balances: money that arrived by bank transfer, kept per currency until it pays
an invoice or a PaymentIntent; its transactions; Stripe's test helper that makes a transfer
arrive; and the reconciliation that applies it.

Reconciliation follows docs.stripe.com/payments/customer-balance/reconciliation and
docs.stripe.com/invoicing/bank-transfer: in `automatic` mode available money goes first to the
one open invoice whose number the transfer's reference contains (if it pays it whole), else to
the one waiting PaymentIntent whose instructions' reference it contains; then to a group of at
most five invoices and PaymentIntents awaiting exactly the money available (fewest objects, then
most invoices, then oldest); then to every invoice it can pay whole, oldest finalized first;
then to PaymentIntents, oldest first, in part if need be. An invoice is never partly funded
(its money waits in the cash balance); a PaymentIntent is (`payment_intent.partially_funded`,
its `amount_remaining` going down). What is left stays in the cash balance
(`cash_balance.funds_available`). In `manual` mode nothing is applied until
`POST /v1/payment_intents/{id}/apply_customer_balance`.
"""

from __future__ import annotations

import itertools
from collections.abc import Iterable
from dataclasses import dataclass

from stripe_sandbox import bank_transfers, ids, money, payment_methods, payments
from stripe_sandbox.api import ApiRequest
from stripe_sandbox.bank_transfers import Options
from stripe_sandbox.errors import invalid_request, missing_param, no_such
from stripe_sandbox.expand import includable
from stripe_sandbox.listing import list_object, newest_first
from stripe_sandbox.params import get_dict, get_enum, get_int, get_str
from stripe_sandbox.store import JSON, Store

MODES = ("automatic", "manual", "merchant_default")
# The sandbox account's own setting (Stripe's default for every account).
MERCHANT_DEFAULT = "automatic"
WAITING = ("requires_payment_method", "requires_confirmation", "requires_action")
# An invoice past its due date still takes money this long (the reconciliation page).
OVERDUE_GRACE_S = 30 * 24 * 60 * 60
# Groups are looked for among this many of the oldest awaiting objects.
GROUP_CANDIDATES = 20
MAX_GROUP = 5


# -- the balance -------------------------------------------------------------------------------


def balances(store: Store, customer_id: str) -> dict[str, int]:
    """Available money per currency (a currency appears once the customer has a virtual
    account for it or money in it)."""
    found: dict[str, int] = store.secret(customer_id).setdefault("cash_balance", {})
    return found


def mode(store: Store, customer_id: str) -> str:
    chosen = store.secret(customer_id).get("reconciliation_mode")
    return chosen if chosen in ("automatic", "manual") else MERCHANT_DEFAULT


def set_mode(store: Store, customer_id: str, chosen: str) -> None:
    before = mode(store, customer_id)
    store.secret(customer_id)["reconciliation_mode"] = chosen
    if before == "manual" and mode(store, customer_id) == "automatic":
        # Money that waited is applied now, as it would have been on arrival.
        currencies = list(balances(store, customer_id))
        store.defer(lambda: reconcile_all(store, customer_id, currencies))


def render(store: Store, customer_id: str) -> JSON:
    chosen = store.secret(customer_id).get("reconciliation_mode")
    available = balances(store, customer_id)
    return {
        "object": "cash_balance",
        "available": dict(sorted(available.items())) if available else None,
        "customer": customer_id,
        "customer_account": None,
        "livemode": False,
        "settings": {
            "reconciliation_mode": mode(store, customer_id),
            "using_merchant_default": chosen not in ("automatic", "manual"),
        },
    }


@includable("customer", "cash_balance", "customers")
def _customer_cash_balance(store: Store, customer: JSON) -> JSON:
    return render(store, customer["id"])


def _customer(store: Store, customer_id: str) -> JSON:
    return store.require("customers", customer_id, "customer", "customer")


def _transaction(
    store: Store, customer_id: str, currency: str, net: int, kind: str, details: JSON
) -> JSON:
    available = balances(store, customer_id)
    available[currency] = available.get(currency, 0) + net
    txn: JSON = {
        "id": ids.new_id("ccsbtxn"),
        "object": "customer_cash_balance_transaction",
        "adjusted_for_overdraft": None,
        "applied_to_payment": None,
        "created": store.now(),
        "currency": currency,
        "customer": customer_id,
        "customer_account": None,
        "ending_balance": available[currency],
        "funded": None,
        "livemode": False,
        "net_amount": net,
        "refunded_from_payment": None,
        "transferred_to_balance": None,
        "type": kind,
        "unapplied_from_payment": None,
    }
    txn.update(details)
    store.insert("cash_balance_transactions", txn)
    store.emit("customer_cash_balance_transaction.created", "cash_balance_transactions", txn)
    return txn


def _announce(store: Store, customer_id: str, currency: str) -> None:
    """`cash_balance.funds_available`: money is left after new funds were reconciled."""
    if balances(store, customer_id).get(currency, 0) > 0:
        store.emit("cash_balance.funds_available", "cash_balances", render(store, customer_id))


# -- /v1/customers/{customer}/funding_instructions, cash_balance[_transactions] -----------------


def create_funding_instructions(call: ApiRequest) -> JSON:
    """The customer's virtual account for a transfer type (created the first time, then the
    same), without a payment (docs.stripe.com/payments/customer-balance/funding-instructions).
    The customer has a cash balance in that currency from then on."""
    store, params = call.store, call.params
    customer = _customer(store, call.path_id("customer"))
    if get_str(params, "funding_type") is None:
        raise missing_param("funding_type")
    currency = money.check_currency(get_str(params, "currency", required=True) or "")
    bank_transfer = get_dict(params, "bank_transfer")
    if not bank_transfer or not get_str(bank_transfer, "type"):
        raise missing_param("bank_transfer[type]")
    options = bank_transfers.parse_options(
        {"bank_transfer": bank_transfer}, currency, store.config.account_country, "",
        default_country=False,
    )  # fmt: skip
    addresses = bank_transfers.virtual_account(store, customer["id"], options)
    balances(store, customer["id"]).setdefault(currency, 0)
    return {
        "object": "funding_instructions",
        "bank_transfer": {
            "country": bank_transfers.country_of(options),
            "financial_addresses": addresses,
            "type": options.type,
        },
        "currency": currency,
        "funding_type": "bank_transfer",
        "livemode": False,
    }


def retrieve_cash_balance(call: ApiRequest) -> JSON:
    customer = _customer(call.store, call.path_id("customer"))
    return render(call.store, customer["id"])


def update_cash_balance(call: ApiRequest) -> JSON:
    customer = _customer(call.store, call.path_id("customer"))
    settings = get_dict(call.params, "settings") or {}
    chosen = get_enum(settings, "reconciliation_mode", MODES)
    if chosen is not None:
        set_mode(call.store, customer["id"], chosen)
    return render(call.store, customer["id"])


def list_transactions(call: ApiRequest) -> JSON:
    customer = _customer(call.store, call.path_id("customer"))
    items = [
        txn for txn in call.store.values("cash_balance_transactions")
        if txn["customer"] == customer["id"]
    ]  # fmt: skip
    return list_object(
        call.store, "cash_balance_transactions", newest_first(items), call.params,
        f"/v1/customers/{customer['id']}/cash_balance_transactions",
    )  # fmt: skip


def retrieve_transaction(call: ApiRequest) -> JSON:
    customer = _customer(call.store, call.path_id("customer"))
    txn = call.store.get("cash_balance_transactions", call.path_id("transaction"))
    if txn is None or txn["customer"] != customer["id"]:
        raise no_such("customer_cash_balance_transaction", call.path_id("transaction"))
    return call.store.render("cash_balance_transactions", txn)


# -- POST /v1/test_helpers/customers/{customer}/fund_cash_balance -------------------------------


def _sender(kind: str, customer: JSON) -> JSON:
    """Who sent the test transfer, in the hash of its transfer type."""
    name = customer["name"] or "Sandbox Sender"
    if kind == "eu_bank_transfer":
        return {"bic": "BANKDEAAXXX", "iban_last4": "7089", "sender_name": name}
    if kind == "gb_bank_transfer":
        return {"account_number_last4": "1113", "sender_name": name, "sort_code": "108800"}
    if kind == "jp_bank_transfer":
        return {"sender_bank": "Sandbox Bank", "sender_branch": "Head Office",
                "sender_name": name}  # fmt: skip
    if kind == "us_bank_transfer":
        return {"network": "ach", "sender_name": name}
    return {"clabe_last4": "4567", "sender_bank": "Sandbox Bank", "sender_name": name}


def fund(call: ApiRequest) -> JSON:
    """A bank transfer arrives: a `funded` transaction now, reconciliation right after the
    answer (its events follow the request's own)."""
    store, params = call.store, call.params
    customer = _customer(store, call.path_id("customer"))
    amount = get_int(params, "amount")
    if amount is None:
        raise missing_param("amount")
    if amount <= 0:
        raise invalid_request("This value must be greater than or equal to 1.", param="amount")
    currency = money.check_currency(get_str(params, "currency", required=True) or "")
    kind = bank_transfers.transfer_type_for(currency, store.config.account_country)
    if kind is None:
        raise invalid_request(
            f"Bank transfers in {currency.upper()} are not available to accounts in "
            f"{store.config.account_country}.",
            param="currency",
        )
    reference = get_str(params, "reference")
    bank_transfer: JSON = {kind: _sender(kind, customer), "reference": reference, "type": kind}
    txn = _transaction(
        store,
        customer["id"],
        currency,
        amount,
        "funded",
        {"funded": {"bank_transfer": bank_transfer}},
    )
    customer_id = customer["id"]

    def reconcile_arrival() -> None:
        reconcile(store, customer_id, currency, reference)
        _announce(store, customer_id, currency)

    store.defer(reconcile_arrival)
    return store.render("cash_balance_transactions", txn)


# -- PaymentIntents paid by bank transfer ------------------------------------------------------


def _state(store: Store, pi: JSON) -> JSON | None:
    """What the sandbox keeps of a PaymentIntent that takes a bank transfer."""
    found: JSON | None = store.secret(pi["id"]).get("bank_transfer")
    return found


def funded(store: Store, pi: JSON) -> int:
    state = _state(store, pi)
    return int(state["funded"]) if state else 0


def _prepare(store: Store, pi: JSON, options: Options, reference: str) -> JSON:
    state = _state(store, pi)
    if state is None:
        state = {"options": options, "reference": reference, "funded": 0}
        store.secret(pi["id"])["bank_transfer"] = state
    balances(store, pi["customer"]).setdefault(pi["currency"], 0)
    pm = store.get("payment_methods", pi["payment_method"] or "")
    if pm is None or pm["type"] != "customer_balance":
        pi["payment_method"] = payment_methods.new_customer_balance(store)["id"]
    pi["payment_method_options"]["customer_balance"] = state["options"].as_json() | {
        "setup_future_usage": None
    }
    return state


def await_transfer(store: Store, pi: JSON, options: Options, reference: str) -> None:
    """Confirm `pi` with the customer balance: paid at once when the money is already there (in
    `automatic` mode), else `requires_action` with the transfer's instructions, a PaymentIntent
    (not an invoice's) taking what there is (`payment_intent.partially_funded`)."""
    state = _prepare(store, pi, options, reference)
    automatic = mode(store, pi["customer"]) == "automatic"
    available = balances(store, pi["customer"]).get(pi["currency"], 0)
    need = pi["amount"] - state["funded"]
    if automatic and available >= need:
        _apply(store, pi, need)
        return
    pi["status"] = "requires_action"
    _show_instructions(store, pi)
    store.emit("payment_intent.requires_action", "payment_intents", pi)
    if automatic and available > 0 and store.secret(pi["id"]).get("invoice") is None:
        _apply(store, pi, available)


def _show_instructions(store: Store, pi: JSON) -> None:
    state = _state(store, pi)
    assert state is not None
    pi["next_action"] = bank_transfers.instructions(
        store, pi, state["options"], state["reference"], pi["amount"] - state["funded"]
    )


def awaits_transfer(store: Store, pi: JSON) -> bool:
    """Whether `pi` shows bank transfer instructions."""
    return pi["status"] == "requires_action" and _state(store, pi) is not None


def follow_amount(store: Store, pi: JSON, amount: int) -> None:
    """An invoice's PaymentIntent waiting for a transfer asks for what the invoice still owes."""
    pi["amount"] = amount
    if awaits_transfer(store, pi):
        _show_instructions(store, pi)


def _apply(store: Store, pi: JSON, amount: int) -> None:
    """Move `amount` from the cash balance onto `pi`; it succeeds once it has all it asks."""
    state = _state(store, pi)
    assert state is not None
    if amount <= 0:
        return
    _transaction(
        store, pi["customer"], pi["currency"], -amount, "applied_to_payment",
        {"applied_to_payment": {"payment_intent": pi["id"]}},
    )  # fmt: skip
    state["funded"] += amount
    if state["funded"] >= pi["amount"]:
        pm = store.get("payment_methods", pi["payment_method"] or "")
        assert pm is not None
        payments.succeed(store, pi, pm)
        return
    if pi["status"] == "requires_action":
        _show_instructions(store, pi)
    store.emit("payment_intent.partially_funded", "payment_intents", pi)


def return_funds(store: Store, pi: JSON) -> None:
    """A canceled PaymentIntent, or one whose amount changed, gives back what it had received
    (`unapplied_from_payment`); reconciliation then applies it again where it is awaited."""
    state = _state(store, pi)
    if state is None:
        return
    amount, state["funded"] = state["funded"], 0
    if awaits_transfer(store, pi):
        _show_instructions(store, pi)
    if amount <= 0:
        return
    _transaction(
        store, pi["customer"], pi["currency"], amount, "unapplied_from_payment",
        {"unapplied_from_payment": {"payment_intent": pi["id"]}},
    )  # fmt: skip
    reconcile(store, pi["customer"], pi["currency"])
    _announce(store, pi["customer"], pi["currency"])


payments.PAYMENT_HOOKS.canceled.append(return_funds)


# -- reconciliation ----------------------------------------------------------------------------


@dataclass
class _Target:
    """An invoice or a PaymentIntent awaiting money, and how much."""

    invoice: JSON | None
    pi: JSON
    need: int
    order: int

    @property
    def is_invoice(self) -> bool:
        return self.invoice is not None


def _awaiting(store: Store, customer_id: str, currency: str) -> list[_Target]:
    now = store.now()
    targets: list[_Target] = []
    for order, invoice in enumerate(store.values("invoices")):
        types = invoice["payment_settings"]["payment_method_types"] or []
        if (
            invoice["customer"] != customer_id
            or invoice["currency"] != currency
            or invoice["status"] != "open"
            or "customer_balance" not in types
            or (invoice["due_date"] is not None and now > invoice["due_date"] + OVERDUE_GRACE_S)
        ):
            continue
        pi = store.get("payment_intents", store.secret(invoice["id"]).get("default_pi") or "")
        if pi is not None and pi["status"] in WAITING and invoice["amount_remaining"] > 0:
            finalized = invoice["status_transitions"]["finalized_at"] or 0
            targets.append(
                _Target(invoice, pi, invoice["amount_remaining"], finalized * 10**6 + order)
            )
    for order, pi in enumerate(store.values("payment_intents")):
        if (
            pi["customer"] == customer_id
            and pi["currency"] == currency
            and pi["status"] in WAITING
            and "customer_balance" in pi["payment_method_types"]
            and store.secret(pi["id"]).get("invoice") is None
        ):
            targets.append(
                _Target(None, pi, pi["amount"] - funded(store, pi), pi["created"] * 10**6 + order)
            )
    return sorted(targets, key=lambda target: target.order)


def _pay(store: Store, target: _Target, amount: int) -> None:
    pi = target.pi
    if _state(store, pi) is None:
        options = bank_transfers.parse_options(
            None, pi["currency"], store.config.account_country, "", default_country=True
        )
        reference = target.invoice["number"] if target.invoice else bank_transfers.new_reference()
        _prepare(store, pi, options, reference)
    if target.invoice is not None:
        pi["amount"] = target.need
    _apply(store, pi, amount)


def _by_reference(targets: list[_Target], reference: str | None, available: int) -> _Target | None:
    if not reference:
        return None
    text = reference.upper()
    invoices = [
        t
        for t in targets
        if t.invoice and t.invoice["number"] and t.invoice["number"].upper() in text
    ]
    if len(invoices) == 1:
        return invoices[0] if available >= invoices[0].need else None
    return None


def _by_intent_reference(
    store: Store, targets: list[_Target], reference: str | None
) -> _Target | None:
    if not reference:
        return None
    text = reference.upper()
    found = [
        t for t in targets
        if not t.is_invoice and (state := _state(store, t.pi)) is not None
        and state["reference"].upper() in text
    ]  # fmt: skip
    return found[0] if len(found) == 1 else None


def _exact_group(targets: list[_Target], available: int) -> tuple[_Target, ...] | None:
    candidates = targets[:GROUP_CANDIDATES]
    for size in range(1, MAX_GROUP + 1):
        groups = [
            group for group in itertools.combinations(candidates, size)
            if sum(t.need for t in group) == available
        ]  # fmt: skip
        if groups:
            # Most invoices, then the oldest objects.
            return min(
                groups,
                key=lambda g: (-sum(t.is_invoice for t in g), sorted(t.order for t in g)),
            )
    return None


def reconcile(store: Store, customer_id: str, currency: str, reference: str | None = None) -> None:
    """Apply the available money in `currency` (automatic mode only; see the module's doc)."""
    if mode(store, customer_id) != "automatic":
        return

    def available() -> int:
        return balances(store, customer_id).get(currency, 0)

    if available() <= 0:
        return
    targets = _awaiting(store, customer_id, currency)
    first = _by_reference(targets, reference, available()) or _by_intent_reference(
        store, targets, reference
    )
    if first is not None:
        _pay(store, first, min(first.need, available()))
        targets = _awaiting(store, customer_id, currency)
    group = _exact_group(targets, available()) if available() > 0 else None
    if group is not None:
        for target in group:
            _pay(store, target, target.need)
        return
    for target in [t for t in targets if t.is_invoice]:
        if 0 < target.need <= available():
            _pay(store, target, target.need)
    for target in [t for t in targets if not t.is_invoice]:
        if available() <= 0:
            return
        _pay(store, target, min(target.need, available()))


def reconcile_all(store: Store, customer_id: str, currencies: Iterable[str]) -> None:
    for currency in currencies:
        reconcile(store, customer_id, currency)


# -- POST /v1/payment_intents/{intent}/apply_customer_balance ----------------------------------


def apply_customer_balance(call: ApiRequest) -> JSON:
    """Manual reconciliation: money from the cash balance onto one PaymentIntent (all it still
    asks when `amount` is omitted; all of it, whatever `amount` says, for an invoice's)."""
    store, params = call.store, call.params
    pi = store.require("payment_intents", call.path_id("intent"), "payment_intent")
    if "customer_balance" not in pi["payment_method_types"] or pi["customer"] is None:
        raise invalid_request(
            "This PaymentIntent cannot be paid from the customer's cash balance: "
            "customer_balance is not one of its payment_method_types.",
            code="payment_intent_unexpected_state",
        )
    if pi["status"] not in WAITING:
        raise invalid_request(
            f"You cannot apply the customer balance to this PaymentIntent because it has a "
            f"status of {pi['status']}.",
            code="payment_intent_unexpected_state",
        )
    currency = get_str(params, "currency")
    if currency is not None and currency.lower() != pi["currency"]:
        raise invalid_request(
            f"The currency must be the PaymentIntent's ({pi['currency']}).", param="currency"
        )
    invoice_id = store.secret(pi["id"]).get("invoice")
    need = pi["amount"] - funded(store, pi)
    amount = get_int(params, "amount")
    if invoice_id is not None or amount is None:
        amount = need
    if amount <= 0 or amount > need:
        raise invalid_request(
            f"The amount must be between 1 and what the PaymentIntent still asks ({need}).",
            param="amount",
        )
    available = balances(store, pi["customer"]).get(pi["currency"], 0)
    if available < amount:
        raise invalid_request(
            f"The customer's cash balance ({money.format_amount(available, pi['currency'])}) "
            f"does not cover {money.format_amount(amount, pi['currency'])}.",
            param="amount",
        )
    invoice = store.get("invoices", invoice_id) if invoice_id else None
    _pay(store, _Target(invoice, pi, need, 0), amount)
    return store.render("payment_intents", pi)
