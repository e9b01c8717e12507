"""Which characters a text field refuses (portal.text)."""

from __future__ import annotations

import pytest

from portal.text import has_hidden_characters


@pytest.mark.parametrize(
    "value",
    ["a\x00b", "\x1b[31m", "Acme\u202eHbmG", "zero\u200bwidth", "soft\u00adhyphen", "\ud800"],
)
def test_control_format_and_surrogate_characters_are_hidden(value: str) -> None:
    assert has_hidden_characters(value)


@pytest.mark.parametrize(
    "value",
    ["Müller & Söhne GmbH", "Łódź, ul. Piotrkowska 1", "Đakovo", "İstanbul", "Ærøskøbing 😀"],
)
def test_letters_of_every_script_and_emoji_are_text(value: str) -> None:
    assert not has_hidden_characters(value)
