"""Stripe's failures as the gateway reports them, against the sandbox over HTTP: a missing
object, a wrong key, Stripe failing or limiting, Stripe out of reach."""

from __future__ import annotations

import httpx
import pytest

from portal.stripe.errors import (
    NotFound,
    StripeMisconfigured,
    StripeRateLimited,
    StripeUnavailable,
)
from portal.stripe.gateway import StripeGateway
from tests.conftest import SANDBOX_KEY

pytestmark = pytest.mark.anyio


async def test_unknown_invoice_is_not_found(gateway: StripeGateway) -> None:
    with pytest.raises(NotFound):
        await gateway.get_invoice("in_doesnotexist")


async def test_wrong_key_is_a_configuration_problem(sandbox_url: str) -> None:
    gateway = StripeGateway(api_key="sk_live_wrong", api_base=sandbox_url, max_network_retries=0)
    try:
        with pytest.raises(StripeMisconfigured):
            await gateway.get_invoice("in_x")
    finally:
        await gateway.aclose()


async def test_stripe_failing_is_unavailable_and_rate_limit_is_named(
    gateway: StripeGateway, sandbox_url: str
) -> None:
    httpx.post(f"{sandbox_url}/_sandbox/faults", json={"status": 500, "count": 1})
    with pytest.raises(StripeUnavailable):
        await gateway.get_invoice("in_x")
    httpx.post(f"{sandbox_url}/_sandbox/faults", json={"status": 429, "count": 1})
    with pytest.raises(StripeRateLimited):
        await gateway.get_invoice("in_x")


async def test_unreachable_stripe_is_unavailable() -> None:
    gateway = StripeGateway(
        api_key=SANDBOX_KEY, api_base="http://127.0.0.1:9", timeout=2, max_network_retries=0
    )
    try:
        with pytest.raises(StripeUnavailable):
            await gateway.get_customer("cus_x")
    finally:
        await gateway.aclose()
