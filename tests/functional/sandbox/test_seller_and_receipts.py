"""The seller as Stripe knows it, and receipts, through the official SDK: the account's tax IDs
(/v1/tax_ids) on invoices (`account_tax_ids`, the account's defaults at finalization), the
customer's `tax_exempt` frozen on the invoice, and the receipts a charge records."""

from __future__ import annotations

import io
from collections.abc import Iterator
from typing import Any

import httpx
import pypdf
import pytest
import stripe

from tests.functional.sandbox.sandbox_helpers import (
    Sandbox,
    customer_with_card,
    draft_invoice,
    new_customer,
    open_invoice,
)

SELLER_VAT = "DE293817466"


@pytest.fixture
def account(sandbox: Sandbox) -> Iterator[Sandbox]:
    """The account's Dashboard settings, put back as they were after the test."""
    before = sandbox.control("GET", "account").json()
    yield sandbox
    sandbox.control("POST", "account", before)


def error_of(caught: pytest.ExceptionInfo[stripe.StripeError]) -> dict[str, Any]:
    body = caught.value.json_body
    assert isinstance(body, dict)
    error: dict[str, Any] = body["error"]
    return error


def seller_tax_id(client: stripe.StripeClient, value: str = SELLER_VAT) -> stripe.TaxId:
    return client.v1.tax_ids.create({"type": "eu_vat", "value": value})


def draft(client: stripe.StripeClient, customer_id: str, **fields: Any) -> stripe.Invoice:
    """A draft with one line of 50.00 €."""
    invoice = draft_invoice(client, customer_id, **fields)
    client.v1.invoice_items.create(
        {"customer": customer_id, "invoice": invoice.id, "amount": 5000, "currency": "eur",
         "description": "Beratung"}
    )  # fmt: skip
    return invoice


# -- the account's tax IDs --------------------------------------------------------------------


def test_an_account_tax_id_is_created_by_default_owned_by_the_account(
    stripe_client: stripe.StripeClient,
) -> None:
    tax_id = seller_tax_id(stripe_client)
    assert tax_id.id.startswith("txi_")
    assert (tax_id.type, tax_id.value, tax_id.country) == ("eu_vat", SELLER_VAT, "DE")
    assert tax_id.customer is None
    assert tax_id.owner is not None
    assert tax_id.owner.type == "self"
    # Stripe verifies customers' tax IDs only (its example answer: `verification: null`).
    assert tax_id.verification is None
    assert stripe_client.v1.tax_ids.retrieve(tax_id.id).value == SELLER_VAT
    listed = stripe_client.v1.tax_ids.list({"limit": 100})
    assert tax_id.id in [t.id for t in listed.data]
    assert all(t.owner is not None and t.owner.type == "self" for t in listed.data)


def test_customer_owned_tax_ids_through_the_tax_id_api(
    stripe_client: stripe.StripeClient,
) -> None:
    customer = new_customer(stripe_client)
    made = stripe_client.v1.tax_ids.create(
        {"type": "eu_vat", "value": "ATU12345678",
         "owner": {"type": "customer", "customer": customer.id}}
    )  # fmt: skip
    assert made.customer == customer.id
    listed = stripe_client.v1.tax_ids.list({"owner": {"type": "customer", "customer": customer.id}})
    assert [t.id for t in listed.data] == [made.id]
    assert made.id not in [t.id for t in stripe_client.v1.tax_ids.list({"limit": 100}).data]
    with pytest.raises(stripe.InvalidRequestError) as caught:
        stripe_client.v1.tax_ids.create(
            {"type": "eu_vat", "value": "ATU12345678", "owner": {"type": "customer"}}
        )
    assert error_of(caught)["param"] == "owner[customer]"


def test_malformed_account_tax_ids_and_connect_owners_are_refused(
    stripe_client: stripe.StripeClient,
) -> None:
    with pytest.raises(stripe.InvalidRequestError) as caught:
        seller_tax_id(stripe_client, "DE12345")
    assert error_of(caught)["code"] == "tax_id_invalid"
    with pytest.raises(stripe.InvalidRequestError) as caught:
        stripe_client.v1.tax_ids.create(
            {"type": "eu_vat", "value": SELLER_VAT, "owner": {"type": "account", "account": "a"}}
        )
    assert error_of(caught)["param"] == "owner[type]"


def test_a_deleted_account_tax_id_is_gone(stripe_client: stripe.StripeClient) -> None:
    tax_id = seller_tax_id(stripe_client)
    deleted = stripe_client.v1.tax_ids.delete(tax_id.id)
    assert deleted.deleted is True
    with pytest.raises(stripe.InvalidRequestError) as caught:
        stripe_client.v1.tax_ids.retrieve(tax_id.id)
    assert caught.value.http_status == 404


# -- account_tax_ids on invoices --------------------------------------------------------------


def test_account_tax_ids_on_a_draft_are_kept_through_finalization_and_expand(
    stripe_client: stripe.StripeClient,
) -> None:
    tax_id = seller_tax_id(stripe_client)
    customer = new_customer(stripe_client)
    invoice = draft(stripe_client, customer.id, account_tax_ids=[tax_id.id])
    assert invoice.account_tax_ids == [tax_id.id]
    assert invoice.account_name == "Sandbox Billing Ltd"
    assert invoice.account_country == "DE"
    final = stripe_client.v1.invoices.finalize_invoice(invoice.id)
    assert final.account_tax_ids == [tax_id.id]
    expanded = stripe_client.v1.invoices.retrieve(invoice.id, {"expand": ["account_tax_ids"]})
    assert expanded.account_tax_ids is not None
    shown = expanded.account_tax_ids[0]
    assert isinstance(shown, stripe.TaxId)
    assert (shown.type, shown.value) == ("eu_vat", SELLER_VAT)
    listed = stripe_client.v1.invoices.list(
        {"customer": customer.id, "expand": ["data.account_tax_ids"]}
    )
    assert [t.value for t in listed.data[0].account_tax_ids or []] == [SELLER_VAT]  # type: ignore[union-attr]
    found = stripe_client.v1.invoices.search(
        {"query": f"customer:'{customer.id}'", "expand": ["data.account_tax_ids"]}
    )
    assert [t.value for t in found.data[0].account_tax_ids or []] == [SELLER_VAT]  # type: ignore[union-attr]


def test_account_tax_ids_change_on_a_draft_only_and_empty_unsets(
    stripe_client: stripe.StripeClient,
) -> None:
    first, second = seller_tax_id(stripe_client), seller_tax_id(stripe_client, "DE123456788")
    customer = new_customer(stripe_client)
    invoice = draft(stripe_client, customer.id, account_tax_ids=[first.id])
    changed = stripe_client.v1.invoices.update(invoice.id, {"account_tax_ids": [second.id]})
    assert changed.account_tax_ids == [second.id]
    cleared = stripe_client.v1.invoices.update(invoice.id, {"account_tax_ids": ""})
    assert cleared.account_tax_ids is None
    stripe_client.v1.invoices.update(invoice.id, {"account_tax_ids": [first.id]})
    stripe_client.v1.invoices.finalize_invoice(invoice.id)
    # "You can't add, change, or remove account tax IDs after an invoice is finalized."
    with pytest.raises(stripe.InvalidRequestError) as caught:
        stripe_client.v1.invoices.update(invoice.id, {"account_tax_ids": [second.id]})
    assert error_of(caught)["code"] == "invoice_not_editable"
    assert stripe_client.v1.invoices.retrieve(invoice.id).account_tax_ids == [first.id]


def test_unknown_and_customer_tax_ids_are_no_account_tax_ids(
    stripe_client: stripe.StripeClient,
) -> None:
    customer = new_customer(stripe_client)
    theirs = stripe_client.v1.customers.tax_ids.create(
        customer.id, {"type": "eu_vat", "value": "PL1234567890"}
    )
    for wrong in ("txi_doesnotexist", theirs.id):
        with pytest.raises(stripe.InvalidRequestError) as caught:
            draft(stripe_client, customer.id, account_tax_ids=[wrong])
        error = error_of(caught)
        assert (error["code"], error["param"]) == ("resource_missing", "account_tax_ids[0]")
        assert wrong in error["message"]
    many = [seller_tax_id(stripe_client).id for _ in range(11)]
    with pytest.raises(stripe.InvalidRequestError) as caught:
        draft(stripe_client, customer.id, account_tax_ids=many)
    assert error_of(caught)["param"] == "account_tax_ids"


def test_the_accounts_default_tax_ids_are_pulled_in_at_finalization(account: Sandbox) -> None:
    client = account.client
    default = seller_tax_id(client)
    other = seller_tax_id(client, "DE123456788")
    account.control("POST", "account", {"default_account_tax_ids": [default.id]})
    customer = new_customer(client)
    plain = draft(client, customer.id)
    assert plain.account_tax_ids is None
    assert client.v1.invoices.finalize_invoice(plain.id).account_tax_ids == [default.id]
    own = draft(client, customer.id, account_tax_ids=[other.id])
    assert client.v1.invoices.finalize_invoice(own.id).account_tax_ids == [other.id]


def test_a_deleted_tax_id_stays_on_the_finalized_invoice(
    sandbox: Sandbox, stripe_client: stripe.StripeClient
) -> None:
    tax_id = seller_tax_id(stripe_client)
    customer = new_customer(stripe_client)
    invoice = stripe_client.v1.invoices.finalize_invoice(
        draft(stripe_client, customer.id, account_tax_ids=[tax_id.id]).id
    )
    pdf = httpx.get(invoice.invoice_pdf or "", follow_redirects=True)
    assert SELLER_VAT in "".join(
        p.extract_text() for p in pypdf.PdfReader(io.BytesIO(pdf.content)).pages
    )
    stripe_client.v1.tax_ids.delete(tax_id.id)
    again = stripe_client.v1.invoices.retrieve(invoice.id, {"expand": ["account_tax_ids"]})
    assert again.account_tax_ids is not None
    assert again.account_tax_ids[0].id == tax_id.id


def test_the_account_name_is_a_dashboard_setting(account: Sandbox) -> None:
    account.control("POST", "account", {"name": "Nordlicht Software GmbH"})
    customer = new_customer(account.client)
    assert draft(account.client, customer.id).account_name == "Nordlicht Software GmbH"


# -- customer_tax_exempt ----------------------------------------------------------------------


def test_tax_exempt_takes_only_stripes_values(stripe_client: stripe.StripeClient) -> None:
    with pytest.raises(stripe.InvalidRequestError) as caught:
        new_customer(stripe_client, tax_exempt="zero")
    assert error_of(caught)["param"] == "tax_exempt"
    customer = new_customer(stripe_client, tax_exempt="reverse")
    assert customer.tax_exempt == "reverse"
    with pytest.raises(stripe.InvalidRequestError):
        stripe_client.v1.customers.update(customer.id, {"tax_exempt": "partly"})  # type: ignore[typeddict-item]
    assert stripe_client.v1.customers.update(customer.id, {"tax_exempt": "exempt"}).tax_exempt == (
        "exempt"
    )


def test_customer_tax_exempt_follows_the_customer_until_finalization_then_stays(
    stripe_client: stripe.StripeClient,
) -> None:
    customer = new_customer(stripe_client)
    invoice = draft(stripe_client, customer.id)
    assert invoice.customer_tax_exempt == "none"
    stripe_client.v1.customers.update(customer.id, {"tax_exempt": "reverse"})
    assert stripe_client.v1.invoices.retrieve(invoice.id).customer_tax_exempt == "reverse"
    final = stripe_client.v1.invoices.finalize_invoice(invoice.id)
    assert final.customer_tax_exempt == "reverse"
    stripe_client.v1.customers.update(customer.id, {"tax_exempt": "none"})
    assert stripe_client.v1.invoices.retrieve(invoice.id).customer_tax_exempt == "reverse"
    pdf = httpx.get(final.invoice_pdf or "", follow_redirects=True)
    text = "".join(p.extract_text() for p in pypdf.PdfReader(io.BytesIO(pdf.content)).pages)
    assert "Reverse charge" in text


# -- receipts ---------------------------------------------------------------------------------


def paid_invoice_charge(client: stripe.StripeClient, email: str) -> stripe.Charge:
    customer, pm = customer_with_card(client)
    client.v1.customers.update(customer.id, {"email": email})
    invoice = open_invoice(client, customer.id)
    client.v1.invoices.pay(invoice.id, {"payment_method": pm.id})
    payments = client.v1.invoice_payments.list(
        {"invoice": invoice.id, "expand": ["data.payment.payment_intent.latest_charge"]}
    )
    charge = payments.data[0].payment.payment_intent.latest_charge  # type: ignore[union-attr]
    assert isinstance(charge, stripe.Charge)
    return charge


def test_by_default_no_receipt_is_sent(stripe_client: stripe.StripeClient) -> None:
    charge = paid_invoice_charge(stripe_client, "team@example.com")
    assert (charge.receipt_email, charge.receipt_number) == (None, None)
    assert charge.receipt_url is not None


def test_test_mode_sends_invoice_receipts_only_to_the_team(account: Sandbox) -> None:
    client = account.client
    account.control(
        "POST", "account",
        {"email_successful_payments": True, "team_emails": ["Team@example.com"]},
    )  # fmt: skip
    to_team = paid_invoice_charge(client, "team@example.com")
    assert to_team.receipt_email == "team@example.com"
    assert to_team.receipt_number is not None
    first, second = to_team.receipt_number.split("-")
    assert (len(first), len(second)) == (4, 4)
    assert (first + second).isdigit()
    invoice = client.v1.invoices.retrieve(_invoice_of(client, to_team))
    assert invoice.receipt_number == to_team.receipt_number
    # A customer outside the team: Stripe's test mode sends nothing.
    outside = paid_invoice_charge(client, "kunde@example.org")
    assert (outside.receipt_email, outside.receipt_number) == (None, None)


def test_without_the_setting_the_team_gets_no_invoice_receipt(account: Sandbox) -> None:
    account.control("POST", "account", {"team_emails": ["team@example.com"]})
    charge = paid_invoice_charge(account.client, "team@example.com")
    assert charge.receipt_number is None


def test_a_payment_intents_receipt_email_gets_a_receipt_whatever_the_setting(
    account: Sandbox,
) -> None:
    client = account.client
    account.control("POST", "account", {"team_emails": ["team@example.com"]})
    for address, sent in (("team@example.com", True), ("someone@example.org", False)):
        intent = client.v1.payment_intents.create(
            {"amount": 2000, "currency": "eur", "payment_method": "pm_card_visa",
             "receipt_email": address, "confirm": True, "off_session": True}
        )  # fmt: skip
        charge = client.v1.charges.retrieve(str(intent.latest_charge))
        assert charge.receipt_email == address
        assert (charge.receipt_number is not None) is sent


def _invoice_of(client: stripe.StripeClient, charge: stripe.Charge) -> str:
    payments = client.v1.invoice_payments.list(
        {"payment": {"type": "payment_intent", "payment_intent": str(charge.payment_intent)}}
    )
    return str(payments.data[0].invoice)
