"""The gateway's payment method section: a customer's saved cards and debits, and the default."""

from __future__ import annotations

from urllib.parse import quote

from portal.stripe.client import Connection
from portal.stripe.convert import payment_method_from_stripe, plain
from portal.stripe.errors import stripe_errors
from portal.stripe.models import PaymentMethod


class PaymentMethods(Connection):
    """Saved payment methods (adding one goes through Checkout, `checkout.py`)."""

    async def list_payment_methods(self, customer_id: str) -> list[PaymentMethod]:
        page = await self._get(
            f"/v1/customers/{quote(customer_id, safe='')}/payment_methods", limit=100
        )
        return [payment_method_from_stripe(item) for item in page["data"]]

    async def get_payment_method(self, payment_method_id: str) -> PaymentMethod:
        async with stripe_errors():
            data = await self._client.v1.payment_methods.retrieve_async(payment_method_id)
        return payment_method_from_stripe(plain(data))

    async def set_default_payment_method(self, customer_id: str, payment_method_id: str) -> None:
        """The method Stripe charges for this customer's invoices by default."""
        async with stripe_errors():
            await self._client.v1.customers.update_async(
                customer_id, {"invoice_settings": {"default_payment_method": payment_method_id}}
            )

    async def detach_payment_method(self, method: PaymentMethod) -> None:
        """Remove one of a customer's payment methods. It is passed as listed for its customer,
        so that the call says whose data changes (Stripe's answer no longer names them)."""
        async with stripe_errors():
            await self._client.v1.payment_methods.detach_async(method.id)
