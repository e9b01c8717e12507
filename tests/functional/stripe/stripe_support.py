"""Customers and invoices for the gateway's tests, made through Stripe's API (the sandbox)."""

from __future__ import annotations

import time
import uuid
from typing import Any

import stripe


def customer_with_card(sdk: stripe.StripeClient, email: str | None = None) -> tuple[str, str]:
    customer = sdk.v1.customers.create(
        {
            "email": email or f"{uuid.uuid4().hex[:8]}@example.com",
            "name": "Łucja Nowak",
            "preferred_locales": ["pl"],
        }
    )
    pm = sdk.v1.payment_methods.attach("pm_card_visa", {"customer": customer.id})
    sdk.v1.customers.update(customer.id, {"invoice_settings": {"default_payment_method": pm.id}})
    return customer.id, pm.id


def open_invoice(
    sdk: stripe.StripeClient, customer_id: str, *, plan: list[int] | None = None
) -> str:
    params: dict[str, Any] = {
        "customer": customer_id,
        "collection_method": "send_invoice",
        "currency": "pln",
    }
    if plan:
        now = int(time.time())
        params["amounts_due"] = [
            {"amount": amount, "due_date": now + (i + 1) * 30 * 86400}
            for i, amount in enumerate(plan)
        ]
    else:
        params["days_until_due"] = 14
    invoice = sdk.v1.invoices.create(params)  # type: ignore[arg-type]
    sdk.v1.invoice_items.create(
        {
            "customer": customer_id,
            "invoice": invoice.id,
            "amount": sum(plan or [30000]),
            "currency": "pln",
            "description": "Abonament — pakiet Pro",
        }
    )
    return sdk.v1.invoices.finalize_invoice(invoice.id).id
