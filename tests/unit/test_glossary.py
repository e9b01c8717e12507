"""The catalogs speak the billing glossary (locales/glossary.<lang>.toml): each concept in the
language's term, none of its forbidden alternatives, one form of address per language, no
doubled full stop after a Croatian date, and regional overlays that only reword entries."""

from __future__ import annotations

import re
import tomllib
from collections.abc import Iterable
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import pytest
from babel.messages.pofile import read_po

ROOT = Path(__file__).resolve().parents[2]
LOCALES = ROOT / "locales"
TRANSLATED = ("de", "nl", "es", "pl", "hr")
PLACEHOLDER = re.compile(r"%\((\w+)\)[sd]")


@dataclass(frozen=True)
class Entry:
    msgid: str  # the singular and plural joined, so a concept in either counts
    strings: tuple[str, ...]


def glossary(language: str) -> dict[str, Any]:
    with (LOCALES / f"glossary.{language}.toml").open("rb") as file:
        return tomllib.load(file)


def entries(path: Path, locale: str) -> list[Entry]:
    with path.open("rb") as po:
        catalog = read_po(po, locale=locale)
    found = []
    for message in catalog:
        if not message.id:
            continue
        ids = (message.id,) if isinstance(message.id, str) else tuple(message.id)
        strings = message.string if isinstance(message.string, tuple) else (message.string,)
        found.append(Entry(" ".join(ids), tuple(strings)))
    return found


def catalog_path(locale: str) -> Path:
    return LOCALES / locale / "LC_MESSAGES" / "messages.po"


def term_problems(language: str, catalog: Iterable[Entry], region: str | None = None) -> list[str]:
    """Entries whose msgid names a concept but whose msgstr lacks the glossary's term for it,
    or uses one of the alternatives the glossary forbids (a region's wording where it has one;
    `skip` lists msgids where the language rightly leaves the term out)."""
    english = glossary("en")["concept"]
    local = glossary(language)["concept"]
    problems = []
    for entry in catalog:
        for name, concept in english.items():
            if "match" not in concept or not re.search(concept["match"], entry.msgid, re.I):
                continue
            rules = local[name] | local[name].get("regions", {}).get(region, {})
            if entry.msgid in rules.get("skip", []):
                continue
            for text in entry.strings:
                if "match" in rules and not re.search(rules["match"], text, re.I):
                    problems.append(f"{name}: {rules['term']!r} missing in {text!r}")
                for wrong in rules.get("forbidden", []):
                    if re.search(wrong, text, re.I):
                        problems.append(f"{name}: forbidden {wrong!r} in {text!r}")
    return problems


def register_problems(language: str, catalog: Iterable[Entry]) -> list[str]:
    """Entries that slip out of the language's one form of address (rules are case-sensitive:
    Croatian capitalises Vi, and German du is a slip while Du would be one too)."""
    rules = glossary(language)["register_rules"]["forbidden"]
    return [
        f"{rule!r} in {text!r}"
        for entry in catalog
        for text in entry.strings
        for rule in rules
        if re.search(rule, text)
    ]


def date_placeholders() -> set[str]:
    """The placeholder names the templates fill with a date (`name=value | date`)."""
    names = set()
    for template in (ROOT / "templates").rglob("*"):
        if template.suffix in {".html", ".txt"}:
            names.update(re.findall(r"\b(\w+)=[^,{}%]*?\|\s*date\b", template.read_text()))
    return names


def doubled_stop_problems(catalog: Iterable[Entry], dates: set[str]) -> list[str]:
    """A "." straight after a date: CLDR's Croatian dates end in one ("6. prosinca 2026.")."""
    pattern = re.compile(r"%\((" + "|".join(sorted(dates)) + r")\)s\.")
    return [text for entry in catalog for text in entry.strings if pattern.search(text)]


# --- the catalogs --------------------------------------------------------------------------------


def test_every_language_has_a_glossary_with_every_concept_and_a_source() -> None:
    concepts = set(glossary("en")["concept"])
    for language in ("en", *TRANSLATED):
        data = glossary(language)
        assert data["language"] == language
        assert data["register"]
        assert set(data["concept"]) == concepts, language
        for name, concept in data["concept"].items():
            assert concept["term"], (language, name)
            assert concept["source"], (language, name)
            for pattern in [concept.get("match", ""), *concept.get("forbidden", [])]:
                re.compile(pattern)


@pytest.mark.parametrize("language", TRANSLATED)
def test_catalog_uses_the_glossary_terms(language: str) -> None:
    assert term_problems(language, entries(catalog_path(language), language)) == []


@pytest.mark.parametrize("language", TRANSLATED)
def test_catalog_keeps_one_form_of_address(language: str) -> None:
    assert register_problems(language, entries(catalog_path(language), language)) == []


def test_the_templates_fill_a_date_placeholder() -> None:
    assert "date" in date_placeholders()


def test_croatian_dates_are_not_followed_by_a_second_full_stop() -> None:
    assert doubled_stop_problems(entries(catalog_path("hr"), "hr"), date_placeholders()) == []


# --- the checkers catch a planted error ----------------------------------------------------------


def planted(language: str, msgid: str, wrong: str) -> list[Entry]:
    """A copy of one catalog entry with its msgstr replaced by `wrong`."""
    found = [e for e in entries(catalog_path(language), language) if e.msgid == msgid]
    assert len(found) == 1, msgid
    return [Entry(msgid, (wrong,))]


@pytest.mark.parametrize(
    ("language", "msgid", "wrong"),
    [
        ("hr", "Overdue", "Dospjelo"),
        ("hr", "Overdue: %(amount)s for invoice %(number)s", "Dospjelo: %(amount)s za račun"),
        ("de", "Credit note", "Gutschrift"),
        ("nl", "VAT", "BTW"),
        ("es", "Installment", "Cuota"),
        ("pl", "Issued by", "Wystawca"),
        ("pl", "Invoice", "Rachunek"),  # the term missing altogether
    ],
)
def test_a_planted_wrong_term_is_reported(language: str, msgid: str, wrong: str) -> None:
    assert term_problems(language, entries(catalog_path(language), language)) == []
    assert term_problems(language, planted(language, msgid, wrong)) != []


@pytest.mark.parametrize(
    ("language", "wrong"),
    [
        ("de", "Bitte versuch es erneut, wenn du kannst"),
        ("nl", "Probeer je het opnieuw?"),
        ("es", "Inténtalo de nuevo"),
        ("pl", "Spróbuj ponownie, jeśli możesz"),
        ("hr", "Molimo vas, pokušajte ponovno"),
        ("hr", "Pokušaj ponovno"),
    ],
)
def test_a_planted_register_slip_is_reported(language: str, wrong: str) -> None:
    assert register_problems(language, planted(language, "Please try again", wrong)) != []


def test_a_planted_full_stop_after_a_croatian_date_is_reported() -> None:
    wrong = planted("hr", "Please pay it by %(date)s.", "Molimo Vas da ga platite do %(date)s.")
    assert doubled_stop_problems(wrong, date_placeholders()) != []


# --- regional overlays ---------------------------------------------------------------------------

OVERLAYS = sorted(path.parent.parent.name for path in LOCALES.glob("*_*/LC_MESSAGES/messages.po"))


def test_there_are_regional_overlays() -> None:
    assert {"en_GB", "de_CH"} <= set(OVERLAYS)


@pytest.mark.parametrize("region", OVERLAYS)
def test_an_overlay_only_rewords_entries_of_its_language(region: str) -> None:
    language = region.split("_")[0]
    with catalog_path(region).open("rb") as po:
        overlay = read_po(po, locale=region)
    assert str(overlay.locale) == region
    base = {e.msgid: e for e in entries(catalog_path(language), language)}
    for entry in entries(catalog_path(region), region):
        assert entry.msgid in base, f"{region}: not in the {language} catalog: {entry.msgid!r}"
        assert entry.strings != base[entry.msgid].strings, f"{region}: same as {language}"
        wanted = set(PLACEHOLDER.findall(entry.msgid))
        for text in entry.strings:
            assert set(PLACEHOLDER.findall(text)) == wanted, f"{region}: {text!r}"


@pytest.mark.parametrize("region", [r for r in OVERLAYS if not r.startswith("en_")])
def test_an_overlay_keeps_the_glossary_and_the_register(region: str) -> None:
    language = region.split("_")[0]
    overlay = entries(catalog_path(region), region)
    assert term_problems(language, overlay, region) == []
    assert register_problems(language, overlay) == []
