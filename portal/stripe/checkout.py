"""The gateway's Checkout section: adding a payment method on Stripe's own page.

Card data never touches the portal: a setup-mode Checkout Session collects it, and the portal
reads back which method it saved.
"""

from __future__ import annotations

import stripe

from portal.stripe.client import Connection
from portal.stripe.convert import checkout_session_from_stripe, plain
from portal.stripe.errors import GatewayError, stripe_errors
from portal.stripe.models import CheckoutSession


class Checkout(Connection):
    """Checkout Sessions in setup mode."""

    async def start_adding_payment_method(
        self,
        customer_id: str,
        *,
        success_url: str,
        cancel_url: str,
        locale: str,
        for_currency: str = "eur",
    ) -> CheckoutSession:
        """A Checkout Session in setup mode, hosted by Stripe, so card data never touches the
        portal; its `url` is where to send the customer. SEPA Direct Debit is offered only when
        the method is for euro payments, the only currency it can pay.

        `payment_method_types` is gone from Checkout since 2026-09-30.endive: the account's
        payment method settings decide, and `allowed_payment_method_types` only narrows them
        (a type the account has not turned on is not offered even when listed)."""
        params: stripe.params.checkout.SessionCreateParams = {
            "mode": "setup",
            "customer": customer_id,
            "currency": for_currency,
            "allowed_payment_method_types": ["card", "sepa_debit"]
            if for_currency == "eur"
            else ["card"],
            "success_url": success_url,
            "cancel_url": cancel_url,
            "locale": locale,
        }
        async with stripe_errors():
            session = await self._client.v1.checkout.sessions.create_async(params)
        if not session.url:
            raise GatewayError("Checkout returned no URL")
        return checkout_session_from_stripe(plain(session))

    async def get_checkout_session(self, session_id: str) -> CheckoutSession:
        async with stripe_errors():
            data = plain(
                await self._client.v1.checkout.sessions.retrieve_async(
                    session_id, {"expand": ["setup_intent"]}
                )
            )
        return checkout_session_from_stripe(data)

    async def added_payment_method(self, session_id: str, customer_id: str) -> str | None:
        """The payment method a completed setup Checkout Session saved for this customer."""
        session = await self.get_checkout_session(session_id)
        if session.customer_id != customer_id or session.status != "complete":
            return None
        return session.payment_method_id
