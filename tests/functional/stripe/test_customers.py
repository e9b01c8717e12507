"""The gateway's customer reads against the sandbox: finding customers by e-mail."""

from __future__ import annotations

import uuid

import pytest
import stripe

from portal.stripe.gateway import StripeGateway
from tests.functional.stripe.stripe_support import customer_with_card

pytestmark = pytest.mark.anyio


async def test_finds_customers_by_email_ignoring_case(
    gateway: StripeGateway, sdk: stripe.StripeClient
) -> None:
    email = f"shared-{uuid.uuid4().hex[:6]}@example.com"
    first, _ = customer_with_card(sdk, email)
    second, _ = customer_with_card(sdk, email)
    for typed in (email, email.upper()):
        found = await gateway.find_customers_by_email(typed)
        assert {c.id for c in found} == {first, second}


async def test_finds_an_address_stored_with_capitals(
    gateway: StripeGateway, sdk: stripe.StripeClient
) -> None:
    stored = f"Anna.Schmidt-{uuid.uuid4().hex[:6]}@Example.de"
    customer_id, _ = customer_with_card(sdk, stored)
    found = await gateway.find_customers_by_email(stored.lower())
    assert [c.id for c in found] == [customer_id]
