"""Billing details through the portal's HTTP interface, checked in Stripe's records (the sandbox):
validation before Stripe, errors next to their fields with the input kept, then the update."""

from __future__ import annotations

import re
import uuid

import pytest

from portal import i18n
from tests.functional.billing.billing_support import signed_in
from tests.functional.portal_support import Browser, Portal, text_of

VALID = {
    "name": "Müller & Söhne GmbH",
    "line1": "Hauptstraße 1",
    "line2": "",
    "postal_code": "10115",
    "city": "Berlin",
    "state": "",
    "country": "DE",
    "phone": "+49 30 1234567",
}


def customer_signed_in(portal: Portal, locale: str = "de") -> tuple[str, Browser]:
    email = f"details-{uuid.uuid4().hex[:8]}@example.de"
    customer = portal.customer(email=email, locale=locale)
    browser = signed_in(portal, email)
    browser.get("/account")
    return customer, browser


def error_of(page_html: str, field: str) -> str | None:
    found = re.search(rf'<p class="field-error" id="{field}-error">([^<]*)</p>', page_html)
    return found.group(1) if found else None


def test_valid_details_are_written_to_stripe_normalized(portal: Portal) -> None:
    customer, browser = customer_signed_in(portal)
    page = browser.get("/account")
    with i18n.use_locale("de"):
        frozen = i18n.gettext(
            "These details appear on your future invoices. Invoices already issued keep the details they were issued with."
        )
    assert frozen in text_of(page)
    answer = browser.post("/account", VALID | {"phone": "0049 (30) 123-4567"})
    assert answer.status_code == 303
    stored = portal.sdk.v1.customers.retrieve(customer)
    assert stored.name == "Müller & Söhne GmbH"
    assert stored.phone == "+49301234567"
    assert stored.address is not None
    assert (stored.address.line1, stored.address.postal_code, stored.address.city) == (
        "Hauptstraße 1",
        "10115",
        "Berlin",
    )
    assert stored.address.country == "DE"
    with i18n.use_locale("de"):
        assert i18n.gettext(
            "Your billing details have been saved. They apply to your next invoices."
        ) in text_of(browser.get(answer.headers["location"]))


@pytest.mark.parametrize(
    ("changes", "field"),
    [
        ({"postal_code": "1011"}, "postal_code"),  # DE has five digits
        ({"country": "NL", "postal_code": "10115"}, "postal_code"),
        ({"country": "PL", "postal_code": "12345-6"}, "postal_code"),
        ({"country": "GB", "postal_code": "12345"}, "postal_code"),
        ({"country": "US", "postal_code": "94105", "state": ""}, "state"),
        ({"country": "US", "postal_code": "9410", "state": "CA"}, "postal_code"),
        ({"country": "AT", "postal_code": "10115"}, "postal_code"),
        ({"country": "HR", "postal_code": "1000"}, "postal_code"),
        ({"name": "  "}, "name"),
        ({"line1": ""}, "line1"),
        ({"city": ""}, "city"),
        ({"country": "XX"}, "country"),
        ({"phone": "030 123456"}, "phone"),
    ],
)
def test_a_wrong_value_is_explained_next_to_its_field_and_nothing_is_sent(
    portal: Portal, changes: dict[str, str], field: str
) -> None:
    customer, browser = customer_signed_in(portal, locale="pl")
    typed = VALID | changes
    answer = browser.post("/account", typed)
    assert answer.status_code == 400
    assert '<html lang="pl">' in answer.text
    assert error_of(answer.text, field), f"no error next to {field}"
    assert 'aria-describedby="' in answer.text
    for name in ("name", "line1", "city"):  # what was typed is kept
        if typed[name].strip():
            assert f'value="{typed[name].replace("&", "&amp;")}"' in answer.text
    assert portal.sdk.v1.customers.retrieve(customer).address is None


def test_every_error_at_once(portal: Portal) -> None:
    _, browser = customer_signed_in(portal)
    answer = browser.post("/account", VALID | {"line1": "", "postal_code": "x", "phone": "12"})
    assert answer.status_code == 400
    assert all(error_of(answer.text, f) for f in ("line1", "postal_code", "phone"))
    # Listed above the form too, each linking to its field.
    summary = answer.text.split('class="error-summary"', 1)[1].split("</div>", 1)[0]
    assert "Bitte prüfen Sie diese 3 Felder:" in summary
    assert re.findall(r'href="#(\w+)"', summary) == ["line1", "postal_code", "phone"]


def test_choosing_another_country_shows_its_fields_and_keeps_the_input(portal: Portal) -> None:
    customer, browser = customer_signed_in(portal)
    page = browser.post("/account", VALID | {"country": "US", "action": "country"})
    assert page.status_code == 200
    assert 'name="state"' in page.text  # US addresses have a state
    assert 'value="Hauptstraße 1"' in page.text
    assert portal.sdk.v1.customers.retrieve(customer).address is None  # nothing saved yet
    browser.post("/account", VALID | {"country": "US", "postal_code": "94105", "state": "CA"})
    stored = portal.sdk.v1.customers.retrieve(customer).address
    assert stored is not None
    assert (stored.country, stored.state) == ("US", "CA")
