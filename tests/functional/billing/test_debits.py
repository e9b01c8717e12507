"""SEPA Direct Debit: submitted at once, decided by the bank days later. A returned debit is
recorded from Stripe's webhook or when the payment's page is opened, shown to the customer, and
the invoice's reminders, which wait while the debit is collected, go on."""

from __future__ import annotations

import asyncio
import time
import uuid
from collections.abc import Callable, Iterator
from datetime import UTC, datetime

import httpx
import pytest
from sqlalchemy import select

from portal import i18n
from portal.app import open_services
from portal.billing.mailing import ReminderReport, send_reminders
from portal.settings import Settings
from portal.storage.tables import payment_charges
from portal_dev.mailbox import ReceivedMail
from stripe_sandbox.app import SandboxConfig, create_sandbox_app
from tests.functional.billing.billing_support import follow, open_pay_page, signed_in
from tests.functional.portal_support import Portal, serve_portal, text_of
from tests.support.servers import free_port, serve_in_thread

SECRET = "whsec_test_secret_value"  # what tests.conftest.make_settings configures
DAY = 86400
# Stripe's test IBAN that is returned after `processing` (https://docs.stripe.com/testing).
RETURNED_IBAN = "DE62370400440532013001"
# Real seconds the sandbox's debits stay `processing`, standing for Stripe's business days.
SETTLES_AFTER_MS = 4000

RETURNED = (
    "Your bank returned the direct debit, so nothing was collected. Please use another payment "
    "method or contact your bank."
)


@pytest.fixture(scope="module")
def slow_bank(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Portal]:
    """A portal on a sandbox of its own whose debits settle later and whose webhooks reach it."""
    port = free_port()
    config = SandboxConfig(
        webhook_url=f"http://127.0.0.1:{port}/stripe/webhook",
        webhook_secret=SECRET,
        sepa_settlement_delay_ms=SETTLES_AFTER_MS,
    )
    with (
        serve_in_thread(create_sandbox_app(config)) as sandbox,
        serve_portal(tmp_path_factory.mktemp("slow-bank"), sandbox, port=port) as found,
    ):
        yield found


def customer_with_debit(portal: Portal, iban: str) -> tuple[str, str, str]:
    email = f"lastschrift-{uuid.uuid4().hex[:8]}@example.de"
    customer = portal.customer(email=email)
    sepa = portal.sdk.v1.payment_methods.create(
        {
            "type": "sepa_debit",
            "sepa_debit": {"iban": iban},
            "billing_details": {"name": "Anna Schmidt", "email": email},
        }
    )
    portal.sdk.v1.payment_methods.attach(sepa.id, {"customer": customer})
    return email, customer, sepa.id


def statuses(portal: Portal, payment_id: str) -> list[tuple[str, str | None]]:
    with portal.db.connect() as conn:
        rows = conn.execute(
            select(payment_charges.c.status, payment_charges.c.error_code)
            .where(payment_charges.c.payment_id == payment_id)
            .order_by(payment_charges.c.position)
        ).all()
    return [(row.status, row.error_code) for row in rows]


def reminders(settings: Settings, at: datetime) -> ReminderReport:
    async def go() -> ReminderReport:
        async with open_services(settings) as svc:
            return await send_reminders(svc, at)

    return asyncio.run(go())


def mails_to(portal: Portal, email: str) -> list[ReceivedMail]:
    return [m for m in portal.mailbox.messages() if email in m.recipients]


def wait_until(check: Callable[[], bool], timeout: float = 20) -> None:
    deadline = time.monotonic() + timeout
    while not check():
        assert time.monotonic() < deadline, "timed out"
        time.sleep(0.1)


def test_a_debit_returned_days_later_is_recorded_from_the_webhook_and_reminders_go_on(
    slow_bank: Portal,
) -> None:
    portal = slow_bank
    email, customer, sepa = customer_with_debit(portal, RETURNED_IBAN)
    invoice = portal.invoice(customer, amount=9900, days_until_due=3).id
    due = portal.sdk.v1.invoices.retrieve(invoice).due_date
    assert due is not None
    overdue = datetime.fromtimestamp(due + 2 * DAY, UTC)
    browser = signed_in(portal, email)
    action = open_pay_page(browser, invoice, "whole")
    payment_id = action.rsplit("/", 1)[1]
    submitted = follow(browser, browser.post(action, {"payment_method": sepa}))
    with i18n.use_locale("de"):
        assert i18n.gettext("Your payment is on its way") in text_of(submitted)
    assert statuses(portal, payment_id) == [("submitted", None)]
    # While the bank collects, the invoice is open at Stripe, but the customer has paid:
    # no "overdue" e-mail.
    signed_in_mails = mails_to(portal, email)
    held = reminders(portal.settings, overdue)
    assert held.due == 0
    assert mails_to(portal, email) == signed_in_mails

    # Days later (the sandbox clock), the bank returns the debit; Stripe's webhook tells.
    httpx.post(f"{portal.settings.stripe_api_base}/_sandbox/clock", json={"advance": 3 * DAY})
    try:
        intents = portal.sdk.v1.payment_intents.list({"customer": customer}).data
        wait_until(
            lambda: all(
                portal.sdk.v1.payment_intents.retrieve(i.id).status != "processing" for i in intents
            )
        )
        httpx.get(f"{portal.settings.stripe_api_base}/_sandbox/webhooks/pending?wait=10")
        assert statuses(portal, payment_id) == [("failed", "debit_failed")]  # before any page
    finally:
        httpx.post(f"{portal.settings.stripe_api_base}/_sandbox/clock", json={"reset": True})

    result = browser.get(action)
    with i18n.use_locale("de"):
        page = text_of(result)
        assert i18n.gettext("The payment did not go through") in page
        assert i18n.gettext(RETURNED) in page
    assert f"/invoices/{invoice}/pay?what=whole" in result.text  # try again
    assert portal.sdk.v1.invoices.retrieve(invoice).status == "open"
    # Reminders go on: the invoice is overdue and nothing is on its way for it.
    going_on = reminders(portal.settings, overdue)
    assert going_on.due == 1
    (notice,) = mails_to(portal, email)[: -len(signed_in_mails)]  # newest first
    assert "99,00" in str(notice.message["Subject"])


def test_a_collected_debit_is_thanked_for_once_the_bank_answers(slow_bank: Portal) -> None:
    portal = slow_bank
    email, customer, sepa = customer_with_debit(portal, "DE89370400440532013000")
    invoice = portal.invoice(customer, amount=4200).id
    browser = signed_in(portal, email)
    action = open_pay_page(browser, invoice, "whole")
    payment_id = action.rsplit("/", 1)[1]
    follow(browser, browser.post(action, {"payment_method": sepa}))
    assert statuses(portal, payment_id) == [("submitted", None)]
    wait_until(lambda: portal.sdk.v1.invoices.retrieve(invoice).status == "paid")
    httpx.get(f"{portal.settings.stripe_api_base}/_sandbox/webhooks/pending?wait=10")
    assert statuses(portal, payment_id) == [("succeeded", None)]
    with i18n.use_locale("de"):
        assert i18n.gettext("Thank you for your payment") in text_of(browser.get(action))


@pytest.mark.parametrize("what", ["whole", "next_installment"])
def test_a_returned_debit_is_shown_when_the_page_is_opened_without_a_webhook(
    portal: Portal, what: str
) -> None:
    """The shared sandbox sends no webhooks and decides debits right after answering."""
    email, customer, sepa = customer_with_debit(portal, RETURNED_IBAN)
    now = int(time.time())
    invoice = portal.invoice(
        customer,
        amount=20000,
        amounts_due=[
            {"amount": 10000, "due_date": now + 5 * DAY},
            {"amount": 10000, "due_date": now + 35 * DAY},
        ],
    ).id
    browser = signed_in(portal, email)
    action = open_pay_page(browser, invoice, what)
    payment_id = action.rsplit("/", 1)[1]
    result = follow(browser, browser.post(action, {"payment_method": sepa}))
    assert statuses(portal, payment_id) == [("failed", "debit_failed")]
    with i18n.use_locale("de"):
        assert i18n.gettext(RETURNED) in text_of(result)
    assert portal.sdk.v1.invoices.retrieve(invoice).amount_paid == 0


def test_no_second_charge_while_a_debit_on_the_invoice_is_collected(slow_bank: Portal) -> None:
    # Stripe leaves `amount_remaining` as it was while a debit is on its way: a card payment
    # in another tab must not charge the invoice a second time meanwhile.
    portal = slow_bank
    email, customer, sepa = customer_with_debit(portal, "DE89370400440532013000")
    card = portal.sdk.v1.payment_methods.attach("pm_card_visa", {"customer": customer}).id
    invoice = portal.invoice(customer, amount=4200).id
    browser = signed_in(portal, email)
    first = open_pay_page(browser, invoice, "whole")
    second = open_pay_page(browser, invoice, "whole")  # the other tab, opened alongside
    follow(browser, browser.post(first, {"payment_method": sepa}))
    assert statuses(portal, first.rsplit("/", 1)[1]) == [("submitted", None)]
    page = follow(browser, browser.post(second, {"payment_method": card}))
    assert statuses(portal, second.rsplit("/", 1)[1]) == [("busy", "debit_on_its_way")]
    with i18n.use_locale("de"):
        assert i18n.gettext(
            "Not charged: a direct debit for this invoice is still being collected by your bank. Once it has gone through or been returned, the invoice shows what is still to pay."
        ) in text_of(page)
    charged = portal.sdk.v1.payment_intents.list({"customer": customer}).data
    assert {pi.payment_method for pi in charged if pi.status != "canceled"} <= {sepa}
