"""The demo seeder's own Stripe form encoder (it may not use the SDK's)."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta, timezone
from decimal import Decimal
from urllib.parse import parse_qsl, urlencode

import pytest

from portal_dev.demo.stripe_http import FormValue, StripeAPIError, encode_form


def test_flat_values_become_strings() -> None:
    assert encode_form({"customer": "cus_1", "amount": 1250}) == [
        ("customer", "cus_1"),
        ("amount", "1250"),
    ]


def test_booleans_are_stripe_words_not_python_ones() -> None:
    assert encode_form({"confirm": True, "auto_advance": False}) == [
        ("confirm", "true"),
        ("auto_advance", "false"),
    ]


def test_none_is_left_out() -> None:
    assert encode_form({"description": None, "customer": "cus_1"}) == [("customer", "cus_1")]


def test_nested_mappings_use_brackets() -> None:
    params = {"address": {"line1": "Lindenstraße 42", "city": "Berlin"}, "metadata": {"demo": "1"}}
    assert encode_form(params) == [
        ("address[line1]", "Lindenstraße 42"),
        ("address[city]", "Berlin"),
        ("metadata[demo]", "1"),
    ]


def test_lists_are_indexed() -> None:
    assert encode_form({"preferred_locales": ["de", "en"]}) == [
        ("preferred_locales[0]", "de"),
        ("preferred_locales[1]", "en"),
    ]


def test_lists_of_objects_index_then_nest() -> None:
    due = datetime(2025, 3, 1, tzinfo=UTC)
    params: dict[str, FormValue] = {
        "amounts_due": [
            {"amount": 1000, "due_date": due, "description": "Anzahlung"},
            {"amount": 2000, "due_date": due + timedelta(days=30), "description": None},
        ]
    }
    assert encode_form(params) == [
        ("amounts_due[0][amount]", "1000"),
        ("amounts_due[0][due_date]", "1740787200"),
        ("amounts_due[0][description]", "Anzahlung"),
        ("amounts_due[1][amount]", "2000"),
        ("amounts_due[1][due_date]", "1743379200"),
    ]


def test_deeply_nested_objects() -> None:
    params = {"mandate_data": {"customer_acceptance": {"type": "offline"}}}
    assert encode_form(params) == [("mandate_data[customer_acceptance][type]", "offline")]


def test_empty_containers_send_nothing() -> None:
    assert encode_form({"metadata": {}, "expand": []}) == []


def test_decimals_are_plain_decimal_strings() -> None:
    # unit_amount_decimal takes up to 12 decimals; never scientific notation.
    assert encode_form({"unit_amount_decimal": Decimal("1E+3")}) == [
        ("unit_amount_decimal", "1000")
    ]
    assert encode_form({"unit_amount_decimal": Decimal("12.5")}) == [
        ("unit_amount_decimal", "12.5")
    ]


def test_datetimes_are_unix_timestamps_whatever_their_zone() -> None:
    cet = timezone(timedelta(hours=1))
    assert encode_form({"due_date": datetime(2025, 1, 1, 1, 0, tzinfo=cet)}) == [
        ("due_date", "1735689600")
    ]


def test_naive_datetimes_are_refused() -> None:
    with pytest.raises(ValueError, match="due_date"):
        encode_form({"due_date": datetime(2025, 1, 1)})


def test_non_ascii_survives_url_encoding() -> None:
    pairs = encode_form({"description": "Održavanje web stranice — ožujak 2025"})
    assert parse_qsl(urlencode(pairs)) == pairs


def test_the_sandbox_reads_back_what_was_encoded() -> None:
    forms = pytest.importorskip("stripe_sandbox.forms")
    params: dict[str, FormValue] = {
        "amounts_due": [{"amount": 500, "description": "Rata 1"}, {"amount": 700}],
        "invoice_settings": {"default_payment_method": "pm_1"},
        "preferred_locales": ["pl"],
        "confirm": True,
    }
    assert forms.parse_form(urlencode(encode_form(params))) == {
        "amounts_due": [{"amount": "500", "description": "Rata 1"}, {"amount": "700"}],
        "invoice_settings": {"default_payment_method": "pm_1"},
        "preferred_locales": ["pl"],
        "confirm": "true",
    }


def test_api_errors_carry_stripes_message() -> None:
    error = StripeAPIError(
        "POST",
        "/v1/invoices/in_1/pay",
        402,
        {"type": "card_error", "code": "card_declined", "message": "Your card was declined."},
    )
    assert str(error) == (
        "POST /v1/invoices/in_1/pay failed with HTTP 402: Your card was declined. "
        "(type=card_error, code=card_declined)"
    )
    assert error.stripe_message == "Your card was declined."
