"""Template sources: mistakes no rendered page shows at a glance."""

from __future__ import annotations

import re
from pathlib import Path

import pytest

PAGES = sorted((Path(__file__).parents[2] / "templates" / "pages").glob("*.html"))
TITLE = re.compile(r"{% block title %}(.*?){% endblock %}", re.S)


@pytest.mark.parametrize("page", PAGES, ids=[p.name for p in PAGES])
def test_titles_are_text(page: Path) -> None:
    """A <title> shows its content as text: markup in it would appear in the browser's tab."""
    found = TITLE.search(page.read_text())
    assert found, f"{page.name} has no title"
    text = re.sub(r"{[{%].*?[}%]}", "", found.group(1))
    assert "<" not in text, f"markup in the title of {page.name}: {text!r}"
