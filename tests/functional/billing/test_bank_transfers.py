"""Invoices paid by bank transfer, against the sandbox's `customer_balance` (Stripe's virtual
accounts, cash balance and reconciliation), on a portal that Stripe's webhooks reach: the
instructions with their EPC QR code, money arriving in parts, the excess kept in the balance,
and what paying on Stripe's page does with a transfer."""

from __future__ import annotations

import re
import uuid
from datetime import UTC, datetime, timedelta
from decimal import Decimal
from typing import Any

import httpx
import segno.helpers

from portal import i18n
from portal.billing.transfers import qr_svg
from tests.functional.billing.billing_support import (
    at_stripe,
    checkout_session_id,
    pay_page,
    payment_of_checkout,
    signed_in,
)
from tests.functional.billing.test_debits import (
    mails_to,
    reminders,
    slow_bank,
    statuses,
    wait_until,
)
from tests.functional.portal_support import Browser, Portal, text_of

__all__ = ["slow_bank"]  # the fixture: a portal Stripe's webhooks reach

TRANSFER_ONLY = {
    "payment_method_types": ["customer_balance"],
    "payment_method_options": {
        "customer_balance": {
            "funding_type": "bank_transfer",
            "bank_transfer": {"type": "eu_bank_transfer", "eu_bank_transfer": {"country": "DE"}},
        }
    },
}
QR_TITLE = "QR code for your banking app, with the transfer's details filled in"


def _de(text: str, **variables: Any) -> str:
    with i18n.use_locale("de"):
        return i18n.gettext(text, **variables)


def _customer(portal: Portal) -> tuple[str, str]:
    email = f"ueberweisung-{uuid.uuid4().hex[:8]}@example.de"
    return email, portal.customer(email=email, locale="de", name="Muster GmbH")


def _settled(portal: Portal) -> None:
    """Every webhook the sandbox has queued reached the portal."""
    httpx.get(f"{portal.settings.stripe_api_base}/_sandbox/webhooks/pending?wait=10")


def _fund(portal: Portal, customer: str, amount: int, reference: str) -> None:
    portal.sdk.v1.test_helpers.customers.fund_cash_balance(
        customer, {"amount": amount, "currency": "eur", "reference": reference}
    )
    _settled(portal)


def _instructions(portal: Portal, invoice: str) -> dict[str, Any]:
    """Stripe's instructions for the invoice, read through the SDK, not the portal."""
    (own,) = [
        p for p in portal.sdk.v1.invoice_payments.list({"invoice": invoice}).data if p.is_default
    ]
    intent = portal.sdk.v1.payment_intents.retrieve(str(own.payment.payment_intent))
    assert intent.next_action is not None
    found: dict[str, Any] = intent.next_action.display_bank_transfer_instructions.to_dict()
    return found


def _expected_qr(instructions: dict[str, Any], amount: int) -> str:
    """The EPC QR code the page must show, made by segno's own reading of the standard."""
    iban = instructions["financial_addresses"][0]["iban"]
    payload = segno.helpers._make_epc_qr_data(  # type: ignore[attr-defined]
        iban["account_holder_name"],
        iban["iban"],
        Decimal(amount) / 100,
        instructions["reference"],
        None,
        iban["bic"],
        None,
        "utf-8",
    ).decode()
    with i18n.use_locale("de"):
        return str(qr_svg(payload, title=i18n.gettext(QR_TITLE)))


def test_a_transfer_funded_in_part_then_in_full_pays_the_invoice(slow_bank: Portal) -> None:
    portal = slow_bank
    email, customer = _customer(portal)
    invoice = portal.invoice(customer, amount=12345, payment_settings=TRANSFER_ONLY)
    browser = signed_in(portal, email)
    instructions = _instructions(portal, invoice.id)
    iban = instructions["financial_addresses"][0]["iban"]

    page = browser.get(f"/invoices/{invoice.id}")
    text = text_of(page)
    assert _de("Pay by bank transfer") in text
    grouped = " ".join(re.findall(".{1,4}", iban["iban"]))
    assert grouped in text
    assert iban["bic"] in text
    assert iban["account_holder_name"] in text
    assert instructions["reference"] in text
    assert "123,45 €" in text
    assert _expected_qr(instructions, 12345) in page.text
    # Bank transfer is its only way to pay: the portal offers no card or mandate for it.
    assert f"/invoices/{invoice.id}/pay" not in page.text
    assert browser.post(f"/invoices/{invoice.id}/pay", {"what": "whole"}).status_code == 409
    overview = text_of(browser.get("/"))
    assert _de("By bank transfer to") in overview
    assert grouped in overview

    # 40.00 arrive: Stripe keeps them in the cash balance until the whole amount is there.
    _fund(portal, customer, 4000, instructions["reference"])
    assert portal.sdk.v1.invoices.retrieve(invoice.id).status == "open"
    page = browser.get(f"/invoices/{invoice.id}")
    assert _de(
        "Received so far: %(arrived)s. Still to transfer: %(left)s. The invoice counts as paid once the whole amount has arrived.",
        arrived="40,00\u00a0€",
        left="83,45\u00a0€",
    ).replace("\u00a0", " ") in text_of(page)
    assert _expected_qr(instructions, 8345) in page.text  # the QR asks for the rest only

    _fund(portal, customer, 8345, instructions["reference"])
    assert portal.sdk.v1.invoices.retrieve(invoice.id).status == "paid"
    page = browser.get(f"/invoices/{invoice.id}")
    assert _de("Pay by bank transfer") not in text_of(page)
    assert '<svg role="img"' not in page.text


def test_an_excess_stays_in_the_cash_balance_and_is_shown(slow_bank: Portal) -> None:
    portal = slow_bank
    email, customer = _customer(portal)
    invoice = portal.invoice(customer, amount=10000, payment_settings=TRANSFER_ONLY)
    browser = signed_in(portal, email)
    reference = _instructions(portal, invoice.id)["reference"]
    _fund(portal, customer, 15000, reference)
    assert portal.sdk.v1.invoices.retrieve(invoice.id).status == "paid"
    kept = portal.sdk.v1.customers.cash_balance.retrieve(customer).available
    assert kept is not None
    assert kept.to_dict() == {"eur": 5000}
    overview = text_of(browser.get("/"))
    assert (
        _de(
            "%(amount)s received by bank transfer and not yet applied: it pays your invoice once the whole amount has arrived, and any excess stays here for your next invoices.",
            amount="50,00 €",
        )
        in overview
    )


def test_a_credit_balance_is_shown_where_the_customer_looks_at_what_they_owe(
    slow_bank: Portal,
) -> None:
    portal = slow_bank
    email, customer = _customer(portal)
    portal.invoice(customer, amount=3000)  # gives the customer a currency
    portal.sdk.v1.customers.update(customer, {"balance": -2000})
    _settled(portal)
    overview = text_of(signed_in(portal, email).get("/"))
    assert _de("Your balance") in overview
    assert (
        _de("Credit of %(amount)s: it is deducted from your next invoice.", amount="20,00 €")
        in overview
    )


def test_a_reminder_carries_the_instructions_and_the_qr_code_inline(slow_bank: Portal) -> None:
    portal = slow_bank
    email, customer = _customer(portal)
    invoice = portal.invoice(customer, amount=5000, payment_settings=TRANSFER_ONLY)
    reminders(portal.settings, datetime.now(UTC) + timedelta(days=20))  # overdue by then
    wait_until(lambda: bool(mails_to(portal, email)))
    (mail,) = mails_to(portal, email)
    reference = _instructions(portal, invoice.id)["reference"]
    text, html = mail.part("text/plain") or "", mail.part("text/html") or ""
    assert reference in text
    assert "IBAN" in text
    assert 'src="cid:qr@portal"' in html
    (image,) = [p for p in mail.message.walk() if p.get_content_type() == "image/png"]
    assert image["Content-ID"] == "<qr@portal>"


def _to_stripe(browser: Browser, invoice: str) -> str:
    page = pay_page(browser, f"/invoices/{invoice}/pay?what=whole")
    action = re.search(r'action="[^"]*(/payments/[A-Za-z0-9_-]+)"', page.text)
    assert action
    return at_stripe(browser, browser.post(action.group(1), {"payment_method": "stripe"}))


def test_stripes_page_leaves_out_bank_transfer_for_an_invoice_with_its_own(
    slow_bank: Portal,
) -> None:
    portal = slow_bank
    email, customer = _customer(portal)
    invoice = portal.invoice(
        customer,
        amount=2000,
        payment_settings={**TRANSFER_ONLY, "payment_method_types": ["card", "customer_balance"]},
    )
    checkout = _to_stripe(signed_in(portal, email), invoice.id)
    session = portal.sdk.v1.checkout.sessions.retrieve(checkout_session_id(checkout))
    assert "customer_balance" not in session.payment_method_types


def test_a_transfer_chosen_on_stripes_page_is_awaited_then_counted(slow_bank: Portal) -> None:
    portal = slow_bank
    email, customer = _customer(portal)
    invoice = portal.invoice(customer, amount=2600)  # no bank transfer of its own
    browser = signed_in(portal, email)
    checkout = _to_stripe(browser, invoice.id)
    payment_id = payment_of_checkout(portal, checkout)
    chosen = httpx.post(checkout, data={"method": "customer_balance"})
    assert chosen.status_code == 303  # on to Stripe's instructions, the session complete
    _settled(portal)
    wait_until(lambda: statuses(portal, payment_id)[0][0] == "awaiting_payment")
    page = text_of(browser.get(f"/payments/{payment_id}"))
    assert _de("We are waiting for your payment") in page
    assert _de("Show the payment instructions") in page
    assert _de("Nothing was charged") not in page
    intent = portal.sdk.v1.checkout.sessions.retrieve(checkout_session_id(checkout)).payment_intent
    reference = portal.sdk.v1.payment_intents.retrieve(
        str(intent)
    ).next_action.display_bank_transfer_instructions.reference  # type: ignore[union-attr]
    _fund(portal, customer, 2600, str(reference))  # `checkout.session.async_payment_succeeded`
    wait_until(lambda: statuses(portal, payment_id)[0][0] == "succeeded")
    assert portal.sdk.v1.invoices.retrieve(invoice.id).status == "paid"
