"""When two spellings of an e-mail address are one address, and which spellings Stripe is asked
for."""

from __future__ import annotations

import unicodedata

import pytest

from portal.stripe import emails

NFC = "jürgen@example.de"
NFD = unicodedata.normalize("NFD", NFC)
KELVIN = "\u212a"  # KELVIN SIGN, canonically the letter K


def test_nfd_and_nfc_are_one_address() -> None:
    assert NFD != NFC
    assert emails.same(NFD, NFC)
    assert emails.normalized(NFD) == NFC


def test_the_kelvin_sign_is_the_letter_k() -> None:
    assert emails.normalized(f"{KELVIN}arl@example.de") == "Karl@example.de"
    assert emails.same(f"{KELVIN}arl@example.de", "karl@example.de")


def test_the_case_of_ascii_letters_and_of_the_domain_does_not_matter() -> None:
    assert emails.same("Anna.Schmidt@Example.DE", "anna.schmidt@example.de")
    assert emails.same("jürgen@BÜCHER.de", "jürgen@bücher.de")


def test_the_case_of_other_letters_before_the_at_does() -> None:
    # The receiving server decides whether they are one mailbox: the portal never assumes so.
    assert not emails.same("JÜRGEN@example.de", "jürgen@example.de")
    # str.lower() would make these one: the dotted capital I lowers to i + combining dot.
    assert not emails.same("\u0130nfo@example.de", "info@example.de")


def test_a_domain_is_the_same_in_unicode_and_in_its_xn_form() -> None:
    assert emails.same("karl@bücher.de", "karl@xn--bcher-kva.de")
    assert emails.ascii_domain("bücher.de") == "xn--bcher-kva.de"
    assert emails.ascii_domain("Example.DE") == "example.de"
    # IDNA 2008: ß is its own letter (IDNA 2003 made it "ss", another domain).
    assert emails.ascii_domain("straße.de") == "xn--strae-oqa.de"


@pytest.mark.parametrize(
    "other",
    [
        "k\u0430rl@example.de",  # CYRILLIC SMALL LETTER A
        "\uff4barl@example.de",  # FULLWIDTH LATIN SMALL LETTER K
        "karl@ex\u0430mple.de",  # a Cyrillic a in the domain
    ],
)
def test_look_alike_letters_are_other_addresses(other: str) -> None:
    assert not emails.same(other, "karl@example.de")


def test_compatibility_characters_are_told_apart_from_canonical_ones() -> None:
    assert emails.has_lookalike_characters("\uff4barl@example.de")  # full-width k
    assert emails.has_lookalike_characters("\ufb01nance@example.de")  # the fi ligature
    assert not emails.has_lookalike_characters(f"{KELVIN}arl@example.de")  # plain K in NFC
    assert not emails.has_lookalike_characters(NFD)
    assert not emails.has_lookalike_characters("karl@bücher.de")


def test_only_letters_beyond_ascii_before_the_at_need_smtputf8() -> None:
    assert emails.needs_smtputf8("jürgen@example.de")
    assert emails.needs_smtputf8(NFD)
    assert not emails.needs_smtputf8("karl@bücher.de")  # the domain goes as xn--
    assert not emails.needs_smtputf8(f"{KELVIN}arl@example.de")  # K in NFC


def test_an_ascii_address_is_looked_up_as_typed_and_in_lower_case() -> None:
    assert emails.spellings("Anna@Example.de") == ["Anna@Example.de", "anna@example.de"]
    assert emails.spellings("anna@example.de") == ["anna@example.de"]


def test_other_addresses_are_looked_up_in_each_form_stripe_may_keep() -> None:
    found = emails.spellings("Jürgen@Bücher.de")
    assert set(found) == {
        "Jürgen@Bücher.de",
        "jürgen@bücher.de",
        unicodedata.normalize("NFD", "Jürgen@Bücher.de"),
        "Jürgen@xn--bcher-kva.de",
    }
    assert emails.spellings(NFD)[0] == NFD
    assert NFC in emails.spellings(NFD)
    assert emails.spellings("karl@xn--bcher-kva.de") == [
        "karl@xn--bcher-kva.de",
        "karl@bücher.de",
    ]


@pytest.mark.parametrize(
    "text", ["", "@", "@@@", "anna@", "a@b@c.de", "a@-.-", "a@\ud800.de", "a@" + "ü" * 70 + ".de"]
)
def test_any_text_gets_a_key_without_an_error(text: str) -> None:
    # Staff search looks up whatever was typed with an @ in it.
    assert isinstance(emails.key(text), str)
    assert emails.spellings(text)
