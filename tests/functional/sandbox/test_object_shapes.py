"""Every object type the sandbox serves, made through the official SDK over HTTP, has exactly the
top-level fields the SDK's resource class declares (`stripe/_invoice.py` `Invoice`, ...): each
declared field present (null when empty), nothing undeclared; preview fields only for a preview
API version."""

from __future__ import annotations

import typing
from collections.abc import Iterator
from typing import Any

import pytest
import stripe

from stripe_sandbox import preview
from stripe_sandbox.app import SandboxConfig, create_sandbox_app
from tests.functional.sandbox.sandbox_helpers import (
    FAST_RETRIES,
    PREVIEW,
    customer_with_card,
    open_invoice,
    sdk_client,
)
from tests.support.servers import serve_in_thread

NO_REDIRECTS: Any = {"enabled": True, "allow_redirects": "never"}

# Declared fields Stripe leaves out of an object unless asked for or relevant (all from Stripe's
# API reference): `deleted` only on deleted objects; "includable" fields only when expanded; a
# webhook endpoint's `secret` only in the create response; `account`/`context` on Connect events;
# a charge's `refunds` only when expanded (changelog 2022-11-15, deprecates-charges-auto-expand).
ABSENT_UNLESS: dict[str, frozenset[str]] = {
    "*": frozenset({"deleted"}),
    "customer": frozenset(
        {"cash_balance", "invoice_credit_balance", "sources", "subscriptions", "tax", "tax_ids"}
    ),
    "invoice": frozenset({"payments"}),
    "charge": frozenset({"refunds"}),
    "checkout.session": frozenset({"line_items"}),
    "webhook_endpoint": frozenset({"secret"}),
    "event": frozenset({"account", "context"}),
}


def declared_fields(cls: type) -> set[str]:
    """The fields a resource class annotates (not its class constants)."""
    return {
        name
        for name, hint in cls.__annotations__.items()
        if not name.isupper() and "ClassVar" not in str(hint)
    }


def payment_method_types() -> set[str]:
    """A PaymentMethod carries the hash of its own type only (`card`, `sepa_debit`, ...)."""
    # Annotated as `Union[Literal["acss_debit", ...], str]`.
    declared = stripe.PaymentMethod.__annotations__["type"]
    return {name for member in typing.get_args(declared) for name in typing.get_args(member)}


def shape_problems(object_type: str, cls: type, obj: Any, *, preview_version: bool) -> list[str]:
    keys = set(obj.to_dict())
    declared = declared_fields(cls)
    optional = ABSENT_UNLESS["*"] | ABSENT_UNLESS.get(object_type, frozenset())
    if object_type == "payment_method":
        optional |= payment_method_types() - {obj["type"]}
    previewed = set(preview.fields_for(object_type))
    expected = (declared - optional) | (previewed if preview_version else set())
    allowed = declared | {"object"} | (previewed if preview_version else set())
    problems = [f"{object_type}: missing {name}" for name in sorted(expected - keys)]
    problems += [f"{object_type}: undeclared {name}" for name in sorted(keys - allowed)]
    return problems


@pytest.fixture(scope="module")
def client() -> Iterator[stripe.StripeClient]:
    app = create_sandbox_app(SandboxConfig(webhook_retry_delays=FAST_RETRIES))
    with serve_in_thread(app) as url, sdk_client(url) as sdk:
        yield sdk


def made_objects(client: stripe.StripeClient) -> list[tuple[str, type, Any]]:
    """One of each object type, as the SDK hands them out."""
    customer, card = customer_with_card(client)
    tax_id = client.v1.customers.tax_ids.create(
        customer.id, {"type": "eu_vat", "value": "DE123456789"}
    )
    setup = client.v1.setup_intents.create(
        {"customer": customer.id, "automatic_payment_methods": NO_REDIRECTS}
    )
    intent = client.v1.payment_intents.create(
        {"amount": 2000, "currency": "eur", "customer": customer.id, "payment_method": card.id,
         "confirm": True, "automatic_payment_methods": NO_REDIRECTS}
    )  # fmt: skip
    assert isinstance(intent.latest_charge, str)
    charge = client.v1.charges.retrieve(intent.latest_charge)
    invoice = open_invoice(client, customer.id)
    item = client.v1.invoice_items.list({"invoice": invoice.id}).data[0]
    line = client.v1.invoices.line_items.list(invoice.id).data[0]
    payment = client.v1.invoice_payments.list({"invoice": invoice.id}).data[0]
    credit_note = client.v1.credit_notes.create({"invoice": invoice.id, "amount": 100})
    session = client.v1.checkout.sessions.create(
        {"mode": "setup", "customer": customer.id, "currency": "eur",
         "success_url": "https://portal.example/done", "cancel_url": "https://portal.example/x"}
    )  # fmt: skip
    endpoint = client.v1.webhook_endpoints.create(
        {"url": "https://portal.example/hook", "enabled_events": ["*"]}
    )
    event = client.v1.events.list({"limit": 1}).data[0]
    tax_rate = client.v1.tax_rates.create(
        {"display_name": "VAT", "percentage": 19, "inclusive": False}
    )
    coupon = client.v1.coupons.create({"percent_off": 10, "name": "Treuerabatt"})
    discounted = client.v1.invoices.create(
        {"customer": customer.id, "discounts": [{"coupon": coupon.id}],
         "default_tax_rates": [tax_rate.id], "expand": ["discounts"]}
    )  # fmt: skip
    discount = discounted.discounts[0]
    funding = client.v1.customers.funding_instructions.create(
        customer.id,
        {"funding_type": "bank_transfer", "currency": "eur",
         "bank_transfer": {"type": "eu_bank_transfer", "eu_bank_transfer": {"country": "DE"}}},
    )  # fmt: skip
    funded = client.v1.test_helpers.customers.fund_cash_balance(
        customer.id, {"amount": 500, "currency": "eur", "reference": "sandbox"}
    )
    cash = client.v1.customers.cash_balance.retrieve(customer.id)
    credit = client.v1.customers.balance_transactions.create(
        customer.id, {"amount": -100, "currency": "eur"}
    )
    return [
        ("customer", stripe.Customer, client.v1.customers.retrieve(customer.id)),
        ("tax_id", stripe.TaxId, tax_id),
        ("payment_method", stripe.PaymentMethod, card),
        ("setup_intent", stripe.SetupIntent, setup),
        ("payment_intent", stripe.PaymentIntent, intent),
        ("charge", stripe.Charge, charge),
        ("invoice", stripe.Invoice, invoice),
        ("invoiceitem", stripe.InvoiceItem, item),
        ("line_item", stripe.InvoiceLineItem, line),
        ("invoice_payment", stripe.InvoicePayment, payment),
        ("credit_note", stripe.CreditNote, credit_note),
        ("credit_note_line_item", stripe.CreditNoteLineItem, credit_note.lines.data[0]),
        ("checkout.session", stripe.checkout.Session, session),
        ("webhook_endpoint", stripe.WebhookEndpoint, endpoint),
        ("event", stripe.Event, event),
        ("tax_rate", stripe.TaxRate, tax_rate),
        ("coupon", stripe.Coupon, coupon),
        ("discount", stripe.Discount, discount),
        ("invoice", stripe.Invoice, discounted),
        ("funding_instructions", stripe.FundingInstructions, funding),
        ("customer_cash_balance_transaction", stripe.CustomerCashBalanceTransaction, funded),
        ("cash_balance", stripe.CashBalance, cash),
        ("customer_balance_transaction", stripe.CustomerBalanceTransaction, credit),
    ]


def test_every_object_type_has_exactly_the_sdks_fields(client: stripe.StripeClient) -> None:
    problems = []
    for object_type, cls, obj in made_objects(client):
        assert obj["object"] == object_type
        problems += shape_problems(object_type, cls, obj, preview_version=False)
    assert problems == []


def test_lists_and_search_results_have_the_sdks_fields(client: stripe.StripeClient) -> None:
    customer, _ = customer_with_card(client)
    invoice = open_invoice(client, customer.id)
    listed = client.v1.customers.list({"limit": 1})
    found = client.v1.customers.search({"query": "email:'jan@example.com'"})
    problems = shape_problems("list", stripe.ListObject, listed, preview_version=False)
    problems += shape_problems("list", stripe.ListObject, invoice.lines, preview_version=False)
    # Stripe's search answers also carry `url` (API reference, "Search"), which the SDK's
    # SearchResultObject does not annotate.
    problems += [
        p
        for p in shape_problems(
            "search_result", stripe.SearchResultObject, found, preview_version=False
        )
        if p != "search_result: undeclared url"
    ]
    assert problems == []


def test_preview_fields_only_for_a_preview_version(client: stripe.StripeClient) -> None:
    customer, _ = customer_with_card(client)
    plan = [{"amount": 4000, "days_until_due": 10}, {"amount": 6000, "days_until_due": 40}]
    invoice = client.v1.invoices.create(
        {"customer": customer.id, "collection_method": "send_invoice", "currency": "eur",
         "amounts_due": plan},  # type: ignore[typeddict-unknown-key]
        PREVIEW,
    )  # fmt: skip
    assert shape_problems("invoice", stripe.Invoice, invoice, preview_version=True) == []
    assert [part["amount"] for part in invoice["amounts_due"]] == [4000, 6000]

    seen_by_ga = client.v1.invoices.retrieve(invoice.id)
    assert shape_problems("invoice", stripe.Invoice, seen_by_ga, preview_version=False) == []
    assert "amounts_due" not in seen_by_ga.to_dict()
