"""The development mailbox of `portal demo`: a real SMTP server on loopback that keeps every
message in memory, prints it to the console and lists it on the demo's pages
(`portal_dev.demo.mailbox_pages`), so that a newcomer can click a sign-in link without a mail
account. `portal bench` and the tests use it as their SMTP server too."""

from __future__ import annotations

import email
import email.policy
import threading
from collections.abc import Callable
from dataclasses import dataclass
from datetime import UTC, datetime
from email.message import EmailMessage
from typing import Any

from aiosmtpd.controller import Controller


@dataclass(frozen=True)
class ReceivedMail:
    number: int
    received_at: datetime
    sender: str
    recipients: tuple[str, ...]
    message: EmailMessage

    @property
    def subject(self) -> str:
        return str(self.message.get("Subject", ""))

    def part(self, content_type: str) -> str | None:
        for part in self.message.walk():
            if part.get_content_type() == content_type and not part.is_multipart():
                return str(part.get_content())
        return None


class DevMailbox:
    """Collects messages; thread-safe because aiosmtpd serves from its own thread."""

    def __init__(self, echo: Callable[[str], None] | None = print) -> None:
        self._messages: list[ReceivedMail] = []
        self._lock = threading.Lock()
        self._echo = echo

    def messages(self) -> list[ReceivedMail]:
        with self._lock:
            return list(reversed(self._messages))

    def get(self, number: int) -> ReceivedMail | None:
        with self._lock:
            return next((m for m in self._messages if m.number == number), None)

    def add(self, sender: str, recipients: list[str], raw: bytes) -> ReceivedMail:
        message = email.message_from_bytes(raw, policy=email.policy.default)
        assert isinstance(message, EmailMessage)
        with self._lock:
            mail = ReceivedMail(
                len(self._messages) + 1, datetime.now(UTC), sender, tuple(recipients), message
            )
            self._messages.append(mail)
        if self._echo:
            text = mail.part("text/plain") or ""
            self._echo(
                f"\n--- mail #{mail.number} to {', '.join(recipients)}: {mail.subject}\n{text.strip()}\n---"
            )
        return mail

    # aiosmtpd handler hook
    async def handle_DATA(self, server: Any, session: Any, envelope: Any) -> str:
        self.add(envelope.mail_from, list(envelope.rcpt_tos), envelope.original_content)
        return "250 Message accepted for delivery"


class DevMailServer:
    """Runs a `DevMailbox` as an SMTP server on 127.0.0.1:`port` in a background thread;
    with `smtputf8`, it offers SMTPUTF8 (RFC 6531: addresses with letters beyond ASCII)."""

    def __init__(self, mailbox: DevMailbox, port: int, *, smtputf8: bool = False) -> None:
        self.mailbox = mailbox
        self.port = port
        self._controller = Controller(
            mailbox, hostname="127.0.0.1", port=port, enable_SMTPUTF8=smtputf8
        )

    def start(self) -> None:
        self._controller.start()

    def stop(self) -> None:
        self._controller.stop()
