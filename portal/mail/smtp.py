"""Sending over real SMTP with aiosmtplib, as `PORTAL_SMTP_URL` says."""

from __future__ import annotations

from email.message import EmailMessage

import aiosmtplib

from portal.settings import SmtpSettings


class MailDeliveryFailed(Exception):
    """The message was not accepted by the mail server; it may be retried later."""


async def send(smtp: SmtpSettings, message: EmailMessage) -> None:
    try:
        await aiosmtplib.send(
            message,
            hostname=smtp.host,
            port=smtp.port,
            username=smtp.username,
            password=smtp.password,
            use_tls=smtp.security == "tls",
            # STARTTLS is demanded, not merely attempted, unless plain text was chosen
            # explicitly: credentials and sign-in links must not cross a network in the clear.
            start_tls=smtp.security == "starttls",
            timeout=smtp.timeout,
        )
    except (aiosmtplib.SMTPException, OSError, TimeoutError) as exc:
        raise MailDeliveryFailed(f"{type(exc).__name__}: {exc}") from exc
