"""Where money an invoice refused goes: kept while the invoice still owes it, given back
otherwise; a refund is "refunded" only when Stripe says it succeeded."""

from __future__ import annotations

import pytest

from portal.billing.placing import from_refund, still_owes
from portal.stripe.models import Refund
from tests.unit.billing.test_invoices import invoice


@pytest.mark.parametrize(
    ("status", "remaining", "owes"),
    [
        ("open", 5000, True),  # refused for another reason: kept, tried again
        ("open", 4000, True),  # exactly what it owes
        ("open", 3999, False),  # lowered meanwhile: the payment is more than it owes
        ("uncollectible", 4000, True),  # written off, still owed
        ("paid", 0, False),
        ("void", 4000, False),
    ],
)
def test_an_invoice_still_owes_a_payment_only_while_open_and_owing_it_whole(
    status: str, remaining: int, owes: bool
) -> None:
    assert still_owes(invoice(status=status, amount_remaining=remaining), 4000) is owes


@pytest.mark.parametrize(
    ("stripe", "ours"),
    [
        ("pending", "refund_pending"),
        ("requires_action", "refund_pending"),
        ("succeeded", "refunded"),
        ("failed", "refund_failed"),
        ("canceled", "refund_failed"),
    ],
)
def test_a_refund_is_what_stripe_says_it_is(stripe: str, ours: str) -> None:
    refund = Refund("re_1", stripe, 4000, "eur", "pi_1", "expired_or_canceled_card")
    outcome = from_refund(refund, "invoice_not_open")
    assert (outcome.status, outcome.refund_id, outcome.payment_intent_id) == (ours, "re_1", "pi_1")
