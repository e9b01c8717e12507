"""The gateway's diagnostics section: what `portal doctor` asks Stripe about the set-up."""

from __future__ import annotations

from typing import Any

import stripe

from portal.stripe.client import Connection
from portal.stripe.convert import plain, webhook_endpoint_from_stripe
from portal.stripe.errors import NotFound, stripe_errors
from portal.stripe.models import WebhookEndpoint
from portal.stripe.permissions import Probe


class Diagnostics(Connection):
    """Harmless requests that show what the key may do and how the account is set up."""

    @property
    def api_version(self) -> str:
        """The API version the installed SDK pins (every request but invoice reads)."""
        return str(stripe.api_version)

    async def probe(self, probe: Probe) -> None:
        """Send the probe: a key without the permission raises `StripeMisconfigured`; "no such
        object" means the key may (Stripe checks the permission first)."""
        params: dict[str, Any] = dict(probe.params)
        try:
            async with stripe_errors():
                await self._client.raw_request_async(probe.method, probe.path, **params)
        except NotFound:
            return

    async def invoice_version_accepted(self) -> bool | None:
        """Read an invoice with the invoice API version (refused: `InvalidRequest`). Whether
        the account has payment plans: an invoice read with the preview carries
        `amounts_due` (None: no invoice to tell by)."""
        async with stripe_errors():
            found = await self._client.v1.invoices.list_async({"limit": 1}, self._invoice_reads())
        invoices = plain(found).get("data") or []
        if not invoices:
            return None
        return "amounts_due" in invoices[0]

    async def list_webhook_endpoints(self) -> list[WebhookEndpoint]:
        async with stripe_errors():
            found = await self._client.v1.webhook_endpoints.list_async({"limit": 100})
        return [webhook_endpoint_from_stripe(plain(e)) for e in found.data]
