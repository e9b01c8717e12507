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


async def test_drafts_to_be_charged_come_with_their_customer_and_both_methods(
    gateway: StripeGateway, sdk: stripe.StripeClient
) -> None:
    customer_id, card_id = customer_with_card(sdk)
    own = sdk.v1.payment_methods.attach("pm_card_mastercard", {"customer": customer_id})
    charged = sdk.v1.invoices.create(
        {
            "customer": customer_id,
            "currency": "eur",
            "collection_method": "charge_automatically",
            "auto_advance": True,
            "automatically_finalizes_at": int(time.time()) + 3 * 86400,
            "default_payment_method": own.id,
        }
    )
    sent = sdk.v1.invoices.create(
        {"customer": customer_id, "currency": "eur", "collection_method": "send_invoice",
         "days_until_due": 14}
    )  # fmt: skip
    found = {}
    cursor = None
    while True:  # every draft of the account to be charged, page by page
        page = await gateway.charged_drafts(cursor, limit=10)
        found.update((d.id, d) for d in page.items)
        if (cursor := page.next_cursor) is None:
            break
    assert sent.id not in found
    draft = found[charged.id]
    assert draft.customer.id == customer_id
    assert draft.own_method is not None
    assert draft.own_method.id == own.id
    assert draft.own_method.brand == "mastercard"
    assert draft.default_method is not None
    assert draft.default_method.id == card_id
