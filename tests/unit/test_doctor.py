"""`portal doctor`'s checks of the settings themselves, and its checklist's form."""

from __future__ import annotations

from pathlib import Path

import pytest

from portal import doctor
from tests.conftest import make_settings

RANDOM = "k7Qx2mVb9PzL4tRw8YcN3hJd6FgS1aEu5WoZ0iXy"


@pytest.mark.parametrize(
    ("base_url", "ok"),
    [
        ("https://billing.example.com", True),
        ("http://127.0.0.1:8000", True),  # a laptop, a test
        ("http://localhost:8000", True),
        ("http://[::1]:8000", True),
        ("http://billing.example.com", False),  # links and cookies in the clear
        ("http://10.0.0.5", False),
    ],
)
def test_the_base_url_is_https_except_on_loopback(tmp_path: Path, base_url: str, ok: bool) -> None:
    found = doctor.check_base_url(make_settings(tmp_path, base_url=base_url))
    assert found.ok is ok
    assert (found.fix is None) is ok


def test_a_secret_key_of_few_characters_is_not_random(tmp_path: Path) -> None:
    assert not doctor.check_secret_key(make_settings(tmp_path, secret_key="ab" * 20)).ok
    assert doctor.check_secret_key(make_settings(tmp_path, secret_key=RANDOM)).ok


@pytest.mark.parametrize(
    ("key", "base_url", "ok"),
    [
        ("sk_test_x", "http://127.0.0.1:8000", True),
        ("rk_live_x", "https://billing.example.com", True),
        ("sk_test_x", "https://billing.example.com", False),  # customers would see test data
        ("rk_live_x", "http://127.0.0.1:8000", False),  # real money from a laptop
        ("pk_live_x", "https://billing.example.com", False),  # a publishable key
    ],
)
def test_the_key_is_live_exactly_where_customers_pay(
    tmp_path: Path, key: str, base_url: str, ok: bool
) -> None:
    settings = make_settings(tmp_path, stripe_api_key=key, base_url=base_url)
    assert doctor.check_key_mode(settings).ok is ok


def test_the_checklist_gives_each_failed_line_its_fix_and_fails_if_one_fails() -> None:
    lines: list[str] = []
    findings = [
        doctor.passed("database", "reachable"),
        doctor.failed("mail server", "refused the password", "check PORTAL_SMTP_URL"),
    ]
    assert doctor.report(findings, lines.append) == 1
    assert lines == [
        "ok    database: reachable",
        "FAIL  mail server: refused the password",
        "      fix: check PORTAL_SMTP_URL",
        "1 passed, 1 failed",
    ]
    assert doctor.report(findings[:1], lines.append) == 0
