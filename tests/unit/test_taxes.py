"""Tax IDs and tax exemptions in the reader's language, in the law's words."""

from __future__ import annotations

import pytest

from portal.i18n import use_locale
from portal.taxes import exemption_note, tax_id_name


@pytest.mark.parametrize(
    ("locale", "words"),
    [
        ("en", "Reverse charge"),
        ("de", "Steuerschuldnerschaft des Leistungsempfängers"),
        ("nl", "Btw verlegd"),
        ("es", "Inversión del sujeto pasivo"),
        ("pl", "Odwrotne obciążenie"),
        ("hr", "Prijenos porezne obveze"),
    ],
)
def test_a_reverse_charge_invoice_carries_the_directives_mention(locale: str, words: str) -> None:
    # Council Directive 2006/112/EC, Art. 226(11a), in each language's version.
    with use_locale(locale):
        note = exemption_note("reverse", 0)
    assert note is not None
    assert note.startswith(words)


def test_an_exempt_customer_is_told_why_and_a_taxed_or_ordinary_invoice_says_nothing() -> None:
    with use_locale("de"):
        exempt = exemption_note("exempt", 0)
        assert exempt is not None
        assert "befreit" in exempt
        assert exemption_note("reverse", 1900) is None  # taxed after all: no note contradicts it
        assert exemption_note("none", 0) is None
        assert exemption_note(None, 0) is None


def test_tax_id_kinds_are_named_in_the_readers_language() -> None:
    with use_locale("pl"):
        assert tax_id_name("pl_nip") == "Numer identyfikacji podatkowej (NIP)"
        assert tax_id_name("xx_unknown") == "xx_unknown"
    with use_locale("de-CH"):
        assert tax_id_name("ch_vat") == "MWST-Nr."
