"""What the route table declares: who each route needs, the permission it asks, CSRF on every
form. These read the table (`portal.routes`), the one place where it is written."""

from __future__ import annotations

import pytest
from starlette.routing import Route

from portal.assets import Assets
from portal.permissions import CHANGES, INVOICE_LINK_ACTIONS, Action, Principal, can
from portal.principals import Access
from portal.routes import routes
from portal.routing import PortalRoute, needs_of, route

TABLE = routes(assets=Assets(), demo=True)
READ_ONLY = Principal("cus_1", ("cus_1",), "", read_only=True)
LINK = Principal("cus_1", ("cus_1",), "", invoice_id="in_1")


def _posts() -> list[PortalRoute]:
    return [r for r in TABLE if isinstance(r, PortalRoute) and "POST" in (r.methods or set())]


def test_every_route_declares_what_it_needs() -> None:
    assert TABLE
    undeclared = [getattr(r, "name", r) for r in TABLE if needs_of(r) is None]
    assert undeclared == []


def test_every_form_carries_the_csrf_token() -> None:
    # Stripe's webhooks are signed by Stripe (checked by the view) and come from no browser.
    without = {r.name for r in _posts() if not r.needs.csrf}
    assert without == {"stripe:webhook"}
    assert len(_posts()) > 20


def test_every_customer_route_asks_a_permission() -> None:
    for r in TABLE:
        needs = needs_of(r)
        assert needs is not None
        if needs.access in (Access.CUSTOMER, Access.INVOICE):
            assert needs.action is not None, f"{r.name} acts for a customer without asking"


def test_what_changes_something_is_refused_to_a_read_only_view() -> None:
    """Every POST acting for a customer asks an action support's read-only view may not take;
    switching between one's own accounts is the one that changes nothing at Stripe."""
    for r in _posts():
        if r.needs.access not in (Access.CUSTOMER, Access.INVOICE):
            continue
        assert r.needs.action is not None
        if r.needs.action is Action.SWITCH_ACCOUNT:
            continue
        assert r.needs.action in CHANGES, r.name
        assert not can(READ_ONLY, r.needs.action), r.name


def test_an_invoice_link_reaches_only_its_invoice_pages() -> None:
    for r in TABLE:
        needs = needs_of(r)
        assert needs is not None
        if needs.access is Access.INVOICE:
            assert needs.action in INVOICE_LINK_ACTIONS, r.name
            assert needs.invoice is not None, r.name
        elif needs.access is Access.CUSTOMER:
            # A link's holder is never let through to the rest of the account.
            assert (needs.action is not None and not can(LINK, needs.action)) or (
                needs.action in INVOICE_LINK_ACTIONS
            ), r.name


def test_pages_of_an_invoice_or_a_payment_are_the_only_ones_an_invoice_link_opens() -> None:
    link_routes = {r.name for r in TABLE if (n := needs_of(r)) and n.access is Access.INVOICE}
    assert {
        "billing:invoice",
        "billing:invoice_pdf",
        "billing:pay",
        "billing:pay_start",
        "billing:payment",
        "billing:pay_confirm",
    } <= link_routes
    assert all(name.startswith("billing:") for name in link_routes)


def test_the_demo_staff_sign_in_exists_only_in_the_demo() -> None:
    names = {getattr(r, "name", None) for r in routes(assets=Assets(), demo=False)}
    assert "staff:demo_sign_in" not in names
    assert "staff:demo_sign_in" in {getattr(r, "name", None) for r in TABLE}


def test_a_permission_without_a_principal_cannot_be_declared() -> None:
    async def view(request: object) -> None:  # pragma: no cover - never called
        raise AssertionError

    with pytest.raises(ValueError, match="needs a principal"):
        route("/x", view, name="x", access=Access.BROWSER, action=Action.PAY)  # type: ignore[arg-type]


def test_the_table_is_only_portal_routes() -> None:
    assert all(isinstance(r, PortalRoute) for r in TABLE if isinstance(r, Route))
