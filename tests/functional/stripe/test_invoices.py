"""The gateway's invoice reads with the preview API version, which shows payment plans, against
the sandbox over HTTP."""

from __future__ import annotations

import time
import uuid

import pytest
import stripe

from portal.stripe.gateway import StripeGateway
from tests.conftest import SANDBOX_KEY
from tests.functional.stripe.stripe_support import customer_with_card

pytestmark = pytest.mark.anyio

GA_VERSION = "2026-10-28.endive"


def plan_invoice(sdk: stripe.StripeClient) -> str:
    customer_id, _ = customer_with_card(sdk)
    now = int(time.time())
    invoice = sdk.v1.invoices.create(
        {
            "customer": customer_id,
            "collection_method": "send_invoice",
            "currency": "eur",
            "amounts_due": [  # type: ignore[typeddict-unknown-key]
                {"amount": 5000, "due_date": now + 10 * 86400},
                {"amount": 5000, "due_date": now + 40 * 86400},
            ],
        }
    )
    sdk.v1.invoice_items.create(
        {
            "customer": customer_id,
            "invoice": invoice.id,
            "amount": 10000,
            "currency": "eur",
            "description": f"Plan {uuid.uuid4().hex[:6]}",
        }
    )
    return sdk.v1.invoices.finalize_invoice(invoice.id).id


async def test_invoices_are_read_with_the_preview_version_and_show_their_plan(
    gateway: StripeGateway, sdk: stripe.StripeClient
) -> None:
    invoice_id = plan_invoice(sdk)
    invoice = await gateway.get_invoice(invoice_id)
    assert [part.amount for part in invoice.installments] == [5000, 5000]
    listed = await gateway.list_invoices(invoice.customer_id)
    assert [len(i.installments) for i in listed.items] == [2]
    everything = {}
    cursor = None
    while True:  # the open invoices of the account, page by page, each with its customer
        page = await gateway.open_invoices(cursor)
        everything.update((o.id, o) for o in page.items)
        if (cursor := page.next_cursor) is None:
            break
    assert len(everything[invoice_id].invoice.installments) == 2
    assert everything[invoice_id].customer.id == invoice.customer_id


async def test_with_a_ga_version_the_plan_is_absent_and_the_invoice_whole(
    sandbox_url: str, sdk: stripe.StripeClient
) -> None:
    gateway = StripeGateway(
        api_key=SANDBOX_KEY,
        api_base=sandbox_url,
        max_network_retries=0,
        invoice_api_version=GA_VERSION,
    )
    try:
        invoice = await gateway.get_invoice(plan_invoice(sdk))
    finally:
        await gateway.aclose()
    assert invoice.installments == ()
    assert (invoice.amount_due, invoice.amount_remaining) == (10000, 10000)
