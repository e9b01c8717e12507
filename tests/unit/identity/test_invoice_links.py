"""Signed invoice links: what they name, how long they live."""

from __future__ import annotations

from dataclasses import replace

import pytest

from portal.identity import invoice_links as links
from tests.unit.billing.test_payments import DAY, NOW, invoice

SECRET = "test-secret-" + "x" * 40


def test_a_link_names_its_invoice_customer_and_language() -> None:
    token = links.make(SECRET, "in_1", "cus_1", locale="hr", now=NOW)
    assert links.read(SECRET, token, now=NOW + 30 * DAY) == links.InvoiceLink("in_1", "cus_1", "hr")


@pytest.mark.parametrize(
    ("token", "reason"),
    [
        (links.make(SECRET, "in_1", "cus_1", now=NOW)[:-2] + "xx", "invalid"),
        (links.make("another-" + SECRET, "in_1", "cus_1", now=NOW), "invalid"),
        ("not-a-link", "invalid"),
        (links.make(SECRET, "in_1", "cus_1", now=NOW - 549 * DAY), "expired"),  # 18 months
    ],
)
def test_bad_links(token: str, reason: str) -> None:
    with pytest.raises(links.BadLink) as caught:
        links.read(SECRET, token, now=NOW)
    assert caught.value.reason == reason


def test_another_signed_value_of_the_portal_cannot_pass_for_a_link() -> None:
    from itsdangerous import URLSafeTimedSerializer

    other = URLSafeTimedSerializer(SECRET, salt="portal.something-else").dumps(
        {"i": "in_1", "c": "cus_1"}
    )
    with pytest.raises(links.BadLink):
        links.read(SECRET, other, now=NOW)


@pytest.mark.parametrize(
    ("changes", "shown"),
    [
        ({}, True),  # to be paid
        ({"status": "paid", "paid": 30000, "paid_at": NOW - 29 * DAY}, True),
        ({"status": "paid", "paid": 30000, "paid_at": NOW - 31 * DAY}, False),
        ({"status": "void", "voided_at": NOW - 10 * DAY}, True),
        ({"status": "void", "voided_at": NOW - 40 * DAY}, False),
        ({"status": "uncollectible"}, True),  # can still be paid
    ],
)
def test_a_link_lasts_until_30_days_after_settling(changes: dict[str, object], shown: bool) -> None:
    extra = {k: changes.pop(k) for k in ("paid_at", "voided_at") if k in changes}
    bill = replace(invoice(**changes), **extra)  # type: ignore[arg-type]
    assert links.still_open(bill, NOW) is shown
