"""The converters from Stripe's JSON to the portal's values, checked on Stripe's own example
objects."""

from __future__ import annotations

import json
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

from portal.stripe.convert import (
    customer_from_stripe,
    invoice_from_stripe,
    invoice_payment_from_stripe,
    payment_method_from_stripe,
    tax_id_from_stripe,
)

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
