"""The gateway's money section: paying invoices whole or in part, and 3-D Secure.

Money-moving calls take a mandatory `idempotency_key`: the SDK reuses it on its own retries, and
the caller stores it per payment attempt so that a resubmitted form repeats, rather than
repeats the charge (https://docs.stripe.com/api/idempotent_requests).
"""

from __future__ import annotations

from typing import Literal

import stripe

from portal.stripe.client import Connection
from portal.stripe.convert import (
    invoice_from_stripe,
    payment_intent_from_stripe,
    plain,
    refund_from_stripe,
)
from portal.stripe.errors import stripe_errors
from portal.stripe.models import Invoice, PaymentIntent, Refund

RefundReason = Literal["duplicate", "fraudulent", "requested_by_customer"]


class Payments(Connection):
    """Charges: invoices paid with saved methods, PaymentIntents."""

    async def pay_invoice(
        self, invoice_id: str, *, payment_method_id: str, idempotency_key: str
    ) -> Invoice:
        """Pay an invoice's whole remaining amount with a saved payment method."""
        async with stripe_errors():
            data = await self._client.v1.invoices.pay_async(
                invoice_id,
                # The customer pressed "Pay": on-session, so a bank that wants 3-D Secure
                # gets it (the error names the invoice's PaymentIntent to confirm) rather
                # than an off-session exemption being asked for.
                {"payment_method": payment_method_id, "off_session": False},
                {"idempotency_key": idempotency_key},
            )
        return invoice_from_stripe(plain(data))

    async def pay_part_of_invoice(
        self,
        *,
        invoice_id: str,
        customer_id: str,
        currency: str,
        amount: int,
        payment_method_id: str,
        idempotency_key: str,
        return_url: str,
    ) -> PaymentIntent:
        """Pay `amount` of an invoice (installments): a PaymentIntent attached to the invoice.

        The PaymentIntent is attached before it is confirmed, so that a charge that succeeds is
        always counted on the invoice, even if the portal stops between the two calls. Each step
        has its own key derived from `idempotency_key`, so a retry of the whole sequence repeats
        nothing. The customer is present, so the confirmation is on-session with a `return_url`:
        a bank that wants 3-D Secure gets a redirect (`action_url`) instead of a decline.
        """
        if amount <= 0:
            raise ValueError("amount must be positive")
        async with stripe_errors():
            intent = await self._client.v1.payment_intents.create_async(
                {
                    "amount": amount,
                    "currency": currency,
                    "customer": customer_id,
                    "payment_method": payment_method_id,
                    "metadata": {"invoice": invoice_id},
                },
                {"idempotency_key": f"{idempotency_key}:create"},
            )
        # From here on a refusal or a decline leaves this PaymentIntent behind, for the caller
        # to cancel: attached to the invoice and never paid, it would block voiding the invoice.
        async with stripe_errors(payment_intent_id=intent.id, step="attach"):
            await self._client.v1.invoices.attach_payment_async(
                invoice_id,
                {"payment_intent": intent.id},
                {"idempotency_key": f"{idempotency_key}:attach"},
            )
        async with stripe_errors(payment_intent_id=intent.id, step="confirm"):
            confirmed = await self._client.v1.payment_intents.confirm_async(
                intent.id,
                {"payment_method": payment_method_id, "return_url": return_url},
                {"idempotency_key": f"{idempotency_key}:confirm"},
            )
        return payment_intent_from_stripe(plain(confirmed))

    async def authenticate_payment(
        self, payment_intent_id: str, *, return_url: str, idempotency_key: str
    ) -> PaymentIntent:
        """Ask Stripe for the page where the customer confirms a payment with their bank: an
        invoice's PaymentIntent left in `requires_action` by `invoices.pay` is confirmed again
        with a `return_url`, which makes its next action a redirect."""
        async with stripe_errors():
            confirmed = await self._client.v1.payment_intents.confirm_async(
                payment_intent_id,
                {"return_url": return_url},
                {"idempotency_key": idempotency_key},
            )
        return payment_intent_from_stripe(plain(confirmed))

    async def attach_payment(
        self, invoice_id: str, *, payment_intent_id: str, idempotency_key: str
    ) -> Invoice:
        """Count a PaymentIntent made elsewhere (on Stripe's Checkout page) on the invoice:
        Stripe credits it at once when it has succeeded, else when it does."""
        async with stripe_errors():
            data = await self._client.v1.invoices.attach_payment_async(
                invoice_id,
                {"payment_intent": payment_intent_id},
                {"idempotency_key": idempotency_key},
            )
        return invoice_from_stripe(plain(data))

    async def refund_payment(
        self, payment_intent_id: str, *, reason: RefundReason | None, idempotency_key: str
    ) -> Refund:
        """Give back all of a PaymentIntent's money (one its invoice no longer owes). The
        refund may be `pending` for days and then fail: its webhooks and `get_refund` say."""
        params: stripe.params.RefundCreateParams = {"payment_intent": payment_intent_id}
        if reason is not None:
            params["reason"] = reason
        async with stripe_errors():
            data = await self._client.v1.refunds.create_async(
                params, {"idempotency_key": idempotency_key}
            )
        return refund_from_stripe(plain(data))

    async def get_refund(self, refund_id: str) -> Refund:
        async with stripe_errors():
            data = await self._client.v1.refunds.retrieve_async(refund_id)
        return refund_from_stripe(plain(data))

    async def cancel_payment_intent(
        self, payment_intent_id: str, *, idempotency_key: str
    ) -> PaymentIntent:
        """Cancel a PaymentIntent the portal created and that will not be paid (declined, the
        bank's confirmation abandoned): its invoice payment becomes `canceled`, so the invoice
        can be voided or marked uncollectible again."""
        async with stripe_errors():
            data = await self._client.v1.payment_intents.cancel_async(
                payment_intent_id,
                {"cancellation_reason": "abandoned"},
                {"idempotency_key": idempotency_key},
            )
        return payment_intent_from_stripe(plain(data))

    async def get_payment_intent(self, payment_intent_id: str) -> PaymentIntent:
        async with stripe_errors():
            data = await self._client.v1.payment_intents.retrieve_async(payment_intent_id)
        return payment_intent_from_stripe(plain(data))
