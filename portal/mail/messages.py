"""Building e-mails: templates in the recipient's language, safe headers, spam-sane structure.

Each e-mail is a folder `templates/email/<name>/` with `subject.txt`, `body.txt` and
`body.html` (the layout Warehouse uses). Messages are multipart/alternative with the plain-text
part first, and carry Date and Message-ID. Header values never contain line breaks: a customer
name with a newline in it cannot add a header.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import UTC, datetime
from email.headerregistry import Address
from email.message import EmailMessage
from email.utils import format_datetime, make_msgid, parseaddr
from typing import Any

import jinja2

from portal import i18n
from portal.settings import Settings


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
) -> EmailMessage:
    """The portal's one way to write an e-mail: the template `name` in `locale`, for `to`.

    Queue it with `portal.mail.outbox.enqueue` (never sent directly: the outbox retries).
    """
    rendered = render(env, name, locale, {"settings": settings, **context})
    return build(settings, to=to, to_name=to_name, email=rendered)


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
) -> EmailMessage:
    message = EmailMessage()
    sender_name, sender_address = parseaddr(settings.mail_from)
    message["From"] = Address(display_name=single_line(sender_name), addr_spec=sender_address)
    message["To"] = Address(display_name=single_line(to_name or ""), addr_spec=single_line(to))
    message["Subject"] = email.subject
    message["Date"] = format_datetime(now or datetime.now(UTC))
    message["Message-ID"] = make_msgid(domain=sender_address.rpartition("@")[2] or None)
    message["Auto-Submitted"] = "auto-generated"  # RFC 3834: no auto-replies to this
    message.set_content(email.text)
    message.add_alternative(email.html, subtype="html")
    # After the body: setting the content replaces every Content-* header.
    message["Content-Language"] = email.locale
    return message
