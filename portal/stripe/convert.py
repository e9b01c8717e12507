"""Stripe's JSON turned into the portal's values (`portal.stripe.models`).

Plain functions over mappings, so that they are tested on Stripe's own example objects without a
server; the gateway's sections call them on every response and nothing else reads Stripe's shapes.
"""

from __future__ import annotations

from collections.abc import Mapping
from datetime import UTC, datetime
from decimal import Decimal, InvalidOperation
from typing import Any, cast

from portal.stripe.models import (
    Address,
    Balances,
    BankAccount,
    BankTransferInstructions,
    BilledTaxId,
    CheckoutSession,
    CreditNote,
    Customer,
    DiscountAmount,
    Installment,
    Invoice,
    InvoiceLine,
    InvoicePayment,
    PaidWith,
    PaymentIntent,
    PaymentMethod,
    Refund,
    TaxAmount,
    TaxId,
    TaxRate,
    WebhookEndpoint,
)


def timestamp(value: Any) -> datetime | None:
    return datetime.fromtimestamp(int(value), UTC) if value is not None else None


def address_from_stripe(data: Mapping[str, Any] | None) -> Address | None:
    if not data:
        return None
    return Address(
        line1=data.get("line1"),
        line2=data.get("line2"),
        postal_code=data.get("postal_code"),
        city=data.get("city"),
        state=data.get("state"),
        country=data.get("country"),
    )


def object_id(value: Any) -> str | None:
    """An expandable field: either an id or the expanded object."""
    if value is None or isinstance(value, str):
        return value
    if isinstance(value, Mapping):
        return cast(str, value["id"])
    return cast(str | None, getattr(value, "id", None))  # a StripeObject (not a Mapping)


def customer_from_stripe(data: Mapping[str, Any]) -> Customer:
    settings = data.get("invoice_settings") or {}
    return Customer(
        id=data["id"],
        email=data.get("email"),
        name=data.get("name"),
        phone=data.get("phone"),
        address=address_from_stripe(data.get("address")),
        preferred_locales=tuple(data.get("preferred_locales") or ()),
        default_payment_method_id=object_id(settings.get("default_payment_method")),
        individual_name=data.get("individual_name"),
    )


def line_from_stripe(
    data: Mapping[str, Any], currency: str, names: Mapping[str, str | None] | None = None
) -> InvoiceLine:
    """A line, with its own discounts named from `names` (the coupons the invoice's read
    included) or from its own `discounts` where they came expanded."""
    unit = (data.get("pricing") or {}).get("unit_amount_decimal")
    own = [object_id(d) for d in data.get("discounts") or ()]
    known = dict(names or {}) | discount_names(data.get("discounts") or ())
    return InvoiceLine(
        id=data["id"],
        description=data.get("description"),
        quantity=data.get("quantity"),
        amount=data["amount"],
        currency=data.get("currency", currency),
        unit_amount=_decimal(unit),
        discounts=tuple(
            DiscountAmount(entry["amount"], found, known.get(found))
            for entry in data.get("discount_amounts") or ()
            if (found := object_id(entry.get("discount"))) in own and found is not None
        ),
    )


def tax_rate_from_stripe(data: Mapping[str, Any]) -> TaxRate:
    return TaxRate(
        id=data["id"],
        display_name=data.get("display_name"),
        percentage=_decimal(data.get("percentage")),
        inclusive=bool(data.get("inclusive")),
        country=data.get("country"),
        jurisdiction=data.get("jurisdiction"),
        tax_type=data.get("tax_type"),
    )


def _coupon_name(discount: Mapping[str, Any]) -> str | None:
    coupon = (discount.get("source") or {}).get("coupon")
    if not isinstance(coupon, Mapping):
        return None
    # Stripe shows a coupon without a name by its id (CouponCreateParams, `name`).
    return cast(str | None, coupon.get("name") or coupon.get("id"))


def discount_names(discounts: Any) -> dict[str, str | None]:
    """Discount id -> its coupon's name, for the discounts that came expanded with their coupon."""
    return {
        discount["id"]: name
        for discount in discounts
        if isinstance(discount, Mapping) and (name := _coupon_name(discount)) is not None
    }


def taxes_from_stripe(
    entries: Any, known: Mapping[str, TaxRate] | None = None
) -> tuple[TaxAmount, ...]:
    """An invoice's `total_taxes`, each with its rate: expanded in the read
    (`total_taxes.tax_rate_details.tax_rate`), else one of the rates the invoice carries whole
    (`default_tax_rates`), else unknown (only the amount is shown)."""
    found = []
    for entry in entries or ():
        details = entry.get("tax_rate_details") or {}
        rate = details.get("tax_rate")
        if isinstance(rate, Mapping):
            tax_rate: TaxRate | None = tax_rate_from_stripe(rate)
        else:
            tax_rate = (known or {}).get(rate) if isinstance(rate, str) else None
        found.append(
            TaxAmount(
                amount=int(entry.get("amount") or 0),
                inclusive=entry.get("tax_behavior") == "inclusive",
                rate=tax_rate,
                taxable_amount=entry.get("taxable_amount"),
            )
        )
    return tuple(found)


def _decimal(value: Any) -> Decimal | None:
    try:
        return Decimal(str(value)) if value not in (None, "") else None
    except InvalidOperation:  # never seen from Stripe; a page without it beats no page
        return None


def invoice_from_stripe(data: Mapping[str, Any]) -> Invoice:
    lines = data.get("lines") or {}
    transitions = data.get("status_transitions") or {}
    total_taxes = data.get("total_taxes")
    tax = sum(t.get("amount", 0) for t in total_taxes) if total_taxes else int(data.get("tax") or 0)
    rates = {
        rate["id"]: tax_rate_from_stripe(rate)
        for rate in data.get("default_tax_rates") or ()
        if isinstance(rate, Mapping)
    }
    totals = data.get("total_discount_amounts") or ()
    names = discount_names([entry.get("discount") for entry in totals])
    names |= discount_names(data.get("discounts") or ())
    # The invoice's own discounts; the lines' own are in the subtotal already.
    of_lines = {object_id(d) for line in lines.get("data", ()) for d in line.get("discounts") or ()}
    own = {object_id(d) for d in data.get("discounts") or ()} - of_lines
    options = (data.get("payment_settings") or {}).get("payment_method_options") or {}
    transfer = ((options.get("customer_balance") or {}).get("bank_transfer")) or {}
    return Invoice(
        id=data["id"],
        customer_id=cast(str, object_id(data["customer"])),
        number=data.get("number"),
        status=data["status"],
        currency=data["currency"],
        collection_method=data.get("collection_method") or "charge_automatically",
        created=cast(datetime, timestamp(data["created"])),
        due_date=timestamp(data.get("due_date")),
        amount_due=data["amount_due"],
        amount_paid=data["amount_paid"],
        amount_remaining=data["amount_remaining"],
        amount_overpaid=data.get("amount_overpaid") or 0,
        payment_method_types=tuple(
            (data.get("payment_settings") or {}).get("payment_method_types") or ()
        ),
        transfer_type=transfer.get("type"),
        transfer_country=(transfer.get("eu_bank_transfer") or {}).get("country"),
        account_country=data.get("account_country"),
        account_name=data.get("account_name"),
        account_tax_ids=tuple(
            BilledTaxId(t["type"], t["value"])
            for t in data.get("account_tax_ids") or ()
            if isinstance(t, Mapping) and t.get("type") and t.get("value")
        ),
        customer_tax_exempt=data.get("customer_tax_exempt"),
        starting_balance=int(data.get("starting_balance") or 0),
        auto_advance=bool(data.get("auto_advance")),
        automatically_finalizes_at=timestamp(data.get("automatically_finalizes_at")),
        default_payment_method_id=object_id(data.get("default_payment_method")),
        subtotal=data.get("subtotal", 0),
        tax=tax,
        total=data.get("total", 0),
        description=data.get("description"),
        customer_name=data.get("customer_name"),
        customer_email=data.get("customer_email"),
        customer_address=address_from_stripe(data.get("customer_address")),
        customer_tax_ids=tuple(
            BilledTaxId(t["type"], t["value"])
            for t in data.get("customer_tax_ids") or ()
            if t.get("type") and t.get("value")
        ),
        hosted_invoice_url=data.get("hosted_invoice_url"),
        invoice_pdf=data.get("invoice_pdf"),
        finalized_at=timestamp(transitions.get("finalized_at")),
        paid_at=timestamp(transitions.get("paid_at")),
        voided_at=timestamp(transitions.get("voided_at")),
        lines=tuple(
            line_from_stripe(line, data["currency"], names) for line in lines.get("data", ())
        ),
        lines_complete=not lines.get("has_more", False),
        credit_notes_amount=int(data.get("pre_payment_credit_notes_amount") or 0)
        + int(data.get("post_payment_credit_notes_amount") or 0),
        # `amounts_due` is a preview field the SDK does not type: read it as a plain key.
        installments=tuple(
            Installment(
                index=i,
                amount=part["amount"],
                amount_paid=part.get("amount_paid", 0),
                amount_remaining=part.get("amount_remaining", part["amount"]),
                due_date=timestamp(part.get("due_date")),
                description=part.get("description"),
                status=part.get("status", "open"),
                paid_at=timestamp(part.get("paid_at")),
            )
            for i, part in enumerate(data.get("amounts_due") or ())
        ),
        discounts=tuple(
            DiscountAmount(entry["amount"], found, names.get(found))
            for entry in totals
            if (found := object_id(entry.get("discount"))) in own and found is not None
        ),
        taxes=taxes_from_stripe(total_taxes, rates),
        total_excluding_tax=data.get("total_excluding_tax"),
    )


# The account numbers Stripe gives for each network (`financial_addresses[].type`).
_ACCOUNT_FIELDS = (
    "account_holder_name",
    "iban",
    "bic",
    "country",
    "account_number",
    "sort_code",
    "routing_number",
    "bank_name",
)


def bank_account_from_stripe(data: Mapping[str, Any]) -> BankAccount:
    kind = data.get("type") or ""
    details = data.get(kind) or {}
    values = {key: details.get(key) for key in _ACCOUNT_FIELDS if details.get(key)}
    holder = values.pop("account_holder_name", None)
    return BankAccount(kind=kind, account_holder=holder, **values)


def transfer_from_stripe(intent: Mapping[str, Any]) -> BankTransferInstructions | None:
    """A PaymentIntent's bank-transfer instructions, while it waits for the transfer."""
    action = intent.get("next_action") or {}
    found = action.get("display_bank_transfer_instructions")
    if intent.get("status") != "requires_action" or not isinstance(found, Mapping):
        return None
    return BankTransferInstructions(
        amount_remaining=found.get("amount_remaining") or 0,
        currency=found.get("currency") or intent.get("currency") or "",
        reference=found.get("reference"),
        accounts=tuple(bank_account_from_stripe(a) for a in found.get("financial_addresses") or ()),
        hosted_instructions_url=found.get("hosted_instructions_url"),
    )


def funding_from_stripe(
    data: Mapping[str, Any], *, reference: str | None, amount: int
) -> BankTransferInstructions:
    """A customer's funding instructions (their virtual account), for paying `amount` with
    `reference` (the invoice's number, which Stripe matches incoming transfers by)."""
    transfer = data.get("bank_transfer") or {}
    return BankTransferInstructions(
        amount_remaining=amount,
        currency=data.get("currency") or "",
        reference=reference,
        accounts=tuple(
            bank_account_from_stripe(a) for a in transfer.get("financial_addresses") or ()
        ),
    )


def balances_from_stripe(customer: Mapping[str, Any]) -> Balances:
    """A customer's credit balance (Stripe's `balance` is negative for credit, in the
    customer's currency; `invoice_credit_balance` positive, per currency) and cash balance."""
    credit = {
        currency: amount
        for currency, amount in (customer.get("invoice_credit_balance") or {}).items()
        if amount > 0
    }
    balance, currency = customer.get("balance") or 0, customer.get("currency")
    if balance < 0 and currency and currency not in credit:
        credit[currency] = -balance
    cash = (customer.get("cash_balance") or {}).get("available") or {}
    method = (customer.get("invoice_settings") or {}).get("default_payment_method")
    return Balances(
        credit=credit,
        cash={c: a for c, a in cash.items() if a > 0},
        # Described only when the read expanded it (an id alone says nothing to show).
        default_method=payment_method_from_stripe(method) if isinstance(method, Mapping) else None,
    )


def invoice_payment_from_stripe(data: Mapping[str, Any]) -> InvoicePayment:
    payment = data.get("payment") or {}
    transitions = data.get("status_transitions") or {}
    charge = _expanded_charge(payment)
    intent = payment.get("payment_intent")
    return InvoicePayment(
        id=data["id"],
        invoice_id=cast(str, object_id(data["invoice"])),
        amount_requested=data["amount_requested"],
        amount_paid=data.get("amount_paid"),
        currency=data["currency"],
        status=data["status"],
        is_default=bool(data.get("is_default")),
        payment_intent_id=object_id(payment.get("payment_intent")),
        created=cast(datetime, timestamp(data["created"])),
        paid_at=timestamp(transitions.get("paid_at")),
        paid_with=paid_with_from_charge(charge) if charge else None,
        receipt_url=charge.get("receipt_url") if charge else None,
        receipt_sent_to=(
            charge.get("receipt_email") if charge and charge.get("receipt_number") else None
        ),
        receipt_number=charge.get("receipt_number") if charge else None,
        transfer=transfer_from_stripe(intent) if isinstance(intent, Mapping) else None,
    )


def credit_note_from_stripe(data: Mapping[str, Any]) -> CreditNote:
    return CreditNote(
        id=data["id"],
        number=data.get("number"),
        amount=data["amount"],
        currency=data["currency"],
        created=cast(datetime, timestamp(data["created"])),
        memo=data.get("memo"),
        reason=data.get("reason"),
        status=data.get("status") or "issued",
        invoice_id=object_id(data.get("invoice")),
        pdf=data.get("pdf"),
        pre_payment_amount=int(data.get("pre_payment_amount", data["amount"]) or 0),
        post_payment_amount=int(data.get("post_payment_amount") or 0),
    )


def _expanded_charge(payment: Mapping[str, Any]) -> Mapping[str, Any] | None:
    """The charge behind an invoice payment, when the read expanded it
    (`data.payment.payment_intent.latest_charge`); ids alone carry nothing to show."""
    intent = payment.get("payment_intent")
    charge = intent.get("latest_charge") if isinstance(intent, Mapping) else None
    return charge if isinstance(charge, Mapping) else None


def paid_with_from_charge(charge: Mapping[str, Any]) -> PaidWith | None:
    details = charge.get("payment_method_details") or {}
    kind = details.get("type")
    if not kind:
        return None
    own = details.get(kind) or {}
    return PaidWith(
        type=kind,
        brand=own.get("brand"),  # a charge's card has no display_brand (the SDK's Charge)
        # iDEAL: the last digits of the account the bank paid from.
        last4=own.get("last4") or own.get("iban_last4"),
    )


def payment_method_from_stripe(data: Mapping[str, Any]) -> PaymentMethod:
    kind = data["type"]
    details = data.get(kind) or {}
    return PaymentMethod(
        id=data["id"],
        type=kind,
        brand=details.get("display_brand") or details.get("brand"),
        last4=details.get("last4"),
        exp_month=details.get("exp_month"),
        exp_year=details.get("exp_year"),
        bank_code=details.get("bank_code"),
        country=details.get("country"),
        customer_id=object_id(data.get("customer")),
    )


def payment_intent_from_stripe(data: Mapping[str, Any]) -> PaymentIntent:
    action = data.get("next_action") or {}
    redirect = action.get("redirect_to_url") or {}
    error = data.get("last_payment_error") or {}
    # Bank transfers and vouchers: the action's details, under its type, name Stripe's page.
    details = action.get(action.get("type") or "") or {}
    instructions = (
        details.get("hosted_instructions_url") or details.get("hosted_voucher_url")
        if isinstance(details, Mapping)
        else None
    )
    return PaymentIntent(
        id=data["id"],
        status=data["status"],
        amount=data["amount"],
        currency=data["currency"],
        action_url=redirect.get("url"),
        decline_code=error.get("decline_code") or error.get("code"),
        payment_method_id=object_id(data.get("payment_method")),
        created=timestamp(data.get("created")),
        instructions_url=instructions,
    )


def webhook_endpoint_from_stripe(data: Mapping[str, Any]) -> WebhookEndpoint:
    return WebhookEndpoint(
        id=data["id"],
        url=data.get("url") or "",
        enabled=data.get("status") == "enabled",
        events=tuple(data.get("enabled_events") or ()),
        api_version=data.get("api_version"),
    )


def refund_from_stripe(data: Mapping[str, Any]) -> Refund:
    return Refund(
        id=data["id"],
        status=data.get("status") or "pending",
        amount=data["amount"],
        currency=data["currency"],
        payment_intent_id=object_id(data.get("payment_intent")),
        failure_reason=data.get("failure_reason"),
    )


def checkout_session_from_stripe(data: Mapping[str, Any]) -> CheckoutSession:
    intent = data.get("setup_intent")
    paying = data.get("payment_intent")
    return CheckoutSession(
        id=data["id"],
        customer_id=object_id(data.get("customer")),
        mode=data["mode"],
        status=data.get("status") or "open",
        payment_method_id=object_id(intent.get("payment_method"))
        if isinstance(intent, Mapping)
        else None,
        url=data.get("url"),
        payment_intent=payment_intent_from_stripe(paying) if isinstance(paying, Mapping) else None,
        metadata=dict(data.get("metadata") or {}),
    )


def tax_id_from_stripe(data: Mapping[str, Any]) -> TaxId:
    verification = data.get("verification") or {}
    return TaxId(
        id=data["id"],
        type=data["type"],
        value=data["value"],
        country=data.get("country"),
        verification_status=verification.get("status"),
        verified_name=verification.get("verified_name"),
    )


def plain(obj: Any) -> dict[str, Any]:
    """A StripeObject (or any mapping) as the plain dict the converters read."""
    return cast(dict[str, Any], obj.to_dict() if hasattr(obj, "to_dict") else dict(obj))
