"""Decoding Stripe's form encoding, including what the official SDK itself sends."""

from __future__ import annotations

from typing import Any
from urllib.parse import urlencode

import pytest
from stripe._encode import _api_encode

from stripe_sandbox.errors import StripeError
from stripe_sandbox.forms import decode_pairs, parse_form


def test_nested_objects_and_indexed_lists() -> None:
    body = "a[b][c]=1&items[0][amount]=5&items[1][amount]=6&items[0][description]=x"
    assert parse_form(body) == {
        "a": {"b": {"c": "1"}},
        "items": [{"amount": "5", "description": "x"}, {"amount": "6"}],
    }


def test_appended_lists_as_in_stripe_docs_examples() -> None:
    body = "expand[]=customer&expand[]=lines&x[][a]=1&x[][b]=2&x[][a]=3"
    assert parse_form(body) == {
        "expand": ["customer", "lines"],
        "x": [{"a": "1", "b": "2"}, {"a": "3"}],
    }


def test_empty_values_are_kept_so_handlers_can_unset() -> None:
    assert parse_form("description=&metadata[k]=") == {"description": "", "metadata": {"k": ""}}


def test_numeric_metadata_keys_stay_a_hash() -> None:
    assert parse_form("metadata[0]=a&metadata[1]=b") == {"metadata": {"0": "a", "1": "b"}}


def test_list_indexes_sort_numerically() -> None:
    pairs = [(f"l[{i}]", str(i)) for i in (10, 2, 1, 0)]
    assert decode_pairs(pairs) == {"l": ["0", "1", "2", "10"]}


def test_bytes_and_percent_encoding() -> None:
    assert parse_form(b"name=%C5%81ucja+K&email=a%2Bb%40c.de") == {
        "name": "Łucja K",
        "email": "a+b@c.de",
    }


@pytest.mark.parametrize("body", ["a[b]=1&a=2", "a=1&a[b]=2", "[x]=1"])
def test_conflicting_structures_are_refused(body: str) -> None:
    with pytest.raises(StripeError):
        parse_form(body)


@pytest.mark.parametrize(
    "params",
    [
        {"customer": "cus_1", "amounts_due": [{"amount": 100, "days_until_due": 3},
                                              {"amount": 200, "due_date": 1700000000}]},
        {"expand": ["data.customer", "data.default_payment_method"], "limit": 3},
        {"metadata": {"order": "42", "note": ""}, "confirm": True, "off_session": False},
        {"invoice_settings": {"default_payment_method": "pm_1"}, "preferred_locales": ["pl"]},
        {"line_items": [{"price_data": {"currency": "eur", "unit_amount": 50,
                                        "product_data": {"name": "X"}}, "quantity": 2}]},
    ],
)  # fmt: skip
def test_round_trip_through_the_sdk_encoder(params: dict[str, Any]) -> None:
    body = urlencode(list(_api_encode(params)))
    assert parse_form(body) == _stringify(params)


def _stringify(value: Any) -> Any:
    if isinstance(value, dict):
        return {k: _stringify(v) for k, v in value.items()}
    if isinstance(value, list):
        return [_stringify(v) for v in value]
    if isinstance(value, bool):
        return str(value).lower()
    return str(value)
