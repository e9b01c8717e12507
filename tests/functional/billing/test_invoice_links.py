"""E-mailed invoice links and the "invoice ready" e-mail, through the portal's HTTP interface,
real SMTP (aiosmtpd) and the sandbox: the link opens and pays its invoice without a sign-in, and
reaches nothing else."""

from __future__ import annotations

import re
import time
import uuid
from collections.abc import Iterator
from datetime import UTC, datetime, timedelta
from pathlib import Path

import httpx
import pytest

from portal import i18n
from portal.identity import invoice_links as links
from portal_dev.mailbox import ReceivedMail
from tests.functional.billing.billing_support import (
    at_stripe,
    back_from_stripe,
    charged,
    customer_with_card,
    follow,
    open_pay_page,
    signed_in,
    start_payment,
)
from tests.functional.billing.test_webhooks import deliver, event
from tests.functional.portal_support import Browser, Portal, serve_portal, text_of

INVOICE_LINK = re.compile(r"(http://127\.0\.0\.1:\d+/i/[A-Za-z0-9_.-]+)")


@pytest.fixture(scope="module")
def portal(sandbox_url: str, tmp_path_factory: pytest.TempPathFactory) -> Iterator[Portal]:
    """This deployment sends its own "invoice ready" e-mails."""
    with serve_portal(tmp_path_factory.mktemp("links"), sandbox_url, invoice_emails=True) as found:
        yield found


def finalized(portal: Portal, locale: str = "pl", **extra: object) -> tuple[str, str, str]:
    email = f"link-{uuid.uuid4().hex[:8]}@example.pl"
    customer = portal.customer(email=email, name="Kowalski Sp. z o.o.", locale=locale)
    invoice = portal.invoice(customer, amount=24600, currency="pln", **extra).id  # type: ignore[arg-type]
    stale = {"id": invoice, "object": "invoice", "customer": customer, "status": "draft"}
    assert deliver(portal, event("invoice.finalized", stale)).status_code == 200
    return email, customer, invoice


def link_in(mail: ReceivedMail) -> str:
    found = INVOICE_LINK.search(mail.part("text/plain") or "")
    assert found, mail.part("text/plain")
    return found.group(1)


def opened(portal: Portal, link: str) -> tuple[Browser, httpx.Response]:
    browser = portal.browser()
    answer = browser.get(link.removeprefix(portal.url))
    return browser, follow(browser, answer)


def test_a_finalized_invoice_sends_one_email_whose_link_opens_and_pays_it(portal: Portal) -> None:
    email, customer, invoice = finalized(portal)
    mail = portal.wait_for_mail(email)
    assert mail.message["Content-Language"] == "pl"
    number = portal.sdk.v1.invoices.retrieve(invoice).number
    assert number
    assert number in str(mail.message["Subject"])
    assert "246,00 zł" in (mail.part("text/plain") or "").replace("\u00a0", " ")
    # Delivered again (Stripe retries): still one e-mail.
    stale = {"id": invoice, "object": "invoice", "customer": customer}
    deliver(portal, event("invoice.finalized", stale))
    time.sleep(0.3)
    assert len([m for m in portal.mailbox.messages() if email in m.recipients]) == 1

    browser, page = opened(portal, link_in(mail))
    assert page.status_code == 200
    assert '<html lang="pl">' in page.text
    assert "/payment-methods" not in page.text  # nothing else of the account is offered
    assert f"/sign-in?email={email.replace('@', '%40')}" in page.text
    start = start_payment(browser, f"/invoices/{invoice}/pay?what=whole")
    pay_page = browser.get(start.headers["location"])
    assert 'value="pm_' not in pay_page.text  # saved methods are not shown through a link
    action = re.search(r'action="[^"]*(/payments/[A-Za-z0-9_-]+)"', pay_page.text)
    assert action
    checkout = at_stripe(browser, browser.post(action.group(1), {"payment_method": "new"}))
    answer = httpx.post(checkout, data={"method": "card", "card": "pm_card_visa", "name": "Jan"})
    result = back_from_stripe(browser, answer)
    with i18n.use_locale("pl"):
        assert i18n.gettext("Thank you for your payment") in text_of(result)
    assert portal.sdk.v1.invoices.retrieve(invoice).status == "paid"
    assert charged(portal, customer) == [24600]


def test_a_link_to_someone_elses_invoice_pays_from_the_link_in_a_signed_in_browser(
    portal: Portal,
) -> None:
    """Signed in as one customer, the link to another's invoice shows it as an invoice link
    (nothing of the session's account) and pays it from the link, not into a 404."""
    mine, _, _ = customer_with_card(portal)
    _, customer, invoice = finalized(portal)
    token = links.make(portal.settings.secret_key, invoice, customer, locale="pl")
    browser = signed_in(portal, mine)
    page = follow(browser, browser.get(f"/i/{token}"))
    assert page.status_code == 200
    assert "/payment-methods" not in page.text  # the link's page, not the session's
    start = start_payment(browser, f"/invoices/{invoice}/pay?what=whole")
    pay_page = browser.get(start.headers["location"])
    assert pay_page.status_code == 200, pay_page.text
    assert 'value="pm_' not in pay_page.text  # the session's saved methods are not offered
    action = re.search(r'action="[^"]*(/payments/[A-Za-z0-9_-]+)"', pay_page.text)
    assert action
    checkout = at_stripe(browser, browser.post(action.group(1), {"payment_method": "new"}))
    answer = httpx.post(checkout, data={"method": "card", "card": "pm_card_visa", "name": "Jan"})
    result = back_from_stripe(browser, answer)
    assert result.status_code == 200
    with i18n.use_locale("pl"):
        assert i18n.gettext("Thank you for your payment") in text_of(result)
    assert charged(portal, customer) == [24600]
    assert browser.get("/").status_code == 200  # the session is still its own


def test_a_link_to_an_invoice_of_another_of_ones_accounts_opens_and_pays_it(
    portal: Portal,
) -> None:
    """One address, two companies, the first one active: the link to the second's invoice
    acts for the second within the session, with its saved card."""
    email, first, _ = customer_with_card(portal)
    second = portal.customer(email=email, name="Zweite GmbH")
    pm = portal.sdk.v1.payment_methods.attach("pm_card_visa", {"customer": second}).id
    invoice = portal.invoice(second, amount=7000).id
    browser = portal.browser()
    browser.sign_in(email)
    browser.get("/accounts")
    browser.post("/accounts", {"customer": first})
    token = links.make(portal.settings.secret_key, invoice, second)
    page = follow(browser, browser.get(f"/i/{token}"))
    assert page.status_code == 200, page.text
    action = open_pay_page(browser, invoice, "whole")
    result = follow(browser, browser.post(action, {"payment_method": pm}))
    assert result.status_code == 200
    assert charged(portal, second) == [7000]
    assert portal.sdk.v1.invoices.retrieve(invoice).status == "paid"


def test_the_link_reaches_nothing_else(portal: Portal) -> None:
    email, customer, invoice = finalized(portal)
    other = portal.invoice(customer, amount=5000, currency="pln").id
    browser, _ = opened(portal, link_in(portal.wait_for_mail(email)))
    for path in (f"/invoices/{other}", f"/invoices/{other}/pdf", "/", "/payment-methods",
                 "/account", "/account/tax-ids", "/history"):  # fmt: skip
        answer = browser.get(path)
        assert answer.status_code in (303, 404), path
        if answer.status_code == 303:
            assert "/sign-in" in answer.headers["location"], path
    assert browser.get(f"/invoices/{other}/pay?what=whole").status_code in (303, 404)
    assert browser.get(f"/invoices/{invoice}/pdf").status_code == 200  # its own PDF


def test_tampered_foreign_and_expired_links_get_a_clear_page(portal: Portal) -> None:
    _, customer, invoice = finalized(portal)
    secret = portal.settings.secret_key
    other_customer = portal.customer()
    long_ago = datetime.now(UTC) - timedelta(days=560)
    tokens = {
        "tampered": links.make(secret, invoice, customer)[:-3] + "abc",
        "foreign": links.make(secret, invoice, other_customer),
        "other secret": links.make("another-secret-" + "x" * 40, invoice, customer),
        "expired": links.make(secret, invoice, customer, now=long_ago),
    }
    for why, token in tokens.items():
        page = portal.browser().get(f"/i/{token}")
        assert page.status_code == 410, why
        assert "Kowalski" not in page.text, why  # no data
        assert invoice not in page.text, why


def test_a_settled_invoice_says_so_for_30_days_then_the_link_ends(
    portal: Portal, stripe_faults: httpx.Client
) -> None:
    _, customer, invoice = finalized(portal, locale="de")
    portal.sdk.v1.invoices.pay(invoice, {"paid_out_of_band": True})
    token = links.make(portal.settings.secret_key, invoice, customer, locale="de")
    browser, page = opened(portal, f"{portal.url}/i/{token}")
    assert page.status_code == 200
    with i18n.use_locale("de"):
        assert i18n.gettext("This invoice is paid. Thank you! You can still download it here.") in (
            text_of(page)
        )
    assert f"/invoices/{invoice}/pdf" in page.text
    # An invoice paid 31 days ago (the sandbox's clock set back while paying it).
    _, customer, old = finalized(portal, locale="de")
    stripe_faults.post("/_sandbox/clock", json={"advance": -31 * 86400})
    try:
        portal.sdk.v1.invoices.pay(old, {"paid_out_of_band": True})
    finally:
        stripe_faults.post("/_sandbox/clock", json={"reset": True})
    old_token = links.make(portal.settings.secret_key, old, customer)
    assert portal.browser().get(f"/i/{old_token}").status_code == 410
    # A browser that kept the cookie sees the end as well.
    browser.client.cookies.set("portal_invoice", old_token)
    assert browser.get(f"/invoices/{old}").status_code == 410


def test_the_invoice_link_command_prints_a_working_link(portal: Portal, tmp_path: Path) -> None:
    from tests.functional.test_cli import run_portal

    _, _, invoice = finalized(portal)
    env = {
        "PORTAL_BASE_URL": portal.url,
        "PORTAL_SECRET_KEY": portal.settings.secret_key,
        "PORTAL_STRIPE_API_KEY": portal.settings.stripe_api_key,
        "PORTAL_STRIPE_API_BASE": portal.settings.stripe_api_base,
        "PORTAL_STRIPE_WEBHOOK_SECRET": portal.settings.stripe_webhook_secret,
        "PORTAL_SMTP_URL": "smtp://127.0.0.1:1?tls=none",
        "PORTAL_MAIL_FROM": "billing@example.com",
        "PORTAL_DATA_DIR": str(tmp_path),
    }
    result = run_portal("invoice-link", invoice, env=env, cwd=tmp_path)
    assert result.returncode == 0, result.stderr
    link = result.stdout.strip()
    assert link.startswith(f"{portal.url}/i/")
    _, page = opened(portal, link)
    assert page.status_code == 200
