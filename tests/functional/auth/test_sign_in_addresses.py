"""Signing in with addresses beyond ASCII: Stripe's address is found however it was typed (NFC
or NFD, the Kelvin sign, the domain in Unicode or xn-- form), a look-alike finds nobody, and
where the mail server cannot carry an address the form says so, the same for everyone."""

from __future__ import annotations

import time
import unicodedata

from portal import i18n
from portal.stripe import emails
from portal_dev.mailbox import ReceivedMail
from tests.functional.portal_support import (
    Portal,
    link_in,
    text_of,
    unique,
)


def mail_to(portal: Portal, address: str, timeout: float = 10) -> ReceivedMail:
    """The e-mail whose envelope names `address`, however spelt."""
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        for mail in portal.mailbox.messages():
            if any(emails.same(r, address) for r in mail.recipients):
                return mail
        time.sleep(0.05)
    raise AssertionError(f"no e-mail to {address}")


def signs_in(portal: Portal, typed: str) -> ReceivedMail:
    browser = portal.browser()
    assert browser.request_link(typed).status_code == 303
    mail = mail_to(portal, typed)
    assert browser.get(link_in(mail)).status_code == 303
    browser.get("/sign-in/confirm")
    assert browser.post("/sign-in/confirm").status_code == 303
    assert browser.get("/").status_code == 200
    return mail


def test_an_address_with_letters_beyond_ascii_signs_in_typed_decomposed(
    utf8_portal: Portal,
) -> None:
    kept = unique("jürgen", "bücher.de")  # as Stripe keeps it, composed
    utf8_portal.customer(email=kept)
    mail = signs_in(utf8_portal, unicodedata.normalize("NFD", kept))
    local = kept.split("@")[0]
    assert mail.recipients == (f"{local}@xn--bcher-kva.de",)  # the domain as DNS knows it


def test_an_address_stripe_keeps_decomposed_is_found_typed_composed(utf8_portal: Portal) -> None:
    typed = unique("jürgen")
    utf8_portal.customer(email=unicodedata.normalize("NFD", typed))  # typed on a Mac
    signs_in(utf8_portal, typed)


def test_the_kelvin_sign_finds_the_customer_with_the_letter_k(portal: Portal) -> None:
    kept = unique("karl")
    portal.customer(email=kept)
    mail = signs_in(portal, "\u212a" + kept[1:])
    assert mail.recipients == ("K" + kept[1:],)  # the letter K, the customer's own mailbox


def test_a_domain_typed_in_its_xn_form_finds_the_customer_without_smtputf8(
    portal: Portal,
) -> None:
    kept = unique("karl", "bücher.de")
    portal.customer(email=kept)
    signs_in(portal, kept.replace("bücher.de", "xn--bcher-kva.de"))


def test_a_look_alike_address_finds_nobody(utf8_portal: Portal) -> None:
    kept = unique("karl")
    utf8_portal.customer(email=kept)
    look_alike = "k\u0430" + kept[2:]  # a Cyrillic a
    assert utf8_portal.browser().request_link(look_alike).status_code == 303
    assert utf8_portal.browser().request_link(kept).status_code == 303
    mail_to(utf8_portal, kept)  # sent after the look-alike's answer: that one would be here
    recipients = [r for m in utf8_portal.mailbox.messages() for r in m.recipients]
    assert look_alike not in recipients
    assert recipients.count(kept) == 1


def test_where_the_server_lacks_smtputf8_the_form_says_so_for_customers_and_strangers(
    portal: Portal,
) -> None:
    customer = unique("jürgen")
    portal.customer(email=customer)
    typed = (customer, unique("jürgen"))
    answers = [portal.browser(**{"Accept-Language": "en"}).request_link(t) for t in typed]
    with i18n.use_locale("en"):
        message = i18n.gettext(
            "We cannot send e-mail to addresses with accented or non-Latin letters before the @. Please enter another address."
        )
    for answer, address in zip(answers, typed, strict=True):
        assert answer.status_code == 400
        assert 'id="email-error"' in answer.text
        assert message in text_of(answer)
        assert f'value="{address}"' in answer.text  # the input kept
    time.sleep(0.5)
    assert not any(
        emails.same(r, customer) for m in portal.mailbox.messages() for r in m.recipients
    )


def test_full_width_letters_are_sent_back_to_be_typed_again(portal: Portal) -> None:
    answer = portal.browser().request_link("\uff4barl@example.de")
    assert answer.status_code == 400
    assert 'id="email-error"' in answer.text
