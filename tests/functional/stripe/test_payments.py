"""The gateway's payments against the sandbox: a key charges once, an installment counts on its
invoice, a decline says why."""

from __future__ import annotations

import uuid

import pytest
import stripe

from portal.stripe.errors import PaymentDeclined
from portal.stripe.gateway import StripeGateway
from tests.functional.stripe.stripe_support import customer_with_card, open_invoice

pytestmark = pytest.mark.anyio


async def test_paying_twice_with_one_key_charges_once(
    gateway: StripeGateway, sdk: stripe.StripeClient
) -> None:
    customer_id, pm_id = customer_with_card(sdk)
    invoice_id = open_invoice(sdk, customer_id)
    key = f"pay-{uuid.uuid4()}"
    first = await gateway.pay_invoice(invoice_id, payment_method_id=pm_id, idempotency_key=key)
    again = await gateway.pay_invoice(invoice_id, payment_method_id=pm_id, idempotency_key=key)
    assert first.status == again.status == "paid"
    charges = sdk.v1.payment_intents.list({"customer": customer_id})
    assert [pi.amount for pi in charges.data if pi.status == "succeeded"] == [30000]


async def test_paying_one_installment_counts_on_the_invoice(
    gateway: StripeGateway, sdk: stripe.StripeClient
) -> None:
    customer_id, pm_id = customer_with_card(sdk)
    invoice = await gateway.get_invoice(open_invoice(sdk, customer_id, plan=[10000, 10000, 10000]))
    intent = await gateway.pay_part_of_invoice(
        invoice_id=invoice.id,
        customer_id=customer_id,
        currency=invoice.currency,
        amount=10000,
        payment_method_id=pm_id,
        idempotency_key=f"part-{uuid.uuid4()}",
        return_url="https://portal.example/back",
    )
    assert intent.status == "succeeded"
    after = await gateway.get_invoice(invoice.id)
    assert (after.amount_paid, after.amount_remaining) == (10000, 20000)
    assert [p.status for p in after.installments] == ["paid", "open", "open"]
    payments = await gateway.list_invoice_payments(invoice.id)
    assert any(p.payment_intent_id == intent.id and p.status == "paid" for p in payments)


async def test_declined_card_gives_its_decline_code(
    gateway: StripeGateway, sdk: stripe.StripeClient
) -> None:
    customer_id, _ = customer_with_card(sdk)
    declining = sdk.v1.payment_methods.attach(
        "pm_card_chargeDeclinedInsufficientFunds", {"customer": customer_id}
    )
    invoice_id = open_invoice(sdk, customer_id)
    with pytest.raises(PaymentDeclined) as caught:
        await gateway.pay_invoice(
            invoice_id, payment_method_id=declining.id, idempotency_key=f"d-{uuid.uuid4()}"
        )
    assert caught.value.decline_code == "insufficient_funds"
