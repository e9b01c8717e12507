"""The one permission check: a read-only principal (support staff viewing as a customer) may look
but not change anything at Stripe (which route asks which action: tests/unit/test_routes.py)."""

from __future__ import annotations

from datetime import UTC, datetime

import pytest

from portal.permissions import CHANGES, Action, Forbidden, NotFound, Principal, can, require
from portal.stripe.models import CreditNote, Invoice

CUSTOMER = Principal("cus_1", ("cus_1",), "a@example.de")
STAFF_VIEW = Principal("cus_1", ("cus_1",), "a@example.de", read_only=True)


@pytest.mark.parametrize("action", list(Action))
def test_read_only_may_look_but_not_change(action: Action) -> None:
    assert can(CUSTOMER, action)
    assert can(STAFF_VIEW, action) is (action not in CHANGES)
    if action in CHANGES:
        with pytest.raises(Forbidden):
            require(STAFF_VIEW, action)


def test_changes_cover_everything_that_writes_to_stripe() -> None:
    assert {
        Action.PAY,
        Action.MANAGE_PAYMENT_METHODS,
        Action.EDIT_BILLING_DETAILS,
        Action.SET_STRIPE_LANGUAGE,
    } <= CHANGES


def invoice(invoice_id: str, customer_id: str = "cus_1") -> Invoice:
    return Invoice(
        id=invoice_id, customer_id=customer_id, number="INV-1", status="open", currency="eur",
        collection_method="send_invoice", created=datetime(2026, 5, 1, tzinfo=UTC),
        due_date=None, amount_due=100, amount_paid=0, amount_remaining=100, subtotal=100,
        tax=0, total=100,
    )  # fmt: skip


def credit_note(invoice_id: str | None) -> CreditNote:
    return CreditNote(
        id="cn_1", number="INV-1-CN-01", amount=10, currency="eur",
        created=datetime(2026, 5, 2, tzinfo=UTC), invoice_id=invoice_id,
    )  # fmt: skip


def test_a_credit_note_is_the_principals_only_as_its_invoices() -> None:
    require(CUSTOMER, Action.DOWNLOAD_PDF, invoice=invoice("in_1"), credit_note=credit_note("in_1"))
    link = Principal("cus_1", ("cus_1",), "a@example.de", invoice_id="in_1")
    require(link, Action.DOWNLOAD_PDF, invoice=invoice("in_1"), credit_note=credit_note("in_1"))
    for who, of, note in (
        (CUSTOMER, invoice("in_1"), credit_note("in_2")),  # another invoice's
        (CUSTOMER, invoice("in_2", "cus_2"), credit_note("in_2")),  # another customer's
        (link, invoice("in_2"), credit_note("in_2")),  # beyond the link's invoice
        (CUSTOMER, None, credit_note("in_1")),  # without its invoice
        (CUSTOMER, invoice("in_1"), credit_note(None)),
    ):
        with pytest.raises(NotFound):
            require(who, Action.DOWNLOAD_PDF, invoice=of, credit_note=note)
