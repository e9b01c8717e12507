"""The gateway's Checkout section: Stripe's own pages for adding a payment method and for
paying with the methods the account offers.

Card data never touches the portal: a setup-mode Checkout Session collects it, and the portal
reads back which method it saved. A payment-mode session pays one amount with whatever the
account has turned on (iDEAL, Bancontact, BLIK, bank transfer, wallets...), so the portal
builds none of them; what the customer paid is the session's PaymentIntent, which the portal
then attaches to the invoice (`Payments.attach_payment`).
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

    async def start_paying(
        self,
        customer_id: str,
        *,
        amount: int,
        currency: str,
        name: str,
        metadata: dict[str, str],
        success_url: str,
        cancel_url: str,
        locale: str,
        expires_at: int,
        idempotency_key: str,
        without_bank_transfer: bool = False,
    ) -> CheckoutSession:
        """A Checkout Session in payment mode for `amount`, hosted by Stripe, offering the
        methods the account's settings turn on for this currency and customer (no
        `allowed_payment_method_types`: the account decides), bank transfer left out when
        `without_bank_transfer` (the invoice has its own transfer instructions). `name` is the one line the
        customer sees (the invoice's number); `metadata` goes on the session and on its
        PaymentIntent, so either names the portal's payment. Nothing is saved for later."""
        params: stripe.params.checkout.SessionCreateParams = {
            "mode": "payment",
            "customer": customer_id,
            "line_items": [
                {
                    "quantity": 1,
                    "price_data": {
                        "currency": currency,
                        "unit_amount": amount,
                        "product_data": {"name": name},
                    },
                }
            ],
            "payment_intent_data": {"description": name, "metadata": metadata},
            "metadata": metadata,
            "submit_type": "pay",
            "success_url": success_url,
            "cancel_url": cancel_url,
            "locale": locale,
            "expires_at": expires_at,
        }
        if without_bank_transfer:
            params["excluded_payment_method_types"] = ["customer_balance"]
        async with stripe_errors():
            session = await self._client.v1.checkout.sessions.create_async(
                params, {"idempotency_key": idempotency_key}
            )
        if not session.url:
            raise GatewayError("Checkout returned no URL")
        return checkout_session_from_stripe(plain(session))

    async def get_checkout_session(self, session_id: str) -> CheckoutSession:
        """The session with what it made: the saved method's SetupIntent (setup mode) or the
        PaymentIntent (payment mode), in the same request."""
        async with stripe_errors():
            data = plain(
                await self._client.v1.checkout.sessions.retrieve_async(
                    session_id, {"expand": ["setup_intent", "payment_intent"]}
                )
            )
        return checkout_session_from_stripe(data)

    async def expire_checkout_session(self, session_id: str) -> CheckoutSession:
        """End an open session, so that nobody can pay on it any more (Stripe refuses to
        expire one that is complete: the caller reads it again)."""
        async with stripe_errors():
            data = plain(await self._client.v1.checkout.sessions.expire_async(session_id))
        return checkout_session_from_stripe(data)

    async def added_payment_method(self, session_id: str, customer_id: str) -> str | None:
        """The payment method a completed setup Checkout Session saved for this customer."""
        session = await self.get_checkout_session(session_id)
        if session.customer_id != customer_id or session.status != "complete":
            return None
        return session.payment_method_id
