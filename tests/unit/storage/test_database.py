"""What counts as text the databases cannot store (`portal.storage.database.unstorable`)."""

from __future__ import annotations

import pytest

from portal.storage.database import unstorable


@pytest.mark.parametrize("value", ["\x00", "a\x00b", "\ud800", "x\udfff", "Müller\ud83d"])
def test_a_nul_or_a_lone_surrogate_is_unstorable(value: str) -> None:
    assert unstorable(value)


@pytest.mark.parametrize("value", ["", "cus_123", "Müller & Söhne", "😀", "\u202e", "\x01\x1f\x7f"])
def test_any_other_text_is_storable(value: str) -> None:
    assert not unstorable(value)
