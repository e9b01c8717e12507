"""E-mail addresses: the one spelling the portal uses, and when two spellings are one address.

People type addresses, Stripe keeps whatever was typed into its Dashboard, and mail servers
compare them; all must agree on which mailbox is meant, or a sign-in link reaches the wrong one.
- The spelling is Unicode NFC (RFC 6532, section 3.1): "ü" typed as u + combining diaeresis
  (NFD) is the same text as the composed "ü", and the Kelvin sign U+212A is the letter K.
- Two addresses are one when they differ only in the case of ASCII letters or in how the domain
  is written (case, Unicode or xn-- labels: IDNA 2008 with UTS 46 mapping). Other letters before
  the @ are compared exactly: their case is the receiving server's business (RFC 6531), so
  "JÜRGEN@…" may be another mailbox than "jürgen@…".
"""

from __future__ import annotations

import string
import unicodedata

import idna

_ASCII_LOWER = str.maketrans(string.ascii_uppercase, string.ascii_lowercase)


def normalized(address: str) -> str:
    return unicodedata.normalize("NFC", address)


def split(address: str) -> tuple[str, str]:
    """The local part and the domain (after the last @; empty without one)."""
    local, at, domain = address.rpartition("@")
    return (local, domain) if at else (address, "")


def ascii_domain(domain: str) -> str | None:
    """The domain as DNS and SMTP know it (lower case, xn-- labels); None if it cannot be one."""
    if domain.isascii():
        return domain.lower()
    try:
        return idna.encode(domain, uts46=True).decode("ascii")
    except UnicodeError:  # idna.IDNAError, and text that is not even Unicode (lone surrogates)
        return None


def key(address: str) -> str:
    """What every spelling of one address has in common: compare addresses by this."""
    local, domain = split(normalized(address))
    return f"{local.translate(_ASCII_LOWER)}@{ascii_domain(domain) or domain.lower()}"


def same(a: str, b: str) -> bool:
    return key(a) == key(b)


def needs_smtputf8(address: str) -> bool:
    """Whether sending to `address` needs a mail server that offers SMTPUTF8 (RFC 6531): a
    domain has an ASCII form, letters before the @ have none."""
    return not split(normalized(address))[0].isascii()


def has_lookalike_characters(address: str) -> bool:
    """Compatibility characters (full-width letters, ligatures, mathematical letters): they
    look like ordinary letters, yet name another mailbox than the ordinary letters would."""
    return unicodedata.normalize("NFKC", address) != normalized(address)


def spellings(address: str) -> list[str]:
    """The spellings to ask Stripe's exact e-mail filter for: the address and its lower case
    (all an ASCII address needs), its composed and decomposed forms, its domain in the other
    form (Unicode or xn--). Stripe keeps what someone typed; `key` decides what matches."""
    nfc = normalized(address)
    local, domain = split(nfc)
    lower = f"{local.translate(_ASCII_LOWER)}@{domain.lower()}" if domain else nfc.lower()
    found = [address, nfc, lower, unicodedata.normalize("NFD", nfc)]
    other = _unicode_domain(domain) if domain.isascii() else ascii_domain(domain)
    if domain and other is not None and other != domain.lower():
        found.append(f"{local}@{other}")
    return list(dict.fromkeys(found))


def _unicode_domain(domain: str) -> str | None:
    if "xn--" not in domain.lower():
        return None
    try:
        return str(idna.decode(domain))
    except UnicodeError:
        return None
