"""Sending over real SMTP (an aiosmtpd server on loopback), and the demo's mailbox."""

from __future__ import annotations

from email.message import EmailMessage
from pathlib import Path

import pytest

from portal.mail import smtp as smtp_module
from portal.mail.messages import Outgoing, mailbox, prepare
from portal.mail.smtp import MailDeliveryFailed, MailUndeliverable, offers_smtputf8, send
from portal.settings import parse_smtp_url
from portal_dev.mailbox import DevMailbox, DevMailServer
from tests.conftest import make_settings
from tests.functional.app_support import portal_client
from tests.support.servers import free_port

pytestmark = pytest.mark.anyio


@pytest.fixture(autouse=True)
def nothing_seen_of_servers(monkeypatch: pytest.MonkeyPatch) -> None:
    # Ports are reused: what one test's server offered says nothing of the next one's.
    monkeypatch.setattr(smtp_module, "_SMTPUTF8_SEEN", {})


def message(to: str = "kunde@example.de") -> Outgoing:
    msg = EmailMessage()
    msg["From"] = "Billing <billing@example.com>"
    msg["To"] = mailbox("Jürgen", to)
    msg["Subject"] = "Ihre Anmeldung"
    msg.set_content("Anmelden: http://127.0.0.1:8000/sign-in/abc")
    msg.add_alternative(
        "<p><a href='http://127.0.0.1:8000/sign-in/abc'>Anmelden</a></p>", subtype="html"
    )
    return prepare(msg)


async def test_message_reaches_a_real_smtp_server() -> None:
    box = DevMailbox(echo=None)
    server = DevMailServer(box, free_port())
    server.start()
    try:
        await send(parse_smtp_url(f"smtp://127.0.0.1:{server.port}?tls=none"), message())
    finally:
        server.stop()
    (mail,) = box.messages()
    assert mail.recipients == ("kunde@example.de",)
    assert mail.subject == "Ihre Anmeldung"
    assert "sign-in/abc" in (mail.part("text/plain") or "")
    assert "<a href" in (mail.part("text/html") or "")


async def test_starttls_is_required_unless_turned_off() -> None:
    # aiosmtpd offers no STARTTLS here: a portal set up for STARTTLS must refuse to send in clear.
    box = DevMailbox(echo=None)
    server = DevMailServer(box, free_port())
    server.start()
    try:
        with pytest.raises(MailDeliveryFailed):
            await send(parse_smtp_url(f"smtp://127.0.0.1:{server.port}"), message())
    finally:
        server.stop()
    assert box.messages() == []


async def test_unreachable_server_is_a_delivery_failure() -> None:
    with pytest.raises(MailDeliveryFailed):
        await send(parse_smtp_url(f"smtp://127.0.0.1:{free_port()}?tls=none&timeout=2"), message())


async def test_letters_beyond_ascii_reach_a_server_that_offers_smtputf8() -> None:
    box = DevMailbox(echo=None)
    server = DevMailServer(box, free_port(), smtputf8=True)
    server.start()
    try:
        settings = parse_smtp_url(f"smtp://127.0.0.1:{server.port}?tls=none")
        await send(settings, message("jürgen@bücher.de"))
        assert await offers_smtputf8(settings) is True
    finally:
        server.stop()
    (mail,) = box.messages()
    assert mail.recipients == ("jürgen@xn--bcher-kva.de",)
    assert str(mail.message["To"]) == "Jürgen <jürgen@xn--bcher-kva.de>"
    assert "sign-in/abc" in (mail.part("text/plain") or "")


async def test_letters_beyond_ascii_are_undeliverable_where_smtputf8_is_not_offered() -> None:
    box = DevMailbox(echo=None)
    server = DevMailServer(box, free_port())
    server.start()
    try:
        settings = parse_smtp_url(f"smtp://127.0.0.1:{server.port}?tls=none")
        with pytest.raises(MailUndeliverable, match="SMTPUTF8"):
            await send(settings, message("jürgen@example.de"))
        assert await offers_smtputf8(settings) is False
        await send(settings, message("karl@bücher.de"))  # a domain needs nothing of it
    finally:
        server.stop()
    assert [m.recipients for m in box.messages()] == [("karl@xn--bcher-kva.de",)]


async def test_whether_smtputf8_is_offered_is_asked_once_and_unknown_while_unreachable() -> None:
    port = free_port()
    settings = parse_smtp_url(f"smtp://127.0.0.1:{port}?tls=none&timeout=2")
    assert await offers_smtputf8(settings) is None
    box = DevMailbox(echo=None)
    server = DevMailServer(box, port, smtputf8=True)
    server.start()
    try:
        assert await offers_smtputf8(settings) is True
    finally:
        server.stop()
    assert await offers_smtputf8(settings) is True  # as seen, for a while


def test_mailbox_pages_exist_only_in_demo_mode(tmp_path: Path) -> None:
    box = DevMailbox(echo=None)
    box.add("billing@example.com", ["kunde@example.de"], message().data)
    with portal_client(make_settings(tmp_path), mailbox=box) as client:
        listing = client.get("/_dev/mail")
        shown = client.get("/_dev/mail/1")
        assert client.get("/_dev/mail/2").status_code == 404
    assert "Ihre Anmeldung" in listing.text
    assert 'href="http://127.0.0.1:8000/sign-in/abc"' in shown.text
    with portal_client(make_settings(tmp_path / "prod")) as client:
        assert client.get("/_dev/mail").status_code == 404
