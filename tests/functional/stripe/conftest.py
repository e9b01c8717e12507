"""Fixtures for the gateway's tests against the sandbox over HTTP: the same code path as against
Stripe."""

from __future__ import annotations

from collections.abc import AsyncIterator

import pytest
import stripe

from portal.settings import STRIPE_INVOICE_API_VERSION
from portal.stripe.gateway import StripeGateway
from tests.conftest import SANDBOX_KEY


@pytest.fixture
def sdk(sandbox_url: str) -> stripe.StripeClient:
    """The official SDK, for arranging data the way a Stripe user would."""
    return stripe.StripeClient(
        SANDBOX_KEY,
        base_addresses={"api": sandbox_url, "files": sandbox_url},
        max_network_retries=0,
        stripe_version=STRIPE_INVOICE_API_VERSION,  # payment plans are a preview feature
    )


@pytest.fixture
async def gateway(sandbox_url: str) -> AsyncIterator[StripeGateway]:
    """The portal's gateway to the sandbox, without the SDK's retries."""
    gateway = StripeGateway(api_key=SANDBOX_KEY, api_base=sandbox_url, max_network_retries=0)
    yield gateway
    await gateway.aclose()
