"""The one permission check: a read-only principal (support staff viewing as a customer) may look
but not change anything at Stripe (which route asks which action: tests/unit/test_routes.py)."""

from __future__ import annotations

import pytest

from portal.permissions import CHANGES, Action, Forbidden, Principal, can, require

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
