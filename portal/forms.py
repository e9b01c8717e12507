"""Checking what people type: one result type for every form.

A check returns `Checked`: the clean value, or, per field, what is wrong with it, never both.
What is wrong is either the message itself (in the visitor's language) or a short code that
the page words for its context (an address's postal code names the country's example); either
way the page shows it next to its field and keeps what was typed.
"""

from __future__ import annotations

import re
from collections.abc import Mapping
from typing import Generic, NamedTuple, TypeVar

from portal.i18n import _
from portal.mail.smtp import offers_smtputf8
from portal.settings import SmtpSettings
from portal.stripe import emails
from portal.text import has_hidden_characters, hidden_characters_message

T = TypeVar("T")
E = TypeVar("E")


class Checked(NamedTuple, Generic[T, E]):
    """The value (errors empty), or None and what is wrong with each field.

    A tuple so that it unpacks where that reads best: `address, errors = validate(form)`.
    """

    value: T | None
    errors: Mapping[str, E]

    @property
    def ok(self) -> bool:
        return not self.errors


def valid(value: T) -> Checked[T, E]:
    return Checked(value, {})


def invalid(**errors: E) -> Checked[T, E]:
    assert errors
    return Checked(None, errors)


# Deliberately permissive: anything shaped like local@domain.tld is accepted and treated the same
# whether or not a customer has it; only input that cannot be an address is sent back.
_EMAIL = re.compile(r"[^@\s<>()\[\],;:\"]+@[^@\s<>()\[\],;:\"]+\.[^@\s<>()\[\],;:\".]{2,}")


def clean_email(raw: str, field: str = "email") -> Checked[str, str]:
    """The address as typed (trimmed, in NFC: `portal.stripe.emails`), or the message for
    `field`."""
    value = emails.normalized(raw.strip())
    if not value:
        return invalid(**{field: _("Please enter your e-mail address.")})
    if has_hidden_characters(value):
        return invalid(**{field: hidden_characters_message()})
    if (
        len(value) > 254
        or not _EMAIL.fullmatch(value)
        or emails.ascii_domain(emails.split(value)[1]) is None
    ):
        return invalid(**{field: _("This does not look like an e-mail address. Please check it.")})
    if emails.has_lookalike_characters(value):
        return invalid(
            **{
                field: _(
                    "This address contains characters that only look like ordinary letters (such as full-width letters). Please type it with ordinary letters."
                )
            }
        )
    return valid(value)


async def clean_deliverable_email(
    raw: str, smtp: SmtpSettings, field: str = "email"
) -> Checked[str, str]:
    """`clean_email`, and refused when the portal's mail server cannot carry it: letters
    other than ASCII before the @ need SMTPUTF8. The answer depends only on the address and
    the server, never on whether a customer has the address."""
    checked = clean_email(raw, field)
    if (
        checked.value is not None
        and emails.needs_smtputf8(checked.value)
        and await offers_smtputf8(smtp) is False
    ):
        return invalid(
            **{
                field: _(
                    "We cannot send e-mail to addresses with accented or non-Latin letters before the @. Please enter another address."
                )
            }
        )
    return checked
