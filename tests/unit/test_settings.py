from __future__ import annotations

import dataclasses
import re
from pathlib import Path

import pytest

from portal.settings import (
    SETTINGS,
    Setting,
    Settings,
    SettingsError,
    SmtpSettings,
    load_database_url,
    load_settings,
    parse_smtp_url,
)

README = Path(__file__).resolve().parents[2] / "README.md"

VALID = {
    "PORTAL_BASE_URL": "https://billing.example.com",
    "PORTAL_SECRET_KEY": "s" * 40,
    "PORTAL_STRIPE_API_KEY": "rk_live_abc123",
    "PORTAL_STRIPE_WEBHOOK_SECRET": "whsec_abcdefghijkl",
    "PORTAL_SMTP_URL": "smtp://mailer:p%40ss@smtp.example.com:587",
    "PORTAL_MAIL_FROM": "Example Billing <billing@example.com>",
}


def test_valid_environment_gives_typed_settings() -> None:
    settings = load_settings(VALID)
    assert settings.base_url == "https://billing.example.com"
    assert settings.is_https
    assert settings.stripe_api_base == "https://api.stripe.com"
    assert settings.stripe_timeout == 10.0
    assert settings.smtp.password == "p@ss"
    assert settings.smtp.security == "starttls"
    assert settings.database_url == "sqlite+aiosqlite:///data/portal.sqlite3"


def test_every_missing_required_setting_is_named_on_its_own_line() -> None:
    with pytest.raises(SettingsError) as caught:
        load_settings({})
    required = {s.env for s in SETTINGS if s.required}
    assert len(caught.value.problems) == len(required)
    for problem, name in zip(
        caught.value.problems, sorted(required, key=[s.env for s in SETTINGS].index), strict=True
    ):
        assert problem.startswith(f"{name} is required")


def test_malformed_values_are_explained_without_revealing_secrets() -> None:
    env = VALID | {
        "PORTAL_SECRET_KEY": "short",
        "PORTAL_BASE_URL": "billing.example.com",
        "PORTAL_STRIPE_TIMEOUT": "-1",
    }
    with pytest.raises(SettingsError) as caught:
        load_settings(env)
    text = "\n".join(caught.value.problems)
    assert "PORTAL_SECRET_KEY=(hidden) must be at least 32 characters" in text
    assert "PORTAL_BASE_URL='billing.example.com' must be an absolute" in text
    assert "PORTAL_STRIPE_TIMEOUT='-1'" in text
    assert "short" not in text


def test_plain_http_base_url_only_on_localhost() -> None:
    with pytest.raises(SettingsError):
        load_settings(VALID | {"PORTAL_BASE_URL": "http://billing.example.com"})
    assert (
        load_settings(VALID | {"PORTAL_BASE_URL": "http://localhost:8000/"}).base_url
        == "http://localhost:8000"
    )


@pytest.mark.parametrize(
    ("url", "driver"),
    [
        ("postgresql://u:p@db/portal", "postgresql+asyncpg://u:p@db/portal"),
        ("postgres://u@db/portal", "postgresql+asyncpg://u@db/portal"),
        ("sqlite:////var/lib/portal.db", "sqlite+aiosqlite:////var/lib/portal.db"),
    ],
)
def test_database_urls_get_the_async_driver(url: str, driver: str) -> None:
    assert load_settings(VALID | {"PORTAL_DATABASE_URL": url}).database_url == driver


def test_default_database_lives_in_the_data_dir() -> None:
    assert (
        load_database_url({"PORTAL_DATA_DIR": "/srv/portal"})
        == "sqlite+aiosqlite:////srv/portal/portal.sqlite3"
    )


def test_unsupported_database_is_refused() -> None:
    with pytest.raises(SettingsError, match="only sqlite:// and postgresql://"):
        load_settings(VALID | {"PORTAL_DATABASE_URL": "mysql://db/portal"})


@pytest.mark.parametrize(
    ("url", "security", "port"),
    [
        ("smtp://mail.example.com", "starttls", 587),
        ("smtps://mail.example.com", "tls", 465),
        ("smtp://127.0.0.1:1025?tls=none", "none", 1025),
    ],
)
def test_smtp_url_selects_tls_mode(url: str, security: str, port: int) -> None:
    smtp = parse_smtp_url(url)
    assert (smtp.security, smtp.port) == (security, port)


@pytest.mark.parametrize("url", ["http://mail", "smtp://mail?tls=maybe", "smtp://mail?verify=no"])
def test_bad_smtp_urls_are_refused(url: str) -> None:
    with pytest.raises(ValueError, match=r"."):
        parse_smtp_url(url)


def test_secrets_stay_out_of_repr() -> None:
    shown = repr(load_settings(VALID))
    for secret in ("s" * 40, "rk_live_abc123", "whsec_abcdefghijkl", "p@ss"):
        assert secret not in shown


def test_every_setting_is_documented_in_the_readme() -> None:
    readme = README.read_text()
    table = {m.group(1) for m in re.finditer(r"^\| `(PORTAL_[A-Z_]+)` \|", readme, re.MULTILINE)}
    assert table == {s.env for s in SETTINGS}


def test_the_readme_shows_each_settings_requirement_and_default() -> None:
    row = re.compile(r"^\| `(PORTAL_[A-Z_]+)` \| (yes|no) \| (?:`([^`]+)`|—) \|", re.MULTILINE)
    table = {
        m.group(1): (m.group(2) == "yes", m.group(3)) for m in row.finditer(README.read_text())
    }
    assert table == {s.env: (s.required, s.default) for s in SETTINGS}


_DEFAULTS = {
    f.name: f.default for f in dataclasses.fields(Settings) if f.default is not dataclasses.MISSING
}


def test_each_default_is_written_once_in_the_settings_dataclass() -> None:
    # A second copy of a default could drift from the one that actually applies.
    assert "default" not in {f.name for f in dataclasses.fields(Setting)}
    assert not [
        f.name for f in dataclasses.fields(Settings) if f.default_factory is not dataclasses.MISSING
    ]
    for setting in SETTINGS:
        assert setting.attr in {f.name for f in dataclasses.fields(Settings)}
        if setting.required:
            assert setting.attr not in _DEFAULTS, setting.env
            assert setting.default is None
        elif setting.default is not None:
            # The documented default is a value the setting accepts, and means the field's default.
            assert setting.parse(setting.default) == _DEFAULTS[setting.attr], setting.env


@pytest.mark.parametrize("blank", [None, "", "  "])
def test_unset_or_blank_optional_settings_give_the_dataclass_defaults(blank: str | None) -> None:
    env = dict(VALID)
    if blank is not None:
        env |= {s.env: blank for s in SETTINGS if not s.required}
    settings = load_settings(env)
    assert {name: getattr(settings, name) for name in _DEFAULTS} == _DEFAULTS
    assert settings.database_url == load_database_url({})  # derived from the default data dir


def test_smtp_timeout_defaults_to_the_dataclass_field() -> None:
    (timeout,) = [f.default for f in dataclasses.fields(SmtpSettings) if f.name == "timeout"]
    assert parse_smtp_url("smtp://mail.example.com").timeout == timeout
    assert parse_smtp_url("smtp://mail.example.com?timeout=2.5").timeout == 2.5


def test_invoices_are_read_with_the_preview_of_the_sdks_version_by_default() -> None:
    # Payment plans are served only under a `.preview` version of the release the SDK pins.
    import stripe

    version = load_settings(VALID).stripe_invoice_api_version
    assert version.endswith(".preview")
    assert version.split(".")[0] == stripe.api_version.split(".")[0]


@pytest.mark.parametrize("version", ["2026-10-28.endive", "2026-11-17.preview"])
def test_another_api_version_for_invoices_may_be_set(version: str) -> None:
    settings = load_settings({**VALID, "PORTAL_STRIPE_INVOICE_API_VERSION": version})
    assert settings.stripe_invoice_api_version == version


@pytest.mark.parametrize("version", ["preview", "2026-10-28", "latest", "2026-10-28.preview; x"])
def test_a_malformed_api_version_is_refused(version: str) -> None:
    with pytest.raises(SettingsError) as caught:
        load_settings({**VALID, "PORTAL_STRIPE_INVOICE_API_VERSION": version})
    assert caught.value.problems[0].startswith("PORTAL_STRIPE_INVOICE_API_VERSION=")
