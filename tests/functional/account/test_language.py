"""The language switcher also writes the customer's choice to Stripe's `preferred_locales`."""

from __future__ import annotations

import uuid

from tests.functional.billing.billing_support import signed_in
from tests.functional.portal_support import Portal


def test_the_chosen_language_goes_first_in_stripe(portal: Portal) -> None:
    email = f"lang-{uuid.uuid4().hex[:8]}@example.de"
    customer = portal.sdk.v1.customers.create(
        {"email": email, "name": "Kowalski Sp. z o.o.", "preferred_locales": ["de", "pl"]}
    ).id
    browser = signed_in(portal, email)
    browser.get("/account")
    answer = browser.post("/language", {"lang": "pl", "next": "/account"})
    assert answer.status_code == 303
    assert portal.sdk.v1.customers.retrieve(customer).preferred_locales == ["pl", "de"]
    assert '<html lang="pl">' in browser.get("/account").text


def test_a_visitor_who_is_not_signed_in_changes_only_the_page(portal: Portal) -> None:
    visitor = portal.browser()
    visitor.get("/sign-in")
    answer = visitor.post("/language", {"lang": "hr", "next": "/sign-in"})
    assert answer.status_code == 303
    assert '<html lang="hr">' in visitor.get("/sign-in").text
