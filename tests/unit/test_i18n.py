"""The six catalogs agree with the code and templates, and languages are chosen as promised."""

from __future__ import annotations

from configparser import ConfigParser
from pathlib import Path

import pytest
from babel.messages.extract import extract_from_dir
from babel.messages.pofile import read_po

from portal import i18n

ROOT = Path(__file__).resolve().parents[2]


def extracted_messages() -> set[str]:
    """What `pybabel extract -F babel.cfg portal templates` finds, computed here."""
    config = ConfigParser()
    config.read(ROOT / "babel.cfg")
    method_map = []
    options_map = {}
    for section in config.sections():
        method, pattern = (part.strip() for part in section.split(":", 1))
        method_map.append((pattern, method))
        options_map[pattern] = dict(config[section])
    keywords = {"_": None, "gettext": None, "ngettext": (1, 2)}
    found: set[str] = set()
    for folder in ("portal", "templates"):
        for _file, _line, message, _comments, _context in extract_from_dir(
            ROOT / folder, method_map, options_map, keywords=keywords
        ):
            found.add(message if isinstance(message, str) else message[0])
    return found


@pytest.mark.parametrize("locale", i18n.SUPPORTED)
def test_catalog_matches_the_source_and_is_fully_translated(locale: str) -> None:
    with (ROOT / "locales" / locale / "LC_MESSAGES" / "messages.po").open("rb") as po:
        catalog = read_po(po, locale=locale)
    source = extracted_messages()
    in_catalog = {m.id if isinstance(m.id, str) else m.id[0] for m in catalog if m.id}
    assert source - in_catalog == set(), "extracted but missing from the catalog"
    assert in_catalog - source == set(), "in the catalog but no longer in the source"
    for message in catalog:
        if not message.id:
            continue
        assert not message.fuzzy, f"fuzzy: {message.id!r}"
        strings = message.string if isinstance(message.string, tuple) else (message.string,)
        assert all(strings), f"untranslated: {message.id!r}"


def test_polish_and_croatian_have_three_plural_forms() -> None:
    for locale in ("pl", "hr"):
        with (ROOT / "locales" / locale / "LC_MESSAGES" / "messages.po").open("rb") as po:
            assert read_po(po, locale=locale).num_plurals == 3


def test_gettext_follows_the_current_locale() -> None:
    i18n.set_locale("de")
    assert i18n.gettext("Demo mailbox") == "Demo-Postfach"
    i18n.set_locale("hr")
    assert i18n.gettext("Demo mailbox") == "Demo pretinac"
    i18n.set_locale("xx")
    assert i18n.current_locale() == "en"


@pytest.mark.parametrize(
    ("header", "expected"),
    [
        ("de-AT,de;q=0.9,en;q=0.8", "de"),
        ("fr-FR,fr;q=0.9,nl;q=0.5", "nl"),
        ("en;q=0.2, pl;q=0.8", "pl"),
        ("es-419", "es"),
        ("fr, it", None),
        ("", None),
        ("hr;q=0", None),
    ],
)
def test_accept_language_negotiation(header: str, expected: str | None) -> None:
    assert i18n.negotiate(header) == expected


def test_stripe_preferred_locales_pick_the_first_supported() -> None:
    assert i18n.first_supported(["fr-FR", "nl-BE", "de"]) == "nl"
    assert i18n.first_supported([]) is None


def test_language_names_are_in_their_own_language() -> None:
    assert [i18n.locale_name(code) for code in i18n.SUPPORTED] == [
        "Deutsch",
        "English",
        "Nederlands",
        "Español",
        "Polski",
        "Hrvatski",
    ]
