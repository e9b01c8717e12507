"""Where Stripe may send the portal (a PDF's redirects) or a customer (the "continuing to
Stripe" page) on to."""

from __future__ import annotations

import pytest

from portal.stripe.destinations import may_send_to

STRIPE = "https://api.stripe.com"
SANDBOX = "http://127.0.0.1:12111"


@pytest.mark.parametrize(
    "url",
    [
        "https://checkout.stripe.com/c/pay/cs_test_a1",
        "https://hooks.stripe.com/3d_secure_2/hosted?merchant=acct_1",
        "https://pay.example.com/c/pay/cs_live_1",  # Checkout on a custom domain
    ],
)
def test_stripes_pages_are_https(url: str) -> None:
    assert may_send_to(url, STRIPE)
    assert may_send_to(url, SANDBOX)


@pytest.mark.parametrize(
    "url",
    [
        "http://checkout.stripe.com/c/pay/cs_test_a1",
        "http://127.0.0.1:12112/3ds/pi_1",
        "javascript:alert(1)",
        "data:text/html,<h1>hi</h1>",
        "//evil.example/x",
        "/payments/abc",
        "https:///no-host",
    ],
)
def test_nothing_else_against_stripe(url: str) -> None:
    assert not may_send_to(url, STRIPE)


def test_plain_http_only_to_the_configured_sandboxs_host() -> None:
    assert may_send_to("http://127.0.0.1:12113/c/pay/cs_1", SANDBOX)  # another port
    assert not may_send_to("http://localhost:12113/c/pay/cs_1", SANDBOX)
    assert not may_send_to("http://evil.example/c/pay/cs_1", SANDBOX)
