"""Tax IDs through the portal's HTTP interface: checked with python-stdnum before Stripe (the
sandbox) sees them. The numbers are python-stdnum's own doctest examples (stdnum/<cc>/...)."""

from __future__ import annotations

import re
import uuid

import pytest

from portal import i18n
from portal.account.views import verification_text
from portal.stripe.convert import tax_id_from_stripe
from tests.functional.billing.billing_support import signed_in
from tests.functional.portal_support import Browser, Portal, text_of

# (country, valid as typed, stored at Stripe, invalid) from stdnum's doctests:
# de/vat.py, nl/btw.py, es/nif.py, pl/nip.py, hr/oib.py, at/uid.py, gb/vat.py
VAT = [
    ("DE", "DE 136,695 976", "DE136695976", "DE136695978"),
    ("NL", "NL4495445B01", "NL004495445B01", "NL123456789B90"),
    ("ES", "ES B-64717838", "ESB64717838", "ESB64717839"),
    ("PL", "PL 8567346215", "PL8567346215", "PL8567346216"),
    ("HR", "HR 33392005961", "HR33392005961", "HR33392005962"),
    ("AT", "AT U13585627", "ATU13585627", "ATU13585626"),
    ("GB", "GB 980 7806 84", "GB980780684", "GB802311781"),
]


def customer_signed_in(portal: Portal) -> tuple[str, Browser]:
    email = f"steuer-{uuid.uuid4().hex[:8]}@example.de"
    customer = portal.customer(email=email)
    browser = signed_in(portal, email)
    browser.get("/account/tax-ids")
    return customer, browser


def stored(portal: Portal, customer: str) -> list[tuple[str, str]]:
    return [(t.type, t.value) for t in portal.sdk.v1.customers.tax_ids.list(customer).data]


@pytest.mark.parametrize(("country", "typed", "expected", "invalid"), VAT)
def test_valid_and_invalid_vat_numbers(
    portal: Portal, country: str, typed: str, expected: str, invalid: str
) -> None:
    customer, browser = customer_signed_in(portal)
    kind = "gb_vat" if country == "GB" else "eu_vat"
    refused = browser.post("/account/tax-ids", {"country": country, "kind": kind, "value": invalid})
    assert refused.status_code == 400
    assert 'id="value-error"' in refused.text
    assert f'value="{invalid}"' in refused.text  # kept for correcting
    assert stored(portal, customer) == []
    added = browser.post("/account/tax-ids", {"country": country, "kind": kind, "value": typed})
    assert added.status_code == 303
    assert stored(portal, customer) == [(kind, expected)]


def test_a_number_without_its_country_prefix_and_with_spaces_is_normalized(
    portal: Portal,
) -> None:
    customer, browser = customer_signed_in(portal)
    browser.post("/account/tax-ids", {"country": "DE", "kind": "eu_vat", "value": "de 136 695 976"})
    assert stored(portal, customer) == [("eu_vat", "DE136695976")]
    browser.post("/account/tax-ids", {"country": "DE", "kind": "eu_vat", "value": "136695976"})
    assert stored(portal, customer) == [("eu_vat", "DE136695976")]  # the same one, not twice


def test_the_country_offers_its_national_number_too(portal: Portal) -> None:
    customer, browser = customer_signed_in(portal)
    page = browser.post("/account/tax-ids", {"country": "PL", "action": "country"})
    assert 'value="pl_nip"' in page.text
    browser.post("/account/tax-ids", {"country": "PL", "kind": "pl_nip", "value": "856-734-62-15"})
    assert stored(portal, customer) == [("pl_nip", "8567346215")]


def test_verification_states_are_explained(portal: Portal) -> None:
    customer, browser = customer_signed_in(portal)
    # The sandbox's test values (as Stripe's): 000000000 verified, 111111111 unverified,
    # 333333333 unavailable (the sandbox's own).
    for value in ("DE000000000", "DE111111111", "DE333333333"):
        portal.sdk.v1.customers.tax_ids.create(customer, {"type": "eu_vat", "value": value})
    page = text_of(browser.get("/account/tax-ids"))
    saved = portal.sdk.v1.customers.tax_ids.list(customer).data
    assert {t.verification.status for t in saved if t.verification} == {
        "verified",
        "unverified",
        "unavailable",
    }
    with i18n.use_locale("de"):
        for tax_id in saved:
            explained = verification_text(tax_id_from_stripe(tax_id.to_dict()))
            assert explained in page


def test_removal_asks_first(portal: Portal) -> None:
    customer, browser = customer_signed_in(portal)
    browser.post("/account/tax-ids", {"country": "AT", "kind": "eu_vat", "value": "ATU13585627"})
    page = browser.get("/account/tax-ids")
    remove = re.search(r'href="[^"]*(/account/tax-ids/(txi_[A-Za-z0-9]+)/remove)"', page.text)
    assert remove
    confirm = browser.get(remove.group(1))
    assert confirm.status_code == 200
    assert stored(portal, customer) == [("eu_vat", "ATU13585627")]  # asking removes nothing
    assert browser.post(remove.group(1)).status_code == 303
    assert stored(portal, customer) == []


def test_another_customers_tax_id_cannot_be_removed(portal: Portal) -> None:
    other, _ = customer_signed_in(portal)
    theirs = portal.sdk.v1.customers.tax_ids.create(
        other, {"type": "eu_vat", "value": "DE136695976"}
    ).id
    _, browser = customer_signed_in(portal)
    assert browser.post(f"/account/tax-ids/{theirs}/remove").status_code == 404
    assert stored(portal, other) == [("eu_vat", "DE136695976")]


def test_the_billing_address_country_is_preselected(portal: Portal) -> None:
    customer, browser = customer_signed_in(portal)
    portal.sdk.v1.customers.update(customer, {"address": {"country": "PL", "city": "Kraków"}})
    page = browser.get("/account/tax-ids").text
    assert '<option value="PL" selected>' in page
    assert 'value="pl_nip"' in page  # with the country's own kind of number offered


def test_mistakes_are_listed_above_the_form_with_links_to_their_fields(portal: Portal) -> None:
    _customer, browser = customer_signed_in(portal)
    page = browser.post("/account/tax-ids", {"country": "", "kind": "", "value": "123"})
    assert page.status_code == 400
    summary = page.text.split('class="error-summary"', 1)[1].split("</div>", 1)[0]
    assert 'href="#country"' in summary
