"""Checking what people type into the sign-in forms."""

from __future__ import annotations

import re

from portal.i18n import _
from portal.text import has_hidden_characters, hidden_characters_message

# Deliberately permissive: anything shaped like local@domain.tld is accepted and treated the same
# whether or not a customer has it; only input that cannot be an address is sent back.
_EMAIL = re.compile(r"[^@\s<>()\[\],;:\"]+@[^@\s<>()\[\],;:\"]+\.[^@\s<>()\[\],;:\".]{2,}")


def clean_email(raw: str) -> tuple[str, str | None]:
    """The address as typed (trimmed), and an error message when it cannot be an address."""
    value = raw.strip()
    if not value:
        return value, _("Please enter your e-mail address.")
    if has_hidden_characters(value):
        return value, hidden_characters_message()
    if len(value) > 254 or not _EMAIL.fullmatch(value):
        return value, _("This does not look like an e-mail address. Please check it.")
    return value, None
