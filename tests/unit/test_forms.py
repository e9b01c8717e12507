"""The one result type of every form check."""

from __future__ import annotations

import unicodedata

import pytest

from portal.account import tax_ids
from portal.account.addresses import AddressForm, validate
from portal.forms import Checked, clean_email, invalid, valid


def test_a_result_is_the_value_or_the_errors() -> None:
    good: Checked[str, str] = valid("x")
    bad: Checked[str, str] = invalid(email="wrong")
    assert good.ok
    assert good == ("x", {})
    assert not bad.ok
    assert bad == (None, {"email": "wrong"})
    value, errors = bad
    assert value is None
    assert errors == {"email": "wrong"}


@pytest.mark.parametrize(
    ("typed", "ok"),
    [(" anna@example.de ", True), ("", False), ("anna", False), ("anna@exa\u200bmple.de", False)],
)
def test_an_email_is_checked_into_the_result(typed: str, ok: bool) -> None:
    checked = clean_email(typed)
    assert checked.ok is ok
    assert (checked.value == typed.strip()) if ok else (set(checked.errors) == {"email"})


def test_the_field_name_is_the_callers() -> None:
    assert set(clean_email("", field="new_email").errors) == {"new_email"}


def test_an_email_is_kept_in_nfc() -> None:
    # As typed on a keyboard that sends u + combining diaeresis, or with the Kelvin sign.
    assert clean_email(unicodedata.normalize("NFD", "jürgen@example.de")).value == (
        "jürgen@example.de"
    )
    assert clean_email("\u212aarl@example.de").value == "Karl@example.de"


def test_letters_beyond_ascii_are_an_address_like_any_other() -> None:
    for typed in ("jürgen@example.de", "karl@bücher.de", "用户@例子.广告"):
        assert clean_email(typed).value == typed


def test_look_alike_characters_are_sent_back_with_a_message_of_their_own() -> None:
    full_width = clean_email("\uff4barl@example.de")
    malformed = clean_email("karl")
    assert set(full_width.errors) == {"email"}
    assert full_width.errors["email"] != malformed.errors["email"]


def test_a_domain_that_cannot_be_one_is_not_an_address() -> None:
    assert not clean_email("karl@bücher-.de").ok  # a label ends in a hyphen
    assert not clean_email("karl@xn--ü.de").ok


def test_an_address_is_checked_into_the_result() -> None:
    form = AddressForm("Anna", "Weg 1", "", "10115", "Berlin", "", "DE", "")
    checked = validate(form)
    assert isinstance(checked, Checked)
    assert checked.ok
    assert validate(AddressForm("", "", "", "", "", "", "DE", "")).errors.keys() == {
        "name",
        "line1",
        "city",
        "postal_code",
    }


def test_a_tax_id_names_the_field_that_is_wrong() -> None:
    assert tax_ids.validate("XX", "", "123").errors == {"country": "country"}
    assert tax_ids.validate("DE", "", "DE123").errors == {"value": "format"}
    assert tax_ids.validate("DE", "", "DE 136 695 976") == (
        tax_ids.NewTaxId("eu_vat", "DE136695976"),
        {},
    )
