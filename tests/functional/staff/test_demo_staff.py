"""The demo's staff sign-in: a button without an identity provider, in `portal demo` only."""

from __future__ import annotations

import re
from pathlib import Path

from portal_dev.mailbox import DevMailbox
from tests.conftest import make_settings
from tests.functional.app_support import portal_client


def test_demo_mode_offers_a_staff_sign_in_without_a_provider(tmp_path: Path) -> None:
    settings = make_settings(tmp_path)
    with portal_client(settings, mailbox=DevMailbox(echo=None)) as client:
        page = client.get("/staff")
        assert "/staff/demo-sign-in" in page.text
        csrf = re.search(r'name="csrf_token" value="([0-9a-f]+)"', page.text)
        assert csrf
        answer = client.post(
            "/staff/demo-sign-in",
            data={"csrf_token": csrf.group(1)},
            headers={"origin": settings.base_url},
            follow_redirects=False,
        )
        assert answer.status_code == 303
        assert 'name="q"' in client.get("/staff").text


def test_without_a_provider_and_outside_the_demo_there_is_no_staff_side(tmp_path: Path) -> None:
    with portal_client(make_settings(tmp_path)) as client:
        assert client.get("/staff").status_code == 404
