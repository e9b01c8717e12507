"""Customers, invoices and pay pages for the paying tests, made through Stripe's API (the sandbox)
and the portal's HTTP interface."""

from __future__ import annotations

import re
import time
import uuid
from html import escape

import httpx

from tests.functional.portal_support import Browser, Portal, onward_target

DAY = 86400


def customer_with_card(
    portal: Portal, card: str = "pm_card_visa", locale: str = "de"
) -> tuple[str, str, str]:
    email = f"zahler-{uuid.uuid4().hex[:8]}@example.de"
    customer = portal.customer(email=email, locale=locale)
    pm = portal.sdk.v1.payment_methods.attach(card, {"customer": customer})
    portal.sdk.v1.customers.update(
        customer, {"invoice_settings": {"default_payment_method": pm.id}}
    )
    return email, customer, pm.id


def with_3d_secure_card(portal: Portal, customer: str) -> str:
    """A saved card whose bank asks for 3-D Secure on every payment."""
    return portal.sdk.v1.payment_methods.attach(
        "pm_card_authenticationRequired", {"customer": customer}
    ).id


def signed_in(portal: Portal, email: str) -> Browser:
    browser = portal.browser()
    assert browser.sign_in(email).status_code == 303
    return browser


def plan_invoice(portal: Portal, customer: str, *, late: bool) -> str:
    now = int(time.time())
    return portal.invoice(
        customer,
        amount=30000,
        amounts_due=[
            {"amount": 10000, "due_date": now - 10 * DAY if late else now + 5 * DAY},
            {"amount": 10000, "due_date": now + 20 * DAY},
            {"amount": 10000, "due_date": now + 50 * DAY},
        ],
    ).id


def charged(portal: Portal, customer: str) -> list[int]:
    intents = portal.sdk.v1.payment_intents.list({"customer": customer, "limit": 100}).data
    return sorted(i.amount for i in intents if i.status == "succeeded")


def start_payment(browser: Browser, start: str) -> httpx.Response:
    """Press a pay button: `start` is the address of the choice (an invoice's pay page with
    `?what=`, or "pay all overdue"); the form posts it, and the answer redirects to the new
    payment's page. Opening `start` itself (GET) writes nothing."""
    path, _, query = start.partition("?")
    choice = browser.get(start)
    assert choice.status_code == 200, choice.text
    what = query.removeprefix("what=") if query.startswith("what=") else None
    return browser.post(path, {"what": what} if what else {})


def pay_page(browser: Browser, start: str) -> httpx.Response:
    """Start a payment (`start_payment`) and open its page."""
    started = start_payment(browser, start)
    assert started.status_code == 303, started.text
    page = browser.get(started.headers["location"])
    assert page.status_code == 200, page.text
    return page


def open_pay_page(browser: Browser, invoice_id: str, what: str) -> str:
    """The address the pay page's form posts to."""
    page = pay_page(browser, f"/invoices/{invoice_id}/pay?what={what}")
    action = re.search(r'action="[^"]*(/payments/[A-Za-z0-9_-]+)"', page.text)
    assert action
    return action.group(1)


def chosen_method(browser: Browser, invoice_id: str, what: str) -> str:
    page = pay_page(browser, f"/invoices/{invoice_id}/pay?what={what}")
    found = re.search(r'name="payment_method" value="(pm_[A-Za-z0-9]+)" checked', page.text)
    assert found
    return found.group(1)


def follow(browser: Browser, response: httpx.Response) -> httpx.Response:
    """Follow the portal's redirects (not those leaving for Stripe's pages)."""
    while response.status_code in (302, 303) and response.headers["location"].startswith(
        ("/", browser.portal.url)
    ):
        response = browser.get(response.headers["location"].removeprefix(browser.portal.url))
    return response


def at_stripe(browser: Browser, response: httpx.Response) -> str:
    """The Stripe page (the sandbox's) a response sends the customer to.

    A form's answer never leaves the portal (CSP `form-action 'self'`): it redirects to the
    portal's own page, which names Stripe's page in a link and a `<meta http-equiv=refresh>`.
    `response` is the form's answer or that page itself."""
    if response.status_code == 303:
        location = response.headers["location"]
        assert location.startswith(browser.portal.url + "/"), location
        response = browser.get(location.removeprefix(browser.portal.url))
    assert response.status_code == 200, response.text
    target = onward_target(response)
    assert not target.startswith(browser.portal.url), target
    assert f'href="{escape(target)}"' in response.text  # the same address as a plain link
    return target


def back_from_stripe(browser: Browser, stripe_answer: httpx.Response) -> httpx.Response:
    """Stripe's page redirected the customer back to the portal: follow it in the browser."""
    assert stripe_answer.status_code in (302, 303), stripe_answer.text
    location = stripe_answer.headers["location"]
    assert location.startswith(browser.portal.url + "/payments/"), location
    return follow(browser, browser.get(location.removeprefix(browser.portal.url)))


def pay_with_ideal(checkout: str, outcome: str = "complete") -> httpx.Response:
    """Pay with iDEAL on the sandbox's Checkout page and answer at the bank's test page; the
    answer is Checkout's redirect back to the portal (not followed)."""
    chosen = httpx.post(checkout, data={"method": "ideal", "ideal_bank": "ing", "name": "Anna"})
    assert chosen.status_code == 303, chosen.text
    bank = httpx.post(chosen.headers["location"], data={"outcome": outcome})
    assert bank.status_code == 303
    return httpx.get(bank.headers["location"])


def checkout_session_id(checkout: str) -> str:
    found = re.search(r"/c/pay/(cs_[A-Za-z0-9_]+)", checkout)
    assert found
    return found.group(1)


def payment_of_checkout(portal: Portal, checkout: str) -> str:
    """The portal's payment a Checkout page is for (the session's metadata names it)."""
    metadata = portal.sdk.v1.checkout.sessions.retrieve(checkout_session_id(checkout)).metadata
    assert metadata is not None
    return str(metadata["portal_payment"])
