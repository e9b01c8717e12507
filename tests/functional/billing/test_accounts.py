"""The account picker: each account says where it is, so that similar names can be told apart;
before a choice the header offers nothing; its Stripe reads are one per account and resource."""

from __future__ import annotations

import re
import uuid
from html import unescape
from typing import Any

import httpx

from portal.billing.accounts import Whereabouts, whereabouts
from portal.stripe.models import Address, Customer
from tests.functional.portal_support import Browser, Portal, text_of


def company(portal: Portal, email: str, name: str, **address: str) -> str:
    params: dict[str, Any] = {"email": email, "name": name, "preferred_locales": ["de"]}
    if address:
        params["address"] = address
    return portal.sdk.v1.customers.create(params).id  # type: ignore[arg-type]


def signed_in_to_the_picker(portal: Portal, email: str) -> tuple[Browser, str]:
    browser = portal.browser()
    done = browser.sign_in(email)
    assert done.headers["location"].endswith("/accounts?choose=1")
    return browser, done.headers["location"].removeprefix(portal.url)


def test_each_account_says_where_it_is_the_street_where_the_city_is_shared(
    portal: Portal,
) -> None:
    email = f"anna-{uuid.uuid4().hex[:6]}@example.de"
    company(portal, email, "Schmidt Haustechnik GmbH", line1="Hauptstraße 1", city="Köln", country="DE")  # fmt: skip
    company(portal, email, "Schmidt Haustechnik KG", line1="Ringstraße 9", city="Köln", country="DE")  # fmt: skip
    company(portal, email, "Schmidt Haustechnik AG", city="Wien", country="AT")
    company(portal, email, "Schmidt Haustechnik")  # no address at Stripe
    browser, picker = signed_in_to_the_picker(portal, email)
    page = browser.get(picker)
    where = [unescape(w) for w in re.findall(r'class="account-choice__where">([^<]*)<', page.text)]
    expected = ["Hauptstraße 1, Köln, Deutschland", "Ringstraße 9, Köln, Deutschland", "Wien, Österreich", email]  # fmt: skip
    assert sorted(where) == sorted(expected)


def test_before_a_choice_the_header_offers_nothing(portal: Portal) -> None:
    email = f"anna-{uuid.uuid4().hex[:6]}@example.de"
    first = company(portal, email, "Schmidt Haustechnik GmbH", city="Köln", country="DE")
    company(portal, email, "Schmidt Immobilien AG", city="Bonn", country="DE")
    browser, picker = signed_in_to_the_picker(portal, email)
    before = browser.get(picker)
    assert "<nav" not in before.text
    assert "/sign-out" not in before.text
    assert "Angemeldet als" not in text_of(before)
    assert "Derzeit geöffnet" not in text_of(before)
    # Changing the language before a choice stays before the choice.
    assert 'name="next" value="/accounts?choose=1"' in before.text
    switched = browser.post("/language", {"lang": "pl", "next": "/accounts?choose=1"})
    assert switched.headers["location"].endswith("/accounts?choose=1")
    assert "<nav" not in browser.get(switched.headers["location"]).text
    browser.post("/language", {"lang": "de", "next": "/"})

    browser.post("/accounts", {"customer": first})
    after = browser.get("/accounts")
    assert before.text.count('class="account-choice"') == 2
    assert after.text.count("<nav") == 2  # the row and the phone's menu, one shown by width
    assert "Angemeldet als Schmidt Haustechnik GmbH" in text_of(after)
    current = after.text.split('aria-current="true"', 1)[1].split("</button>", 1)[0]
    assert "Schmidt Haustechnik GmbH" in current
    assert "Derzeit geöffnet" in current
    assert 'aria-current="page"' in after.text  # "Switch account" is the page shown


def test_the_picker_reads_each_account_once_at_stripe(portal: Portal, sandbox_url: str) -> None:
    """The customer (where it is) and its unpaid invoices (open and uncollectible: Stripe lists
    one status at a time): three reads per account, all at the same time."""
    email = f"anna-{uuid.uuid4().hex[:6]}@example.de"
    for name in ("Schmidt Haustechnik GmbH", "Schmidt Immobilien AG"):
        portal.invoice(company(portal, email, name, city="Köln", country="DE"))
    browser, picker = signed_in_to_the_picker(portal, email)
    httpx.post(f"{sandbox_url}/_sandbox/stats/reset")
    assert browser.get(picker).status_code == 200
    stats = httpx.get(f"{sandbox_url}/_sandbox/stats").json()
    assert stats["requests"] <= 6, stats
    assert stats["by_endpoint"].get("GET /v1/customers/{customer}", 0) <= 2, stats


def test_an_account_deleted_at_stripe_still_lets_the_others_be_chosen(portal: Portal) -> None:
    email = f"anna-{uuid.uuid4().hex[:6]}@example.de"
    kept = company(portal, email, "Schmidt Haustechnik GmbH", city="Köln", country="DE")
    gone = company(portal, email, "Schmidt Immobilien AG", city="Bonn", country="DE")
    browser, picker = signed_in_to_the_picker(portal, email)
    portal.sdk.v1.customers.delete(gone)
    page = browser.get(picker)
    assert page.status_code == 200
    assert "Köln, Deutschland" in text_of(page)
    assert browser.post("/accounts", {"customer": kept}).status_code == 303


def test_whereabouts_without_a_place_is_the_email_and_without_a_customer_nothing() -> None:
    def customer(email: str | None, address: Address | None) -> Customer:
        return Customer(id="cus_1", email=email, name="Schmidt", address=address)

    assert whereabouts(
        [
            customer("a@example.de", Address(line1="Ring 9", city="Köln", country="DE")),
            customer("a@example.de", Address(country="AT")),
            customer("a@example.de", Address(line1="Ring 9")),  # a street alone says too little
            None,
        ]
    ) == [
        Whereabouts(city="Köln", country="DE"),
        Whereabouts(country="AT"),
        Whereabouts(email="a@example.de"),
        Whereabouts(),
    ]
