"""Building e-mails: templates in the recipient's language, safe headers, spam-sane structure.

Each e-mail is a folder `templates/email/<name>/` with `subject.txt`, `body.txt` and
`body.html` (the layout Warehouse uses). Messages are multipart/alternative with the plain-text
part first, and carry Date and Message-ID. Header values never contain line breaks: a customer
name with a newline in it cannot add a header.

An address's domain goes out in its xn-- form, so an internationalized domain needs nothing of
the mail server; letters beyond ASCII before the @ have no such form and go out as UTF-8, which
only a server offering SMTPUTF8 (RFC 6531) accepts (`Outgoing.smtputf8`).
"""

from __future__ import annotations

import email
import email.policy
from collections.abc import Mapping
from dataclasses import dataclass
from datetime import UTC, datetime
from email.generator import BytesGenerator
from email.headerregistry import Address, AddressHeader
from email.message import EmailMessage
from email.utils import format_datetime, make_msgid, parseaddr
from io import BytesIO
from typing import Any

import jinja2

from portal import i18n
from portal.settings import Settings
from portal.stripe import emails


@dataclass(frozen=True)
class RenderedEmail:
    subject: str
    text: str
    html: str
    locale: str


def compose(
    env: jinja2.Environment,
    settings: Settings,
    name: str,
    *,
    locale: str,
    to: str,
    to_name: str | None,
    context: dict[str, Any],
    images: Mapping[str, bytes] | None = None,
) -> EmailMessage:
    """The portal's one way to write an e-mail: the template `name` in `locale`, for `to`.
    `images` are PNGs the HTML shows inline (`<img src="cid:NAME@portal">`).

    Queue it with `portal.mail.outbox.enqueue` (never sent directly: the outbox retries).
    """
    rendered = render(env, name, locale, {"settings": settings, **context})
    return build(settings, to=to, to_name=to_name, email=rendered, images=images)


def render(
    env: jinja2.Environment, name: str, locale: str, context: dict[str, Any]
) -> RenderedEmail:
    with i18n.use_locale(locale):
        values = {"lang": i18n.current_locale(), **context}
        subject = env.get_template(f"email/{name}/subject.txt").render(values)
        text = env.get_template(f"email/{name}/body.txt").render(values)
        html = env.get_template(f"email/{name}/body.html").render(values)
    return RenderedEmail(single_line(subject), text.strip() + "\n", html, values["lang"])


def single_line(value: str) -> str:
    """A header value: every run of white space, line breaks included, becomes one space."""
    return " ".join(value.split())


def build(
    settings: Settings,
    *,
    to: str,
    to_name: str | None,
    email: RenderedEmail,
    now: datetime | None = None,
    images: Mapping[str, bytes] | None = None,
) -> EmailMessage:
    message = EmailMessage()
    sender_name, sender_address = parseaddr(settings.mail_from)
    sender = mailbox(sender_name, sender_address)
    message["From"] = sender
    message["To"] = mailbox(to_name or "", to)
    message["Subject"] = email.subject
    message["Date"] = format_datetime(now or datetime.now(UTC))
    message["Message-ID"] = make_msgid(domain=sender.domain or None)
    message["Auto-Submitted"] = "auto-generated"  # RFC 3834: no auto-replies to this
    # Quoted-printable: 7-bit clean whatever the language, so that the bytes made once
    # (`prepare`) suit every server, with or without 8BITMIME.
    message.set_content(email.text, cte="quoted-printable")
    message.add_alternative(email.html, subtype="html", cte="quoted-printable")
    if images:
        # multipart/related around the HTML: images inline, not attachments to open.
        html = message.get_body(("html",))
        assert isinstance(html, EmailMessage)
        for name, png in images.items():
            html.add_related(png, maintype="image", subtype="png", cid=f"<{name}@portal>")
    # After the body: setting the content replaces every Content-* header.
    message["Content-Language"] = email.locale
    return message


def mailbox(name: str, address: str) -> Address:
    """`address` (as typed or as Stripe keeps it) for a header and the SMTP envelope: in NFC,
    its domain in xn-- form."""
    local, domain = emails.split(emails.normalized(single_line(address)))
    return Address(
        display_name=single_line(name),
        username=local,
        domain=emails.ascii_domain(domain) or domain,
    )


@dataclass(frozen=True)
class Outgoing:
    """A message as it goes over SMTP: its envelope and its bytes, made once (`prepare`), so
    that sending only talks to the server."""

    sender: str
    recipients: tuple[str, ...]
    data: bytes
    smtputf8: bool  # an address has letters beyond ASCII: only a server offering SMTPUTF8 takes it

    @property
    def text(self) -> str:
        """As the outbox stores it."""
        return self.data.decode("utf-8")


def prepare(message: EmailMessage) -> Outgoing:
    """The envelope from the From and To headers, and the message as bytes: with SMTPUTF8's
    UTF-8 headers where an address needs them, else headers in ASCII (RFC 2047 words)."""
    sender = _addr_specs(message, "From")[0]
    recipients = tuple(_addr_specs(message, "To"))
    smtputf8 = not all(a.isascii() for a in (sender, *recipients))
    buffer = BytesIO()
    policy = email.policy.SMTPUTF8 if smtputf8 else email.policy.SMTP
    BytesGenerator(buffer, policy=policy).flatten(message)
    return Outgoing(sender, recipients, buffer.getvalue(), smtputf8)


def from_stored(text: str) -> Outgoing:
    """What the outbox stored (`Outgoing.text`, or the whole message as earlier versions
    stored it), ready to send again."""
    # From bytes: an 8-bit part then goes out as the bytes it came in as.
    parsed = email.message_from_bytes(text.encode("utf-8"), policy=email.policy.default)
    assert isinstance(parsed, EmailMessage)
    return prepare(parsed)


def _addr_specs(message: EmailMessage, name: str) -> list[str]:
    header = message[name]
    addresses = header.addresses if isinstance(header, AddressHeader) else ()
    # Parsed from bytes, UTF-8 comes as escaped bytes (surrogates): back to the letters.
    found = [a.addr_spec.encode("utf-8", "surrogateescape").decode("utf-8") for a in addresses]
    if not found:
        raise ValueError(f"the message has no {name} address")
    return found
