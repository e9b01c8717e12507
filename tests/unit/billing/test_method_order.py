"""Saved payment methods are shown with the default first, the others in Stripe's order."""

from __future__ import annotations

from portal.billing.method_order import default_first
from portal.stripe.models import PaymentMethod


def methods(*ids: str) -> list[PaymentMethod]:
    return [PaymentMethod(id=i, type="card", brand="visa", last4="4242") for i in ids]


def ids(found: list[PaymentMethod]) -> list[str]:
    return [m.id for m in found]


def test_the_default_comes_first_and_the_others_keep_stripes_order() -> None:
    assert ids(default_first(methods("pm_c", "pm_b", "pm_a", "pm_d"), "pm_a")) == [
        "pm_a",
        "pm_c",
        "pm_b",
        "pm_d",
    ]


def test_a_default_already_first_or_last_moves_the_others_not() -> None:
    assert ids(default_first(methods("pm_a", "pm_b", "pm_c"), "pm_a")) == ["pm_a", "pm_b", "pm_c"]
    assert ids(default_first(methods("pm_b", "pm_c", "pm_a"), "pm_a")) == ["pm_a", "pm_b", "pm_c"]


def test_without_a_default_among_them_the_order_is_stripes() -> None:
    assert ids(default_first(methods("pm_b", "pm_a"), None)) == ["pm_b", "pm_a"]
    assert ids(default_first(methods("pm_b", "pm_a"), "pm_removed")) == ["pm_b", "pm_a"]
    assert default_first([], "pm_a") == []


def test_the_given_list_is_left_as_it_was() -> None:
    given = methods("pm_b", "pm_a")
    default_first(given, "pm_a")
    assert ids(given) == ["pm_b", "pm_a"]
