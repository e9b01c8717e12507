"""The billing address form's rules: what is refused, and the form a kept value takes."""

from __future__ import annotations

from dataclasses import replace

import pytest

from portal.account.addresses import COUNTRIES, Address, AddressForm, layout, validate

GOOD = AddressForm(
    name="Muster GmbH",
    line1="Friedrichstraße 1",
    line2="",
    postal_code="10117",
    city="Berlin",
    state="",
    country="DE",
    phone="",
)


def _with(**changes: str) -> AddressForm:
    return replace(GOOD, **changes)


def test_a_complete_address_is_cleaned_for_stripe() -> None:
    typed = _with(name="  Muster \t GmbH ", line1="Friedrichstraße   1\n", country=" de ")
    assert validate(typed) == (
        Address(
            name="Muster GmbH",
            line1="Friedrichstraße 1",
            line2=None,
            postal_code="10117",
            city="Berlin",
            state=None,
            country="DE",
            phone=None,
        ),
        {},
    )


def test_countries_are_the_eu_and_its_neighbours_sorted() -> None:
    assert len(COUNTRIES) == 33
    assert list(COUNTRIES) == sorted(COUNTRIES)
    assert {"DE", "GR", "IE", "GB", "CH", "NO", "US", "LI", "IS"} <= set(COUNTRIES)
    assert "EL" not in COUNTRIES  # Greece is GR in ISO 3166


@pytest.mark.parametrize(
    ("country", "typed", "kept"),
    [
        ("DE", "01067", "01067"),
        ("NL", "1234ab", "1234 AB"),
        ("NL", "1234 AB", "1234 AB"),
        ("NL", "nl-1234-ab", "1234 AB"),
        ("PL", "00950", "00-950"),
        ("PL", "00-950", "00-950"),
        ("GB", "sw1a1aa", "SW1A 1AA"),
        ("GB", "M1 1AE", "M1 1AE"),
        ("GB", "ec1a 1bb", "EC1A 1BB"),
        ("US", "94103", "94103"),
        ("US", "94103-1234", "94103-1234"),
        ("US", "941031234", "94103-1234"),
        ("CH", "8001", "8001"),
        ("CH", "CH-8001", "8001"),
        ("AT", "1010", "1010"),
        ("ES", "28013", "28013"),
        ("HR", "10000", "10000"),
        ("IE", "d02x285", "D02 X285"),
        ("IE", "D6W 1234", "D6W 1234"),
        ("SE", "11455", "114 55"),
        ("SE", "114 55", "114 55"),
        ("CZ", "11000", "110 00"),
        ("SK", "81101", "811 01"),
        ("GR", "10557", "105 57"),
        ("PT", "1000001", "1000-001"),
        ("PT", "1000 001", "1000-001"),
        ("LV", "1050", "LV-1050"),
        ("LV", "lv-1050", "LV-1050"),
        ("LT", "01100", "LT-01100"),
        ("LT", "LT 01100", "LT-01100"),
        ("MT", "vlt1117", "VLT 1117"),
        ("MT", "MTF 1010", "MTF 1010"),  # Mtarfa: starts with Malta's country code
        ("LU", "L-1111", "1111"),
        ("LI", "FL-9490", "9490"),
        ("IS", "101", "101"),
    ],
)
def test_postal_codes_take_their_canonical_form(country: str, typed: str, kept: str) -> None:
    address, errors = validate(_with(country=country, postal_code=typed, state="CA"))
    assert errors == {}
    assert address is not None
    assert address.postal_code == kept


@pytest.mark.parametrize(
    ("country", "typed"),
    [
        ("DE", "1234"),
        ("DE", "123456"),
        ("DE", "1O115"),  # the letter O
        ("NL", "0123 AB"),  # never starts with 0
        ("NL", "1234 SS"),  # letter pairs left out
        ("NL", "1234"),
        ("PL", "0095"),
        ("GB", "SW1A"),
        ("GB", "SW1A 1AAA"),
        ("US", "9410"),
        ("US", "94103-12"),
        ("CH", "800"),
        ("AT", "10100"),
        ("ES", "53001"),  # no province 53
        ("ES", "00001"),
        ("HR", "1000"),
        ("IE", "D02 X28"),
        ("IE", "B02 X285"),  # no routing key starts with B
        ("SE", "1145"),
        ("LV", "LT-1050"),  # Lithuania's prefix
        ("MT", "VLT 111"),
        ("LI", "8001"),  # a Swiss one
    ],
)
def test_postal_codes_of_another_shape_are_refused(country: str, typed: str) -> None:
    address, errors = validate(_with(country=country, postal_code=typed, state="CA"))
    assert address is None
    assert errors == {"postal_code": "postal_code"}


@pytest.mark.parametrize("country", [c for c in COUNTRIES if c != "IE"])
def test_postal_code_is_required_except_in_ireland(country: str) -> None:
    assert validate(_with(country=country, postal_code=" ", state="CA"))[1] == {
        "postal_code": "required"
    }
    assert layout(country).postal_code_required
    assert layout(country).postal_code_example


def test_an_irish_address_without_eircode_is_kept() -> None:
    address, errors = validate(_with(country="IE", postal_code="", city="Dublin"))
    assert errors == {}
    assert address is not None
    assert address.postal_code is None
    assert not layout("IE").postal_code_required
    assert layout("IE").postal_code_example == "D02 X285"


@pytest.mark.parametrize("field", ["name", "line1", "city", "country"])
def test_required_fields(field: str) -> None:
    assert validate(_with(**{field: "   "})) == (None, {field: "required"})


def test_an_unknown_country_is_refused_and_its_postal_code_not_judged() -> None:
    assert validate(_with(country="XX", postal_code="whatever")) == (None, {"country": "country"})
    assert validate(_with(country="EL")) == (None, {"country": "country"})


def test_layouts() -> None:
    assert layout("DE").postal_code_example == "12345"
    assert layout("nl").postal_code_example == "1234 AB"
    assert layout("PL").postal_code_example == "00-950"
    assert layout("GB").postal_code_example == "SW1A 1AA"
    assert layout("DE") == layout("de")
    assert not layout("DE").needs_state
    assert layout("DE").states == ()
    us = layout("US")
    assert us.needs_state
    assert len(us.states) == 51
    assert {"CA", "NY", "DC", "WY"} <= set(us.states)


def test_the_form_before_a_country_is_chosen_asks_for_no_postal_code() -> None:
    neutral = layout("")
    assert neutral.postal_code_example is None
    assert not neutral.postal_code_required
    assert not neutral.needs_state


def test_every_example_passes_its_own_country() -> None:
    for country in COUNTRIES:
        example = layout(country).postal_code_example
        assert example is not None
        address, errors = validate(_with(country=country, postal_code=example, state="NY"))
        assert errors == {}, country
        assert address is not None
        assert address.postal_code == example


@pytest.mark.parametrize(
    ("typed", "error"), [("", "required"), ("ZZ", "state"), ("California", "state")]
)
def test_a_us_address_needs_a_state_from_the_list(typed: str, error: str) -> None:
    assert validate(_with(country="US", postal_code="94103", state=typed)) == (
        None,
        {"state": error},
    )


def test_a_us_state_is_uppercased() -> None:
    address, _ = validate(_with(country="US", postal_code="94103", state=" ca "))
    assert address is not None
    assert address.state == "CA"


def test_a_state_outside_the_us_is_dropped() -> None:
    # Left over from the US in a field the form no longer shows.
    address, errors = validate(_with(state="CA"))
    assert errors == {}
    assert address is not None
    assert address.state is None


@pytest.mark.parametrize(
    ("typed", "kept"),
    [
        ("+49 30 1234567", "+49301234567"),
        ("0049 (30) 123-4567", "+49301234567"),
        ("+1 415.555.0100", "+14155550100"),
        ("+49 (0)30 1234567", "+49301234567"),  # the trunk 0 is not dialled from abroad
        ("+423 123 45 67", "+4231234567"),
        ("", None),
    ],
)
def test_phone_numbers_are_kept_in_e164(typed: str, kept: str | None) -> None:
    address, errors = validate(_with(phone=typed))
    assert errors == {}
    assert address is not None
    assert address.phone == kept


@pytest.mark.parametrize(
    "typed",
    ["030 123456", "+0 123", "12", "+49 30", "+1234567890123456", "+49 30 CALL-ME", "++4930123456"],
)
def test_phone_numbers_without_their_country_code_are_refused(typed: str) -> None:
    assert validate(_with(phone=typed)) == (None, {"phone": "phone"})


def test_line2_is_kept_when_given() -> None:
    address, _ = validate(_with(line2="  3. OG  "))
    assert address is not None
    assert address.line2 == "3. OG"


@pytest.mark.parametrize(
    ("field", "limit"),
    [("name", 200), ("line1", 200), ("line2", 200), ("city", 200), ("postal_code", 20)],
)
def test_too_long_values_are_refused(field: str, limit: int) -> None:
    at_limit = validate(_with(**{field: "1" * limit}))[1]
    assert at_limit.get(field) != "too_long"
    assert validate(_with(**{field: "1" * (limit + 1)})) == (None, {field: "too_long"})


def test_too_long_phone_and_state() -> None:
    assert validate(_with(phone="+49 " + "1" * 200))[1] == {"phone": "too_long"}
    us = _with(country="US", postal_code="94103", state="C" * 21)
    assert validate(us) == (None, {"state": "too_long"})


def test_all_errors_are_reported_at_once() -> None:
    typed = AddressForm(
        name="",
        line1=" ",
        line2="x" * 201,
        postal_code="ABC",
        city="",
        state="",
        country="us",
        phone="030 123456",
    )
    assert validate(typed) == (
        None,
        {
            "name": "required",
            "line1": "required",
            "line2": "too_long",
            "postal_code": "postal_code",
            "city": "required",
            "state": "required",
            "phone": "phone",
        },
    )


@pytest.mark.parametrize("field", ["name", "line1", "line2", "postal_code", "city", "phone"])
@pytest.mark.parametrize("hidden", ["\x00", "\u202e", "\u200b"])
def test_hidden_characters_are_refused_next_to_their_field(field: str, hidden: str) -> None:
    typed = _with(**{field: f"{getattr(GOOD, field) or '1'}{hidden}x"})
    cleaned, errors = validate(typed)
    assert cleaned is None
    assert errors == {field: "hidden_characters"}
