"""Reminders (`portal send-reminders` as a function): 7 days before a due date and when overdue,
computed with a frozen clock; real SMTP (aiosmtpd); at-least-once without duplicates."""

from __future__ import annotations

import asyncio
import dataclasses
import uuid
from datetime import UTC, datetime

import pytest
from sqlalchemy import update

from portal.app import open_services
from portal.billing import notices
from portal.billing.mailing import ReminderReport, compose, send_reminders
from portal.settings import Settings, parse_smtp_url
from portal.storage.tables import mail_outbox
from portal.stripe.models import Customer
from portal_dev.mailbox import ReceivedMail
from tests.functional.app_support import migrate_database
from tests.functional.portal_support import Portal, serve_portal
from tests.support.servers import free_port

DAY = 86400


def run(settings: Settings, now: datetime) -> ReminderReport:
    async def go() -> ReminderReport:
        async with open_services(settings) as svc:
            return await send_reminders(svc, now)

    return asyncio.run(go())


def mails_to(portal: Portal, email: str) -> list[ReceivedMail]:
    return [m for m in portal.mailbox.messages() if email in m.recipients]


def customer_with_plan(portal: Portal, locale: str) -> tuple[str, str, int]:
    """A customer with a plan: one part due in 10 days, one in 40; returns (email, invoice, t0)."""
    email = f"erinnerung-{uuid.uuid4().hex[:8]}@example.de"
    customer = portal.customer(email=email, locale=locale)
    t0 = int(datetime.now(UTC).timestamp())
    invoice = portal.invoice(
        customer,
        amount=20000,
        amounts_due=[
            {"amount": 5000, "due_date": t0 + 10 * DAY},
            {"amount": 15000, "due_date": t0 + 40 * DAY},
        ],
    ).id
    return email, invoice, t0


def at(t0: int, days: float) -> datetime:
    return datetime.fromtimestamp(t0 + days * DAY, UTC)


def test_due_soon_then_overdue_each_once_in_the_customers_language(portal: Portal) -> None:
    email, _invoice, t0 = customer_with_plan(portal, "nl")
    run(portal.settings, at(t0, 1))  # 9 days before: nothing yet
    assert mails_to(portal, email) == []
    run(portal.settings, at(t0, 4))  # 6 days before the first part: "due soon"
    run(portal.settings, at(t0, 5))  # again the next day: not again
    (soon,) = mails_to(portal, email)
    assert soon.message["Content-Language"] == "nl"
    assert "50,00" in str(soon.message["Subject"])
    run(portal.settings, at(t0, 10.5))  # due yesterday... today: overdue
    run(portal.settings, at(t0, 12))
    assert len(mails_to(portal, email)) == 2
    run(portal.settings, at(t0, 18))  # 8 days late: the 7-day notice
    run(portal.settings, at(t0, 25))  # 15 days late: the 14-day notice
    run(portal.settings, at(t0, 27))
    assert len(mails_to(portal, email)) == 4
    for mail in mails_to(portal, email):
        assert mail.part("text/plain")
        assert mail.part("text/html")
        assert mail.message["Date"]
        assert mail.message["Message-ID"]
        assert "/i/" in (mail.part("text/plain") or "")


def test_smtp_down_then_up_loses_nothing_and_doubles_nothing(portal: Portal) -> None:
    email, _invoice, t0 = customer_with_plan(portal, "de")
    down = dataclasses.replace(
        portal.settings, smtp=parse_smtp_url(f"smtp://127.0.0.1:{free_port()}?tls=none&timeout=2")
    )
    report = run(down, at(t0, 5))
    assert report.failed >= 1
    assert mails_to(portal, email) == []
    with portal.db.begin() as conn:  # the retry's back-off has passed
        conn.execute(update(mail_outbox).values(next_attempt_at=datetime.now(UTC)))
    run(portal.settings, at(t0, 5))
    run(portal.settings, at(t0, 5))
    assert len(mails_to(portal, email)) == 1


@pytest.mark.parametrize("database_url", ["postgresql"], indirect=True)
def test_two_runs_at_once_on_postgresql_send_each_once(
    sandbox_url: str, database_url: str, tmp_path_factory: pytest.TempPathFactory
) -> None:
    migrate_database(database_url)
    with serve_portal(
        tmp_path_factory.mktemp("pg"), sandbox_url, database_url=database_url
    ) as on_postgres:
        emails = [customer_with_plan(on_postgres, "pl") for _ in range(3)]
        t0 = max(t for _, _, t in emails)

        async def both() -> None:
            async with (
                open_services(on_postgres.settings) as a,
                open_services(on_postgres.settings) as b,
            ):
                await asyncio.gather(send_reminders(a, at(t0, 5)), send_reminders(b, at(t0, 5)))

        asyncio.run(both())
        for email, _, _ in emails:
            assert len(mails_to(on_postgres, email)) == 1, email


def test_a_name_with_a_line_break_cannot_add_a_header(portal: Portal) -> None:
    email, invoice_id, _ = customer_with_plan(portal, "en")
    evil = Customer(
        "cus_x", email, "Evil Corp\r\nBcc: victim@example.com", preferred_locales=("en",)
    )

    async def build() -> str:
        async with open_services(portal.settings) as svc:
            invoice = await svc.gateway.get_invoice(invoice_id)
            message = compose(svc, invoice, evil, notices.invoice_ready(invoice))
            assert message is not None
            return message.as_string()

    headers = asyncio.run(build()).split("\n\n", 1)[0]
    assert "\nBcc:" not in headers
    to = next(line for line in headers.splitlines() if line.startswith("To:"))
    assert email in to  # the name stayed inside the To header, on one line


def test_an_html_reminder_leads_with_the_facts_and_the_seller(portal: Portal) -> None:
    email = f"erinnerung-{uuid.uuid4().hex[:8]}@example.hr"
    customer = portal.customer(email=email, locale="hr")
    vat = portal.sdk.v1.tax_ids.create({"type": "eu_vat", "value": "DE293817466"})
    t0 = int(datetime.now(UTC).timestamp())
    portal.invoice(
        customer,
        amount=12000,
        due_date=t0 + 2 * DAY,
        description="Održavanje sustava",
        account_tax_ids=[vat.id],
    )
    run(portal.settings, at(t0, 10))  # 8 days late
    (late,) = mails_to(portal, email)
    html = late.part("text/html") or ""
    words = " ".join(html.split())
    button = words.index("/i/")  # the invoice link's button comes after the facts
    for fact in ("Održavanje sustava", "120,00", "8 dana kašnjenja", "DE293817466"):
        assert 0 <= words.find(fact) < button, fact
    # A Croatian date ends in its own full stop: never two.
    assert ".." not in html.replace("...", "")
