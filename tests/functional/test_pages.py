"""Pages speak the visitor's language and say so in `<html lang>`."""

from __future__ import annotations

from pathlib import Path

import pytest

from tests.conftest import make_settings
from tests.functional.app_support import portal_client

HEADING = {
    "de": "Melden Sie sich an",
    "en": "Sign in to see your invoices",
}


@pytest.mark.parametrize("locale", ["de", "en", "nl", "es", "pl", "hr"])
def test_sign_in_page_follows_accept_language(tmp_path: Path, locale: str) -> None:
    with portal_client(make_settings(tmp_path)) as client:
        page = client.get("/sign-in", headers={"Accept-Language": f"{locale};q=0.9,fr;q=1"})
    assert f'<html lang="{locale}">' in page.text


def test_explicit_choice_wins_over_the_browser(tmp_path: Path) -> None:
    with portal_client(make_settings(tmp_path)) as client:
        client.cookies.set("portal_lang", "hr")
        page = client.get("/sign-in", headers={"Accept-Language": "de"})
    assert '<html lang="hr">' in page.text


def test_unknown_languages_fall_back_to_english(tmp_path: Path) -> None:
    with portal_client(make_settings(tmp_path)) as client:
        page = client.get("/sign-in", headers={"Accept-Language": "fr-FR,it"})
    assert '<html lang="en">' in page.text
    assert HEADING["en"] in page.text
