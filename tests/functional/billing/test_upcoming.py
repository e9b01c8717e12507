"""The overview's upcoming invoices: drafts Stripe will issue on a set date, with date, amount
and how they will be paid; nothing of any other draft; and, once the sandbox clock passes the
date, the invoice in the history (charged) or among what is to pay (sent)."""

from __future__ import annotations

import re
import time
from collections.abc import Iterator
from typing import Any

import httpx
import pytest
import stripe

from tests.functional.billing.test_invoice_pages import sign_in, signed_in
from tests.functional.portal_support import Portal

DAY = 86400


def section(page: httpx.Response, heading: str) -> str:
    """One section of the overview, as its words."""
    found = re.search(rf'<section aria-labelledby="{heading}".*?</section>', page.text, re.S)
    return text_of_html(found.group(0)) if found else ""


def text_of_html(html: str) -> str:
    text = " ".join(re.sub(r"<[^>]+>", " ", html).split())
    return text.replace("\u00a0", " ").replace("\u202f", " ")


def draft(portal: Portal, customer: str, amount: int, description: str, **params: Any) -> str:
    """A draft with one line, as a seller makes it: created, then its item added."""
    invoice = portal.sdk.v1.invoices.create(
        {"customer": customer, "currency": "eur", "description": description, **params}  # type: ignore[typeddict-item]
    )
    assert invoice.id
    portal.sdk.v1.invoice_items.create(
        {"customer": customer, "invoice": invoice.id, "amount": amount, "currency": "eur"}
    )
    return invoice.id


def with_card(portal: Portal, customer: str) -> str:
    card = portal.sdk.v1.payment_methods.attach("pm_card_visa", {"customer": customer})
    portal.sdk.v1.customers.update(
        customer, {"invoice_settings": {"default_payment_method": card.id}}
    )
    return card.id


@pytest.fixture
def clock(portal: Portal) -> Iterator[httpx.Client]:
    """The sandbox clock, put back afterwards: other tests see Stripe's present."""
    with httpx.Client(base_url=portal.settings.stripe_api_base) as control:
        yield control
        control.post("/_sandbox/clock", json={"reset": True}).raise_for_status()


def test_a_scheduled_draft_shows_its_date_amount_and_card(portal: Portal) -> None:
    browser, customer = signed_in(portal, locale="en")
    with_card(portal, customer)
    at = int(time.time()) + 9 * DAY
    draft(
        portal,
        customer,
        4250,
        "Wartung Dezember",
        collection_method="charge_automatically",
        auto_advance=True,
        automatically_finalizes_at=at,
    )
    sign_in(browser, portal, customer)
    page = browser.get("/")
    assert page.status_code == 200
    upcoming = section(page, "upcoming-heading")
    assert "Upcoming invoices" in upcoming
    assert "Wartung Dezember" in upcoming
    assert "€42.50" in upcoming
    assert "Visa •••• 4242" in upcoming
    day = time.strftime("%-d %b %Y", time.gmtime(at))  # en: "15 Dec 2026"
    assert day in upcoming, upcoming
    assert f"Charged automatically on {day}" in upcoming
    # Below what is to pay, above the history.
    html = page.text
    assert html.index("to-pay-heading") < html.index("upcoming-heading")
    assert html.index("upcoming-heading") < html.index('id="history-heading"')


def test_a_draft_names_its_own_method_before_the_customers_default(portal: Portal) -> None:
    browser, customer = signed_in(portal, locale="en")
    with_card(portal, customer)
    sepa = portal.sdk.v1.payment_methods.create(
        {
            "type": "sepa_debit",
            "sepa_debit": {"iban": "DE89370400440532013000"},
            "billing_details": {"name": "Anna Schmidt", "email": "anna@example.de"},
        }
    )
    portal.sdk.v1.payment_methods.attach(sepa.id, {"customer": customer})
    draft(
        portal,
        customer,
        9900,
        "Jahreslizenz",
        collection_method="charge_automatically",
        auto_advance=True,
        automatically_finalizes_at=int(time.time()) + 3 * DAY,
        default_payment_method=sepa.id,
    )
    sign_in(browser, portal, customer)
    upcoming = section(browser.get("/"), "upcoming-heading")
    assert "SEPA Direct Debit •••• 3000" in upcoming
    assert "Visa" not in upcoming


def test_drafts_without_a_scheduled_finalization_are_not_shown(portal: Portal) -> None:
    browser, customer = signed_in(portal, locale="en")
    with_card(portal, customer)
    kept = draft(
        portal,
        customer,
        1500,
        "Entwurf ohne Termin",
        collection_method="send_invoice",
        days_until_due=14,
    )
    paused = draft(
        portal,
        customer,
        1700,
        "Angehalten",
        collection_method="charge_automatically",
        auto_advance=True,
        automatically_finalizes_at=int(time.time()) + 5 * DAY,
    )
    portal.sdk.v1.invoices.update(paused, {"auto_advance": False})
    sign_in(browser, portal, customer)
    page = browser.get("/")
    assert page.status_code == 200
    assert 'id="upcoming-heading"' not in page.text
    for invoice_id in (kept, paused):
        assert invoice_id not in page.text
    assert "Entwurf ohne Termin" not in page.text
    assert "Angehalten" not in page.text


def test_a_sent_invoice_says_when_it_is_due(portal: Portal) -> None:
    browser, customer = signed_in(portal, locale="de")
    now = int(time.time())
    draft(
        portal,
        customer,
        12000,
        "Beratung",
        collection_method="send_invoice",
        due_date=now + 30 * DAY,
        auto_advance=True,
        automatically_finalizes_at=now + 10 * DAY,
    )
    sign_in(browser, portal, customer)
    upcoming = section(browser.get("/"), "upcoming-heading")
    assert "Bevorstehende Rechnungen" in upcoming
    assert "120,00 €" in upcoming
    assert "Zu zahlen nach Ausstellung, fällig am" in upcoming
    assert "Automatische Belastung" not in upcoming


def test_on_its_date_a_charged_invoice_moves_to_the_history_and_a_sent_one_to_pay(
    portal: Portal, clock: httpx.Client
) -> None:
    browser, customer = signed_in(portal, locale="en")
    with_card(portal, customer)
    now = int(time.time())
    charged = draft(
        portal,
        customer,
        3300,
        "Charged on its date",
        collection_method="charge_automatically",
        auto_advance=True,
        automatically_finalizes_at=now + 2 * DAY,
    )
    sent = draft(
        portal,
        customer,
        4400,
        "Sent on its date",
        collection_method="send_invoice",
        days_until_due=14,
        auto_advance=True,
        automatically_finalizes_at=now + 2 * DAY,
    )
    sign_in(browser, portal, customer)
    before = browser.get("/")
    assert "Charged on its date" in section(before, "upcoming-heading")
    assert "Sent on its date" in section(before, "upcoming-heading")

    clock.post("/_sandbox/clock", json={"advance": 2 * DAY + 60}).raise_for_status()
    paid: stripe.Invoice = portal.sdk.v1.invoices.retrieve(charged)
    issued: stripe.Invoice = portal.sdk.v1.invoices.retrieve(sent)
    assert (paid.status, issued.status) == ("paid", "open")

    after = browser.get("/")  # the tests' portal keeps nothing: Stripe is read again
    assert 'id="upcoming-heading"' not in after.text
    assert paid.number
    assert issued.number
    assert paid.number in section(after, "history-heading")
    assert issued.number in section(after, "to-pay-heading")
    assert "€44.00" in section(after, "to-pay-heading")
