"""Changing to an address beyond ASCII: sent where the mail server offers SMTPUTF8, refused next
to the field where it does not (never a 500), and another spelling of one's own address is
recognised as one's own."""

from __future__ import annotations

import re
import unicodedata

import httpx

from portal import i18n
from tests.functional.billing.billing_support import signed_in
from tests.functional.portal_support import (
    Browser,
    Portal,
    text_of,
    unique,
)

CONFIRM = re.compile(r"(http://127\.0\.0\.1:\d+/account/email/confirm/[A-Za-z0-9_-]+)")


def customer_signed_in(portal: Portal, email: str | None = None) -> tuple[str, Browser]:
    email = email or unique("alt")
    customer = portal.customer(email=email)
    browser = signed_in(portal, email)
    browser.get("/account")
    return customer, browser


def shows(answer: httpx.Response, message: str) -> bool:
    """Whether the page shows `message` in the page's language."""
    lang = re.search(r'<html lang="([^"]+)"', answer.text)
    assert lang
    with i18n.use_locale(lang.group(1)):
        return i18n.gettext(message) in text_of(answer)


def test_where_the_server_lacks_smtputf8_such_an_address_is_refused_next_to_the_field(
    portal: Portal,
) -> None:
    _customer, browser = customer_signed_in(portal)
    new = unique("jürgen")
    answer = browser.post("/account/email", {"email": new})
    assert answer.status_code == 400
    assert 'id="email-error"' in answer.text
    assert f'value="{new}"' in answer.text
    assert shows(
        answer,
        "We cannot send e-mail to addresses with accented or non-Latin letters before the @. Please enter another address.",
    )


def test_where_the_server_offers_smtputf8_such_an_address_is_confirmed_and_kept(
    utf8_portal: Portal,
) -> None:
    customer, browser = customer_signed_in(utf8_portal)
    new = unique("jürgen", "bücher.de")
    answer = browser.post("/account/email", {"email": unicodedata.normalize("NFD", new)})
    assert answer.status_code == 200, answer.text
    local = new.split("@")[0]
    mail = utf8_portal.wait_for_mail(f"{local}@xn--bcher-kva.de")
    found = CONFIRM.search(mail.part("text/plain") or "")
    assert found
    page = browser.get(found.group(1).removeprefix(utf8_portal.url))
    token = re.search(r'name="token" value="([^"]+)"', page.text)
    assert token
    done = browser.post("/account/email/confirm", {"token": token.group(1)})
    assert done.status_code == 200
    assert utf8_portal.sdk.v1.customers.retrieve(customer).email == new  # in NFC


def test_ones_own_address_in_another_spelling_is_recognised(utf8_portal: Portal) -> None:
    own = unique("Jürgen")
    _customer, browser = customer_signed_in(utf8_portal, own)
    for spelling in (
        unicodedata.normalize("NFD", own),
        own.replace("J", "j", 1).replace("example.de", "EXAMPLE.DE"),
    ):
        answer = browser.post("/account/email", {"email": spelling})
        assert answer.status_code == 400
        assert shows(answer, "This is already your e-mail address.")


def test_full_width_letters_are_refused_next_to_the_field(portal: Portal) -> None:
    _customer, browser = customer_signed_in(portal)
    answer = browser.post("/account/email", {"email": "\uff4barl@example.de"})
    assert answer.status_code == 400
    assert 'id="email-error"' in answer.text
