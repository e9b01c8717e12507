"""/v1/invoices, /v1/invoiceitems and /v1/invoice_payments: drafts, finalization, payment plans
(`amounts_due`), paying in full, partial payments through attached PaymentIntents, void and
uncollectible.

An invoice's lines are its invoice items; totals (discounts before tax, tax per line:
`stripe_sandbox.totals`) are recomputed while it is a draft and frozen at finalization, along
with each line's `discount_amounts` and `taxes`. Finalizing creates the default PaymentIntent
and its `is_default` invoice payment, as Stripe does; payments attached later are further
invoice payments. While one of those is `open`, the invoice can be neither voided nor marked
uncollectible until its PaymentIntent is canceled. Finalizing applies the customer's credit
balance (`credit_balance`); an invoice that takes bank transfers waits for the money in the
cash balance (`cash_balance`); a payment that lands on a paid invoice overpays it, the excess
credited to the customer. A draft with `auto_advance` is finalized at its
`automatically_finalizes_at` (`scheduled`), and a `charge_automatically` one then charged once
with its default payment method. Not modelled: subscription invoices (whose automatic charges
Stripe does not let take partial payments), retries of a failed automatic charge.
"""

from __future__ import annotations

from stripe_sandbox import (
    account_tax_ids,
    bank_transfers,
    cash_balance,
    coupons,
    credit_balance,
    ids,
    intents,
    invoice_rules,
    money,
    payment_methods,
    payments,
    preview,
    scheduled,
    tax_rates,
    totals,
)
from stripe_sandbox.api import ApiRequest
from stripe_sandbox.customers import changes, require_customer
from stripe_sandbox.errors import StripeError, card_error, invalid_request, missing_param, no_such
from stripe_sandbox.expand import includable
from stripe_sandbox.listing import list_object, matches_range, newest_first, searcher
from stripe_sandbox.params import (
    Params,
    apply_metadata,
    get_bool,
    get_dict,
    get_enum,
    get_int,
    get_list,
    get_str,
    get_str_list,
    require_str,
)
from stripe_sandbox.store import JSON, Store, copy_json

SEARCH_FIELDS = frozenset(
    {"created", "currency", "customer", "metadata", "number", "receipt_number", "status",
     "subscription", "total"}
)  # fmt: skip
COLLECTION_METHODS = ("charge_automatically", "send_invoice")
LINES_INLINE = 10

REQUIRES_ACTION_MESSAGE = (
    "This payment requires additional user action before it can be completed successfully. "
    "Payment can be completed using the PaymentIntent associated with the invoice. For more "
    "details see: https://stripe.com/docs/billing/subscriptions/overview#requires-action"
)


# -- rendering ---------------------------------------------------------------------------------


def _items_of(store: Store, invoice_id: str) -> list[JSON]:
    return store.referring("invoiceitems", "invoice", invoice_id)


# What a line's taxes say of why they apply. Stripe Tax explains each (`standard_rated`,
# `reverse_charge`, ...); for manual tax rates there is nothing to explain.
TAXABILITY_OF_RATES = "not_available"


def _line(store: Store, item: JSON) -> JSON:
    secret = store.secret(item["id"])
    line_id = secret.setdefault("line_id", ids.new_id("il"))
    # Worked out at the invoice's last recompute (frozen since its finalization).
    worked_out: totals.LineTotals | None = secret.get("totals")
    discount_amounts = list(worked_out.discount_amounts) if worked_out else []
    return {
        "id": line_id,
        "object": "line_item",
        "amount": item["amount"],
        "currency": item["currency"],
        "description": item["description"],
        "discount_amounts": [{"amount": a, "discount": d} for d, a in discount_amounts],
        "discountable": item["discountable"],
        "discounts": list(item["discounts"]),
        "invoice": item["invoice"],
        "livemode": False,
        "metadata": dict(item["metadata"]),
        "parent": {
            "type": "invoice_item_details",
            "invoice_item_details": {
                "invoice_item": item["id"],
                "proration": False,
                "proration_details": {"credited_items": None},
                "subscription": None,
            },
            "subscription_item_details": None,
        },
        "period": dict(item["period"]),
        "pretax_credit_amounts": _pretax_credits(discount_amounts),
        "pricing": copy_json(item["pricing"]),
        "quantity": item["quantity"],
        "quantity_decimal": item["quantity_decimal"],
        "subscription": None,
        "subtotal": item["amount"],
        "taxes": [_tax(tax) for tax in worked_out.taxes] if worked_out else [],
    }


def _pretax_credits(discount_amounts: list[tuple[str, int]]) -> list[JSON]:
    # Discounts are pre-tax credits too (changelog 2024-10-28.acacia, billing-credits-invoice).
    return [
        {"amount": amount, "credit_balance_transaction": None, "discount": discount,
         "type": "discount"}
        for discount, amount in discount_amounts
    ]  # fmt: skip


def _tax(tax: totals.Tax) -> JSON:
    """A line's or an invoice's tax in endive's shape (`taxes`, `total_taxes`)."""
    return {
        "amount": tax.amount,
        "tax_behavior": "inclusive" if tax.rate.inclusive else "exclusive",
        "tax_rate_details": {"tax_rate": tax.rate.id},
        "taxability_reason": TAXABILITY_OF_RATES,
        "taxable_amount": tax.taxable_amount,
        "type": "tax_rate_details",
    }


def lines_of(store: Store, invoice: JSON) -> list[JSON]:
    return [_line(store, item) for item in _items_of(store, invoice["id"])]


def _customer_fields(store: Store, customer_id: str) -> JSON:
    customer = store.get("customers", customer_id) or store.get("deleted_customers", customer_id)
    if customer is None:
        return {}
    tax_ids = [
        {"type": tax_id["type"], "value": tax_id["value"]}
        for tax_id in store.values("tax_ids")
        if tax_id["customer"] == customer_id
    ]
    return {
        "customer_address": copy_json(customer["address"]),
        "customer_email": customer["email"],
        "customer_name": customer["name"],
        "customer_phone": customer["phone"],
        "customer_shipping": copy_json(customer["shipping"]),
        "customer_tax_exempt": customer["tax_exempt"],
        "customer_tax_ids": tax_ids,
    }


def render_invoice(store: Store, invoice: JSON) -> JSON:
    body: JSON = copy_json(invoice)
    body["default_tax_rates"] = tax_rates.render_all(store, invoice["default_tax_rates"])
    if invoice["status"] == "draft":
        # Until finalization the customer_* fields follow the customer (Stripe's documented rule).
        body.update(_customer_fields(store, invoice["customer"]))
    now = store.now()
    for entry in body["amounts_due"]:
        entry["status"] = invoice_rules.installment_status(entry, now)
    lines = lines_of(store, invoice)
    body["lines"] = {
        "object": "list",
        "data": lines[:LINES_INLINE],
        "has_more": len(lines) > LINES_INLINE,
        "url": f"/v1/invoices/{invoice['id']}/lines",
    }
    return body


@includable("invoice", "payments", "invoice_payments")
def _invoice_payments(store: Store, invoice: JSON) -> JSON:
    items = store.referring("invoice_payments", "invoice", invoice["id"])
    return list_object(
        store, "invoice_payments", newest_first(items), {"limit": "100"},
        f"/v1/invoice_payments?invoice={invoice['id']}",
    )  # fmt: skip


def _line_input(store: Store, item: JSON, default_rates: list[str]) -> totals.LineInput:
    rates = item["tax_rates"] or default_rates
    return totals.LineInput(
        amount=item["amount"],
        discountable=item["discountable"],
        discounts=tuple(coupons.as_off(store, d) for d in item["discounts"]),
        rates=tuple(
            totals.Rate(r, tax_rates.percentage_of(rate), bool(rate["inclusive"]))
            for r in rates
            if (rate := store.get("tax_rates", r)) is not None
        ),
    )


def refresh_totals(store: Store, invoice: JSON) -> None:
    """Recompute a draft's amounts from its lines, their discounts and tax rates and the
    invoice's (no customer balance or shipping): `stripe_sandbox.totals`."""
    items = _items_of(store, invoice["id"])
    worked_out = totals.compute(
        [_line_input(store, item, invoice["default_tax_rates"]) for item in items],
        [coupons.as_off(store, d) for d in invoice["discounts"]],
    )
    for item, line in zip(items, worked_out.lines, strict=True):
        store.secret(item["id"])["totals"] = line
        item["net_amount"] = item["amount"] - line.own_discounts
    invoice.update(
        subtotal=worked_out.subtotal,
        subtotal_excluding_tax=worked_out.subtotal_excluding_tax,
        total=worked_out.total,
        total_excluding_tax=worked_out.total_excluding_tax,
        total_discount_amounts=[
            {"amount": amount, "discount": discount}
            for discount, amount in worked_out.total_discount_amounts
        ],
        total_pretax_credit_amounts=_pretax_credits(list(worked_out.total_discount_amounts)),
        total_taxes=[_tax(tax) for tax in worked_out.total_taxes],
        amount_due=worked_out.total,
        amount_remaining=worked_out.total - invoice["amount_paid"],
    )


# -- invoice items -----------------------------------------------------------------------------


def _item_amount(params: Params) -> tuple[int, int, str]:
    """(amount, quantity, unit_amount_decimal) from amount, or unit_amount_decimal /
    price_data[unit_amount(_decimal)] x quantity."""
    quantity = get_int(params, "quantity")
    amount = get_int(params, "amount")
    price_data = get_dict(params, "price_data") or {}
    unit: int | None = None
    if params.get("unit_amount_decimal"):
        decimal = require_str(params, "unit_amount_decimal")
        if not decimal.replace(".", "", 1).lstrip("-").isdigit():
            raise invalid_request(
                "Invalid decimal: unit_amount_decimal", param="unit_amount_decimal"
            )
        unit = round(float(decimal))
    if unit is None and price_data.get("unit_amount"):
        unit = get_int(price_data, "unit_amount")
    if amount is not None:
        if unit is not None:
            raise invalid_request(
                "You may only specify one of these parameters: amount, unit_amount_decimal.",
                param="amount",
            )
        if quantity not in (None, 1):
            raise invalid_request(
                "When passing `amount`, `quantity` must be 1 or omitted.", param="quantity"
            )
        return amount, 1, str(amount)
    if unit is None:
        raise missing_param("amount")
    quantity = 1 if quantity is None else quantity
    if quantity < 0:
        raise invalid_request("Quantity must be positive.", param="quantity")
    return unit * quantity, quantity, str(unit)


def create_invoice_item(call: ApiRequest) -> JSON:
    store, params = call.store, call.params
    customer = require_customer(store, require_str(params, "customer"))
    invoice = None
    invoice_id = get_str(params, "invoice")
    if invoice_id:
        invoice = store.get("invoices", invoice_id)
        if invoice is None:
            raise no_such("invoice", invoice_id, "invoice")
        if invoice["customer"] != customer["id"]:
            raise invalid_request("The invoice belongs to a different customer.", param="invoice")
        invoice_rules.check(invoice["status"], "edit")
    currency_param = get_str(params, "currency") or (get_dict(params, "price_data") or {}).get(
        "currency"
    )
    currency = currency_param or (invoice["currency"] if invoice else customer["currency"])
    if not currency:
        raise missing_param("currency")
    currency = money.check_currency(currency)
    if invoice is not None and currency != invoice["currency"]:
        raise invalid_request(
            f"The currency of the invoice item ({currency}) must match the invoice's "
            f"currency ({invoice['currency']}).",
            param="currency",
        )
    amount, quantity, unit_decimal = _item_amount(params)
    rates = tax_rates.resolve(store, params.get("tax_rates"), "tax_rates")
    now = store.now()
    period = get_dict(params, "period") or {}
    item_id = ids.new_id("ii")
    item: JSON = {
        "id": item_id,
        "object": "invoiceitem",
        "amount": amount,
        "currency": currency,
        "customer": customer["id"],
        "customer_account": None,
        "date": now,
        "description": get_str(params, "description"),
        "discountable": bool(get_bool(params, "discountable", True)),
        "discounts": [],
        "frozen_fields": None,
        "invoice": invoice["id"] if invoice else None,
        "invoicing_rules": None,
        "livemode": False,
        "metadata": {},
        "net_amount": amount,
        "parent": None,
        "period": {
            "start": get_int(period, "start") or now,
            "end": get_int(period, "end") or now,
        },
        "pricing": {"price_details": None, "type": "price_details",
                    "unit_amount_decimal": unit_decimal},
        "proration": False,
        "proration_details": {"discount_amounts": []},
        "quantity": quantity,
        "quantity_decimal": str(quantity),
        "tax_rates": rates,
        "test_clock": None,
    }  # fmt: skip
    apply_metadata(item, params)
    item["discounts"] = coupons.redeem(
        store, params, "discounts", customer=customer["id"], currency=currency, kept=[],
        invoice_item=item_id,
    ) or []  # fmt: skip
    item["net_amount"] = amount - _own_discounts(store, item)
    store.insert("invoiceitems", item)
    if customer["currency"] is None:
        customer["currency"] = currency
    store.emit("invoiceitem.created", "invoiceitems", item)
    if invoice is not None:
        _draft_changed(store, invoice)
    return store.render("invoiceitems", item)


def _own_discounts(store: Store, item: JSON) -> int:
    """What an item's own discounts take from it (its `net_amount` before any invoice)."""
    alone = totals.compute([_line_input(store, item, [])])
    return alone.lines[0].own_discounts


def _draft_changed(store: Store, invoice: JSON) -> None:
    before = store.render("invoices", invoice)
    refresh_totals(store, invoice)
    after = store.render("invoices", invoice)
    previous = changes(before, after)
    previous.pop("lines", None)
    if previous:
        store.emit("invoice.updated", "invoices", invoice, previous)


def _require_item(store: Store, item_id: str) -> JSON:
    return store.require("invoiceitems", item_id, "invoiceitem")


def _editable_item(store: Store, item: JSON) -> JSON | None:
    invoice = store.get("invoices", item["invoice"]) if item["invoice"] else None
    if invoice is not None:
        invoice_rules.check(invoice["status"], "edit")
    return invoice


def retrieve_invoice_item(call: ApiRequest) -> JSON:
    return call.store.render("invoiceitems", _require_item(call.store, call.path_id("item")))


def update_invoice_item(call: ApiRequest) -> JSON:
    store, params = call.store, call.params
    item = _require_item(store, call.path_id("item"))
    invoice = _editable_item(store, item)
    rates = (
        tax_rates.resolve(store, params["tax_rates"], "tax_rates", kept=item["tax_rates"])
        if "tax_rates" in params
        else item["tax_rates"]
    )
    priced = (
        _item_amount(params)
        if {"amount", "price_data", "unit_amount_decimal", "quantity"} & params.keys()
        else None
    )
    # Checked above, redeemed here, changed below: a refused update changes nothing.
    discounts = coupons.redeem(
        store, params, "discounts", customer=item["customer"], currency=item["currency"],
        kept=item["discounts"], invoice_item=item["id"],
    )  # fmt: skip
    if priced is not None:
        amount, quantity, unit_decimal = priced
        item.update(amount=amount, quantity=quantity, quantity_decimal=str(quantity))
        item["pricing"]["unit_amount_decimal"] = unit_decimal
    if "description" in params:
        item["description"] = get_str(params, "description")
    if "discountable" in params:
        item["discountable"] = bool(get_bool(params, "discountable", True))
    item["tax_rates"] = rates
    if discounts is not None:
        item["discounts"] = discounts
    item["net_amount"] = item["amount"] - _own_discounts(store, item)
    apply_metadata(item, params)
    # Stripe has no `invoiceitem.updated` event (the SDK's list of event types); a draft
    # invoice whose totals change says so with `invoice.updated`.
    after = store.render("invoiceitems", item)
    if invoice is not None:
        _draft_changed(store, invoice)
    return after


def delete_invoice_item(call: ApiRequest) -> JSON:
    store = call.store
    item = _require_item(store, call.path_id("item"))
    invoice = _editable_item(store, item)
    store.remove("invoiceitems", item["id"])
    coupons.forget(store, item["discounts"])
    store.emit("invoiceitem.deleted", "invoiceitems_deleted", item)
    if invoice is not None:
        _draft_changed(store, invoice)
    return {"id": item["id"], "object": "invoiceitem", "deleted": True}


def list_invoice_items(call: ApiRequest) -> JSON:
    params = call.params
    customer = get_str(params, "customer")
    invoice = get_str(params, "invoice")
    pending = get_bool(params, "pending")
    items = [
        item
        for item in call.store.values("invoiceitems")
        if (customer is None or item["customer"] == customer)
        and (invoice is None or item["invoice"] == invoice)
        and (pending is None or (item["invoice"] is None) == pending)
        and matches_range(item["date"], params.get("created"), "created")
    ]
    return list_object(call.store, "invoiceitems", newest_first(items), params, "/v1/invoiceitems")


# -- invoices: create, update, read ------------------------------------------------------------


def _plan(params: Params) -> list[JSON]:
    entries = get_list(params, "amounts_due")
    if not entries:
        return []
    plan = []
    for index, entry in enumerate(entries):
        param = f"amounts_due[{index}]"
        if not isinstance(entry, dict):
            raise invalid_request(f"Invalid hash: {param}", param=param)
        amount = get_int(entry, "amount")
        if amount is None:
            raise missing_param(f"{param}[amount]")
        if amount <= 0:
            raise invalid_request(
                "Each payment plan amount must be positive.", param=f"{param}[amount]"
            )
        days = get_int(entry, "days_until_due")
        due = get_int(entry, "due_date")
        if (days is None) == (due is None):
            raise invalid_request(
                f"Specify exactly one of {param}[days_until_due] and {param}[due_date].",
                param=param,
            )
        plan.append(
            {
                "amount": amount,
                "amount_paid": 0,
                "amount_remaining": amount,
                "days_until_due": days,
                "description": entry.get("description") or None,
                "due_date": due,
                "paid_at": None,
                "status": "open",
            }
        )
    return plan


def _apply_invoice_fields(store: Store, invoice: JSON, params: Params, creating: bool) -> None:
    if invoice["status"] == "draft":
        # Checked first: a refused schedule changes nothing.
        auto_advance = (
            bool(get_bool(params, "auto_advance", False))
            if "auto_advance" in params
            else invoice["auto_advance"]
        )
        finalizes_at = scheduled.finalizes_at(
            get_int(params, scheduled.PARAM),
            auto_advance,
            invoice["automatically_finalizes_at"],
            store.now(),
        )
    if "collection_method" in params:
        invoice["collection_method"] = get_enum(
            params, "collection_method", COLLECTION_METHODS, "charge_automatically"
        )
    for field in ("days_until_due", "due_date", "effective_at"):
        if field in params:
            # Sandbox leniency: a due_date in the past is accepted (Stripe refuses it), so tests
            # and the demo can make overdue invoices without waiting.
            invoice[field if field != "days_until_due" else "_days_until_due"] = get_int(
                params, field
            )
    for field in ("description", "footer", "statement_descriptor", "number"):
        if field in params:
            invoice[field] = get_str(params, field)
    if "auto_advance" in params:
        invoice["auto_advance"] = bool(get_bool(params, "auto_advance", False))
    if invoice["status"] == "draft":
        invoice["automatically_finalizes_at"] = finalizes_at
    if "default_payment_method" in params:
        pm_id = get_str(params, "default_payment_method")
        if pm_id is not None:
            pm = store.get("payment_methods", pm_id)
            if pm is None or pm["customer"] != invoice["customer"]:
                raise invalid_request(
                    f"The PaymentMethod {pm_id} does not belong to the invoice's customer.",
                    param="default_payment_method",
                    code="resource_missing",
                )
        invoice["default_payment_method"] = pm_id
    settings = get_dict(params, "payment_settings")
    if settings is not None:
        _apply_payment_settings(store, invoice, settings)
    if "custom_fields" in params:
        fields = get_list(params, "custom_fields")
        invoice["custom_fields"] = fields or None
    if "amounts_due" in params:
        invoice["amounts_due"] = _plan(params)
    if "account_tax_ids" in params:
        invoice["account_tax_ids"] = account_tax_ids.resolve_for_invoice(
            store, params, "account_tax_ids"
        )
    if "default_tax_rates" in params:
        invoice["default_tax_rates"] = tax_rates.resolve(
            store, params["default_tax_rates"], "default_tax_rates",
            kept=invoice["default_tax_rates"],
        )  # fmt: skip
    apply_metadata(invoice, params)
    _validate_collection(invoice)
    # Last, once nothing else can refuse the request: redeeming a coupon counts it as used.
    discounts = coupons.redeem(
        store, params, "discounts", customer=invoice["customer"], currency=invoice["currency"],
        kept=invoice["discounts"], invoice=invoice["id"],
    )  # fmt: skip
    if discounts is not None:
        invoice["discounts"] = discounts


# The invoice's `payment_settings.payment_method_options` (the SDK's Invoice object); only
# `customer_balance` is kept, the others stay null.
PAYMENT_METHOD_OPTIONS = ("acss_debit", "bancontact", "billie", "blik", "card",
                          "customer_balance", "konbini", "payto", "pix", "sepa_debit", "upi",
                          "us_bank_account")  # fmt: skip
CUSTOMER_BALANCE_PARAM = "payment_settings[payment_method_options][customer_balance]"


def _apply_payment_settings(store: Store, invoice: JSON, settings: Params) -> None:
    """`payment_method_types`, and for `customer_balance` its bank transfer, checked against the
    invoice's currency and the account (docs.stripe.com/invoicing/bank-transfer)."""
    current = invoice["payment_settings"]
    if "payment_method_types" in settings:
        current["payment_method_types"] = get_str_list(settings, "payment_method_types") or None
    given = (get_dict(settings, "payment_method_options") or {}).get("customer_balance")
    if "customer_balance" not in (current["payment_method_types"] or []):
        if given:
            raise invalid_request(
                "payment_method_options[customer_balance] can only be set when "
                "payment_method_types includes customer_balance.",
                param=CUSTOMER_BALANCE_PARAM,
            )
        current["payment_method_options"] = None
        return
    kept = (current["payment_method_options"] or {}).get("customer_balance")
    if not given and kept:
        return
    options = bank_transfers.parse_options(
        given, invoice["currency"], store.config.account_country, CUSTOMER_BALANCE_PARAM,
        default_country=True,
    )  # fmt: skip
    current["payment_method_options"] = dict.fromkeys(PAYMENT_METHOD_OPTIONS) | {
        "customer_balance": options.as_json()
    }


def bank_transfer_options(store: Store, invoice: JSON) -> bank_transfers.Options | None:
    """The invoice's bank transfer settings, when it can be paid by bank transfer."""
    chosen = (invoice["payment_settings"]["payment_method_options"] or {}).get("customer_balance")
    return bank_transfers.Options.from_json(chosen) if chosen else None


def _validate_collection(invoice: JSON) -> None:
    send = invoice["collection_method"] == "send_invoice"
    days = invoice.get("_days_until_due")
    if not send and (days is not None or invoice["due_date"] is not None):
        raise invalid_request(
            "You can only set `days_until_due` or `due_date` on invoices with "
            "`collection_method=send_invoice`.",
            param="days_until_due" if days is not None else "due_date",
        )
    if send and days is None and invoice["due_date"] is None and not invoice["amounts_due"]:
        raise invalid_request(
            "Invoices with `collection_method=send_invoice` need `days_until_due` or `due_date`.",
            param="days_until_due",
        )
    if invoice["amounts_due"] and not send:
        raise invalid_request(
            "Payment plans (`amounts_due`) are only available on invoices with "
            "`collection_method=send_invoice`.",
            param="amounts_due",
        )


def create_invoice(call: ApiRequest) -> JSON:
    store, params = call.store, call.params
    customer = require_customer(store, require_str(params, "customer"))
    behavior = get_enum(params, "pending_invoice_items_behavior", ("include", "exclude"), "exclude")
    currency = get_str(params, "currency") or customer["currency"] or "usd"
    currency = money.check_currency(currency)
    now = store.now()
    invoice: JSON = {
        "id": ids.new_id("in"),
        "object": "invoice",
        "account_country": store.config.account_country,
        "account_name": store.account_settings.name,
        "account_tax_ids": None,
        "amount_due": 0,
        "amount_overpaid": 0,
        "amount_paid": 0,
        "amount_paid_off_stripe": 0,
        "amount_remaining": 0,
        "amount_shipping": 0,
        "amounts_due": [],
        "application": None,
        "attempt_count": 0,
        "attempted": False,
        "auto_advance": False,
        "automatic_tax": {"disabled_reason": None, "enabled": False, "liability": None,
                          "provider": None, "status": None},
        "automatically_finalizes_at": None,
        "billing_reason": "manual",
        "collection_method": "charge_automatically",
        "confirmation_secret": None,
        "created": now,
        "currency": currency,
        "custom_fields": None,
        "customer": customer["id"],
        "customer_account": None,
        "default_payment_method": None,
        "default_source": None,
        "default_tax_rates": [],
        "description": None,
        "discounts": [],
        "due_date": None,
        "effective_at": None,
        "ending_balance": None,
        "footer": None,
        "from_invoice": None,
        "hosted_invoice_url": None,
        "invoice_pdf": None,
        "issuer": {"type": "self"},
        "last_finalization_error": None,
        "latest_revision": None,
        "livemode": False,
        "metadata": {},
        "next_payment_attempt": None,
        "number": None,
        "on_behalf_of": None,
        "parent": None,
        "payment_settings": {"default_mandate": None, "payment_method_options": None,
                             "payment_method_types": None},
        "period_end": now,
        "period_start": now,
        "post_payment_credit_notes_amount": 0,
        "pre_payment_credit_notes_amount": 0,
        "receipt_number": None,
        "rendering": None,
        "shipping_cost": None,
        "shipping_details": None,
        "starting_balance": 0,
        "statement_descriptor": None,
        "status": "draft",
        "status_details": None,
        "status_transitions": {"finalized_at": None, "marked_uncollectible_at": None,
                               "paid_at": None, "voided_at": None},
        "subtotal": 0,
        "subtotal_excluding_tax": 0,
        "test_clock": None,
        "threshold_reason": None,
        "total": 0,
        "total_discount_amounts": [],
        "total_excluding_tax": 0,
        "total_pretax_credit_amounts": [],
        "total_taxes": [],
        "webhooks_delivered_at": now,
    }  # fmt: skip
    invoice["customer"] = customer["id"]
    _apply_invoice_fields(store, invoice, params, creating=True)
    store.insert("invoices", invoice)
    if behavior == "include":
        for item in store.referring("invoiceitems", "customer", customer["id"]):
            if item["invoice"] is None and item["currency"] == currency:
                store.refer("invoiceitems", item, "invoice", invoice["id"])
    refresh_totals(store, invoice)
    if customer["currency"] is None:
        customer["currency"] = currency
    store.emit("invoice.created", "invoices", invoice)
    scheduled.follow(store, invoice, _advance_when_due)
    return store.render("invoices", invoice)


def _require_invoice(store: Store, invoice_id: str) -> JSON:
    return store.require("invoices", invoice_id, "invoice")


def retrieve_invoice(call: ApiRequest) -> JSON:
    invoice_id = call.path_id("invoice")
    invoice = call.store.get("invoices", invoice_id)
    if invoice is None:
        if call.store.get("deleted_invoices", invoice_id) is not None:
            return {"id": invoice_id, "object": "invoice", "deleted": True}
        raise no_such("invoice", invoice_id)
    return call.store.render("invoices", invoice)


# Fields Stripe lets you change on a finalized invoice; everything else is frozen.
_OPEN_EDITABLE = frozenset({"metadata", "description", "footer", "auto_advance", "expand",
                            "custom_fields"})  # fmt: skip


def update_invoice(call: ApiRequest) -> JSON:
    store, params = call.store, call.params
    invoice = _require_invoice(store, call.path_id("invoice"))
    frozen = set(params) - _OPEN_EDITABLE
    # A finalized invoice keeps its amounts; only the fields in _OPEN_EDITABLE may change (and
    # nothing at all once it is void).
    if invoice["status"] != "draft" and (frozen or invoice["status"] == "void"):
        invoice_rules.check(invoice["status"], "edit")
    before = store.render("invoices", invoice)
    _apply_invoice_fields(store, invoice, params, creating=False)
    if invoice["status"] == "draft":
        refresh_totals(store, invoice)
        scheduled.follow(store, invoice, _advance_when_due)
    after = store.render("invoices", invoice)
    previous = changes(before, after)
    previous.pop("lines", None)
    if previous:
        store.emit("invoice.updated", "invoices", invoice, previous)
    return after


def delete_invoice(call: ApiRequest) -> JSON:
    store = call.store
    invoice = _require_invoice(store, call.path_id("invoice"))
    invoice_rules.check(invoice["status"], "delete")
    coupons.forget(store, invoice["discounts"])
    for item in _items_of(store, invoice["id"]):
        store.remove("invoiceitems", item["id"])
        coupons.forget(store, item["discounts"])
    store.remove("invoices", invoice["id"])
    scheduled.forget(store, invoice["id"])
    store.insert("deleted_invoices", invoice)
    store.emit("invoice.deleted", "deleted_invoices", invoice)
    return {"id": invoice["id"], "object": "invoice", "deleted": True}


def list_invoices(call: ApiRequest) -> JSON:
    params = call.params
    customer = get_str(params, "customer")
    status = get_str(params, "status")
    method = get_str(params, "collection_method")
    # A customer's invoices by the store's index, not a scan of every invoice: the bench's
    # scale runs list ten thousand customers' invoices among tens of thousands.
    found = (
        call.store.values("invoices")
        if customer is None
        else call.store.referring("invoices", "customer", customer)
    )
    items = [
        invoice
        for invoice in found
        if (customer is None or invoice["customer"] == customer)
        and (status is None or invoice["status"] == status)
        and (method is None or invoice["collection_method"] == method)
        and matches_range(invoice["created"], params.get("created"), "created")
        and (
            params.get("due_date") in (None, "")
            or matches_range(invoice["due_date"], params.get("due_date"), "due_date")
        )
    ]
    return list_object(call.store, "invoices", newest_first(items), params, "/v1/invoices")


search_invoices = searcher("invoices", SEARCH_FIELDS, "/v1/invoices/search")


def list_lines(call: ApiRequest) -> JSON:
    invoice = _require_invoice(call.store, call.path_id("invoice"))
    lines = lines_of(call.store, invoice)
    return list_object(
        call.store, "invoice_lines", lines, call.params,
        f"/v1/invoices/{invoice['id']}/lines", render=copy_json,
    )  # fmt: skip


# -- finalize ----------------------------------------------------------------------------------


def _new_invoice_payment(store: Store, invoice: JSON, pi: JSON, is_default: bool) -> JSON:
    payment: JSON = {
        "id": ids.new_id("inpay"),
        "object": "invoice_payment",
        "amount_paid": None,
        "amount_requested": pi["amount"],
        "created": store.now(),
        "currency": invoice["currency"],
        "invoice": invoice["id"],
        "is_default": is_default,
        "livemode": False,
        "payment": {"type": "payment_intent", "payment_intent": pi["id"]},
        "status": "open",
        "status_transitions": {"canceled_at": None, "paid_at": None},
    }
    store.insert("invoice_payments", payment)
    return payment


def _default_payment_types(invoice: JSON) -> list[str]:
    chosen = invoice["payment_settings"]["payment_method_types"]
    if chosen:
        kept = [t for t in chosen if t in ("card", "sepa_debit", "customer_balance")]
        return kept or ["card"]
    return ["card", "sepa_debit"] if invoice["currency"] == "eur" else ["card"]


def finalize(store: Store, invoice: JSON) -> None:
    invoice_rules.check(invoice["status"], "finalize")
    refresh_totals(store, invoice)
    error = invoice_rules.plan_error(invoice["amounts_due"], invoice["amount_due"])
    if error is not None:
        raise error
    customer = require_customer(store, invoice["customer"])
    now = store.now()
    if invoice["number"] is None:
        sequence = customer["next_invoice_sequence"]
        customer["next_invoice_sequence"] = sequence + 1
        invoice["number"] = f"{customer['invoice_prefix']}-{sequence:04d}"
    invoice.update(_customer_fields(store, customer["id"]))
    account_tax_ids.defaults_at_finalization(store, invoice)
    base = store.base_url()
    invoice["hosted_invoice_url"] = f"{base}/i/{invoice['id']}"
    # As at Stripe (pay.stripe.com/invoice/.../pdf), the link redirects to the file's storage.
    invoice["invoice_pdf"] = f"{base}/invoice/{invoice['id']}/pdf"
    invoice["status_transitions"]["finalized_at"] = now
    invoice["effective_at"] = invoice["effective_at"] or now
    # Null on anything but a draft (the SDK's `Invoice`); a successful finalization clears the
    # last failed one's error.
    invoice["automatically_finalizes_at"] = None
    invoice["last_finalization_error"] = None
    scheduled.forget(store, invoice["id"])
    invoice_rules.schedule_installments(invoice["amounts_due"], now)
    days, due = invoice.get("_days_until_due"), invoice["due_date"]
    if days is None and due is None and invoice["amounts_due"]:
        # A plan without its own terms is due when its last installment is.
        due = max(entry["due_date"] for entry in invoice["amounts_due"])
    due = invoice_rules.due_date(invoice["collection_method"], days, due, now)
    invoice["due_date"] = due
    invoice["status"] = "open"
    credit_balance.apply_to_invoice(store, invoice)
    invoice["amount_remaining"] = invoice["amount_due"] - invoice["amount_paid"]
    pi = None
    if invoice["amount_due"] > 0:
        pi = intents.new_payment_intent(
            store,
            amount=invoice["amount_due"],
            currency=invoice["currency"],
            customer=invoice["customer"],
            description=f"Invoice {invoice['number']}",
            payment_method_types=_default_payment_types(invoice),
        )
        store.secret(pi["id"])["invoice"] = invoice["id"]
        store.secret(invoice["id"])["default_pi"] = pi["id"]
        invoice["confirmation_secret"] = {
            "client_secret": pi["client_secret"],
            "type": "payment_intent",
        }
        options = bank_transfer_options(store, invoice)
        if options is not None:
            pi["payment_method_options"]["customer_balance"] = options.as_json() | {
                "setup_future_usage": None
            }
        store.emit("payment_intent.created", "payment_intents", pi)
        _new_invoice_payment(store, invoice, pi, is_default=True)
    store.emit("invoice.finalized", "invoices", invoice)
    if invoice["amount_remaining"] <= 0:
        _mark_paid(store, invoice)
        return
    _await_bank_transfer(store, invoice, pi)


def _await_bank_transfer(store: Store, invoice: JSON, pi: JSON | None) -> None:
    """An invoice that takes bank transfers: paid from the cash balance if the money is already
    there; if bank transfer is its only method, its PaymentIntent shows the transfer's
    instructions (`requires_action`), the invoice number as the reference."""
    options = bank_transfer_options(store, invoice)
    if options is None or pi is None:
        return
    if invoice["payment_settings"]["payment_method_types"] == ["customer_balance"]:
        cash_balance.await_transfer(store, pi, options, invoice["number"])
    else:
        cash_balance.reconcile(store, invoice["customer"], invoice["currency"])


def finalize_invoice(call: ApiRequest) -> JSON:
    invoice = _require_invoice(call.store, call.path_id("invoice"))
    if "auto_advance" in call.params:
        invoice["auto_advance"] = bool(get_bool(call.params, "auto_advance", False))
    finalize(call.store, invoice)
    return call.store.render("invoices", invoice)


# -- paying ------------------------------------------------------------------------------------


def _default_pi(store: Store, invoice: JSON) -> JSON | None:
    pi_id = store.secret(invoice["id"]).get("default_pi")
    return store.get("payment_intents", pi_id) if pi_id else None


def _mark_paid(store: Store, invoice: JSON, out_of_band: bool = False) -> None:
    now = store.now()
    invoice["status"] = "paid"
    # Paid, void and uncollectible invoices never advance automatically (Stripe's
    # automatic-advancement guide).
    invoice["auto_advance"] = False
    invoice["status_transitions"]["paid_at"] = now
    invoice["amount_remaining"] = 0
    invoice_rules.settle_all(invoice["amounts_due"], now)
    default = _default_pi(store, invoice)
    if default is not None and default["status"] in (
        "requires_payment_method", "requires_confirmation", "requires_action",
    ):  # fmt: skip
        payments.cancel_payment(store, default, "abandoned" if not out_of_band else None)
    store.emit("invoice.paid", "invoices", invoice)
    if not out_of_band:
        store.emit("invoice.payment_succeeded", "invoices", invoice)


def credit(store: Store, invoice: JSON, amount: int) -> None:
    """Count a successful payment towards the invoice (installments oldest first)."""
    before = {key: copy_json(invoice[key]) for key in
              ("amount_paid", "amount_remaining", "amounts_due", "status")}  # fmt: skip
    invoice["amount_paid"] += amount
    remaining = invoice["amount_due"] - invoice["amount_paid"]
    invoice["amount_overpaid"] = max(0, -remaining)
    invoice["amount_remaining"] = max(0, remaining)
    invoice_rules.allocate(invoice["amounts_due"], amount, store.now())
    _follow_remaining(store, invoice, before)


def _follow_remaining(store: Store, invoice: JSON, before: JSON) -> None:
    """After the amount remaining fell: paid at zero, else the default payment asks for what
    is still owed (Stripe keeps it for that)."""
    if invoice["amount_remaining"] == 0:
        _mark_paid(store, invoice)
        return
    default = _default_pi(store, invoice)
    if default is not None and (
        default["status"] in ("requires_payment_method", "requires_confirmation")
        or cash_balance.awaits_transfer(store, default)
    ):
        cash_balance.follow_amount(store, default, invoice["amount_remaining"])
        for payment in store.values("invoice_payments"):
            if payment["payment"]["payment_intent"] == default["id"]:
                payment["amount_requested"] = default["amount"]
    store.emit("invoice.updated", "invoices", invoice, before)
    if bank_transfer_options(store, invoice) is not None:
        # Money waiting in the cash balance may now cover what is left.
        cash_balance.reconcile(store, invoice["customer"], invoice["currency"])


def reduce_by_credit_note(store: Store, invoice: JSON, amount: int) -> None:
    """A credit note before payment: less to pay (`amount` was checked against what remains)."""
    before = {key: copy_json(invoice[key]) for key in
              ("amount_due", "amount_remaining", "status")}  # fmt: skip
    invoice["amount_due"] -= amount
    invoice["amount_remaining"] -= amount
    invoice["pre_payment_credit_notes_amount"] += amount
    _follow_remaining(store, invoice, before)


def _on_payment_succeeded(store: Store, pi: JSON) -> None:
    for payment in store.values("invoice_payments"):
        if payment["payment"]["payment_intent"] != pi["id"] or payment["status"] != "open":
            continue
        invoice = store.get("invoices", payment["invoice"])
        if invoice is None or invoice["status"] not in ("open", "uncollectible", "paid"):
            continue
        # All of it counts, even past what the invoice owes (two payments crossing): the
        # excess is `amount_overpaid`, credited to the customer's balance.
        amount = pi["amount_received"]
        payment.update(status="paid", amount_paid=amount)
        payment["status_transitions"]["paid_at"] = store.now()
        store.emit("invoice_payment.paid", "invoice_payments", payment)
        overpaid_before = invoice["amount_overpaid"]
        if invoice["status"] == "paid":
            _credit_paid(store, invoice, amount)
        else:
            credit(store, invoice, amount)
        if invoice["amount_overpaid"] > overpaid_before:
            credit_balance.credit_overpayment(
                store, invoice, invoice["amount_overpaid"] - overpaid_before
            )
            store.emit("invoice.overpaid", "invoices", invoice)


def _credit_paid(store: Store, invoice: JSON, amount: int) -> None:
    """A payment that lands on an invoice already paid: all of it is overpaid."""
    before = {key: invoice[key] for key in ("amount_overpaid", "amount_paid")}
    invoice["amount_paid"] += amount
    invoice["amount_overpaid"] += amount
    store.emit("invoice.updated", "invoices", invoice, before)


def _invoices_paid_by(store: Store, pi: JSON) -> list[JSON]:
    found = []
    for payment in store.values("invoice_payments"):
        if payment["payment"]["payment_intent"] == pi["id"] and payment["status"] == "open":
            invoice = store.get("invoices", payment["invoice"])
            if invoice is not None:
                found.append(invoice)
    return found


def _on_payment_failed(store: Store, pi: JSON) -> None:
    for invoice in _invoices_paid_by(store, pi):
        invoice["attempt_count"] += 1
        invoice["attempted"] = True
        store.emit("invoice.payment_failed", "invoices", invoice)


def _on_requires_action(store: Store, pi: JSON) -> None:
    for invoice in _invoices_paid_by(store, pi):
        invoice["attempt_count"] += 1
        invoice["attempted"] = True
        store.emit("invoice.payment_action_required", "invoices", invoice)


def _on_payment_canceled(store: Store, pi: JSON) -> None:
    for payment in store.values("invoice_payments"):
        if payment["payment"]["payment_intent"] == pi["id"] and payment["status"] == "open":
            payment["status"] = "canceled"
            payment["status_transitions"]["canceled_at"] = store.now()


payments.PAYMENT_HOOKS.succeeded.append(_on_payment_succeeded)
payments.PAYMENT_HOOKS.failed.append(_on_payment_failed)
payments.PAYMENT_HOOKS.requires_action.append(_on_requires_action)
payments.PAYMENT_HOOKS.canceled.append(_on_payment_canceled)


def _payment_method_for(store: Store, invoice: JSON, pm_id: str | None) -> JSON:
    customer = require_customer(store, invoice["customer"])
    chosen = (
        pm_id
        or invoice["default_payment_method"]
        or customer["invoice_settings"]["default_payment_method"]
    )
    if not chosen:
        raise invalid_request(
            "This customer has no attached payment source or default payment method. Please "
            "consider adding a default payment method.",
            code="invoice_no_customer_payment_method",
        )
    pm = payment_methods.resolve(store, chosen)
    if pm["customer"] is None:
        # Paying with a fresh payment method attaches it to the invoice's customer.
        payment_methods.attach_to_customer(store, pm["id"], customer)
    elif pm["customer"] != customer["id"]:
        raise invalid_request(
            f"The PaymentMethod {pm['id']} does not belong to the invoice's customer "
            f"{customer['id']}.",
            param="payment_method",
        )
    return pm


def _payment_intent_for(store: Store, invoice: JSON, pm: JSON) -> JSON:
    """The invoice's default PaymentIntent set to take what remains with `pm` (a new one if
    the last is spent), not yet confirmed."""
    pi = _default_pi(store, invoice)
    if pi is None or pi["status"] in ("succeeded", "canceled", "processing"):
        pi = intents.new_payment_intent(
            store,
            amount=invoice["amount_remaining"],
            currency=invoice["currency"],
            customer=invoice["customer"],
            description=f"Invoice {invoice['number']}",
            payment_method_types=_default_payment_types(invoice),
        )
        store.secret(pi["id"])["invoice"] = invoice["id"]
        store.secret(invoice["id"])["default_pi"] = pi["id"]
        store.emit("payment_intent.created", "payment_intents", pi)
        _new_invoice_payment(store, invoice, pi, is_default=True)
    if pm["type"] not in pi["payment_method_types"]:
        pi["payment_method_types"] = [*pi["payment_method_types"], pm["type"]]
    pi["payment_method"] = pm["id"]
    pi["amount"] = invoice["amount_remaining"]
    return pi


def pay_invoice(call: ApiRequest) -> JSON:
    store, params = call.store, call.params
    invoice = _require_invoice(store, call.path_id("invoice"))
    invoice_rules.check(invoice["status"], "pay")
    if get_bool(params, "paid_out_of_band", False):
        amount = invoice["amount_remaining"]
        invoice["amount_paid"] += amount
        _mark_paid(store, invoice, out_of_band=True)
        return store.render("invoices", invoice)
    pm = _payment_method_for(store, invoice, get_str(params, "payment_method"))
    pi = _payment_intent_for(store, invoice, pm)
    try:
        payments.confirm_payment(
            store,
            pi,
            off_session=bool(get_bool(params, "off_session", True)),
            return_url=None,
            for_invoice=True,
        )
    except StripeError as error:
        if error.type == "card_error":
            raise card_error(
                error.message,
                code=error.code or "card_declined",
                decline_code=error.decline_code,
                param=error.param,
                extra={"payment_intent": store.render("payment_intents", pi)},
            ) from None
        raise
    if pi["status"] == "requires_action":
        raise card_error(
            REQUIRES_ACTION_MESSAGE,
            code="invoice_payment_intent_requires_action",
            extra={"payment_intent": store.render("payment_intents", pi)},
        )
    return store.render("invoices", invoice)


# -- scheduled finalization and automatic collection -------------------------------------------


def _advance_when_due(store: Store, invoice_id: str) -> None:
    """A draft's `automatically_finalizes_at` has come: finalized as POST .../finalize would
    finalize it; a `charge_automatically` one is then charged (`_collect_automatically`). A
    finalization that fails leaves the draft, its error in `last_finalization_error`."""
    invoice = store.get("invoices", invoice_id)
    if invoice is None or invoice["status"] != "draft" or not invoice["auto_advance"]:
        return
    try:
        finalize(store, invoice)
    except StripeError as error:
        previous = {"automatically_finalizes_at": invoice["automatically_finalizes_at"],
                    "last_finalization_error": invoice["last_finalization_error"]}  # fmt: skip
        invoice["automatically_finalizes_at"] = None
        invoice["last_finalization_error"] = error.as_last_error()
        store.emit("invoice.finalization_failed", "invoices", invoice, previous)
        return
    if invoice["status"] == "open" and invoice["collection_method"] == "charge_automatically":
        _collect_automatically(store, invoice)


def _collect_automatically(store: Store, invoice: JSON) -> None:
    """Stripe's automatic collection of a finalized invoice: one off-session attempt with the
    invoice's default payment method, else the customer's `invoice_settings` one (the SDK's
    `InvoiceCreateParams.default_payment_method`). A decline or a missing method fails the
    attempt (`invoice.payment_failed`) and the invoice stays open; a SEPA debit is
    `processing` until it settles. An invoice waiting for a bank transfer waits for it."""
    if invoice["payment_settings"]["payment_method_types"] == ["customer_balance"]:
        return
    attempts = invoice["attempt_count"]
    try:
        pm = _payment_method_for(store, invoice, None)
        pi = _payment_intent_for(store, invoice, pm)
        payments.confirm_payment(store, pi, off_session=True, return_url=None, for_invoice=True)
    except StripeError:
        if invoice["attempt_count"] == attempts:
            # Refused before any charge (no payment method, one of a type the invoice does
            # not take): the attempt fails all the same.
            invoice["attempt_count"] += 1
            invoice["attempted"] = True
            store.emit("invoice.payment_failed", "invoices", invoice)
        return
    if invoice["attempt_count"] == attempts:
        invoice["attempt_count"] += 1
        invoice["attempted"] = True


def attach_payment(call: ApiRequest) -> JSON:
    """A PaymentIntent towards part of an open or uncollectible invoice. The refusals are those
    of Stripe's partial payments guide (same customer and currency, an amount up to
    `amount_remaining`) in the sandbox's words, and two of the sandbox's own: a canceled
    PaymentIntent, and one already attached (Stripe lets one PaymentIntent pay several invoices,
    see InvoicePayment.amount_paid; the sandbox does not model how it is shared)."""
    store, params = call.store, call.params
    invoice = _require_invoice(store, call.path_id("invoice"))
    pi_id = require_str(params, "payment_intent")
    pi = store.get("payment_intents", pi_id)
    if pi is None:
        raise no_such("payment_intent", pi_id, "payment_intent")
    invoice_rules.check(invoice["status"], "attach")
    if pi["customer"] != invoice["customer"]:
        raise invalid_request(
            "The PaymentIntent's customer must match the invoice's customer.",
            param="payment_intent",
        )
    if pi["currency"] != invoice["currency"]:
        raise invalid_request(
            "The PaymentIntent's currency must match the invoice's currency.",
            param="payment_intent",
        )
    if pi["status"] == "canceled":
        raise invalid_request(
            "A canceled PaymentIntent cannot be attached to an invoice.", param="payment_intent"
        )
    if any(p["payment"]["payment_intent"] == pi_id for p in store.values("invoice_payments")):
        raise invalid_request(
            "This PaymentIntent is already attached to an invoice.", param="payment_intent"
        )
    if pi["amount"] > invoice["amount_remaining"]:
        raise invalid_request(
            f"The PaymentIntent's amount ({pi['amount']}) exceeds the invoice's "
            f"amount_remaining ({invoice['amount_remaining']}).",
            param="payment_intent",
        )
    _new_invoice_payment(store, invoice, pi, is_default=False)
    if pi["status"] == "succeeded":
        _on_payment_succeeded(store, pi)
    return store.render("invoices", invoice)


def _refuse_while_payments_open(store: Store, invoice: JSON, what: str, *, voiding: bool) -> None:
    """Stripe's partial payments guide: "When an invoice has open or paid payments, you can't
    void [it]. When an invoice has open payments, you can't mark it uncollectible." Its
    default payment does not count, as voiding cancels it, unless it is processing and so
    cannot be canceled. The wording of the refusal is the sandbox's."""
    for payment in store.values("invoice_payments"):
        if payment["invoice"] != invoice["id"] or payment["status"] != "open":
            continue
        pi = store.get("payment_intents", payment["payment"]["payment_intent"])
        processing = pi is not None and pi["status"] == "processing"
        if payment["is_default"] and not (voiding and processing):
            continue
        pi_id = payment["payment"]["payment_intent"]
        raise invalid_request(
            f"You cannot {what} while it has an open payment (PaymentIntent {pi_id}). "
            + (
                "That PaymentIntent is processing and cannot be canceled."
                if processing
                else "Cancel that PaymentIntent first."
            )
        )


def void_invoice(call: ApiRequest) -> JSON:
    store = call.store
    invoice = _require_invoice(store, call.path_id("invoice"))
    invoice_rules.check(invoice["status"], "void")
    if invoice["amount_paid"] > 0:
        raise invalid_request(
            "You cannot void an invoice that has been partially paid; issue a credit note instead."
        )
    _refuse_while_payments_open(store, invoice, "void this invoice", voiding=True)
    previous = {"status": invoice["status"]}
    invoice["status"] = "void"
    invoice["auto_advance"] = False
    invoice["status_transitions"]["voided_at"] = store.now()
    for entry in invoice["amounts_due"]:
        entry["status"] = entry["status"] if entry["amount_remaining"] == 0 else "open"
    default = _default_pi(store, invoice)
    if default is not None and default["status"] not in ("succeeded", "canceled", "processing"):
        payments.cancel_payment(store, default, "void_invoice")
    store.emit("invoice.voided", "invoices", invoice, previous)
    store.emit("invoice.updated", "invoices", invoice, previous)
    return store.render("invoices", invoice)


def mark_uncollectible(call: ApiRequest) -> JSON:
    store = call.store
    invoice = _require_invoice(store, call.path_id("invoice"))
    invoice_rules.check(invoice["status"], "mark_uncollectible")
    _refuse_while_payments_open(store, invoice, "mark this invoice as uncollectible", voiding=False)
    previous = {"status": invoice["status"]}
    invoice["status"] = "uncollectible"
    invoice["auto_advance"] = False
    invoice["status_transitions"]["marked_uncollectible_at"] = store.now()
    store.emit("invoice.marked_uncollectible", "invoices", invoice, previous)
    store.emit("invoice.updated", "invoices", invoice, previous)
    return store.render("invoices", invoice)


# -- invoice payments --------------------------------------------------------------------------


def list_invoice_payments(call: ApiRequest) -> JSON:
    params = call.params
    invoice = get_str(params, "invoice")
    payment = get_dict(params, "payment") or {}
    pi_filter = payment.get("payment_intent") or None
    status = get_str(params, "status")
    found = (
        call.store.values("invoice_payments")
        if invoice is None
        else call.store.referring("invoice_payments", "invoice", invoice)
    )
    items = [
        p
        for p in found
        if (invoice is None or p["invoice"] == invoice)
        and (pi_filter is None or p["payment"]["payment_intent"] == pi_filter)
        and (status is None or p["status"] == status)
    ]
    return list_object(
        call.store, "invoice_payments", newest_first(items), params, "/v1/invoice_payments"
    )


def retrieve_invoice_payment(call: ApiRequest) -> JSON:
    payment = call.store.require("invoice_payments", call.path_id("payment"), "invoice_payment")
    return call.store.render("invoice_payments", payment)


def register_renderers(store: Store) -> None:
    def invoice(obj: JSON) -> JSON:
        body = render_invoice(store, obj)
        body.pop("_days_until_due", None)
        # Payment plans are a preview feature: shown only to `.preview` API versions.
        return preview.hide(store, "invoice", body)

    def item(obj: JSON) -> JSON:
        body: JSON = copy_json(obj)
        body["tax_rates"] = tax_rates.render_all(store, obj["tax_rates"])
        return body

    store.renderers["invoices"] = invoice
    store.renderers["deleted_invoices"] = invoice
    store.renderers["invoiceitems"] = item
    store.renderers["invoiceitems_deleted"] = item
