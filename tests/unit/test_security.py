from __future__ import annotations

from pathlib import Path

from portal.security import csp_header, security_headers
from tests.conftest import make_settings


def test_hsts_only_over_https(tmp_path: Path) -> None:
    https = dict(security_headers(make_settings(tmp_path, base_url="https://billing.example.com")))
    http = dict(security_headers(make_settings(tmp_path)))
    assert https[b"strict-transport-security"].startswith(b"max-age=63072000")
    assert b"strict-transport-security" not in http


def test_csp_allows_no_inline_code_and_no_framing() -> None:
    policy = csp_header()
    assert "'unsafe-inline'" not in policy
    assert "'unsafe-eval'" not in policy
    assert "frame-ancestors 'none'" in policy
    assert "object-src 'none'" in policy
    assert "base-uri 'none'" in policy


def test_forms_may_go_to_stripe_or_to_the_configured_sandbox_only(tmp_path: Path) -> None:
    real = dict(security_headers(make_settings(tmp_path, stripe_api_base="https://api.stripe.com")))
    sandbox = dict(
        security_headers(make_settings(tmp_path, stripe_api_base="http://127.0.0.1:12111"))
    )
    assert b"form-action 'self' https://checkout.stripe.com;" in real[b"content-security-policy"]
    assert b"http://127.0.0.1:12111" in sandbox[b"content-security-policy"]
