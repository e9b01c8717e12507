"""The connection under the gateway against the sandbox: the SDK's network retries."""

from __future__ import annotations

import httpx
import pytest
import stripe

from portal.stripe.gateway import StripeGateway
from tests.conftest import SANDBOX_KEY
from tests.functional.stripe.stripe_support import customer_with_card

pytestmark = pytest.mark.anyio


async def test_sdk_retries_then_succeeds_on_a_passing_outage(
    sandbox_url: str, sdk: stripe.StripeClient
) -> None:
    customer_id, _ = customer_with_card(sdk)
    gateway = StripeGateway(api_key=SANDBOX_KEY, api_base=sandbox_url, max_network_retries=2)
    try:
        httpx.post(f"{sandbox_url}/_sandbox/faults", json={"status": 500, "count": 1})
        assert (await gateway.get_customer(customer_id)).id == customer_id
    finally:
        await gateway.aclose()
