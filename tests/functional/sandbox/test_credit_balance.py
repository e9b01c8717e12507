"""The customer's credit balance: an invoice paid twice (two payments crossing) is overpaid, the
excess credited to the customer, and the next invoice in that currency takes the credit when it
is finalized; balance transactions record each move."""

from __future__ import annotations

import httpx
import stripe

from tests.functional.sandbox.sandbox_helpers import (
    Sandbox,
    customer_with_card,
    new_customer,
    open_invoice,
)

RETURN_URL = "https://portal.example/back"


def test_two_payments_crossing_overpay_the_invoice_and_credit_the_customer(
    sandbox: Sandbox,
) -> None:
    client = sandbox.client
    customer, card = customer_with_card(client)
    invoice = open_invoice(client, customer.id, amount=10000)
    assert invoice.amount_overpaid == 0
    # A part payment waits for 3-D Secure while the whole invoice is paid by card.
    part = client.v1.payment_intents.create(
        {"amount": 4000, "currency": "eur", "customer": customer.id}
    )
    client.v1.invoices.attach_payment(invoice.id, {"payment_intent": part.id})
    waiting = client.v1.payment_intents.confirm(
        part.id, {"payment_method": "pm_card_authenticationRequired", "return_url": RETURN_URL}
    )
    assert waiting.next_action is not None
    assert waiting.next_action.redirect_to_url is not None
    assert client.v1.invoices.pay(invoice.id, {"payment_method": card.id}).status == "paid"
    mark = client.v1.events.list({"limit": 1}).data[0].id
    answered = httpx.post(waiting.next_action.redirect_to_url.url, data={"outcome": "complete"})
    assert answered.status_code == 303

    overpaid = client.v1.invoices.retrieve(invoice.id)
    assert (overpaid.status, overpaid.amount_paid, overpaid.amount_overpaid) == (
        "paid", 14000, 4000,
    )  # fmt: skip
    assert overpaid.amount_remaining == 0
    (payment,) = client.v1.invoice_payments.list(
        {"invoice": invoice.id, "payment": {"type": "payment_intent", "payment_intent": part.id}}
    ).data
    assert (payment.status, payment.amount_paid) == ("paid", 4000)
    assert client.v1.customers.retrieve(customer.id).balance == -4000
    (credit,) = client.v1.customers.balance_transactions.list(customer.id).data
    assert (credit.type, credit.amount, credit.ending_balance, credit.invoice) == (
        "invoice_overpaid", -4000, -4000, invoice.id,
    )  # fmt: skip
    listed = client.v1.events.list({"ending_before": mark, "limit": 100}).data
    types = [event.type for event in reversed(listed)]
    assert types[-4:] == ["invoice_payment.paid", "invoice.updated", "customer.updated",
                          "invoice.overpaid"]  # fmt: skip
    expanded = client.v1.customers.retrieve(customer.id, {"expand": ["invoice_credit_balance"]})
    assert expanded.invoice_credit_balance is not None
    assert expanded.invoice_credit_balance.to_dict() == {"eur": 4000}

    # The next invoice in euros takes the credit when it is finalized.
    following = open_invoice(client, customer.id, amount=10000)
    assert (following.starting_balance, following.ending_balance) == (-4000, 0)
    assert (following.total, following.amount_due, following.amount_remaining) == (
        10000, 6000, 6000,
    )  # fmt: skip
    assert client.v1.customers.retrieve(customer.id).balance == 0
    applied = client.v1.customers.balance_transactions.list(
        customer.id, {"invoice": following.id}
    ).data
    assert [(t.type, t.amount, t.ending_balance) for t in applied] == [
        ("applied_to_invoice", 4000, 0)
    ]


def test_a_credit_larger_than_the_invoice_leaves_the_rest(
    stripe_client: stripe.StripeClient,
) -> None:
    customer = new_customer(stripe_client)
    created = stripe_client.v1.customers.balance_transactions.create(
        customer.id, {"amount": -15000, "currency": "eur", "description": "Goodwill"}
    )
    assert (created.type, created.ending_balance, created.description) == (
        "adjustment", -15000, "Goodwill",
    )  # fmt: skip
    assert stripe_client.v1.customers.retrieve(customer.id).currency == "eur"
    invoice = open_invoice(stripe_client, customer.id, amount=10000)
    assert invoice.status == "paid"  # nothing left to pay
    assert (invoice.amount_due, invoice.starting_balance, invoice.ending_balance) == (
        0, -15000, -5000,
    )  # fmt: skip
    assert stripe_client.v1.customers.retrieve(customer.id).balance == -5000
    renamed = stripe_client.v1.customers.balance_transactions.update(
        customer.id, created.id, {"description": "Goodwill, March", "metadata": {"ticket": "7"}}
    )
    assert renamed.description == "Goodwill, March"
    assert renamed.metadata is not None
    assert renamed.metadata.to_dict() == {"ticket": "7"}
    again = stripe_client.v1.customers.balance_transactions.retrieve(customer.id, created.id)
    assert again.description == "Goodwill, March"


def test_setting_the_balance_records_an_adjustment(stripe_client: stripe.StripeClient) -> None:
    customer = new_customer(stripe_client)
    open_invoice(stripe_client, customer.id, amount=1000)  # the customer now pays in euros
    stripe_client.v1.customers.update(customer.id, {"balance": 2500})
    (adjustment,) = [
        t for t in stripe_client.v1.customers.balance_transactions.list(customer.id).data
        if t.type == "adjustment"
    ]  # fmt: skip
    assert (adjustment.amount, adjustment.ending_balance, adjustment.currency) == (
        2500, 2500, "eur",
    )  # fmt: skip
    # A debit is added in full to the next invoice.
    invoice = open_invoice(stripe_client, customer.id, amount=1000)
    assert (invoice.amount_due, invoice.starting_balance, invoice.ending_balance) == (
        3500, 2500, 0,
    )  # fmt: skip
