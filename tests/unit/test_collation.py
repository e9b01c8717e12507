"""Alphabetical order per language (CLDR's root collation with the es, pl and hr tailorings),
shown on the countries' own names in each language, as Babel/CLDR spell them."""

from __future__ import annotations

import pytest
from babel import Locale

from portal.collation import TAILORINGS, sort_key


def in_order(language: str, words: list[str]) -> list[str]:
    return sorted(words, key=lambda word: sort_key(word, language))


def territories(language: str) -> list[str]:
    """Every country and region's name in `language`, in that language's order."""
    names = Locale.parse(language).territories
    return in_order(language, [str(name) for code, name in names.items() if code.isalpha()])


def test_polish_letters_come_after_their_base_letter() -> None:
    names = territories("pl")
    # Ł is a letter after L, not an O (an ASCII fold drops it and files "Łotwa" as "otwa").
    l_words = [n for n in names if n[0] in "LŁ"]
    assert l_words.index("Łotwa") == len(l_words) - 1
    assert names.index("Luksemburg") < names.index("Łotwa") < names.index("Macedonia Północna")
    assert names.index("Korea Południowa") < names.index("Korea Północna")  # o before ó
    assert names.index("Wyspy Salomona") < names.index("Wyspy Świętego Tomasza i Książęca")
    assert in_order("pl", ["Śląsk", "Szwecja", "Syria", "Słowacja", "Tajwan"]) == [
        "Słowacja",
        "Syria",
        "Szwecja",
        "Śląsk",
        "Tajwan",
    ]
    assert in_order("pl", ["zz", "ża", "źa", "za"]) == ["za", "zz", "źa", "ża"]
    assert in_order("pl", ["ęa", "ez", "ea"]) == ["ea", "ez", "ęa"]


def test_croatian_letters_and_digraphs_come_after_their_base_letter() -> None:
    names = territories("hr")
    # Č after every C ("Češka" after "Curaçao"; a fold put it among the Ce's).
    c_words = [n for n in names if n[0] in "CČĆ"]
    assert c_words[-3:] == ["Čad", "Češka", "Čile"]
    assert all(n[0] == "C" for n in c_words[:-3])
    # Nj is one letter, after N: Njemačka after every other N.
    n_words = [n for n in names if n[0] == "N"]
    assert n_words[-1] == "Njemačka"
    assert names.index("Novi Zeland") < names.index("Njemačka") < names.index("Oman")
    # Š after every S, Ž after every Z, dž and đ after d.
    s_words = [n for n in names if n[0] in "SŠ"]
    assert s_words[-4:] == ["Španjolska", "Šri Lanka", "Švedska", "Švicarska"]
    assert all(n[0] == "S" for n in s_words[:-4])
    assert in_order("hr", ["đak", "dz", "dža", "dobro", "ea"]) == [
        "dobro",
        "dz",
        "dža",
        "đak",
        "ea",
    ]
    assert in_order("hr", ["lj", "lz", "ma"]) == ["lz", "lj", "ma"]
    assert in_order("hr", ["ć", "č", "cz", "d"]) == ["cz", "č", "ć", "d"]


def test_spanish_enye_comes_after_n() -> None:
    assert in_order("es", ["caña", "canoa", "cana", "cono"]) == ["cana", "canoa", "caña", "cono"]
    assert in_order("es", ["Ñandú", "Nauru", "Noruega", "Omán"]) == [
        "Nauru",
        "Noruega",
        "Ñandú",
        "Omán",
    ]


@pytest.mark.parametrize("language", ["de", "en", "nl"])
def test_root_order_files_accented_letters_with_their_base(language: str) -> None:
    # German, English and Dutch have no tailoring: ö is an o with an accent, ñ an n.
    assert language not in TAILORINGS
    assert in_order(language, ["Österreich", "Oman", "Polen", "Norwegen"]) == [
        "Norwegen",
        "Oman",
        "Österreich",
        "Polen",
    ]
    assert in_order(language, ["caña", "canoa", "cana"]) == ["cana", "caña", "canoa"]
    assert in_order(language, ["Łotwa", "Luksemburg", "Litwa", "Malta"]) == [
        "Litwa",
        "Łotwa",
        "Luksemburg",
        "Malta",
    ]


def test_accents_then_case_break_ties() -> None:
    # Primary letters first, then accents (none before any), then case (lower first).
    assert in_order("de", ["Côte", "cote", "côte", "Cote", "coté", "Coto"]) == [
        "cote",
        "Cote",
        "coté",
        "côte",
        "Côte",
        "Coto",
    ]
    assert in_order("de", ["Straße", "strasse", "Strasse", "Strasser"]) == [
        "strasse",
        "Strasse",
        "Straße",
        "Strasser",
    ]
    assert in_order("hr", ["NJ", "nj", "Nj"]) == ["nj", "Nj", "NJ"]


def test_spaces_and_punctuation_come_before_letters_and_digits() -> None:
    assert in_order("en", ["Saint Lucia", "St. Lucia", "St Lucia", "Saint-Martin", "Sainte"]) == [
        "Saint Lucia",
        "Saint-Martin",
        "Sainte",
        "St Lucia",
        "St. Lucia",
    ]
    assert in_order("en", ["a1", "a 1", "ab", "a-b"]) == ["a 1", "a-b", "a1", "ab"]


def test_compatibility_forms_sort_as_their_letters() -> None:
    # The digraph characters ǌ, ǈ and a no-break space are their letters and a space.
    assert sort_key("\u01cbemačka", "hr")[:3] == sort_key("Njemačka", "hr")[:3]
    assert sort_key("Sri\u00a0Lanka", "en")[:3] == sort_key("Sri Lanka", "en")[:3]
