"""The gateway's customer section: reading, finding and updating customers.

Sign-in finds customers by e-mail, staff search by id, e-mail, invoice number or name; the
account pages change name, address, phone, e-mail and languages.
"""

from __future__ import annotations

from typing import Any
from urllib.parse import quote

import stripe

from portal.concurrency import at_once
from portal.stripe import emails
from portal.stripe.client import Connection
from portal.stripe.convert import customer_from_stripe, object_id, plain
from portal.stripe.errors import InvalidRequest, NotFound, stripe_errors
from portal.stripe.models import Address, Customer


class Customers(Connection):
    """Customers at Stripe."""

    async def get_customer(self, customer_id: str) -> Customer:
        data = await self._get(f"/v1/customers/{quote(customer_id, safe='')}")
        if data.get("deleted"):
            raise NotFound(f"customer {customer_id} is deleted")
        return customer_from_stripe(data)

    async def get_customers(self, customer_ids: tuple[str, ...]) -> list[Customer]:
        """Several customers at once, concurrently (one round trip's time), in the given order."""
        return list(await at_once(*(self.get_customer(c) for c in customer_ids)))

    async def find_customers_by_email(self, email: str) -> list[Customer]:
        """Every customer whose e-mail is `email` (`emails.same`: ignoring the case of ASCII
        letters, NFC or NFD, the domain in Unicode or xn-- form).

        Stripe's list filter is exact and case-sensitive, so each of the address's spellings
        is listed; search finds other spellings ("Anna.Schmidt@Example.de") but is eventually
        consistent and not offered in every region, so it only adds to the lists. All run
        concurrently: one round trip.
        """
        quoted = email.replace("\\", "\\\\").replace("'", "\\'")
        # Raw reads (no StripeObjects): the sign-in answer must take the same time whether or
        # not the address has customers, and building objects for them would show.
        listed, searched = await at_once(
            at_once(
                *(self._get("/v1/customers", email=v, limit=100) for v in emails.spellings(email))
            ),
            self._search_customers(f"email:'{quoted}'"),
        )
        wanted = emails.key(email)
        found: dict[str, Customer] = {}
        for item in [*(i for page in listed for i in page["data"]), *searched]:
            customer = customer_from_stripe(plain(item))
            if customer.email and emails.key(customer.email) == wanted:
                found.setdefault(customer.id, customer)
        return list(found.values())

    async def _search_customers(self, query: str) -> list[dict[str, Any]]:
        try:
            result = await self._get("/v1/customers/search", query=query, limit=100)
        except (InvalidRequest, NotFound):
            return []  # search is not available for this account: the lists still answer
        return list(result["data"])

    async def find_customers(self, text: str) -> list[Customer]:
        """Staff search: by customer id, e-mail address, invoice number or (part of a) name,
        all asked at once."""
        text = text.strip()
        quoted = text.replace("\\", "\\\\").replace("'", "\\'")

        async def by_id() -> list[Customer]:
            if not text.startswith("cus_"):
                return []
            try:
                return [await self.get_customer(text)]
            except NotFound:
                return []

        async def by_email() -> list[Customer]:
            return await self.find_customers_by_email(text) if "@" in text else []

        async def by_invoice_number() -> list[Customer]:
            async with stripe_errors():
                try:
                    found = await self._client.v1.invoices.search_async(
                        {"query": f"number:'{quoted}'", "limit": 10}
                    )
                except stripe.InvalidRequestError:
                    return []
            ids = tuple(dict.fromkeys(str(object_id(i.customer)) for i in found.data))
            return await self.get_customers(ids)

        async def by_name() -> list[Customer]:
            if len(text) < 3:  # Stripe's substring search needs three characters
                return []
            async with stripe_errors():
                found = await self._search_customers(f"name~'{quoted}'")
            return [customer_from_stripe(plain(item)) for item in found]

        groups = await at_once(by_id(), by_email(), by_invoice_number(), by_name())
        unique: dict[str, Customer] = {}
        for customer in (c for group in groups for c in group):
            unique.setdefault(customer.id, customer)
        return list(unique.values())

    async def update_billing_details(
        self, customer_id: str, *, name: str, address: Address, phone: str | None
    ) -> Customer:
        """Name, address and phone for future invoices (issued ones keep theirs: Stripe froze
        them at finalization). Empty optional fields are cleared with Stripe's empty string."""
        params: stripe.params.CustomerUpdateParams = {
            "name": name,
            "phone": phone or "",
            "address": {
                "line1": address.line1 or "",
                "line2": address.line2 or "",
                "postal_code": address.postal_code or "",
                "city": address.city or "",
                "state": address.state or "",
                "country": address.country or "",
            },
        }
        async with stripe_errors():
            data = await self._client.v1.customers.update_async(customer_id, params)
        return customer_from_stripe(plain(data))

    async def set_email(self, customer_id: str, email: str) -> None:
        async with stripe_errors():
            await self._client.v1.customers.update_async(customer_id, {"email": email})

    async def set_preferred_locales(self, customer_id: str, locales: list[str]) -> None:
        """The languages Stripe uses for this customer's own e-mails and PDFs, first first."""
        async with stripe_errors():
            await self._client.v1.customers.update_async(
                customer_id, {"preferred_locales": locales}
            )
