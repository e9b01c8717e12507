"""Restricted keys' permissions: every route of the API table needs one of Stripe's permissions,
every object that can be expanded names the resource whose read permission it needs, and a key
holds what write and Stripe's implications give it."""

from __future__ import annotations

import re
from pathlib import Path

import pytest

from stripe_sandbox import permissions
from stripe_sandbox.app import API
from stripe_sandbox.errors import StripeError
from stripe_sandbox.expand import INCLUDABLE
from stripe_sandbox.permissions import InvalidGrant, Permission, RestrictedKey
from stripe_sandbox.store import PREFIXES

LABELS = [f"{method} {path}" for method, path, _ in API]


@pytest.mark.parametrize("label", LABELS)
def test_every_route_of_the_api_table_needs_a_permission(label: str) -> None:
    permission = permissions.ROUTES[label]
    assert permission.level in permissions.RESOURCES[permission.resource]
    # Reading never needs write; everything else does.
    assert (permission.level == "read") == label.startswith("GET ")


def test_the_table_names_no_route_the_sandbox_does_not_serve() -> None:
    assert set(permissions.ROUTES) == set(LABELS)


def test_every_expandable_collection_names_the_permission_to_read_it() -> None:
    collections = set(PREFIXES.values()) | {"coupons"}
    collections |= {collection for collection, _ in INCLUDABLE.values()}
    assert collections <= permissions.EXPANDS.keys()
    assert set(permissions.EXPANDS.values()) <= permissions.RESOURCES.keys()


def key(**levels: permissions.Level) -> RestrictedKey:
    return permissions.new_key("acct_test", levels)


def test_write_includes_read_and_stripes_implications_follow() -> None:
    held = key(invoice="write", checkout_session="read").held()
    assert {"invoice_read", "invoice_write", "credit_note_read"} <= held
    assert {"checkout_session_read", "payment_intent_read", "setup_intent_read"} <= held
    assert "credit_note_write" not in held
    assert "checkout_session_write" not in held
    assert key(credit_note="read").held() == {"credit_note_read", "invoice_read"}


def test_a_missing_permission_is_stripes_403_naming_it() -> None:
    restricted = key(customer="read")
    restricted.require_route("GET /v1/customers/{customer}")
    with pytest.raises(StripeError) as caught:
        restricted.require_route("POST /v1/customers/{customer}")
    error = caught.value
    assert error.status == 403
    body = error.body()["error"]
    assert body["type"] == "invalid_request_error"
    assert set(body) == {"type", "message"}
    shown = restricted.key[:8] + "*" * (len(restricted.key) - 14) + restricted.key[-6:]
    assert body["message"] == (
        f"The provided key '{shown}' does not have the required permissions for this endpoint "
        "on account 'acct_test'. Having the 'rak_customer_write' permission would allow this "
        "request to continue."
    )


def test_expanding_needs_the_read_permission_of_what_is_expanded() -> None:
    restricted = key(payment_intent="write")
    restricted.require_expansion("payment_intents")
    with pytest.raises(StripeError, match="'rak_charge_read'"):
        restricted.require_expansion("charges")


def test_keys_look_like_stripes() -> None:
    made = key()
    assert re.fullmatch(r"rk_test_[A-Za-z0-9]{99}", made.key)
    assert made.held() == frozenset()
    assert Permission("tax_rate", "write").name == "tax_rate_write"


def test_grants_take_stripes_resources_and_levels() -> None:
    assert permissions.parse_grants({"customer": "write", "charge": "read", "coupon": "none"}) == {
        "customer": "write",
        "charge": "read",
    }
    with pytest.raises(InvalidGrant, match="unknown resource 'refunds'"):
        permissions.parse_grants({"refunds": "write"})
    with pytest.raises(InvalidGrant, match="event can be read or none, not 'write'"):
        permissions.parse_grants({"event": "write"})
    with pytest.raises(InvalidGrant, match="not 'all'"):
        permissions.parse_grants({"invoice": "all"})
    with pytest.raises(InvalidGrant):
        permissions.parse_grants(["customer_read"])


def test_the_permissions_are_documented() -> None:
    doc = (Path(__file__).parents[3] / "docs" / "sandbox.md").read_text()
    rows = {resource for resource in permissions.RESOURCES if f"| `{resource}` |" in doc}
    assert rows == set(permissions.RESOURCES)
    assert "POST /_sandbox/keys" in doc
