"""A changed e-mail address is told to the old one, with a week to undo it; the change ends the
account's other sessions, and undoing it ends all of them (someone may hold a stolen one)."""

from __future__ import annotations

import re
from datetime import UTC, datetime, timedelta

from sqlalchemy import update

from portal import i18n
from portal.storage.tables import email_changes
from tests.functional.account.test_email_change import confirmation_link, request_change
from tests.functional.billing.billing_support import signed_in
from tests.functional.portal_support import Browser, Portal, text_of

UNDO = re.compile(r"(http://127\.0\.0\.1:\d+/account/email/undo/[A-Za-z0-9_-]+)")


def _confirm_elsewhere(portal: Portal, new: str) -> Browser:
    phone = portal.browser()
    page = phone.get(confirmation_link(portal, new))
    token = re.search(r'name="token" value="([^"]+)"', page.text)
    assert token
    assert phone.post("/account/email/confirm", {"token": token.group(1)}).status_code == 200
    return phone


def _undo_link(portal: Portal, old: str) -> str:
    mail = portal.wait_for_mail(old, count=2)  # after the sign-in e-mail
    found = UNDO.search(mail.part("text/plain") or "")
    assert found, mail.part("text/plain")
    return found.group(1).removeprefix(portal.url)


def _old_address(portal: Portal, customer: str) -> str:
    email = portal.sdk.v1.customers.retrieve(customer).email
    assert email
    return email


def test_the_old_address_is_told_and_other_sessions_end(portal: Portal) -> None:
    customer, new, laptop = request_change(portal)
    old = _old_address(portal, customer)
    assert laptop.get("/").status_code == 200
    _confirm_elsewhere(portal, new)
    notice = portal.wait_for_mail(old, count=2)  # after the sign-in e-mail
    with i18n.use_locale("de"):  # the customer's language, as Stripe knows it
        assert notice.subject == i18n.gettext(
            "Your e-mail address at %(company)s has been changed",
            company=portal.settings.company_name,
        )
    assert new in (notice.part("text/plain") or "")
    assert laptop.get("/").status_code == 303  # signed in under the old address: ended


def test_undo_restores_the_old_address_and_signs_everybody_out(portal: Portal) -> None:
    customer, new, _laptop = request_change(portal)
    old = _old_address(portal, customer)
    _confirm_elsewhere(portal, new)
    intruder = signed_in(portal, new)
    assert intruder.get("/").status_code == 200
    link = _undo_link(portal, old)

    owner = portal.browser()
    page = owner.get(link)
    assert page.status_code == 200
    assert page.headers["referrer-policy"] == "no-referrer"
    assert portal.sdk.v1.customers.retrieve(customer).email == new  # opening changes nothing
    token = re.search(r'name="token" value="([^"]+)"', page.text)
    assert token
    done = owner.post("/account/email/undo", {"token": token.group(1)})
    assert done.status_code == 200
    with i18n.use_locale("en"):
        assert i18n.gettext("Your e-mail address has been restored") in text_of(done)
    assert portal.sdk.v1.customers.retrieve(customer).email == old
    assert intruder.get("/").status_code == 303
    assert owner.post("/account/email/undo", {"token": token.group(1)}).status_code == 410


def test_an_undo_link_ends_after_a_week(portal: Portal) -> None:
    customer, new, _laptop = request_change(portal)
    old = _old_address(portal, customer)
    _confirm_elsewhere(portal, new)
    link = _undo_link(portal, old)
    with portal.db.begin() as conn:
        conn.execute(
            update(email_changes)
            .where(email_changes.c.customer_id == customer)
            .values(undo_expires_at=datetime.now(UTC) - timedelta(seconds=1))
        )
    assert portal.browser().get(link).status_code == 410
    assert portal.sdk.v1.customers.retrieve(customer).email == new
