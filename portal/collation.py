"""Alphabetical order as each of the six languages' dictionaries have it (CLDR collation).

PyICU would do this, but it has no wheels (it compiles against libicu), so the portal carries
the part it needs: CLDR's root collation for Latin script (the Unicode Collation Algorithm's
order, DUCET; https://www.unicode.org/reports/tr10/) with the tailorings of `common/collation/`
in CLDR for the languages that have one. German, English and Dutch use the root order; Spanish,
Polish and Croatian add letters of their own, each a letter after its base, not an accented
variant of it. So a Pole finds "Łotwa" after "Luksemburg", not among the O's (where an ASCII fold
that drops "Ł" would put it), and a Croat finds "Njemačka" after "Novi Zeland".

A key compares three levels in turn, as UCA does: the base letters (primary), then accents
(secondary), then case (tertiary, lower case first). Spaces and punctuation are not ignored
(CLDR's default, "non-ignorable"): they come before digits, and digits before letters.
"""

from __future__ import annotations

import unicodedata
from typing import Final

# CLDR's tailorings of the root order (common/collation/<language>.xml, "standard"), written
# here as letter -> (the letter it follows, its place after it). `&N<ñ<<<Ñ` says ñ is a letter
# of its own right after n (`<`), and Ñ its capital (`<<<`, a difference of case only).
#   es: &N<ñ<<<Ñ
#   pl: &A<ą<<<Ą &C<ć<<<Ć &E<ę<<<Ę &L<ł<<<Ł &N<ń<<<Ń &O<ó<<<Ó &S<ś<<<Ś &Z<ź<<<Ź<ż<<<Ż
#   hr: &C<č<<<Č<ć<<<Ć &D<dž<<<ǆ<<<Dž<<<ǅ<<<DŽ<<<Ǆ<đ<<<Đ &L<lj<<<ǉ<<<Lj<<<ǈ<<<LJ<<<Ǉ
#       &N<nj<<<ǌ<<<Nj<<<ǋ<<<NJ<<<Ǌ &S<š<<<Š &Z<ž<<<Ž   (and [reorder Latn Cyrl])
# Croatian's dž, lj and nj are single letters (contractions): "Njemačka" begins with Nj.
TAILORINGS: Final[dict[str, dict[str, tuple[str, int]]]] = {
    "es": {"ñ": ("n", 1)},
    "pl": {
        "ą": ("a", 1),
        "ć": ("c", 1),
        "ę": ("e", 1),
        "ł": ("l", 1),
        "ń": ("n", 1),
        "ó": ("o", 1),
        "ś": ("s", 1),
        "ź": ("z", 1),
        "ż": ("z", 2),
    },
    "hr": {
        "č": ("c", 1),
        "ć": ("c", 2),
        "dž": ("d", 1),
        "đ": ("d", 2),
        "lj": ("l", 1),
        "nj": ("n", 1),
        "š": ("s", 1),
        "ž": ("z", 1),
    },
}

# Primary weights, in groups as in the root order: spaces and punctuation, other symbols,
# digits, Latin letters, then other scripts (by code point: Greek before Cyrillic, as in root).
_SYMBOLS: Final = 1_000
_DIGITS: Final = 2_000_000
_LATIN: Final = 3_000_000
_OTHER_SCRIPTS: Final = 4_000_000

# Spaces, punctuation and the common symbols in DUCET's order (allkeys.txt, their primaries).
_PUNCTUATION: Final = (
    " _-\u2010\u2013\u2014,;:!?.\u00b7"  # space, low line, hyphens and dashes, , ; : ! ? . ·
    "'\u2018\u2019\"\u201c\u201d\u00ab\u00bb()[]{}"  # quotation marks, brackets
    "@*/\\&#%`^+<=>|~$"
)

# Letters of the root order beyond a-z that are not a base letter with accents: where DUCET
# places them after a base letter (dotless i after i, ŋ after n, þ after z) they are letters of
# their own, after any a tailoring adds ("&N<ń" puts ń right after n, so before ŋ); the others
# sort as their base letter(s) with a secondary mark (đ as d, ł as l, ø as o, æ as ae, ß as ss),
# as DUCET's expansions have them.
_OWN_LETTERS: Final = {"\u0131": ("i", 8), "ŋ": ("n", 8), "þ": ("z", 8)}
_STROKE: Final = 0x39  # DUCET's secondary of COMBINING SHORT STROKE OVERLAY (đ, ł, ħ, ŧ)
_SLASH: Final = 0x2F  # COMBINING LONG SOLIDUS OVERLAY (ø)
_VARIANT: Final = 0x111  # the secondary DUCET gives ð, æ, œ and ß
_AS_BASE: Final = {
    "đ": ("d", _STROKE),
    "ħ": ("h", _STROKE),
    "ł": ("l", _STROKE),
    "ŧ": ("t", _STROKE),
    "ø": ("o", _SLASH),
    "ð": ("d", _VARIANT),
    "æ": ("ae", _VARIANT),
    "œ": ("oe", _VARIANT),
    "ß": ("ss", _VARIANT),
}

# Secondary weights of the combining accents, from DUCET (allkeys.txt); accents not listed come
# after these, in code point order.
_ACCENTS: Final = {
    "\u0301": 0x24,  # acute
    "\u0300": 0x25,  # grave
    "\u0306": 0x26,  # breve
    "\u0302": 0x27,  # circumflex
    "\u030c": 0x28,  # caron
    "\u030a": 0x29,  # ring above
    "\u0308": 0x2B,  # diaeresis
    "\u030b": 0x2C,  # double acute
    "\u0303": 0x2D,  # tilde
    "\u0307": 0x2E,  # dot above
    "\u0327": 0x30,  # cedilla
    "\u0328": 0x31,  # ogonek
    "\u0304": 0x32,  # macron
    "\u0323": 0x42,  # dot below
}

Key = tuple[tuple[int, ...], tuple[int, ...], tuple[int, ...], str]


def _letter(base: str, place: int = 0) -> int:
    # Each letter a-z leaves room after it for the letters a tailoring puts there.
    return _LATIN + (ord(base) - ord("a")) * 16 + place


def _case(piece: str) -> int:
    """Tertiary weight: lower case ("nj"), then capitalised ("Nj", "Ł"), then capitals ("NJ")."""
    if piece == piece.lower():
        return 0
    return 2 if len(piece) > 1 and piece == piece.upper() else 1


def sort_key(text: str, language: str) -> Key:
    """A key that sorts `text` as `language` does (see the module's docstring)."""
    tailoring = TAILORINGS.get(language, {})
    longest = max((len(letter) for letter in tailoring), default=1)
    # NFKC: composed letters (ñ as one character, as the tailorings name them), and the
    # compatibility forms as their plain letters (ǌ as nj, a no-break space as a space).
    chars = unicodedata.normalize("NFKC", text)
    primary: list[int] = []
    secondary: list[int] = []
    tertiary: list[int] = []
    i = 0
    while i < len(chars):
        for size in range(min(longest, len(chars) - i), 0, -1):
            piece = chars[i : i + size]
            tailored = tailoring.get(piece.lower())
            if tailored is not None:
                primary.append(_letter(*tailored))
                secondary.append(0)
                tertiary.append(_case(piece))
                i += size
                break
        else:
            _root(chars[i], primary, secondary, tertiary)
            i += 1
    return tuple(primary), tuple(secondary), tuple(tertiary), text


def _root(char: str, primary: list[int], secondary: list[int], tertiary: list[int]) -> None:
    """Append one character's weights in the root order."""
    decomposed = unicodedata.normalize("NFD", char)
    base, accents = decomposed[0], decomposed[1:]
    lower = base.lower()
    case = 0 if base == lower else 1
    category = unicodedata.category(base)
    if category.startswith("M"):  # an accent on its own: no letter, only its secondary
        secondary.append(_accent(base))
        return
    if category in ("Cf", "Cc"):  # soft hyphens, joiners: ignorable
        return
    if "a" <= lower <= "z":
        letters, mark = [_letter(lower)], 0
    elif lower in _OWN_LETTERS:
        letters, mark = [_letter(*_OWN_LETTERS[lower])], 0
    elif lower in _AS_BASE:
        expansion, mark = _AS_BASE[lower]
        letters = [_letter(letter) for letter in expansion]
    elif category == "Nd":
        letters, mark = [_DIGITS + unicodedata.digit(base)], 0
    elif category.startswith("L"):
        letters, mark = [_OTHER_SCRIPTS + ord(lower)], 0
    elif base in _PUNCTUATION:
        letters, mark = [1 + _PUNCTUATION.index(base)], 0
    else:
        letters, mark = [_SYMBOLS + ord(base)], 0
    for n, weight in enumerate(letters):
        primary.append(weight)
        secondary.append(0)
        tertiary.append(case)
        if n == 0 and mark:
            secondary.append(mark)
    secondary.extend(_accent(accent) for accent in accents)


def _accent(mark: str) -> int:
    return _ACCENTS.get(mark, 0x100 + ord(mark))
