"""Invoices through the official SDK: the status machine, paying in full and in parts, payment
plans, pending items, listing and search, the hosted page and the PDF."""

from __future__ import annotations

import io
import time

import httpx
import pypdf
import pytest
import stripe

from tests.functional.sandbox.sandbox_helpers import (
    PREVIEW,
    Sandbox,
    customer_with_card,
    new_customer,
    open_invoice,
)


def test_pay_whole_invoice_with_saved_method(stripe_client: stripe.StripeClient) -> None:
    customer, _ = customer_with_card(stripe_client)
    invoice = open_invoice(stripe_client, customer.id, amount=12345)
    paid = stripe_client.v1.invoices.pay(invoice.id)
    assert paid.status == "paid"
    assert paid.amount_paid == 12345
    assert paid.amount_remaining == 0
    assert paid.status_transitions.paid_at is not None
    payments = stripe_client.v1.invoice_payments.list({"invoice": invoice.id}).data
    assert [(p.is_default, p.status) for p in payments] == [(True, "paid")]
    types = [e.type for e in stripe_client.v1.events.list({"limit": 6}).data]
    assert {"invoice.paid", "invoice.payment_succeeded", "invoice_payment.paid"} <= set(types)


def test_draft_is_not_payable_and_void_is_final(stripe_client: stripe.StripeClient) -> None:
    customer, _ = customer_with_card(stripe_client)
    draft = stripe_client.v1.invoices.create(
        {"customer": customer.id, "collection_method": "send_invoice", "days_until_due": 7}
    )
    with pytest.raises(stripe.InvalidRequestError):
        stripe_client.v1.invoices.pay(draft.id)
    with pytest.raises(stripe.InvalidRequestError):
        stripe_client.v1.invoices.void_invoice(draft.id)
    invoice = open_invoice(stripe_client, customer.id)
    voided = stripe_client.v1.invoices.void_invoice(invoice.id)
    assert voided.status == "void"
    assert voided.status_transitions.voided_at is not None
    with pytest.raises(stripe.InvalidRequestError) as caught:
        stripe_client.v1.invoices.pay(invoice.id)
    assert "void" in caught.value.user_message  # type: ignore[operator]
    with pytest.raises(stripe.InvalidRequestError):
        stripe_client.v1.invoices.mark_uncollectible(invoice.id)
    with pytest.raises(stripe.InvalidRequestError):
        stripe_client.v1.invoices.delete(invoice.id)


def test_uncollectible_invoice_can_still_be_paid(stripe_client: stripe.StripeClient) -> None:
    customer, _ = customer_with_card(stripe_client)
    invoice = open_invoice(stripe_client, customer.id)
    marked = stripe_client.v1.invoices.mark_uncollectible(invoice.id)
    assert marked.status == "uncollectible"
    assert stripe_client.v1.invoices.pay(invoice.id).status == "paid"
    with pytest.raises(stripe.InvalidRequestError):
        stripe_client.v1.invoices.pay(invoice.id)


def test_draft_edits_and_finalized_freeze(stripe_client: stripe.StripeClient) -> None:
    customer = new_customer(stripe_client)
    draft = stripe_client.v1.invoices.create(
        {"customer": customer.id, "collection_method": "send_invoice", "days_until_due": 30,
         "currency": "pln"}
    )  # fmt: skip
    assert draft.customer_name == "Jan Kowalski"
    stripe_client.v1.invoice_items.create(
        {"customer": customer.id, "invoice": draft.id, "unit_amount_decimal": "2500",
         "quantity": 3, "currency": "pln", "description": "Hours"}
    )  # fmt: skip
    updated = stripe_client.v1.invoices.update(draft.id, {"description": "March"})
    assert updated.total == 7500
    assert updated.lines.data[0].quantity == 3
    stripe_client.v1.customers.update(customer.id, {"name": "Jan Nowak"})
    finalized = stripe_client.v1.invoices.finalize_invoice(draft.id)
    assert finalized.customer_name == "Jan Nowak"
    assert finalized.due_date == finalized.status_transitions.finalized_at + 30 * 86400  # type: ignore[operator]
    assert finalized.hosted_invoice_url is not None
    stripe_client.v1.customers.update(customer.id, {"name": "Someone Else"})
    assert stripe_client.v1.invoices.retrieve(draft.id).customer_name == "Jan Nowak"
    with pytest.raises(stripe.InvalidRequestError) as caught:
        stripe_client.v1.invoices.update(draft.id, {"collection_method": "charge_automatically"})
    assert caught.value.code == "invoice_not_editable"
    assert stripe_client.v1.invoices.update(draft.id, {"metadata": {"k": "v"}}).metadata["k"] == "v"
    with pytest.raises(stripe.InvalidRequestError):
        stripe_client.v1.invoices.finalize_invoice(draft.id)


def test_pending_items_are_pulled_in_only_when_asked(stripe_client: stripe.StripeClient) -> None:
    customer = new_customer(stripe_client)
    item = stripe_client.v1.invoice_items.create(
        {"customer": customer.id, "amount": 900, "currency": "eur", "description": "Setup fee"}
    )
    assert item.invoice is None
    excluded = stripe_client.v1.invoices.create(
        {"customer": customer.id, "collection_method": "send_invoice", "days_until_due": 7}
    )
    assert excluded.total == 0
    included = stripe_client.v1.invoices.create(
        {"customer": customer.id, "collection_method": "send_invoice", "days_until_due": 7,
         "pending_invoice_items_behavior": "include"}
    )  # fmt: skip
    assert included.total == 900
    assert stripe_client.v1.invoice_items.retrieve(item.id).invoice == included.id


def test_declined_invoice_payment_raises_and_keeps_invoice_open(
    stripe_client: stripe.StripeClient,
) -> None:
    customer, _ = customer_with_card(stripe_client, "pm_card_chargeDeclinedInsufficientFunds")
    invoice = open_invoice(stripe_client, customer.id)
    with pytest.raises(stripe.CardError) as caught:
        stripe_client.v1.invoices.pay(invoice.id)
    assert caught.value.error is not None
    assert caught.value.error.decline_code == "insufficient_funds"
    after = stripe_client.v1.invoices.retrieve(invoice.id)
    assert after.status == "open"
    assert after.attempt_count == 1
    types = [e.type for e in stripe_client.v1.events.list({"limit": 5}).data]
    assert "invoice.payment_failed" in types


def test_invoice_payment_needing_3ds_reports_requires_action(
    stripe_client: stripe.StripeClient,
) -> None:
    customer, _ = customer_with_card(stripe_client, "pm_card_authenticationRequired")
    invoice = open_invoice(stripe_client, customer.id)
    with pytest.raises(stripe.CardError) as caught:
        stripe_client.v1.invoices.pay(invoice.id)
    assert caught.value.code == "invoice_payment_intent_requires_action"
    assert caught.value.error is not None
    pi = caught.value.error.payment_intent
    assert pi is not None
    assert pi.status == "requires_action"
    assert pi.next_action is not None
    assert pi.next_action.redirect_to_url is not None
    url = pi.next_action.redirect_to_url.url
    assert url is not None
    httpx.post(url, data={"outcome": "complete"})
    assert stripe_client.v1.invoices.retrieve(invoice.id).status == "paid"


def test_attached_payment_counts_when_it_succeeds_later(stripe_client: stripe.StripeClient) -> None:
    customer, pm = customer_with_card(stripe_client)
    invoice = open_invoice(stripe_client, customer.id, amount=10000)
    pi = stripe_client.v1.payment_intents.create(
        {"amount": 4000, "currency": "eur", "customer": customer.id}
    )
    stripe_client.v1.invoices.attach_payment(invoice.id, {"payment_intent": pi.id})
    assert stripe_client.v1.invoices.retrieve(invoice.id).amount_paid == 0
    stripe_client.v1.payment_intents.confirm(pi.id, {"payment_method": pm.id, "off_session": True})
    partly = stripe_client.v1.invoices.retrieve(invoice.id, {"expand": ["payments"]})
    assert partly.amount_paid == 4000
    assert partly.amount_remaining == 6000
    assert partly.payments is not None
    assert len(partly.payments.data) == 2
    rest = stripe_client.v1.payment_intents.create(
        {"amount": 6000, "currency": "eur", "customer": customer.id, "payment_method": pm.id,
         "confirm": True, "off_session": True}
    )  # fmt: skip
    paid = stripe_client.v1.invoices.attach_payment(invoice.id, {"payment_intent": rest.id})
    assert paid.status == "paid"
    assert paid.amount_remaining == 0


def test_attach_payment_checks_customer_currency_and_amount(
    stripe_client: stripe.StripeClient,
) -> None:
    customer, _ = customer_with_card(stripe_client)
    other = new_customer(stripe_client)
    invoice = open_invoice(stripe_client, customer.id, amount=5000)
    bad = [
        {"amount": 1000, "currency": "eur", "customer": other.id},
        {"amount": 1000, "currency": "usd", "customer": customer.id},
        {"amount": 9000, "currency": "eur", "customer": customer.id},
    ]
    for params in bad:
        pi = stripe_client.v1.payment_intents.create(params)  # type: ignore[arg-type]
        with pytest.raises(stripe.InvalidRequestError):
            stripe_client.v1.invoices.attach_payment(invoice.id, {"payment_intent": pi.id})


def test_payment_plan_must_add_up_and_only_for_send_invoice(
    stripe_client: stripe.StripeClient,
) -> None:
    customer = new_customer(stripe_client)
    with pytest.raises(stripe.InvalidRequestError) as refused:
        stripe_client.v1.invoices.create(
            {"customer": customer.id, "amounts_due": [{"amount": 100, "days_until_due": 1}]},
            PREVIEW,
        )
    assert refused.value.param == "amounts_due"
    draft = stripe_client.v1.invoices.create(
        {"customer": customer.id, "collection_method": "send_invoice", "currency": "eur",
         "amounts_due": [{"amount": 3000, "days_until_due": 1},
                         {"amount": 3000, "days_until_due": 10}]},
        PREVIEW,
    )  # fmt: skip
    stripe_client.v1.invoice_items.create(
        {"customer": customer.id, "invoice": draft.id, "amount": 7000, "currency": "eur"}
    )
    with pytest.raises(stripe.InvalidRequestError) as caught:
        stripe_client.v1.invoices.finalize_invoice(draft.id)
    assert caught.value.param == "amounts_due"


def test_installments_turn_past_due_with_the_sandbox_clock(sandbox: Sandbox) -> None:
    client = sandbox.client
    customer = new_customer(client)
    draft = client.v1.invoices.create(
        {"customer": customer.id, "collection_method": "send_invoice", "currency": "eur",
         "amounts_due": [{"amount": 2000, "days_until_due": 1, "description": "First"},
                         {"amount": 3000, "days_until_due": 20, "description": "Second"}]},
        PREVIEW,
    )  # fmt: skip
    client.v1.invoice_items.create(
        {"customer": customer.id, "invoice": draft.id, "amount": 5000, "currency": "eur"}
    )
    invoice = client.v1.invoices.finalize_invoice(draft.id, options=PREVIEW)
    assert [p["status"] for p in invoice["amounts_due"]] == ["open", "open"]
    assert invoice.due_date == invoice["amounts_due"][1]["due_date"]
    sandbox.control("POST", "clock", {"advance": 5 * 86400})
    try:
        later = client.v1.invoices.retrieve(invoice.id, options=PREVIEW)
        assert [p["status"] for p in later["amounts_due"]] == ["past_due", "open"]
        assert later.status == "open"
    finally:
        sandbox.control("POST", "clock", {"reset": True})


def test_past_due_date_is_accepted_by_the_sandbox(stripe_client: stripe.StripeClient) -> None:
    customer = new_customer(stripe_client)
    past = int(time.time()) - 10 * 86400
    invoice = open_invoice(stripe_client, customer.id, due_date=past, days_until_due=None)
    assert invoice.due_date == past


def test_list_filters_and_search(stripe_client: stripe.StripeClient) -> None:
    customer, _ = customer_with_card(stripe_client)
    paid = open_invoice(stripe_client, customer.id)
    stripe_client.v1.invoices.pay(paid.id)
    still_open = open_invoice(stripe_client, customer.id)
    listed = stripe_client.v1.invoices.list({"customer": customer.id, "status": "open"})
    assert [i.id for i in listed.data] == [still_open.id]
    both = stripe_client.v1.invoices.list(
        {"customer": customer.id, "collection_method": "send_invoice"}
    )
    assert [i.id for i in both.data] == [still_open.id, paid.id]
    found = stripe_client.v1.invoices.search(
        {"query": f"customer:'{customer.id}' AND status:'open'"}
    )
    assert [i.id for i in found.data] == [still_open.id]
    lines = stripe_client.v1.invoices.line_items.list(still_open.id)
    assert lines.data[0].amount == 10000


def test_hosted_page_and_pdf_need_no_key(stripe_client: stripe.StripeClient) -> None:
    customer = new_customer(
        stripe_client, name="Žarko Čolić", address={"line1": "Ulica 5", "city": "Split",
                                                   "country": "HR", "postal_code": "21000"}
    )  # fmt: skip
    stripe_client.v1.customers.tax_ids.create(
        customer.id, {"type": "eu_vat", "value": "HR12345678901"}
    )
    invoice = open_invoice(stripe_client, customer.id, amount=4321)
    assert invoice.hosted_invoice_url is not None
    page = httpx.get(invoice.hosted_invoice_url)
    assert page.status_code == 200
    assert str(invoice.number) in page.text
    assert invoice.invoice_pdf is not None
    pdf = httpx.get(invoice.invoice_pdf, follow_redirects=True)  # Stripe's link redirects
    assert pdf.content.startswith(b"%PDF")
    text = pypdf.PdfReader(io.BytesIO(pdf.content)).pages[0].extract_text()
    for expected in (str(invoice.number), "Žarko Čolić", "Split", "HR12345678901", "43.21 EUR"):
        assert expected in text, expected


def test_out_of_band_payment(stripe_client: stripe.StripeClient) -> None:
    customer = new_customer(stripe_client)
    invoice = open_invoice(stripe_client, customer.id)
    paid = stripe_client.v1.invoices.pay(invoice.id, {"paid_out_of_band": True})
    assert paid.status == "paid"
    assert paid.amount_remaining == 0


def test_zero_total_invoice_is_paid_at_finalization(stripe_client: stripe.StripeClient) -> None:
    customer = new_customer(stripe_client)
    draft = stripe_client.v1.invoices.create({"customer": customer.id})
    assert draft.due_date is None
    assert stripe_client.v1.invoices.finalize_invoice(draft.id).status == "paid"


def test_deleting_a_draft(stripe_client: stripe.StripeClient) -> None:
    customer = new_customer(stripe_client)
    draft = stripe_client.v1.invoices.create({"customer": customer.id})
    assert stripe_client.v1.invoices.delete(draft.id).deleted is True
    with pytest.raises(stripe.InvalidRequestError):
        stripe_client.v1.invoices.finalize_invoice(draft.id)


def test_a_credit_note_lowers_what_an_open_invoice_owes(stripe_client: stripe.StripeClient) -> None:
    customer, _card = customer_with_card(stripe_client)
    invoice = open_invoice(stripe_client, customer.id)  # 10000 remaining
    note = stripe_client.v1.credit_notes.create(
        {"invoice": invoice.id, "amount": 2500, "reason": "order_change", "memo": "Rabatt"}
    )
    assert (note.type, note.pre_payment_amount, note.status) == ("pre_payment", 2500, "issued")
    assert note.number == f"{invoice.number}-CN-01"
    after = stripe_client.v1.invoices.retrieve(invoice.id)
    assert (after.amount_due, after.amount_remaining) == (7500, 7500)
    assert after.pre_payment_credit_notes_amount == 2500
    assert [n.id for n in stripe_client.v1.credit_notes.list({"invoice": invoice.id}).data] == [
        note.id
    ]
    with pytest.raises(stripe.InvalidRequestError, match="cannot exceed"):
        stripe_client.v1.credit_notes.create({"invoice": invoice.id, "amount": 9999})
    rest = stripe_client.v1.credit_notes.create(
        {"invoice": invoice.id, "lines": [{"type": "custom_line_item", "unit_amount": 2500,
                                           "quantity": 3, "description": "Gutschrift"}]}
    )  # fmt: skip
    assert rest.amount == 7500
    assert stripe_client.v1.invoices.retrieve(invoice.id).status == "paid"
