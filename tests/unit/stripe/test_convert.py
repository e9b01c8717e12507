"""The converters from Stripe's JSON to the portal's values, checked on Stripe's own example
objects."""

from __future__ import annotations

import json
from datetime import UTC, datetime
from decimal import Decimal
from pathlib import Path
from typing import Any

from portal.stripe.convert import (
    balances_from_stripe,
    credit_note_from_stripe,
    customer_from_stripe,
    invoice_from_stripe,
    invoice_payment_from_stripe,
    line_from_stripe,
    payment_method_from_stripe,
    tax_id_from_stripe,
)
from portal.stripe.models import DiscountAmount, TaxRate

EXAMPLES: dict[str, dict[str, Any]] = json.loads(
    (Path(__file__).parents[2] / "fixtures" / "stripe_examples.json").read_text()
)


def test_invoice_from_stripes_example() -> None:
    invoice = invoice_from_stripe(EXAMPLES["invoice"])
    assert invoice.id == "in_1Pgc6tB7WZ01zgkWu9fdqL6I"
    assert invoice.status == "draft"
    assert (invoice.amount_due, invoice.amount_paid, invoice.amount_remaining) == (1000, 0, 1000)
    assert invoice.due_date == datetime.fromtimestamp(1234567890, UTC)
    assert invoice.lines[0].description == "My First Invoice Item (created for API docs)"
    assert invoice.lines_complete
    assert invoice.installments == ()


def test_installments_are_read_from_amounts_due() -> None:
    data = EXAMPLES["invoice"] | {
        "amounts_due": [
            {
                "amount": 300,
                "amount_paid": 300,
                "amount_remaining": 0,
                "days_until_due": None,
                "due_date": 1700000000,
                "description": "Deposit",
                "paid_at": 1700000001,
                "status": "paid",
            },
            {
                "amount": 700,
                "amount_paid": 0,
                "amount_remaining": 700,
                "days_until_due": None,
                "due_date": 1800000000,
                "description": None,
                "paid_at": None,
                "status": "past_due",
            },
        ]
    }
    first, second = invoice_from_stripe(data).installments
    assert (first.index, first.status, first.description, first.amount_remaining) == (
        0,
        "paid",
        "Deposit",
        0,
    )
    assert first.paid_at == datetime.fromtimestamp(1700000001, UTC)
    assert (second.index, second.status, second.amount_remaining) == (1, "past_due", 700)


def test_customer_payment_method_payment_and_tax_id_examples() -> None:
    customer = customer_from_stripe(EXAMPLES["customer"])
    assert customer.id == "cus_QXg1o8vcGmoR32"
    assert customer.preferred_locales == ()
    card = payment_method_from_stripe(EXAMPLES["payment_method"])
    assert (card.type, card.brand, card.last4, card.exp_month, card.exp_year) == (
        "card",
        "visa",
        "4242",
        8,
        2030,
    )
    payment = invoice_payment_from_stripe(EXAMPLES["invoice_payment"])
    assert payment.is_default
    assert payment.amount_requested == 1112626247
    tax_id = tax_id_from_stripe(EXAMPLES["tax_id"])
    assert (tax_id.type, tax_id.value, tax_id.verification_status) == (
        "eu_vat",
        "DE123456789",
        "pending",
    )


def test_expanded_default_payment_method_is_read_as_its_id() -> None:
    data = EXAMPLES["customer"] | {
        "invoice_settings": {"default_payment_method": EXAMPLES["payment_method"]}
    }
    assert customer_from_stripe(data).default_payment_method_id == "pm_1Pgc75B7WZ01zgkWlHVgdEGJ"


# Stripe's example tax rate (the API reference's) and a coupon and discount in endive's shapes.
TAX_RATE: dict[str, Any] = {
    "id": "txr_1Pgc7BB7WZ01zgkW4Iwwvf6z", "object": "tax_rate", "active": True, "country": "DE",
    "created": 1234567890, "description": "VAT Germany", "display_name": "VAT",
    "effective_percentage": None, "flat_amount": None, "inclusive": False, "jurisdiction": "DE",
    "jurisdiction_level": None, "livemode": False, "metadata": {}, "percentage": 19,
    "rate_type": None, "state": None, "tax_type": "vat",
}  # fmt: skip
COUPON: dict[str, Any] = {"id": "Z4OV52SU", "object": "coupon", "name": "25.5% off",
                          "percent_off": 25.5, "amount_off": None}  # fmt: skip


def discount(discount_id: str, coupon: Any) -> dict[str, Any]:
    return {"id": discount_id, "object": "discount", "source": {"coupon": coupon, "type": "coupon"}}


def line(line_id: str, amount: int, **fields: Any) -> dict[str, Any]:
    return {"id": line_id, "object": "line_item", "amount": amount, "currency": "eur",
            "description": "Wartung", "quantity": 1, "discounts": [], "discount_amounts": [],
            **fields}  # fmt: skip


def taxed_invoice(**fields: Any) -> dict[str, Any]:
    """An invoice of two lines: 100.00 with its own coupon (di_line, 10.00 off), 50.00; the
    invoice's 25.5 % coupon (di_inv); 19 % VAT on everything."""
    lines = [
        line("il_1", 10000, discounts=["di_line"],
             discount_amounts=[{"amount": 1000, "discount": "di_line"},
                               {"amount": 2295, "discount": "di_inv"}]),
        line("il_2", 5000, discount_amounts=[{"amount": 1275, "discount": "di_inv"}]),
    ]  # fmt: skip
    return EXAMPLES["invoice"] | {
        "currency": "eur",
        "lines": {"object": "list", "data": lines, "has_more": False},
        "subtotal": 14000,
        "total_excluding_tax": 10430,
        "total": 12412,
        "discounts": ["di_inv"],
        "total_discount_amounts": [
            {"amount": 1000, "discount": discount("di_line", {"id": "SPRING", "name": None})},
            {"amount": 3570, "discount": discount("di_inv", COUPON)},
        ],
        "default_tax_rates": [TAX_RATE],
        "total_taxes": [
            {"amount": 1982, "tax_behavior": "exclusive", "taxable_amount": 10430,
             "taxability_reason": "not_available", "type": "tax_rate_details",
             "tax_rate_details": {"tax_rate": TAX_RATE["id"]}},
        ],
    } | fields  # fmt: skip


def test_taxes_are_read_with_their_rate_from_the_invoices_default_rates() -> None:
    invoice = invoice_from_stripe(taxed_invoice())
    (tax,) = invoice.taxes
    assert (tax.amount, tax.inclusive, tax.taxable_amount) == (1982, False, 10430)
    assert tax.rate == TaxRate(
        id=TAX_RATE["id"], display_name="VAT", percentage=Decimal(19), inclusive=False,
        country="DE", jurisdiction="DE", tax_type="vat",
    )  # fmt: skip
    assert invoice.tax == 1982
    assert invoice.total_excluding_tax == 10430


def test_an_expanded_tax_rate_is_read_and_an_unknown_one_leaves_only_the_amount() -> None:
    expanded = {"amount": 700, "tax_behavior": "inclusive", "taxable_amount": 10000,
                "type": "tax_rate_details",
                "tax_rate_details": {"tax_rate": TAX_RATE | {"id": "txr_reduced",
                                     "display_name": "MwSt.", "percentage": 7.7,
                                     "inclusive": True}}}  # fmt: skip
    unknown = {"amount": 5, "tax_behavior": "exclusive", "type": "tax_rate_details",
               "tax_rate_details": {"tax_rate": "txr_elsewhere"}}  # fmt: skip
    invoice = invoice_from_stripe(taxed_invoice(default_tax_rates=[],
                                                total_taxes=[expanded, unknown]))  # fmt: skip
    reduced, other = invoice.taxes
    assert reduced.rate is not None
    assert (reduced.rate.display_name, reduced.rate.percentage) == ("MwSt.", Decimal("7.7"))
    assert (reduced.inclusive, reduced.amount) == (True, 700)
    assert (other.rate, other.amount, other.inclusive) == (None, 5, False)


def test_the_invoices_own_discounts_are_named_by_their_coupon() -> None:
    invoice = invoice_from_stripe(taxed_invoice())
    # Only the invoice's own discount: the line's is in the subtotal already.
    assert invoice.discounts == (DiscountAmount(3570, "di_inv", "25.5% off"),)
    first, second = invoice.lines
    # A coupon without a name is shown by its id, as Stripe shows it.
    assert first.discounts == (DiscountAmount(1000, "di_line", "SPRING"),)
    assert second.discounts == ()


def test_discounts_without_their_coupon_have_no_name() -> None:
    data = taxed_invoice(
        total_discount_amounts=[{"amount": 1000, "discount": "di_line"},
                                {"amount": 3570, "discount": "di_inv"}]
    )  # fmt: skip
    invoice = invoice_from_stripe(data)
    assert invoice.discounts == (DiscountAmount(3570, "di_inv", None),)
    assert invoice.lines[0].discounts == (DiscountAmount(1000, "di_line", None),)


def test_a_further_page_of_lines_names_its_expanded_discounts() -> None:
    data = line("il_3", 2000, discounts=[discount("di_x", {"id": "X", "name": "Stammkunde"})],
                discount_amounts=[{"amount": 200, "discount": "di_x"}])  # fmt: skip
    assert line_from_stripe(data, "eur").discounts == (DiscountAmount(200, "di_x", "Stammkunde"),)


def test_an_invoice_without_tax_or_discounts_has_none() -> None:
    invoice = invoice_from_stripe(EXAMPLES["invoice"])
    assert (invoice.taxes, invoice.discounts) == ((), ())
    assert invoice.lines[0].discounts == ()


def test_a_credit_note_keeps_its_invoice_and_pdf() -> None:
    note = credit_note_from_stripe(
        {"id": "cn_1", "object": "credit_note", "number": "ABCD-1234-CN-01", "amount": 1690,
         "currency": "usd", "created": 1234567890, "invoice": "in_1", "memo": None,
         "reason": None, "status": "issued",
         "pdf": "https://pay.stripe.com/credit_notes/acct_1/cnst_1/pdf?s=ap"}
    )  # fmt: skip
    assert note.invoice_id == "in_1"
    assert note.pdf == "https://pay.stripe.com/credit_notes/acct_1/cnst_1/pdf?s=ap"


def test_the_seller_and_the_customers_tax_status_are_read_as_stripe_froze_them() -> None:
    vat = {"id": "txi_1", "object": "tax_id", "type": "eu_vat", "value": "DE293817466"}
    data = EXAMPLES["invoice"] | {
        "account_name": "Nordlicht Software GmbH",
        "account_country": "DE",
        # Expanded where the read asked for it; an id alone names nothing to show.
        "account_tax_ids": [vat, "txi_2"],
        "customer_tax_exempt": "reverse",
        "starting_balance": -500,
    }
    invoice = invoice_from_stripe(data)
    assert (invoice.account_name, invoice.account_country) == ("Nordlicht Software GmbH", "DE")
    assert [(t.type, t.value) for t in invoice.account_tax_ids] == [("eu_vat", "DE293817466")]
    assert invoice.customer_tax_exempt == "reverse"
    assert invoice.starting_balance == -500
    example = invoice_from_stripe(EXAMPLES["invoice"])
    assert (example.account_tax_ids, example.customer_tax_exempt) == ((), "none")


def test_what_an_invoice_is_for_is_its_description_else_its_first_line() -> None:
    example = invoice_from_stripe(EXAMPLES["invoice"])
    assert example.purpose == "My First Invoice Item (created for API docs)"
    described = invoice_from_stripe(EXAMPLES["invoice"] | {"description": "Wartung Q1"})
    assert described.purpose == "Wartung Q1"
    empty = invoice_from_stripe(EXAMPLES["invoice"] | {"lines": {"data": [], "has_more": False}})
    assert empty.purpose is None


def test_a_credit_note_says_what_it_took_before_and_after_payment() -> None:
    base = {"id": "cn_1", "object": "credit_note", "number": "CN-1", "amount": 1690,
            "currency": "eur", "created": 1234567890, "invoice": "in_1"}  # fmt: skip
    split = credit_note_from_stripe(base | {"pre_payment_amount": 690, "post_payment_amount": 1000})
    assert (split.pre_payment_amount, split.post_payment_amount) == (690, 1000)
    # Without the split (an older API version): all of it before payment.
    assert credit_note_from_stripe(base).pre_payment_amount == 1690


def test_a_payments_receipt_is_said_to_be_sent_only_once_stripe_numbered_it() -> None:
    charge = {"id": "ch_1", "object": "charge", "receipt_url": "https://pay.stripe.com/receipts/x",
              "receipt_email": "buchhaltung@example.de", "receipt_number": "1234-5678",
              "payment_method_details": {"type": "card", "card": {"brand": "visa", "last4": "4242"}}}  # fmt: skip
    data = EXAMPLES["invoice_payment"] | {
        "payment": {
            "type": "payment_intent",
            "payment_intent": {"id": "pi_1", "latest_charge": charge},
        }
    }
    sent = invoice_payment_from_stripe(data)
    assert (sent.receipt_sent_to, sent.receipt_number) == ("buchhaltung@example.de", "1234-5678")
    unnumbered = {"id": "pi_1", "latest_charge": charge | {"receipt_number": None}}
    unsent = invoice_payment_from_stripe(
        data | {"payment": {"type": "payment_intent", "payment_intent": unnumbered}}
    )
    assert (unsent.receipt_sent_to, unsent.receipt_number) == (None, None)
    assert unsent.receipt_url == "https://pay.stripe.com/receipts/x"


def test_a_scheduled_drafts_finalization_and_own_method_are_read() -> None:
    data = EXAMPLES["invoice"] | {
        "auto_advance": True,
        "automatically_finalizes_at": 1_800_000_000,
        "default_payment_method": {**EXAMPLES["payment_method"], "id": "pm_own"},
    }
    invoice = invoice_from_stripe(data)
    assert invoice.auto_advance
    assert invoice.automatically_finalizes_at == datetime.fromtimestamp(1_800_000_000, UTC)
    assert invoice.default_payment_method_id == "pm_own"
    plain = invoice_from_stripe(EXAMPLES["invoice"] | {"automatically_finalizes_at": None})
    assert plain.automatically_finalizes_at is None
    assert plain.default_payment_method_id is None


def test_the_balances_read_describes_the_customers_default_method_when_expanded() -> None:
    card = {**EXAMPLES["payment_method"], "id": "pm_default"}
    expanded = balances_from_stripe(
        EXAMPLES["customer"] | {"invoice_settings": {"default_payment_method": card}}
    )
    assert expanded.default_method is not None
    assert expanded.default_method.id == "pm_default"
    only_id = balances_from_stripe(
        EXAMPLES["customer"] | {"invoice_settings": {"default_payment_method": "pm_default"}}
    )
    assert only_id.default_method is None
