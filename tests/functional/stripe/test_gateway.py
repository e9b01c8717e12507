"""The gateway as a whole against the sandbox over HTTP: a customer's data read back through it,
and every request it can make sent to the strict sandbox, which (like Stripe) refuses unknown and
removed parameters with 400 `parameter_unknown`, checked against the installed SDK's definitions
for the API version it pins (`devtools/stripe_sandbox/schema.py`)."""

from __future__ import annotations

import inspect
import time
import uuid
from collections.abc import Awaitable, Callable
from typing import Any, cast

import pytest
import stripe

from portal.stripe.errors import InvalidRequest
from portal.stripe.gateway import StripeGateway
from portal.stripe.models import Address, CheckoutSession
from portal.stripe.permissions import PERMISSIONS
from tests.functional.stripe.stripe_support import customer_with_card, open_invoice

pytestmark = pytest.mark.anyio

# Public coroutine methods that make no request to Stripe.
NO_REQUEST = {"aclose"}


async def test_reads_customer_invoices_and_methods(
    gateway: StripeGateway, sdk: stripe.StripeClient
) -> None:
    customer_id, pm_id = customer_with_card(sdk)
    invoice_id = open_invoice(sdk, customer_id)

    customer = await gateway.get_customer(customer_id)
    assert (customer.name, customer.preferred_locales, customer.default_payment_method_id) == (
        "Łucja Nowak",
        ("pl",),
        pm_id,
    )
    page = await gateway.list_invoices(customer_id)
    assert [i.id for i in page.items] == [invoice_id]
    invoice = await gateway.get_invoice(invoice_id)
    assert (invoice.status, invoice.currency, invoice.amount_remaining) == ("open", "pln", 30000)
    assert invoice.number
    assert invoice.lines[0].description == "Abonament — pakiet Pro"
    (method,) = await gateway.list_payment_methods(customer_id)
    assert (method.type, method.brand, method.last4) == ("card", "visa", "4242")
    pdf = await gateway.open_invoice_pdf(invoice)
    assert b"".join([chunk async for chunk in pdf.chunks()]).startswith(b"%PDF")


def arrange(sdk: stripe.StripeClient) -> dict[str, str]:
    """A customer with a card, a 3-D Secure card, a tax ID, a plan invoice with many lines
    (more than Stripe sends inline), one to pay whole and a credit note on another."""
    email = f"Sweep-{uuid.uuid4().hex[:8]}@Example.de"
    customer = sdk.v1.customers.create({"email": email, "name": "Sweep GmbH"}).id
    card = sdk.v1.payment_methods.attach("pm_card_visa", {"customer": customer}).id
    secure = sdk.v1.payment_methods.attach(
        "pm_card_authenticationRequired", {"customer": customer}
    ).id
    spare = sdk.v1.payment_methods.attach("pm_card_mastercard", {"customer": customer}).id
    tax_id = sdk.v1.customers.tax_ids.create(
        customer, {"type": "eu_vat", "value": "DE123456789"}
    ).id
    now = int(time.time())

    def invoice(lines: int, **extra: Any) -> str:
        created = sdk.v1.invoices.create(
            {"customer": customer, "collection_method": "send_invoice", "currency": "eur", **extra}
        )
        for n in range(lines):
            sdk.v1.invoice_items.create(
                {
                    "customer": customer,
                    "invoice": created.id,
                    "amount": 1000,
                    "currency": "eur",
                    "description": f"Line {n}",
                }
            )
        return sdk.v1.invoices.finalize_invoice(created.id).id

    plan = invoice(
        12,
        amounts_due=[
            {"amount": 6000, "due_date": now + 5 * 86400},
            {"amount": 6000, "due_date": now + 35 * 86400},
        ],
    )

    def paid(amount: int) -> str:
        """A PaymentIntent of the customer's that has succeeded (as Checkout's would have)."""
        return sdk.v1.payment_intents.create(
            {"amount": amount, "currency": "eur", "customer": customer, "payment_method": card,
             "confirm": True, "return_url": "https://portal.example/back"}
        ).id  # fmt: skip

    return {
        "email": email,
        "customer": customer,
        "card": card,
        "paid_elsewhere": paid(1000),
        "to_refund": paid(700),
        "refunded": sdk.v1.refunds.create({"payment_intent": paid(300)}).id,
        "to_cancel": sdk.v1.payment_intents.create(
            {"amount": 500, "currency": "eur", "customer": customer, "payment_method": card}
        ).id,
        "takes_a_payment": invoice(1, days_until_due=14),
        "secure": secure,
        "spare": spare,
        "tax_id": tax_id,
        "plan": plan,
        "whole": invoice(1, days_until_due=14),
        "secure_invoice": invoice(1, days_until_due=14),
        "credit_note": sdk.v1.credit_notes.create(
            {"invoice": invoice(1, days_until_due=14), "amount": 100}
        ).id,
    }


async def calls(
    gateway: StripeGateway, ids: dict[str, str]
) -> dict[str, Callable[[], Awaitable[object]]]:
    """One call of each public gateway method (by name), in an order that works."""
    customer = ids["customer"]
    back = "https://portal.example/back"

    async def open_pdf() -> object:
        pdf = await gateway.open_invoice_pdf(await gateway.get_invoice(ids["whole"]))
        return b"".join([chunk async for chunk in pdf.chunks()])

    async def open_credit_note_pdf() -> object:
        note = await gateway.get_credit_note(ids["credit_note"])
        pdf = await gateway.open_credit_note_pdf(note)
        return b"".join([chunk async for chunk in pdf.chunks()])

    async def add_method() -> object:
        await gateway.start_adding_payment_method(
            customer, success_url=back, cancel_url=back, locale="pl", for_currency="pln"
        )
        return await gateway.start_adding_payment_method(
            customer, success_url=back, cancel_url=back, locale="de"
        )

    async def checkout_session() -> object:
        session = await gateway.start_adding_payment_method(
            customer, success_url=back, cancel_url=back, locale="de"
        )
        return await gateway.get_checkout_session(session.id)

    async def added() -> object:
        session = await gateway.start_adding_payment_method(
            customer, success_url=back, cancel_url=back, locale="de"
        )
        return await gateway.added_payment_method(session.id, customer)

    async def start_paying() -> object:
        return await gateway.start_paying(
            customer,
            amount=2500,
            currency="eur",
            name="F-0001",
            metadata={"portal_payment": "p1", "invoice": ids["plan"]},
            success_url=back + "?session_id={CHECKOUT_SESSION_ID}",
            cancel_url=back,
            locale="nl",
            expires_at=int(time.time()) + 31 * 60,
            idempotency_key=f"sweep-{uuid.uuid4()}",
            without_bank_transfer=True,
        )

    async def expire() -> object:
        session = cast(CheckoutSession, await start_paying())
        return await gateway.expire_checkout_session(session.id)

    async def pay_part() -> object:
        return await gateway.pay_part_of_invoice(
            invoice_id=ids["plan"],
            customer_id=customer,
            currency="eur",
            amount=6000,
            payment_method_id=ids["card"],
            idempotency_key=f"sweep-{uuid.uuid4()}",
            return_url=back,
        )

    async def pay_whole() -> object:
        return await gateway.pay_invoice(
            ids["whole"], payment_method_id=ids["card"], idempotency_key=f"sweep-{uuid.uuid4()}"
        )

    async def waiting_intent() -> str:
        intent = await gateway.pay_part_of_invoice(
            invoice_id=ids["secure_invoice"],
            customer_id=customer,
            currency="eur",
            amount=1000,
            payment_method_id=ids["secure"],
            idempotency_key=f"sweep-{uuid.uuid4()}",
            return_url=back,
        )
        assert intent.status == "requires_action"
        return intent.id

    async def authenticate() -> object:
        return await gateway.authenticate_payment(
            await waiting_intent(), return_url=back, idempotency_key=f"sweep-{uuid.uuid4()}"
        )

    async def payment_intent() -> object:
        return await gateway.get_payment_intent(await waiting_intent())

    async def invoice_payment() -> object:
        (first, *_) = await gateway.list_invoice_payments(ids["plan"])
        return await gateway.get_invoice_payment(first.id)

    async def tax_ids() -> object:
        added_id = await gateway.add_tax_id(customer, type="eu_vat", value="ATU13585627")
        await gateway.get_tax_id(customer, added_id.id)
        await gateway.delete_tax_id(customer, added_id.id)
        return await gateway.list_tax_ids(customer)

    async def detach() -> object:
        spare = await gateway.get_payment_method(ids["spare"])
        return await gateway.detach_payment_method(spare)

    address = Address("Hauptstr. 1", None, "10115", "Berlin", None, "DE")
    return {
        "get_customer": lambda: gateway.get_customer(customer),
        "get_customers": lambda: gateway.get_customers((customer,)),
        "find_customers_by_email": lambda: gateway.find_customers_by_email(ids["email"]),
        "find_customers": lambda: gateway.find_customers("Sweep"),
        "list_invoices": lambda: gateway.list_invoices(customer, status="open", limit=5),
        "open_invoices": lambda: gateway.open_invoices(limit=3),
        "charged_drafts": lambda: gateway.charged_drafts(limit=3),
        "get_invoice": lambda: gateway.get_invoice(ids["plan"]),
        "get_invoice_with_lines": lambda: gateway.get_invoice_with_lines(ids["plan"]),
        "invoice_page": lambda: gateway.invoice_page(ids["plan"]),
        "list_invoice_payments": lambda: gateway.list_invoice_payments(ids["plan"]),
        "list_credit_notes": lambda: gateway.list_credit_notes(ids["plan"]),
        "open_invoice_pdf": open_pdf,
        "get_credit_note": lambda: gateway.get_credit_note(ids["credit_note"]),
        "open_credit_note_pdf": open_credit_note_pdf,
        "list_payment_methods": lambda: gateway.list_payment_methods(customer),
        "get_payment_method": lambda: gateway.get_payment_method(ids["card"]),
        "set_default_payment_method": lambda: gateway.set_default_payment_method(
            customer, ids["card"]
        ),
        "start_adding_payment_method": add_method,
        "get_checkout_session": checkout_session,
        "added_payment_method": added,
        "update_billing_details": lambda: gateway.update_billing_details(
            customer, name="Sweep GmbH", address=address, phone="+49 30 1234567"
        ),
        "set_email": lambda: gateway.set_email(customer, ids["email"].lower()),
        "set_preferred_locales": lambda: gateway.set_preferred_locales(customer, ["hr", "de"]),
        "add_tax_id": tax_ids,
        "get_tax_id": lambda: gateway.get_tax_id(customer, ids["tax_id"]),
        "delete_tax_id": tax_ids,
        "list_tax_ids": lambda: gateway.list_tax_ids(customer),
        "pay_part_of_invoice": pay_part,
        "get_invoice_payment": invoice_payment,
        "pay_invoice": pay_whole,
        "authenticate_payment": authenticate,
        "get_payment_intent": payment_intent,
        "detach_payment_method": detach,
        "start_paying": start_paying,
        "expire_checkout_session": expire,
        "attach_payment": lambda: gateway.attach_payment(
            ids["takes_a_payment"],
            payment_intent_id=ids["paid_elsewhere"],
            idempotency_key=f"sweep-{uuid.uuid4()}",
        ),
        "refund_payment": lambda: gateway.refund_payment(
            ids["to_refund"], reason="duplicate", idempotency_key=f"sweep-{uuid.uuid4()}"
        ),
        "get_refund": lambda: gateway.get_refund(ids["refunded"]),
        "get_balances": lambda: gateway.get_balances(ids["customer"]),
        "probe": lambda: gateway.probe(PERMISSIONS[0].probe),
        "invoice_version_accepted": lambda: gateway.invoice_version_accepted(),
        "list_webhook_endpoints": lambda: gateway.list_webhook_endpoints(),
        "funding_instructions": lambda: gateway.funding_instructions(
            ids["customer"],
            currency="eur",
            transfer_type="eu_bank_transfer",
            country="DE",
            reference="F-0001",
            amount=1000,
        ),
        "cancel_payment_intent": lambda: gateway.cancel_payment_intent(
            ids["to_cancel"], idempotency_key=f"sweep-{uuid.uuid4()}"
        ),
    }


def requesting_methods() -> set[str]:
    return {
        name
        for name, member in inspect.getmembers(StripeGateway, inspect.iscoroutinefunction)
        if not name.startswith("_") and name not in NO_REQUEST
    }


async def test_no_request_of_the_gateway_has_a_parameter_stripe_does_not_know(
    gateway: StripeGateway, sdk: stripe.StripeClient
) -> None:
    table = await calls(gateway, arrange(sdk))
    # A new gateway method is added to the table above, so that this test sends it too.
    assert set(table) == requesting_methods()
    refused: dict[str, str] = {}
    for name, call in table.items():
        try:
            await call()
        except InvalidRequest as exc:
            refused[name] = f"{exc.code} {exc.param}: {exc}"
    assert refused == {}


async def test_the_sandbox_refuses_a_removed_parameter_as_stripe_does(
    sdk: stripe.StripeClient,
) -> None:
    # What the gateway sent before endive's removal of `payment_method_types` from Checkout.
    customer = sdk.v1.customers.create({"name": "Removed GmbH"}).id
    with pytest.raises(stripe.InvalidRequestError) as caught:
        sdk.v1.checkout.sessions.create(
            {  # type: ignore[typeddict-unknown-key]
                "mode": "setup",
                "customer": customer,
                "currency": "eur",
                "payment_method_types": ["card"],
                "success_url": "https://portal.example/ok",
                "cancel_url": "https://portal.example/cancel",
            }
        )
    assert (caught.value.http_status, caught.value.code) == (400, "parameter_unknown")
    assert caught.value.param == "payment_method_types"
