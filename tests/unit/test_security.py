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


def test_forms_may_post_and_redirect_to_the_portal_only(tmp_path: Path) -> None:
    # The off-site steps (Checkout, 3-D Secure, the bank) are reached from the portal's own GET
    # page, so neither Stripe nor the sandbox, wherever it runs, needs a place here.
    for base in ("https://api.stripe.com", "http://127.0.0.1:12111"):
        headers = dict(security_headers(make_settings(tmp_path, stripe_api_base=base)))
        policy = headers[b"content-security-policy"].decode()
        directives = dict(d.strip().split(" ", 1) for d in policy.split(";"))
        assert directives["form-action"] == "'self'"
        assert "127.0.0.1" not in policy
        assert "stripe.com" not in policy
