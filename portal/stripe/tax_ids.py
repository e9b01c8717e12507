"""The gateway's tax ID section: a customer's VAT and other tax numbers, shown on invoices."""

from __future__ import annotations

from urllib.parse import quote

import stripe

from portal.stripe.client import Connection
from portal.stripe.convert import plain, tax_id_from_stripe
from portal.stripe.errors import stripe_errors
from portal.stripe.models import TaxId


class TaxIds(Connection):
    """A customer's tax IDs."""

    async def list_tax_ids(self, customer_id: str) -> list[TaxId]:
        page = await self._get(f"/v1/customers/{quote(customer_id, safe='')}/tax_ids", limit=100)
        return [tax_id_from_stripe(item) for item in page["data"]]

    async def get_tax_id(self, customer_id: str, tax_id: str) -> TaxId:
        async with stripe_errors():
            data = await self._client.v1.customers.tax_ids.retrieve_async(customer_id, tax_id)
        return tax_id_from_stripe(plain(data))

    async def add_tax_id(self, customer_id: str, *, type: str, value: str) -> TaxId:
        params: stripe.params.CustomerTaxIdCreateParams = {"type": type, "value": value}
        async with stripe_errors():
            data = await self._client.v1.customers.tax_ids.create_async(customer_id, params)
        return tax_id_from_stripe(plain(data))

    async def delete_tax_id(self, customer_id: str, tax_id: str) -> None:
        async with stripe_errors():
            await self._client.v1.customers.tax_ids.delete_async(customer_id, tax_id)
