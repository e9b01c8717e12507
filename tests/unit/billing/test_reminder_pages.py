"""A page of open invoices for `send-reminders`: which reminders it calls for and which to
write (`mailing.plan_page`), and the bank transfers they wait for read with one funding read
per customer and currency (`transfers.read_awaited_each`); a page of drafts and the charges it
announces, each with the method Stripe would charge (`mailing.plan_charge_notices`)."""

from __future__ import annotations

import asyncio
from dataclasses import replace
from typing import Any

from portal.billing import transfers
from portal.billing.mailing import plan_charge_notices, plan_page
from portal.stripe.models import (
    BankAccount,
    BankTransferInstructions,
    Customer,
    Draft,
    InvoicePayment,
    OpenInvoice,
)
from tests.unit.billing.test_payments import DAY, NOW, invoice
from tests.unit.billing.test_upcoming import CARD, SEPA, draft

ANNA = Customer("cus_1", "anna@example.de", "Anna")


def open_invoice(
    number: str, due_in_days: int, customer: Customer = ANNA, **cash: int
) -> OpenInvoice:
    bill = replace(invoice(number=number, due=NOW + due_in_days * DAY), customer_id=customer.id)
    return OpenInvoice(bill, customer, cash)


def test_a_page_plans_the_reminders_due_now_and_writes_only_the_new_ones() -> None:
    page = [
        open_invoice("A", -3),  # overdue
        open_invoice("B", 3),  # due soon
        open_invoice("C", 30),  # nothing yet
        open_invoice("D", -3),  # a debit still being collected
        open_invoice("E", 3, Customer("cus_2", None, "No Mail GmbH")),
    ]
    plan = plan_page(page, NOW, waiting={"in_D"}, stored={"due_soon:in_B:-:7"})
    assert [n.key for _, n in plan.due] == [
        "overdue:in_A:-:0",
        "due_soon:in_B:-:7",
        "due_soon:in_E:-:7",
    ]
    assert [n.key for _, n in plan.to_write] == ["overdue:in_A:-:0"]


ACCOUNT = BankAccount("iban", "Stripe Payments Europe", "DE89370400440532013000", "SOBKDEBB")


class FakeGateway:
    """What `read_awaited_each` reads, counted."""

    def __init__(self, payments: dict[str, list[InvoicePayment]]) -> None:
        self.payments = payments
        self.calls: list[tuple[str, Any]] = []

    def uncached(self) -> FakeGateway:
        return self

    async def list_invoice_payments(self, invoice_id: str) -> list[InvoicePayment]:
        self.calls.append(("payments", invoice_id))
        return self.payments.get(invoice_id, [])

    async def funding_instructions(
        self, customer_id: str, **kwargs: Any
    ) -> BankTransferInstructions:
        self.calls.append(("funding", customer_id))
        return BankTransferInstructions(0, kwargs["currency"], kwargs["reference"], (ACCOUNT,))


def by_transfer(found: OpenInvoice) -> OpenInvoice:
    return replace(
        found,
        invoice=replace(
            found.invoice, payment_method_types=("card", "customer_balance"), account_country="DE"
        ),
    )


def test_funding_instructions_are_read_once_per_customer_and_the_cash_balance_not_at_all() -> None:
    bob = Customer("cus_2", "bob@example.de", "Bob")
    page = [
        by_transfer(open_invoice("A", -3, eur=5000)),
        by_transfer(open_invoice("B", 3, eur=5000)),
        by_transfer(open_invoice("C", 3, bob)),
        open_invoice("D", 3),  # by card only: nothing read
    ]
    own = BankTransferInstructions(30000, "eur", "REF-OWN", (ACCOUNT,))
    paid = InvoicePayment(
        "inpay_1", "in_C", 30000, 0, "eur", "open", True, "pi_1", NOW, transfer=own
    )
    gateway = FakeGateway({"in_C": [paid]})
    found = asyncio.run(transfers.read_awaited_each(gateway, page))  # type: ignore[arg-type]
    assert sorted(gateway.calls) == [
        ("funding", "cus_1"),
        ("payments", "in_A"),
        ("payments", "in_B"),
        ("payments", "in_C"),
    ]
    assert set(found) == {"in_A", "in_B", "in_C"}
    # The invoice's own number as reference, less what waits in the cash balance.
    assert (found["in_A"].instructions.reference, found["in_A"].instructions.amount_remaining) == (
        "A",
        25000,
    )
    assert found["in_A"].arrived == 5000
    assert found["in_C"].instructions.reference == "REF-OWN"  # the invoice's own PaymentIntent


def test_a_page_of_drafts_announces_each_charge_with_the_method_stripe_would_use() -> None:
    soon = {"automatically_finalizes_at": NOW + 2 * DAY}
    page = [
        Draft(draft("in_default", **soon), ANNA, default_method=CARD),
        Draft(
            draft("in_own", default_payment_method_id=SEPA.id, **soon),
            ANNA,
            own_method=SEPA,
            default_method=CARD,
        ),
        Draft(draft("in_later", automatically_finalizes_at=NOW + 30 * DAY), ANNA),
    ]
    lead = 5 * DAY
    kept_on = plan_charge_notices(page, NOW, lead=lead, stripe_announces_debits=True)
    assert [(d.id, n.method) for d, n in kept_on] == [("in_default", CARD)]
    turned_off = plan_charge_notices(page, NOW, lead=lead, stripe_announces_debits=False)
    assert [(d.id, n.method) for d, n in turned_off] == [("in_default", CARD), ("in_own", SEPA)]
