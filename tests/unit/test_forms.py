"""The one result type of every form check."""

from __future__ import annotations

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
