"""Building e-mails for addresses with letters beyond ASCII, and the bytes that go out."""

from __future__ import annotations

import email
import email.policy
import unicodedata
from email.message import EmailMessage
from pathlib import Path

from portal.mail import messages
from portal.mail.messages import RenderedEmail
from tests.conftest import make_settings

RENDERED = RenderedEmail("Ihre Anmeldung", "Grüße,\nöffnen Sie den Link.\n", "<p>Grüße</p>", "de")


def built(tmp_path: Path, to: str, to_name: str | None = "Jürgen Groß") -> EmailMessage:
    return messages.build(make_settings(tmp_path), to=to, to_name=to_name, email=RENDERED)


def received(prepared: messages.Outgoing) -> EmailMessage:
    found = email.message_from_bytes(prepared.data, policy=email.policy.default)
    assert isinstance(found, EmailMessage)
    return found


def test_letters_beyond_ascii_before_the_at_are_built_and_need_smtputf8(tmp_path: Path) -> None:
    prepared = messages.prepare(built(tmp_path, "jürgen@example.de"))
    assert prepared.smtputf8
    assert prepared.recipients == ("jürgen@example.de",)
    assert "jürgen@example.de".encode() in prepared.data  # UTF-8, not an RFC 2047 word
    assert b"=?utf-8?" not in prepared.data.split(b"\r\n\r\n")[0]


def test_an_internationalized_domain_goes_out_in_its_xn_form(tmp_path: Path) -> None:
    prepared = messages.prepare(built(tmp_path, "Karl@Bücher.de"))
    assert prepared.recipients == ("Karl@xn--bcher-kva.de",)
    assert not prepared.smtputf8
    assert prepared.data.isascii()  # the name and subject as RFC 2047 words


def test_the_recipient_is_written_in_nfc(tmp_path: Path) -> None:
    typed = unicodedata.normalize("NFD", "jürgen@example.de")
    assert messages.prepare(built(tmp_path, typed)).recipients == ("jürgen@example.de",)
    assert messages.prepare(built(tmp_path, "\u212aarl@example.de")).recipients == (
        "Karl@example.de",
    )


def test_an_ascii_address_needs_nothing_of_the_server(tmp_path: Path) -> None:
    prepared = messages.prepare(built(tmp_path, "kunde@example.de"))
    assert not prepared.smtputf8
    assert prepared.data.isascii()  # bodies in quoted-printable: no 8BITMIME needed either
    assert prepared.sender == "billing@example.com"
    mail = received(prepared)
    assert str(mail["To"]) == "Jürgen Groß <kunde@example.de>"
    text = mail.get_body(("plain",))
    assert text is not None
    assert text.get_content().replace("\r\n", "\n") == RENDERED.text


def test_a_stored_message_is_sent_as_it_was_prepared(tmp_path: Path) -> None:
    for to in ("kunde@example.de", "jürgen@bücher.de"):
        prepared = messages.prepare(built(tmp_path, to))
        assert messages.from_stored(prepared.text) == prepared


def test_a_message_stored_whole_as_text_still_goes_out() -> None:
    # As earlier versions stored messages; some may still wait in an outbox.
    legacy = EmailMessage()
    legacy["From"] = "Billing <billing@example.com>"
    legacy["To"] = "Anna <kunde@example.de>"
    legacy["Subject"] = "Anmeldung"
    legacy.set_content("Grüße\n", cte="8bit")
    prepared = messages.from_stored(legacy.as_string())
    assert (prepared.sender, prepared.recipients) == ("billing@example.com", ("kunde@example.de",))
    body = received(prepared).get_body(("plain",))
    assert body is not None
    assert body.get_content() == "Grüße\n"
