"""The gateway against the sandbox over HTTP: the same code path as against Stripe."""

from __future__ import annotations

import time
import uuid
from collections.abc import AsyncIterator
from typing import Any

import httpx
import pytest
import stripe

from portal.settings import STRIPE_INVOICE_API_VERSION
from portal.stripe.errors import (
    NotFound,
    PaymentDeclined,
    StripeMisconfigured,
    StripeRateLimited,
    StripeUnavailable,
)
from portal.stripe.gateway import StripeGateway
from tests.conftest import SANDBOX_KEY

pytestmark = pytest.mark.anyio


@pytest.fixture
def sdk(sandbox_url: str) -> stripe.StripeClient:
    """The official SDK, for arranging data the way a Stripe user would."""
    return stripe.StripeClient(
        SANDBOX_KEY,
        base_addresses={"api": sandbox_url, "files": sandbox_url},
        max_network_retries=0,
        stripe_version=STRIPE_INVOICE_API_VERSION,  # payment plans are a preview feature
    )


@pytest.fixture
async def gateway(sandbox_url: str) -> AsyncIterator[StripeGateway]:
    gateway = StripeGateway(api_key=SANDBOX_KEY, api_base=sandbox_url, max_network_retries=0)
    yield gateway
    await gateway.aclose()


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


async def test_finds_customers_by_email_ignoring_case(
    gateway: StripeGateway, sdk: stripe.StripeClient
) -> None:
    email = f"shared-{uuid.uuid4().hex[:6]}@example.com"
    first, _ = customer_with_card(sdk, email)
    second, _ = customer_with_card(sdk, email)
    for typed in (email, email.upper()):
        found = await gateway.find_customers_by_email(typed)
        assert {c.id for c in found} == {first, second}


async def test_unknown_invoice_is_not_found(gateway: StripeGateway) -> None:
    with pytest.raises(NotFound):
        await gateway.get_invoice("in_doesnotexist")


async def test_wrong_key_is_a_configuration_problem(sandbox_url: str) -> None:
    gateway = StripeGateway(api_key="sk_live_wrong", api_base=sandbox_url, max_network_retries=0)
    try:
        with pytest.raises(StripeMisconfigured):
            await gateway.get_invoice("in_x")
    finally:
        await gateway.aclose()


async def test_stripe_failing_is_unavailable_and_rate_limit_is_named(
    gateway: StripeGateway, sandbox_url: str
) -> None:
    httpx.post(f"{sandbox_url}/_sandbox/faults", json={"status": 500, "count": 1})
    with pytest.raises(StripeUnavailable):
        await gateway.get_invoice("in_x")
    httpx.post(f"{sandbox_url}/_sandbox/faults", json={"status": 429, "count": 1})
    with pytest.raises(StripeRateLimited):
        await gateway.get_invoice("in_x")


async def test_unreachable_stripe_is_unavailable() -> None:
    gateway = StripeGateway(
        api_key=SANDBOX_KEY, api_base="http://127.0.0.1:9", timeout=2, max_network_retries=0
    )
    try:
        with pytest.raises(StripeUnavailable):
            await gateway.get_customer("cus_x")
    finally:
        await gateway.aclose()


async def test_sdk_retries_then_succeeds_on_a_passing_outage(
    sandbox_url: str, sdk: stripe.StripeClient
) -> None:
    customer_id, _ = customer_with_card(sdk)
    gateway = StripeGateway(api_key=SANDBOX_KEY, api_base=sandbox_url, max_network_retries=2)
    try:
        httpx.post(f"{sandbox_url}/_sandbox/faults", json={"status": 500, "count": 1})
        assert (await gateway.get_customer(customer_id)).id == customer_id
    finally:
        await gateway.aclose()


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


async def test_finds_an_address_stored_with_capitals(
    gateway: StripeGateway, sdk: stripe.StripeClient
) -> None:
    stored = f"Anna.Schmidt-{uuid.uuid4().hex[:6]}@Example.de"
    customer_id, _ = customer_with_card(sdk, stored)
    found = await gateway.find_customers_by_email(stored.lower())
    assert [c.id for c in found] == [customer_id]
