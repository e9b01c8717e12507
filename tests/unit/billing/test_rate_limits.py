"""Whom the payment limits count, and that their numbers keep one visitor from locking out the
others (`portal.billing.rate_limits`)."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

import pytest

from portal.billing.rate_limits import CHECKOUTS, STARTS, Limits, checks, visitor_key
from portal.housekeeping import RATE_WINDOWS_KEPT
from portal.identity.customer_sessions import Account, CustomerSession
from portal.permissions import Principal

NOW = datetime(2025, 3, 1, 12, tzinfo=UTC)
SESSION = CustomerSession(
    id_hash="a" * 64,
    email="anna@example.de",
    accounts=(Account("cus_1", "Müller GmbH"),),
    customer_id="cus_1",
    created_at=NOW,
    last_seen_at=NOW,
    expires_at=NOW + timedelta(hours=12),
)
CUSTOMER = Principal("cus_1", ("cus_1",), "anna@example.de")
LINK = Principal("cus_1", ("cus_1",), "anna@example.de", invoice_id="in_1")


def test_a_signed_in_customer_is_counted_by_the_sign_in() -> None:
    assert visitor_key(CUSTOMER, SESSION) == f"session:{SESSION.id_hash}"


def test_an_invoice_link_is_counted_by_the_link_even_in_a_signed_in_browser() -> None:
    assert visitor_key(LINK, None) == "link:cus_1:in_1"
    assert visitor_key(LINK, SESSION) == "link:cus_1:in_1"


def test_without_a_sign_in_of_its_own_the_customer_is_counted() -> None:
    assert visitor_key(CUSTOMER, None) == "customer:cus_1"


def test_an_attempt_counts_for_the_visitor_the_customer_and_each_invoice_once() -> None:
    found = checks(STARTS, CUSTOMER, SESSION, ["in_2", "in_1", "in_2"])
    assert found == [
        (STARTS.per_visitor, f"session:{SESSION.id_hash}"),
        (STARTS.per_customer, "cus_1"),
        (STARTS.per_invoice, "in_1"),
        (STARTS.per_invoice, "in_2"),
    ]


@pytest.mark.parametrize("limits", [STARTS, CHECKOUTS], ids=["starts", "checkouts"])
def test_one_visitor_alone_cannot_use_up_an_invoice_or_a_customer(limits: Limits) -> None:
    assert limits.per_visitor.count < limits.per_invoice.count < limits.per_customer.count


@pytest.mark.parametrize("limits", [STARTS, CHECKOUTS], ids=["starts", "checkouts"])
def test_the_limits_refuse_as_paying_and_outlive_no_kept_window(limits: Limits) -> None:
    each = (limits.per_visitor, limits.per_invoice, limits.per_customer)
    assert all(limit.about == "paying" for limit in each)
    assert all(limit.window <= RATE_WINDOWS_KEPT for limit in each)


def test_every_payment_limit_has_a_counter_of_its_own() -> None:
    names = [
        limit.name
        for limits in (STARTS, CHECKOUTS)
        for limit in (limits.per_visitor, limits.per_invoice, limits.per_customer)
    ]
    assert len(set(names)) == len(names)
