"""The e-mail before a scheduled automatic charge (`portal send-reminders`): sent within the lead
time, once per draft and amount, again when the amount changes, never once Stripe has
finalized the invoice; debits left to Stripe's own notice while the company keeps it on; in
the customer's language, over real SMTP."""

from __future__ import annotations

import time
import uuid
from datetime import UTC, datetime

import httpx

from portal_dev.mailbox import ReceivedMail
from tests.functional.billing.test_reminders import mails_to, run
from tests.functional.billing.test_upcoming import DAY, clock, draft, with_card
from tests.functional.portal_support import Portal

__all__ = ["clock"]  # the sandbox clock fixture, put back after each test


def customer(portal: Portal, locale: str) -> tuple[str, str]:
    email = f"ankuendigung-{uuid.uuid4().hex[:8]}@example.de"
    return email, portal.customer(email=email, locale=locale)


def scheduled(portal: Portal, customer_id: str, amount: int, days: float, **params: object) -> str:
    return draft(
        portal,
        customer_id,
        amount,
        "Wartung Januar",
        collection_method="charge_automatically",
        auto_advance=True,
        automatically_finalizes_at=int(time.time() + days * DAY),
        **params,
    )


def text_of(mail: ReceivedMail) -> str:
    body = mail.part("text/plain") or ""
    return " ".join(body.replace("\u00a0", " ").replace("\u202f", " ").split())


def test_announced_once_again_after_an_amount_change_and_never_after_finalization(
    portal: Portal, clock: httpx.Client
) -> None:
    email, customer_id = customer(portal, "de")
    with_card(portal, customer_id)
    invoice_id = scheduled(portal, customer_id, 4250, 9)
    now = datetime.now(UTC)
    run(portal.settings, now)  # nine days ahead: beyond the five days' lead
    assert mails_to(portal, email) == []

    clock.post("/_sandbox/clock", json={"advance": 5 * DAY}).raise_for_status()
    four_days_ahead = datetime.fromtimestamp(now.timestamp() + 5 * DAY, UTC)
    run(portal.settings, four_days_ahead)
    run(portal.settings, four_days_ahead)  # again: nothing new
    (first,) = mails_to(portal, email)
    assert first.message["Content-Language"] == "de"
    subject = str(first.message["Subject"]).replace("\u00a0", " ")
    assert subject.startswith("Bevorstehende Zahlung: 42,50 €"), subject
    text = text_of(first)
    assert "Visa •••• 4242" in text
    assert "Automatische Belastung am" in text
    assert "Wartung Januar" in text
    assert "/_sandbox" not in text
    assert first.part("text/html")

    # The seller adds a line: the new amount is announced, once.
    portal.sdk.v1.invoice_items.create(
        {"customer": customer_id, "invoice": invoice_id, "amount": 1000, "currency": "eur"}
    )
    run(portal.settings, four_days_ahead)
    run(portal.settings, four_days_ahead)
    assert len(mails_to(portal, email)) == 2
    newest = mails_to(portal, email)[0]  # the mailbox lists the newest first
    assert "52,50" in str(newest.message["Subject"])

    # Stripe finalizes and charges it on its date: nothing more is announced.
    clock.post("/_sandbox/clock", json={"advance": 4 * DAY + 60}).raise_for_status()
    assert portal.sdk.v1.invoices.retrieve(invoice_id).status == "paid"
    run(portal.settings, datetime.fromtimestamp(now.timestamp() + 9 * DAY + 60, UTC))
    assert len(mails_to(portal, email)) == 2


def test_debits_are_left_to_stripes_notice_while_the_company_keeps_it_on(portal: Portal) -> None:
    email, customer_id = customer(portal, "nl")
    sepa = portal.sdk.v1.payment_methods.create(
        {
            "type": "sepa_debit",
            "sepa_debit": {"iban": "DE89370400440532013000"},
            "billing_details": {"name": "Jan de Vries", "email": email},
        }
    )
    portal.sdk.v1.payment_methods.attach(sepa.id, {"customer": customer_id})
    portal.sdk.v1.customers.update(
        customer_id, {"invoice_settings": {"default_payment_method": sepa.id}}
    )
    scheduled(portal, customer_id, 9900, 3)
    now = datetime.now(UTC)
    run(portal.settings, now)  # PORTAL_STRIPE_DEBIT_EMAILS=true, the default
    assert mails_to(portal, email) == []

    run(portal.settings.replace(stripe_debit_emails=False), now)
    (mail,) = mails_to(portal, email)
    assert mail.message["Content-Language"] == "nl"
    text = text_of(mail)
    assert "99,00" in text
    assert "SEPA-incasso •••• 3000" in text, text


def test_without_a_saved_method_the_email_asks_for_one_and_a_zero_lead_sends_none(
    portal: Portal,
) -> None:
    email, customer_id = customer(portal, "hr")
    scheduled(portal, customer_id, 1200, 2)
    now = datetime.now(UTC)
    run(portal.settings.replace(charge_notice_days=0), now)
    assert mails_to(portal, email) == []
    run(portal.settings, now)
    (mail,) = mails_to(portal, email)
    assert mail.message["Content-Language"] == "hr"
    assert "Još nije spremljen nijedan način plaćanja" in text_of(mail)
