"""Changing the e-mail address: nothing changes until the link sent to the new address is used,
once, within its time."""

from __future__ import annotations

import re
import uuid

from portal import i18n
from tests.functional.billing.billing_support import signed_in
from tests.functional.portal_support import Browser, Portal, text_of

CONFIRM = re.compile(r"(http://127\.0\.0\.1:\d+/account/email/confirm/[A-Za-z0-9_-]+)")


def request_change(portal: Portal) -> tuple[str, str, Browser]:
    old = f"alt-{uuid.uuid4().hex[:8]}@example.de"
    new = f"neu-{uuid.uuid4().hex[:8]}@example.de"
    customer = portal.customer(email=old)
    browser = signed_in(portal, old)
    browser.get("/account")
    answer = browser.post("/account/email", {"email": new})
    assert answer.status_code == 200, answer.text
    assert new in text_of(answer)
    return customer, new, browser


def confirmation_link(portal: Portal, new: str) -> str:
    mail = portal.wait_for_mail(new)
    found = CONFIRM.search(mail.part("text/plain") or "")
    assert found
    return found.group(1).removeprefix(portal.url)


def test_the_address_changes_only_once_the_new_one_confirms(portal: Portal) -> None:
    customer, new, _browser = request_change(portal)
    assert portal.sdk.v1.customers.retrieve(customer).email != new  # not yet
    link = confirmation_link(portal, new)
    # Opened in another browser (the phone the mail arrived on): a page with a button.
    phone = portal.browser()
    page = phone.get(link)
    assert page.status_code == 200
    assert page.headers["referrer-policy"] == "no-referrer"
    assert portal.sdk.v1.customers.retrieve(customer).email != new  # opening changes nothing
    token = re.search(r'name="token" value="([^"]+)"', page.text)
    assert token
    done = phone.post("/account/email/confirm", {"token": token.group(1)})
    assert done.status_code == 200
    assert portal.sdk.v1.customers.retrieve(customer).email == new
    again = phone.post("/account/email/confirm", {"token": token.group(1)})
    assert again.status_code == 410  # once


def test_a_newer_request_supersedes_the_older_link(portal: Portal) -> None:
    customer, new, browser = request_change(portal)
    first = confirmation_link(portal, new)
    newer = f"neuer-{uuid.uuid4().hex[:8]}@example.de"
    browser.post("/account/email", {"email": newer})
    assert browser.get(first).status_code == 410
    assert portal.sdk.v1.customers.retrieve(customer).email not in (new, newer)


def test_a_tampered_link_gets_a_clear_page(portal: Portal) -> None:
    page = portal.browser().get("/account/email/confirm/not-a-real-token")
    assert page.status_code == 410
    with i18n.use_locale("en"):
        assert i18n.gettext("This link cannot be used") in text_of(page)


def test_a_malformed_address_is_explained_next_to_the_field(portal: Portal) -> None:
    email = f"alt-{uuid.uuid4().hex[:8]}@example.de"
    portal.customer(email=email)
    browser = signed_in(portal, email)
    browser.get("/account")
    answer = browser.post("/account/email", {"email": "not an address"})
    assert answer.status_code == 400
    assert 'id="email-error"' in answer.text
    assert 'value="not an address"' in answer.text
