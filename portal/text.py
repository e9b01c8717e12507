"""What people may type into a text field: printable text, nothing that hides or reorders it.

Control characters (NUL, escape) and format characters (the right-to-left override U+202E, zero
widths, the soft hyphen) are invisible on the page but reach Stripe, the invoice PDF and the
database as they are: a NUL is refused by PostgreSQL, an override shows an invoice's address
backwards. Line breaks and tabs are not among them where a form collapses whitespace first.
See https://www.unicode.org/reports/tr44/#General_Category_Values (Cc, Cf, Cs).
"""

from __future__ import annotations

import unicodedata

from portal.i18n import _

_REFUSED_CATEGORIES = frozenset({"Cc", "Cf", "Cs"})


def has_hidden_characters(value: str) -> bool:
    """True when `value` holds a control, format or lone surrogate character."""
    return any(unicodedata.category(char) in _REFUSED_CATEGORIES for char in value)


def hidden_characters_message() -> str:
    """What the field's error says, in the visitor's language."""
    return _(
        "This contains invisible or control characters (often brought along by copying). Please type it again."
    )
