"""How many payments a visitor may start and Stripe Checkout pages open (issue 22): counted per
visitor (a sign-in, an invoice link) and per invoice, refused with a page in the customer's
language that says when to try again, nothing written and nothing created at Stripe; and a
customer retrying the usual way never meets the limits."""

from __future__ import annotations

import asyncio
import math
import re
import time
import uuid
from collections.abc import Callable, Iterator
from pathlib import Path

import httpx
import pytest
from sqlalchemy import func, select

from portal import i18n
from portal.billing.rate_limits import CHECKOUTS, STARTS
from portal.identity import invoice_links as links
from portal.storage.database import create_engine
from portal.storage.tables import payments
from tests.functional.billing.billing_support import (
    at_stripe,
    back_from_stripe,
    charged,
    follow,
    open_pay_page,
    pay_with_ideal,
    signed_in,
)
from tests.functional.portal_support import Browser, Portal, serve_portal, text_of

PAUSED = (
    "For your security, new payments and new payment methods are paused for a while. "
    "Nothing was charged. Please try again in %(num)d minute."
)
PAUSED_PLURAL = PAUSED.replace("minute.", "minutes.")


@pytest.fixture(autouse=True)
def _one_window() -> None:
    """The limits count in windows of an hour from the full hour: a test that would cross
    one waits for the next to begin rather than count in two."""
    left = 3600 - time.time() % 3600
    if left < 30:
        time.sleep(left + 1)


def _customer(portal: Portal) -> tuple[str, str]:
    email = f"eilig-{uuid.uuid4().hex[:8]}@example.de"
    return email, portal.customer(email=email, locale="de")


def _link_holder(portal: Portal, customer: str, invoice: str) -> Browser:
    """A browser that opened the e-mailed link to the invoice (no sign-in)."""
    browser = portal.browser()
    token = links.make(portal.settings.secret_key, invoice, customer, locale="de")
    assert follow(browser, browser.get(f"/i/{token}")).status_code == 200
    return browser


def _start(browser: Browser, invoice: str) -> httpx.Response:
    """Press the invoice's pay button (the form's POST)."""
    if not browser.csrf:
        browser.get(f"/invoices/{invoice}/pay?what=whole")
    return browser.post(f"/invoices/{invoice}/pay", {"what": "whole"})


def _payments_of(portal: Portal, customer: str) -> int:
    """The customer's payment rows, read the way the portal reads them (either database)."""

    async def count() -> int:
        engine = create_engine(portal.settings.database_url)
        try:
            async with engine.connect() as conn:
                found = await conn.execute(
                    select(func.count())
                    .select_from(payments)
                    .where(payments.c.customer_id == customer)
                )
                return int(found.scalar_one())
        finally:
            await engine.dispose()

    return asyncio.run(count())


def _sessions_of(portal: Portal, customer: str) -> int:
    listed = portal.sdk.v1.checkout.sessions.list({"customer": customer, "limit": 100})
    return len(listed.data)


def _paused(answer: httpx.Response) -> None:
    """The refusal: 429, in German, saying in how many minutes to try again (rounded up)."""
    assert answer.status_code == 429, answer.text
    retry_after = int(answer.headers["Retry-After"])
    assert 0 < retry_after <= 3600
    minutes = max(1, math.ceil(retry_after / 60))
    with i18n.use_locale("de"):
        assert i18n.gettext("Too many payment attempts") in text_of(answer)
        assert i18n.ngettext(PAUSED, PAUSED_PLURAL, minutes) in text_of(answer)
    assert '<html lang="de">' in answer.text


@pytest.fixture
def any_portal(database_url: str, sandbox_url: str, tmp_path: Path) -> Iterator[Portal]:
    with serve_portal(tmp_path, sandbox_url, database_url=database_url) as found:
        yield found


def test_a_visitor_starting_too_many_payments_is_refused_and_another_is_not(
    any_portal: Portal,
) -> None:
    portal = any_portal
    email, customer = _customer(portal)
    invoice = portal.invoice(customer, amount=5000).id
    browser = signed_in(portal, email)
    allowed = STARTS.per_visitor.count
    assert [_start(browser, invoice).status_code for _ in range(allowed)] == [303] * allowed
    _paused(_start(browser, invoice))
    assert _payments_of(portal, customer) == allowed  # the refused one wrote nothing
    # Another sign-in of the same customer (a colleague) is a visitor of its own.
    assert _start(signed_in(portal, email), invoice).status_code == 303


def test_an_invoice_started_too_often_by_several_visitors_is_refused(portal: Portal) -> None:
    email, customer = _customer(portal)
    invoice = portal.invoice(customer, amount=5100).id
    other = portal.invoice(customer, amount=5200).id
    signed = signed_in(portal, email)
    for _ in range(STARTS.per_visitor.count):
        assert _start(signed, invoice).status_code == 303
    holder = _link_holder(portal, customer, invoice)
    left = STARTS.per_invoice.count - STARTS.per_visitor.count
    assert [_start(holder, invoice).status_code for _ in range(left)] == [303] * left
    _paused(_start(holder, invoice))
    colleague = signed_in(portal, email)
    _paused(_start(colleague, invoice))
    assert _start(colleague, other).status_code == 303  # the invoice's limit, not theirs


def _new_method(browser: Browser, payment: str) -> httpx.Response:
    return browser.post(payment, {"payment_method": "new"})


def _another_way(browser: Browser, payment: str) -> httpx.Response:
    """ "Another way to pay", and straight back to choosing (which ends the session)."""
    answer = browser.post(payment, {"payment_method": "stripe"})
    if answer.status_code == 303:
        left = browser.post(f"{payment}/another-way")
        assert left.status_code == 303
        browser.get(payment)  # the choice again, with its form's token
    return answer


def _add_on_methods_page(browser: Browser, _payment: str) -> httpx.Response:
    return browser.post("/payment-methods/add")


WAYS: dict[str, Callable[[Browser, str], httpx.Response]] = {
    "new method": _new_method,
    "another way": _another_way,
    "methods page": _add_on_methods_page,
}


@pytest.mark.parametrize("way", list(WAYS))
def test_a_visitor_opening_checkout_too_often_is_refused_whichever_way(
    portal: Portal, way: str
) -> None:
    email, customer = _customer(portal)
    invoice = portal.invoice(customer, amount=5300).id
    browser = signed_in(portal, email)
    payment = open_pay_page(browser, invoice, "whole")
    allowed = CHECKOUTS.per_visitor.count
    opened = [WAYS[way](browser, payment).status_code for _ in range(allowed)]
    assert opened == [303] * allowed
    for each in WAYS.values():  # one count, whichever way opens Checkout
        _paused(each(browser, payment))
    assert _sessions_of(portal, customer) == allowed
    page = browser.get(payment)  # the payment as before: still to choose how to pay
    assert 'name="payment_method" value="stripe"' in page.text


def test_a_form_resubmitted_on_a_payment_at_stripe_is_not_refused_as_nothing_charged(
    portal: Portal,
) -> None:
    """At the limit, the old pay form sent again for a payment now on Stripe's page opens
    nothing and counts nothing: its page, which never says that nothing was charged."""
    email, customer = _customer(portal)
    invoice = portal.invoice(customer, amount=5350).id
    browser = signed_in(portal, email)
    payment = open_pay_page(browser, invoice, "whole")
    at_stripe(browser, browser.post(payment, {"payment_method": "stripe"}))
    for _ in range(CHECKOUTS.per_visitor.count - 1):
        assert _add_on_methods_page(browser, "").status_code == 303
    _paused(_add_on_methods_page(browser, ""))
    for choice in ("new", "stripe"):
        answer = browser.post(payment, {"payment_method": choice})
        assert answer.status_code == 303
        assert answer.headers["location"].endswith(payment)
    with i18n.use_locale("de"):
        assert i18n.gettext("Finish paying on Stripe's page") in text_of(browser.get(payment))


def test_checkout_on_one_invoice_opened_too_often_by_several_visitors_is_refused(
    portal: Portal,
) -> None:
    email, customer = _customer(portal)
    invoice = portal.invoice(customer, amount=5400).id
    other = portal.invoice(customer, amount=5500).id
    signed = signed_in(portal, email)
    payment = open_pay_page(signed, invoice, "whole")
    for _ in range(CHECKOUTS.per_visitor.count):
        assert _new_method(signed, payment).status_code == 303
    holder = _link_holder(portal, customer, invoice)
    holders = open_pay_page(holder, invoice, "whole")
    left = CHECKOUTS.per_invoice.count - CHECKOUTS.per_visitor.count
    assert [_new_method(holder, holders).status_code for _ in range(left)] == [303] * left
    _paused(_new_method(holder, holders))
    _paused(_another_way(holder, holders))
    colleague = signed_in(portal, email)
    assert _add_on_methods_page(colleague, "").status_code == 303  # for no invoice
    assert _another_way(colleague, open_pay_page(colleague, other, "whole")).status_code == 303


def _card_on_checkout(checkout: str, card: str) -> httpx.Response:
    return httpx.post(checkout, data={"method": "card", "card": card, "name": "Anna"})


def test_a_customer_retrying_the_usual_way_never_meets_the_limits(portal: Portal) -> None:
    """A declined saved card; a new card declined on Stripe's page and given up; Stripe's page
    for another way left and a new card tried again; then paid another way. The next invoice
    with a card added on the payment methods page."""
    email, customer = _customer(portal)
    declining = portal.sdk.v1.payment_methods.attach(
        "pm_card_chargeDeclined", {"customer": customer}
    ).id
    invoice = portal.invoice(customer, amount=5600).id
    browser = signed_in(portal, email)
    payment = open_pay_page(browser, invoice, "whole")
    failed = follow(browser, browser.post(payment, {"payment_method": declining}))
    assert f"/invoices/{invoice}/pay?what=whole" in failed.text  # "Try again": a new payment
    payment = open_pay_page(browser, invoice, "whole")
    checkout = at_stripe(browser, browser.post(payment, {"payment_method": "new"}))
    assert _card_on_checkout(checkout, "pm_card_chargeDeclined").status_code == 200
    browser.get(payment)  # "cancel and go back"
    at_stripe(browser, browser.post(payment, {"payment_method": "stripe"}))
    browser.get(payment)  # back without paying: "choose another way to pay"
    assert browser.post(f"{payment}/another-way").status_code == 303
    browser.get(payment)
    at_stripe(browser, browser.post(payment, {"payment_method": "new"}))
    browser.get(payment)
    checkout = at_stripe(browser, browser.post(payment, {"payment_method": "stripe"}))
    paid = back_from_stripe(browser, pay_with_ideal(checkout))
    with i18n.use_locale("de"):
        assert i18n.gettext("Thank you for your payment") in text_of(paid)
    following = portal.invoice(customer, amount=5700).id
    browser.get("/payment-methods")
    added = at_stripe(browser, browser.post("/payment-methods/add"))
    back = _card_on_checkout(added, "pm_card_visa")
    assert back.status_code in (302, 303)
    browser.get(back.headers["location"].removeprefix(portal.url))
    page = follow(browser, _start(browser, following))
    card = re.search(r'name="payment_method" value="(pm_[A-Za-z0-9]+)" checked', page.text)
    assert card
    done = follow(browser, browser.post(page.url.path, {"payment_method": card.group(1)}))
    with i18n.use_locale("de"):
        assert i18n.gettext("Thank you for your payment") in text_of(done)
    assert charged(portal, customer) == [5600, 5700]
