"""The customer's credit balance (`balance`, `invoice_credit_balance`): what the next finalized
invoice in its currency owes less (a credit, negative `balance`) or more (a debit), kept as a
ledger of customer balance transactions (/v1/customers/{customer}/balance_transactions).

Stripe applies the balance to the next invoice of its currency when it is finalized
(`starting_balance`, `ending_balance`, an `applied_to_invoice` transaction) and credits an
overpaid invoice's excess to it (`invoice_overpaid`): docs.stripe.com/invoicing/customer/balance
and the SDK's `Invoice.amount_overpaid`. `balance` is the default currency's (the customer's
`currency`); other currencies' balances show in `invoice_credit_balance`, whose sign is the
opposite (positive: a credit).
"""

from __future__ import annotations

from stripe_sandbox import ids, money
from stripe_sandbox.api import ApiRequest
from stripe_sandbox.errors import invalid_request, missing_param, no_such
from stripe_sandbox.expand import includable
from stripe_sandbox.listing import list_object, matches_range, newest_first
from stripe_sandbox.params import apply_metadata, get_int, get_str, require_str
from stripe_sandbox.store import JSON, Store

# Types the API lets you create (the rest are Stripe's own).
CREATED_BY_API = "adjustment"


def _others(store: Store, customer: JSON) -> dict[str, int]:
    """Balances in currencies other than the customer's default one."""
    found: dict[str, int] = store.secret(customer["id"]).setdefault("credit_balances", {})
    return found


def current(store: Store, customer: JSON, currency: str) -> int:
    if currency == customer["currency"]:
        return int(customer["balance"])
    return _others(store, customer).get(currency, 0)


def _set(store: Store, customer: JSON, currency: str, value: int, announce: bool) -> None:
    if customer["currency"] is None:
        customer["currency"] = currency
    if currency == customer["currency"]:
        before = customer["balance"]
        customer["balance"] = value
        if announce and before != value:
            store.emit("customer.updated", "customers", customer, {"balance": before})
    else:
        _others(store, customer)[currency] = value


@includable("customer", "invoice_credit_balance", "customers")
def _invoice_credit_balance(store: Store, customer: JSON) -> JSON:
    found = dict(_others(store, customer))
    if customer["currency"] is not None:
        found[customer["currency"]] = customer["balance"]
    # Positive here is a credit, the opposite of `balance`.
    return {currency: -amount for currency, amount in sorted(found.items()) if amount}


def record(
    store: Store,
    customer: JSON,
    amount: int,
    currency: str,
    kind: str,
    *,
    invoice: str | None = None,
    description: str | None = None,
    announce: bool = True,
) -> JSON:
    """Change the balance by `amount` (negative: a credit) and write the transaction;
    `customer.updated` when the default currency's changed (`announce`)."""
    ending = current(store, customer, currency) + amount
    _set(store, customer, currency, ending, announce)
    txn: JSON = {
        "id": ids.new_id("cbtxn"),
        "object": "customer_balance_transaction",
        "amount": amount,
        "checkout_session": None,
        "created": store.now(),
        "credit_note": None,
        "currency": currency,
        "customer": customer["id"],
        "customer_account": None,
        "description": description,
        "ending_balance": ending,
        "invoice": invoice,
        "livemode": False,
        "metadata": {},
        "type": kind,
    }
    store.insert("customer_balance_transactions", txn)
    return txn


def set_from_param(store: Store, customer: JSON, value: int, *, creating: bool) -> None:
    """`balance` given on customer create or update: the difference is an `initial` (create) or
    `adjustment` transaction in the customer's currency. Before the customer has a currency the
    value is only kept on the customer, in the currency it later gets."""
    if customer["currency"] is None:
        customer["balance"] = value
        return
    change = value - customer["balance"]
    if change:
        record(
            store, customer, change, customer["currency"],
            "initial" if creating else "adjustment", announce=False,
        )  # fmt: skip


def apply_to_invoice(store: Store, invoice: JSON) -> None:
    """At finalization: the balance in the invoice's currency changes what it asks (a credit
    down to nothing at most, a debit in full)."""
    customer = store.get("customers", invoice["customer"])
    if customer is None:
        return
    balance = current(store, customer, invoice["currency"])
    invoice["starting_balance"] = balance
    applied = max(balance, -invoice["amount_due"]) if balance < 0 else balance
    invoice["amount_due"] += applied
    invoice["ending_balance"] = balance - applied
    if applied:
        record(
            store, customer, -applied, invoice["currency"], "applied_to_invoice",
            invoice=invoice["id"],
        )  # fmt: skip


def credit_overpayment(store: Store, invoice: JSON, excess: int) -> None:
    """An overpaid invoice's excess goes to the customer's credit balance."""
    customer = store.get("customers", invoice["customer"])
    if customer is not None and excess > 0:
        record(store, customer, -excess, invoice["currency"], "invoice_overpaid",
               invoice=invoice["id"])  # fmt: skip


# -- /v1/customers/{customer}/balance_transactions ---------------------------------------------


def _customer(store: Store, customer_id: str) -> JSON:
    return store.require("customers", customer_id, "customer", "customer")


def _transaction(call: ApiRequest) -> JSON:
    customer = _customer(call.store, call.path_id("customer"))
    txn = call.store.get("customer_balance_transactions", call.path_id("transaction"))
    if txn is None or txn["customer"] != customer["id"]:
        raise no_such("customer_balance_transaction", call.path_id("transaction"))
    return txn


def create_transaction(call: ApiRequest) -> JSON:
    store, params = call.store, call.params
    customer = _customer(store, call.path_id("customer"))
    amount = get_int(params, "amount")
    if amount is None:
        raise missing_param("amount")
    if amount == 0:
        raise invalid_request("The amount must not be zero.", param="amount")
    currency = money.check_currency(require_str(params, "currency"))
    txn = record(store, customer, amount, currency, CREATED_BY_API,
                 description=get_str(params, "description"))  # fmt: skip
    apply_metadata(txn, params)
    return store.render("customer_balance_transactions", txn)


def update_transaction(call: ApiRequest) -> JSON:
    txn = _transaction(call)
    if "description" in call.params:
        txn["description"] = get_str(call.params, "description")
    apply_metadata(txn, call.params)
    return call.store.render("customer_balance_transactions", txn)


def retrieve_transaction(call: ApiRequest) -> JSON:
    return call.store.render("customer_balance_transactions", _transaction(call))


def list_transactions(call: ApiRequest) -> JSON:
    params = call.params
    customer = _customer(call.store, call.path_id("customer"))
    invoice = get_str(params, "invoice")
    items = [
        txn
        for txn in call.store.values("customer_balance_transactions")
        if txn["customer"] == customer["id"]
        and (invoice is None or txn["invoice"] == invoice)
        and matches_range(txn["created"], params.get("created"), "created")
    ]
    return list_object(
        call.store, "customer_balance_transactions", newest_first(items), params,
        f"/v1/customers/{customer['id']}/balance_transactions",
    )  # fmt: skip
