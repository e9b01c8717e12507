"""Leaving the portal for Stripe's pages after a form: the form's answer stays on the site (CSP
`form-action 'self'`), and the portal's own page goes on, to an address read from Stripe."""

from __future__ import annotations

import re
import uuid

import httpx

from tests.functional.billing.billing_support import (
    at_stripe,
    customer_with_card,
    open_pay_page,
    signed_in,
    with_3d_secure_card,
)
from tests.functional.portal_support import Portal, onward_target

EVIL = "https://evil.example/phish"


def directives(response: httpx.Response) -> dict[str, str]:
    policy = response.headers["content-security-policy"]
    return dict(d.strip().split(" ", 1) for d in policy.split(";"))


def test_forms_may_lead_to_the_portal_only(portal: Portal) -> None:
    # The sandbox's Checkout and 3-D Secure origins are not allowed, and need not be.
    page = portal.browser().get("/sign-in")
    assert directives(page)["form-action"] == "'self'"


def test_adding_a_method_leaves_from_a_page_of_the_portal(portal: Portal) -> None:
    email = f"neu-{uuid.uuid4().hex[:8]}@example.de"
    portal.customer(email=email)
    browser = signed_in(portal, email)
    browser.get("/payment-methods")
    answer = browser.post("/payment-methods/add")
    assert answer.status_code == 303
    step = answer.headers["location"]
    assert re.fullmatch(re.escape(portal.url) + r"/payment-methods/checkout/cs_\w+", step), step
    page = browser.get(step.removeprefix(portal.url))
    assert page.status_code == 200
    assert directives(page)["form-action"] == "'self'"
    assert page.headers["referrer-policy"] == "no-referrer"
    assert "<script" not in page.text
    target = onward_target(page)
    session_id = step.rsplit("/", 1)[1]
    assert session_id in target  # the Checkout Session's own page at Stripe
    assert not target.startswith((portal.url, portal.settings.stripe_api_base))


def test_the_target_never_comes_from_the_query(portal: Portal) -> None:
    email = f"neu-{uuid.uuid4().hex[:8]}@example.de"
    portal.customer(email=email)
    browser = signed_in(portal, email)
    browser.get("/payment-methods")
    step = browser.post("/payment-methods/add").headers["location"].removeprefix(portal.url)
    for query in (f"?url={EVIL}", f"?next={EVIL}", f"?target={EVIL}&to={EVIL}"):
        page = browser.get(step + query)
        assert page.status_code == 200
        assert "evil.example" not in page.text
        assert "evil.example" not in onward_target(page)


def test_another_customers_checkout_session_leads_nowhere(portal: Portal) -> None:
    owner_email = f"a-{uuid.uuid4().hex[:8]}@example.de"
    portal.customer(email=owner_email)
    owner = signed_in(portal, owner_email)
    owner.get("/payment-methods")
    step = owner.post("/payment-methods/add").headers["location"].removeprefix(portal.url)
    email = f"b-{uuid.uuid4().hex[:8]}@example.de"
    portal.customer(email=email)
    stranger = signed_in(portal, email)
    assert stranger.get(step).status_code == 404
    assert stranger.get("/payment-methods/checkout/not-a-session").status_code == 404


def test_a_finished_checkout_session_leads_back_to_the_methods(portal: Portal) -> None:
    email = f"neu-{uuid.uuid4().hex[:8]}@example.de"
    portal.customer(email=email)
    browser = signed_in(portal, email)
    browser.get("/payment-methods")
    answer = browser.post("/payment-methods/add")
    checkout = at_stripe(browser, answer)
    httpx.post(checkout, data={"method": "card", "card": "pm_card_visa", "name": "Anna"})
    again = browser.get(answer.headers["location"].removeprefix(portal.url))
    assert again.status_code == 303
    assert again.headers["location"].endswith("/payment-methods")


def test_3d_secure_after_the_pay_form_leaves_from_a_page_of_the_portal(portal: Portal) -> None:
    email, customer, _ = customer_with_card(portal)
    secure = with_3d_secure_card(portal, customer)
    invoice = portal.invoice(customer, amount=4200).id
    browser = signed_in(portal, email)
    action = open_pay_page(browser, invoice, "whole")
    answer = browser.post(action, {"payment_method": secure})
    assert answer.status_code == 303
    assert answer.headers["location"] == f"{portal.url}{action}/authenticate"
    page = browser.get(f"{action}/authenticate?url={EVIL}")
    assert page.status_code == 200
    target = onward_target(page)
    assert "evil.example" not in page.text
    # Stripe's page for the PaymentIntent, on the sandbox's 3-D Secure origin.
    assert re.search(r"/3ds/pi_\w+", target), target
    assert not target.startswith((portal.url, portal.settings.stripe_api_base))


def test_paying_with_a_new_method_leaves_from_a_page_of_the_portal(portal: Portal) -> None:
    email = f"neu-{uuid.uuid4().hex[:8]}@example.de"
    customer = portal.customer(email=email)
    invoice = portal.invoice(customer, amount=3100).id
    browser = signed_in(portal, email)
    action = open_pay_page(browser, invoice, "whole")
    answer = browser.post(action, {"payment_method": "new"})
    assert answer.status_code == 303
    step = answer.headers["location"]
    assert step.startswith(f"{portal.url}{action}/checkout/cs_"), step
    target = onward_target(browser.get(step.removeprefix(portal.url) + f"?url={EVIL}"))
    assert step.rsplit("/", 1)[1] in target
