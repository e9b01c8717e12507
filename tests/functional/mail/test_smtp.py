"""Sending over real SMTP (an aiosmtpd server on loopback), and the demo's mailbox."""

from __future__ import annotations

from email.message import EmailMessage
from pathlib import Path

import pytest

from portal.mail.smtp import MailDeliveryFailed, send
from portal.settings import parse_smtp_url
from portal_dev.mailbox import DevMailbox, DevMailServer
from tests.conftest import make_settings
from tests.functional.app_support import portal_client
from tests.support.servers import free_port

pytestmark = pytest.mark.anyio


def message(to: str = "kunde@example.de") -> EmailMessage:
    msg = EmailMessage()
    msg["From"] = "Billing <billing@example.com>"
    msg["To"] = to
    msg["Subject"] = "Ihre Anmeldung"
    msg.set_content("Anmelden: http://127.0.0.1:8000/sign-in/abc")
    msg.add_alternative(
        "<p><a href='http://127.0.0.1:8000/sign-in/abc'>Anmelden</a></p>", subtype="html"
    )
    return msg


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


def test_mailbox_pages_exist_only_in_demo_mode(tmp_path: Path) -> None:
    box = DevMailbox(echo=None)
    box.add("billing@example.com", ["kunde@example.de"], message().as_bytes())
    with portal_client(make_settings(tmp_path), mailbox=box) as client:
        listing = client.get("/_dev/mail")
        shown = client.get("/_dev/mail/1")
        assert client.get("/_dev/mail/2").status_code == 404
    assert "Ihre Anmeldung" in listing.text
    assert 'href="http://127.0.0.1:8000/sign-in/abc"' in shown.text
    with portal_client(make_settings(tmp_path / "prod")) as client:
        assert client.get("/_dev/mail").status_code == 404
