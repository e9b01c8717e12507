"""The one permission check: a read-only principal (support staff viewing as a customer) may look
but not change anything at Stripe, and every view that changes something asks this check."""

from __future__ import annotations

import inspect

import pytest
from starlette.routing import Route

from portal.assets import Assets
from portal.permissions import CHANGES, Action, Forbidden, Principal, can, require
from portal.routes import routes

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


# POST routes that change nothing at Stripe for the customer: signing in and out, switching
# between one's own accounts, Stripe's webhooks (signed by Stripe, not a customer's action).
NOT_CUSTOMER_CHANGES = {
    "auth:request",
    "auth:code",
    "auth:confirm_post",
    "auth:switch",
    "auth:sign_out",
    "stripe:webhook",
    "account:email_confirm_post",  # carries its own proof: the link sent to the new address
    "account:email_undo_post",  # carries its own proof: the link sent to the old address
    # Staff actions are governed by the staff session (portal.staff), not a customer's rights.
    "staff:sign_in",
    "staff:sign_out",
    "staff:view_as",
    "staff:end",
    "staff:send_sign_in",
}


def test_every_changing_route_asks_the_permission_check() -> None:
    table = [r for r in routes(assets=Assets(), demo=False) if isinstance(r, Route)]
    changing = [
        r for r in table if "POST" in (r.methods or set()) and r.name not in NOT_CUSTOMER_CHANGES
    ]
    assert changing
    for route in changing:
        source = inspect.getsource(inspect.getmodule(route.endpoint))  # type: ignore[arg-type]
        body = inspect.getsource(route.endpoint)
        asks = [f"Action.{a.name}" for a in CHANGES if f"Action.{a.name}" in body]
        if route.name == "i18n:choose":  # asks inside portal.account.language.remember
            assert "language.remember" in body
            continue
        if not asks:  # through a helper of its module, e.g. `_paying`
            helpers = [name for name in ("_paying", "_chosen") if f"{name}(" in body]
            assert helpers, f"{route.name} does not ask the permission check"
            assert any(f"Action.{a.name}" in source for a in CHANGES)
