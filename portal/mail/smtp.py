"""Sending over real SMTP with aiosmtplib, as `PORTAL_SMTP_URL` says."""

from __future__ import annotations

import asyncio
import socket
import time
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager

import aiosmtplib

from portal.mail.messages import Outgoing
from portal.settings import SmtpSettings


class MailDeliveryFailed(Exception):
    """The message was not accepted by the mail server; it may be retried later."""


class MailUndeliverable(MailDeliveryFailed):
    """The message can never go out through this server (an address needs SMTPUTF8, which it
    does not offer): trying again would fail again."""


# Whether each mail server offered SMTPUTF8 when last greeted (every send greets it), and when:
# forms ask it before promising an e-mail to an address that needs it.
_SMTPUTF8_SEEN: dict[SmtpSettings, tuple[bool, float]] = {}
SMTPUTF8_KNOWN_FOR = 600.0  # seconds
PROBE_TIMEOUT = 5.0  # seconds: a form waits no longer for an unreachable server
_ehlo_hostname: str | None = None  # this host's name, found once (a DNS look-up)


async def send(smtp: SmtpSettings, message: Outgoing) -> None:
    """Hand `message` to the server: its envelope and bytes as prepared, nothing re-encoded."""
    try:
        async with _greeted(smtp, smtp.timeout) as client:
            options = []
            if message.smtputf8:
                if not client.supports_extension("smtputf8"):
                    raise MailUndeliverable(
                        f"the mail server does not offer SMTPUTF8, which sending to"
                        f" {', '.join(message.recipients)} needs"
                    )
                options.append("SMTPUTF8")
            if not message.data.isascii() and client.supports_extension("8bitmime"):
                options.append("BODY=8BITMIME")
            try:
                await client.sendmail(
                    message.sender, list(message.recipients), message.data, mail_options=options
                )
            except ValueError as exc:  # an address that cannot go on an SMTP command line
                raise MailUndeliverable(f"{type(exc).__name__}: {exc}") from exc
    except (aiosmtplib.SMTPException, OSError, TimeoutError) as exc:
        raise MailDeliveryFailed(f"{type(exc).__name__}: {exc}") from exc


async def check(smtp: SmtpSettings) -> None:
    """Connect, say EHLO and sign in as a send would, sending nothing (`portal doctor`)."""
    try:
        async with _greeted(smtp, min(smtp.timeout, PROBE_TIMEOUT)):
            pass
    except (aiosmtplib.SMTPException, OSError, TimeoutError) as exc:
        raise MailDeliveryFailed(f"{type(exc).__name__}: {exc}") from exc


async def offers_smtputf8(smtp: SmtpSettings) -> bool | None:
    """Whether the server takes addresses with letters beyond ASCII before the @, as last
    seen (asked again after SMTPUTF8_KNOWN_FOR); None when it cannot be reached now."""
    seen = _SMTPUTF8_SEEN.get(smtp)
    if seen is not None and time.monotonic() - seen[1] < SMTPUTF8_KNOWN_FOR:
        return seen[0]
    try:
        async with _greeted(smtp, min(smtp.timeout, PROBE_TIMEOUT)) as client:
            return client.supports_extension("smtputf8")
    except (aiosmtplib.SMTPException, OSError, TimeoutError):
        return None


@asynccontextmanager
async def _greeted(smtp: SmtpSettings, seconds: float) -> AsyncIterator[aiosmtplib.SMTP]:
    """A connection that has said EHLO (after STARTTLS and login, where asked for)."""
    client = aiosmtplib.SMTP(
        hostname=smtp.host,
        port=smtp.port,
        username=smtp.username,
        password=smtp.password,
        use_tls=smtp.security == "tls",
        # STARTTLS is demanded, not merely attempted, unless plain text was chosen
        # explicitly: credentials and sign-in links must not cross a network in the clear.
        start_tls=smtp.security == "starttls",
        timeout=seconds,
        local_hostname=await _ehlo_name(),
    )
    async with client:
        if client.is_ehlo_or_helo_needed:
            await client.ehlo()
        _SMTPUTF8_SEEN[smtp] = (client.supports_extension("smtputf8"), time.monotonic())
        yield client


async def _ehlo_name() -> str:
    # aiosmtplib would look it up in a thread for every connection.
    global _ehlo_hostname
    if _ehlo_hostname is None:
        _ehlo_hostname = await asyncio.to_thread(socket.getfqdn)
    return _ehlo_hostname
