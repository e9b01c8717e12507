"""The cache's table: every gateway method is declared as kept, ending a customer's entries, or
neither, with whose data it is, so that a new gateway method cannot slip past the cache."""

from __future__ import annotations

import inspect

import pytest

from portal.stripe.cache import (
    Argument,
    CachingGateway,
    Ends,
    Keep,
    KeepEach,
    KeptOwner,
    Through,
)
from portal.stripe.gateway import StripeGateway


def public_methods() -> set[str]:
    return {
        name
        for name, member in inspect.getmembers(StripeGateway, inspect.isfunction)
        if not name.startswith("_")
    }


def test_every_gateway_method_is_in_the_cache_table() -> None:
    # A new gateway method is declared in `CachingGateway`'s body: kept, ending, or neither.
    assert set(CachingGateway.table()) == public_methods()


def test_the_table_declares_each_method_with_the_gateways_own() -> None:
    for name, row in CachingGateway.table().items():
        assert row.method is getattr(StripeGateway, name)


def test_kept_reads_are_the_customers_pages() -> None:
    kept = {name for name, row in CachingGateway.table().items() if isinstance(row, Keep)}
    assert kept == {
        "get_customer",
        "list_invoices",
        "invoice_page",
        "list_payment_methods",
        "list_tax_ids",
        "get_balances",
        "funding_instructions",
    }
    each = {name: row for name, row in CachingGateway.table().items() if isinstance(row, KeepEach)}
    assert {name: row.one for name, row in each.items()} == {"get_customers": "get_customer"}


def test_every_write_says_whose_data_it_changes() -> None:
    for name, row in CachingGateway.table().items():
        if isinstance(row, Through):
            assert not name.startswith(("set_", "add_", "delete_", "pay_", "detach_")), name
        if isinstance(row, Ends) and isinstance(row.when_failed, KeptOwner):
            assert isinstance(CachingGateway.table()[row.when_failed.read], Keep)


def test_a_row_naming_a_parameter_the_method_lacks_is_refused() -> None:
    row = Ends(StripeGateway.set_email, customer=Argument("customer"))
    with pytest.raises(TypeError, match="no parameter 'customer'"):
        row.__set_name__(CachingGateway, "set_email")  # what declaring it in a class does


def test_a_row_under_another_name_is_refused() -> None:
    row = Ends(StripeGateway.set_email, customer=Argument("customer_id"))
    with pytest.raises(TypeError, match="declares the gateway's set_email"):
        row.__set_name__(CachingGateway, "set_emails")
