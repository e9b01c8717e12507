"""Stripe reads kept per customer, so a repeat page view costs no Stripe round trip.

Stripe is the slow, rate-limited part of every page. `CachingGateway` keeps what a customer's
pages read (the customer, invoice lists, an invoice page, payment methods, tax IDs) in this
process and serves it again while both hold:

- the customer's change counter in the database (`customer_changes`) is still the one the entry
  was read at. Webhooks move it (on whichever instance receives them), and so does every change
  the portal itself makes at Stripe, so no instance serves data older than the last change it
  could know of;
- the entry is younger than the TTL (a safety net for changes no webhook reports).

When Stripe cannot be reached or rate-limits, the last known entry is served, however old, and
the page says so (`stale_since`). Reads that decide money (`get_invoice` while paying) and the
webhooks' re-reads (`uncached()`) always go to Stripe.
"""

from __future__ import annotations

import time
from collections import OrderedDict
from collections.abc import Awaitable, Callable
from contextvars import ContextVar
from dataclasses import dataclass
from datetime import UTC, datetime
from typing import Any, TypeVar

from sqlalchemy.ext.asyncio import AsyncEngine
from starlette.types import ASGIApp, Receive, Scope, Send

from portal.billing import changes
from portal.billing.models import (
    Address,
    Customer,
    Invoice,
    InvoicePayment,
    Page,
    PaymentIntent,
    PaymentMethod,
    TaxId,
)
from portal.storage.database import transaction
from portal.stripe_gateway import StripeGateway, StripeUnavailable

T = TypeVar("T")

DEFAULT_TTL = 60.0
MAX_ENTRIES = 20_000

# Per request: when the oldest stale entry served was read (a list, so that tasks gathered from
# the request, which copy the context, report into the same one).
_stale: ContextVar[list[datetime] | None] = ContextVar("portal_stale", default=None)
# Per request: the change counters already read, so a page's several reads of one customer ask
# the database once (a change the request itself makes forgets the customer's entry).
_versions: ContextVar[dict[str, int] | None] = ContextVar("portal_versions", default=None)


def remember_version(customer_id: str, version: int) -> None:
    """A change counter read along with something else in this request (the session)."""
    seen = _versions.get()
    if seen is not None:
        seen.setdefault(customer_id, version)


def stale_since() -> datetime | None:
    found = _stale.get()
    return min(found) if found else None


@dataclass
class _Entry:
    customer_id: str
    version: int
    stored_at: float  # monotonic
    read_at: datetime  # wall clock, for "data from 10:42"
    value: Any


class CachingGateway(StripeGateway):
    def __init__(self, *, engine: AsyncEngine, ttl: float = DEFAULT_TTL, **kwargs: Any) -> None:
        super().__init__(**kwargs)
        self._engine = engine
        self._ttl = ttl
        self._entries: OrderedDict[tuple[str, ...], _Entry] = OrderedDict()
        self._plain = StripeGateway.sharing(self)

    def uncached(self) -> StripeGateway:
        return self._plain

    async def _version(self, customer_id: str) -> int:
        seen = _versions.get()
        if seen is not None and customer_id in seen:
            return seen[customer_id]
        async with self._engine.connect() as conn:
            version = await changes.version(conn, customer_id)
        if seen is not None:
            seen[customer_id] = version
        return version

    async def changed(self, customer_id: str) -> None:
        """Every instance drops what it keeps of this customer (the counter is shared)."""
        async with transaction(self._engine) as conn:
            await changes.bump(conn, customer_id, datetime.now(UTC))
        seen = _versions.get()
        if seen is not None:
            seen.pop(customer_id, None)

    async def _cached(
        self,
        key: tuple[str, ...],
        customer_id: str | None,
        load: Callable[[], Awaitable[T]],
        owner: Callable[[T], str] | None = None,
    ) -> T:
        """`load()` unless a current entry exists; `customer_id` (or `owner(value)` when only
        the value tells whose it is) names the customer whose counter it follows."""
        entry = self._entries.get(key)
        whose = customer_id or (entry.customer_id if entry else None)
        version = await self._version(whose) if whose else None
        if (
            entry is not None
            and self._ttl > 0
            and entry.version == version
            and time.monotonic() - entry.stored_at < self._ttl
        ):
            self._entries.move_to_end(key)
            return entry.value  # type: ignore[no-any-return]
        try:
            value = await load()
        except StripeUnavailable:  # unreachable or rate-limited: the last known data, said so
            if entry is None:
                raise
            found = _stale.get()
            if found is not None:
                found.append(entry.read_at)
            return entry.value  # type: ignore[no-any-return]
        whose = customer_id or (owner(value) if owner else None)
        if whose is not None:
            if version is None or whose != customer_id:
                version = await self._version(whose)
            self._entries[key] = _Entry(whose, version, time.monotonic(), datetime.now(UTC), value)
            self._entries.move_to_end(key)
            while len(self._entries) > MAX_ENTRIES:
                self._entries.popitem(last=False)
        return value

    # --- reads a customer's pages make ---

    async def get_customer(self, customer_id: str) -> Customer:
        return await self._cached(
            ("customer", customer_id),
            customer_id,
            lambda: super(CachingGateway, self).get_customer(customer_id),
        )

    async def list_invoices(
        self,
        customer_id: str,
        *,
        status: str | None = None,
        limit: int = 100,
        starting_after: str | None = None,
    ) -> Page[Invoice]:
        key = ("invoices", customer_id, status or "", str(limit), starting_after or "")
        return await self._cached(
            key,
            customer_id,
            lambda: super(CachingGateway, self).list_invoices(
                customer_id, status=status, limit=limit, starting_after=starting_after
            ),
        )

    async def invoice_page(self, invoice_id: str) -> tuple[Invoice, list[InvoicePayment]]:
        return await self._cached(
            ("invoice_page", invoice_id),
            None,
            lambda: super(CachingGateway, self).invoice_page(invoice_id),
            owner=lambda found: found[0].customer_id,
        )

    async def list_payment_methods(self, customer_id: str) -> list[PaymentMethod]:
        return await self._cached(
            ("methods", customer_id),
            customer_id,
            lambda: super(CachingGateway, self).list_payment_methods(customer_id),
        )

    async def list_tax_ids(self, customer_id: str) -> list[TaxId]:
        return await self._cached(
            ("tax_ids", customer_id),
            customer_id,
            lambda: super(CachingGateway, self).list_tax_ids(customer_id),
        )

    # --- changes the portal makes: every instance must read again ---

    async def pay_invoice(
        self, invoice_id: str, *, payment_method_id: str, idempotency_key: str
    ) -> Invoice:
        try:
            invoice = await super().pay_invoice(
                invoice_id, payment_method_id=payment_method_id, idempotency_key=idempotency_key
            )
        except Exception:
            await self._changed_invoice(invoice_id)  # a decline changes the invoice's attempts
            raise
        await self.changed(invoice.customer_id)
        return invoice

    async def _changed_invoice(self, invoice_id: str) -> None:
        entry = self._entries.get(("invoice_page", invoice_id))
        if entry is not None:
            await self.changed(entry.customer_id)

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
        try:
            return await super().pay_part_of_invoice(
                invoice_id=invoice_id,
                customer_id=customer_id,
                currency=currency,
                amount=amount,
                payment_method_id=payment_method_id,
                idempotency_key=idempotency_key,
                return_url=return_url,
            )
        finally:
            await self.changed(customer_id)

    async def set_default_payment_method(self, customer_id: str, payment_method_id: str) -> None:
        await super().set_default_payment_method(customer_id, payment_method_id)
        await self.changed(customer_id)

    async def detach_payment_method(self, customer_id: str, payment_method_id: str) -> None:
        await super().detach_payment_method(customer_id, payment_method_id)
        await self.changed(customer_id)

    async def update_billing_details(
        self, customer_id: str, *, name: str, address: Address, phone: str | None
    ) -> Customer:
        customer = await super().update_billing_details(
            customer_id, name=name, address=address, phone=phone
        )
        await self.changed(customer_id)
        return customer

    async def set_email(self, customer_id: str, email: str) -> None:
        await super().set_email(customer_id, email)
        await self.changed(customer_id)

    async def set_preferred_locales(self, customer_id: str, locales: list[str]) -> None:
        await super().set_preferred_locales(customer_id, locales)
        await self.changed(customer_id)

    async def add_tax_id(self, customer_id: str, *, type: str, value: str) -> TaxId:
        try:
            return await super().add_tax_id(customer_id, type=type, value=value)
        finally:
            await self.changed(customer_id)

    async def delete_tax_id(self, customer_id: str, tax_id: str) -> None:
        await super().delete_tax_id(customer_id, tax_id)
        await self.changed(customer_id)


class StalenessMiddleware:
    """Gives each request its own record of stale data served (see `stale_since`) and of the
    change counters read."""

    def __init__(self, app: ASGIApp) -> None:
        self.app = app

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] == "http":
            stale, versions = _stale.set([]), _versions.set({})
            try:
                await self.app(scope, receive, send)
            finally:
                _stale.reset(stale)
                _versions.reset(versions)
            return
        await self.app(scope, receive, send)
