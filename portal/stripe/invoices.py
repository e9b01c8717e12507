"""The gateway's invoice section: lists, one invoice with all its lines, and its payments.

Every invoice read is sent with the preview API version (`Connection._invoice_reads`), the only
one that returns payment plans.

An invoice page names its taxes and discounts. The tax rates set on the invoice come whole with
it (`default_tax_rates`), those of single lines only as ids, and discounts as ids: the page's
read expands what it names (`PAGE_EXPAND`), in the same request, so that the page costs no
round trip more than the invoice itself.
"""

from __future__ import annotations

import dataclasses
from collections.abc import Callable
from typing import Any, TypeVar
from urllib.parse import quote

import stripe

from portal.concurrency import at_once
from portal.stripe.client import Connection
from portal.stripe.convert import (
    balances_from_stripe,
    credit_note_from_stripe,
    customer_from_stripe,
    invoice_from_stripe,
    invoice_payment_from_stripe,
    line_from_stripe,
    payment_method_from_stripe,
    plain,
)
from portal.stripe.errors import stripe_errors
from portal.stripe.models import (
    CreditNote,
    Draft,
    Invoice,
    InvoiceLine,
    InvoicePage,
    InvoicePayment,
    OpenInvoice,
    Page,
    PaymentMethod,
)

# Each tax's rate, for its name and percentage: expandable since 2026-04-22.dahlia
# (https://docs.stripe.com/changelog/dahlia/2026-04-22/adds-expandable-tax-rate-property-to-tax-rate-details;
# the SDK still types the field as an id). Each discount with its coupon, for the coupon's
# name (`Invoice.TotalDiscountAmount.discount`, `Discount.Source.coupon`: four levels, Stripe's
# most). Both cover the lines' own discounts and rates too. The seller's tax IDs, which the
# invoice holds as ids, for the seller's block.
PAGE_EXPAND = (
    "total_taxes.tax_rate_details.tax_rate",
    "total_discount_amounts.discount.source.coupon",
    "account_tax_ids",
)
T = TypeVar("T")

# What the reminders read with each open invoice: the customer (their address and languages),
# their cash balance (an includable field of the customer: what arrived by bank transfer), the
# seller's tax IDs.
OPEN_EXPAND = ("data.customer", "data.customer.cash_balance", "data.account_tax_ids")
# What the announcements of scheduled charges read with each draft: the customer (their address
# and languages) with the method Stripe charges their invoices to, and the draft's own method
# (four levels at most, Stripe's limit).
DRAFT_EXPAND = (
    "data.customer",
    "data.customer.invoice_settings.default_payment_method",
    "data.default_payment_method",
)
# A further page of lines names its own discounts' coupons (the invoice's read covers the rest).
LINES_EXPAND = ("data.discounts.source.coupon",)


def _open_invoice(data: dict[str, Any]) -> OpenInvoice:
    customer = data["customer"]
    return OpenInvoice(
        invoice_from_stripe(data),
        customer_from_stripe(customer),
        balances_from_stripe(customer).cash,
    )


def _method(data: Any) -> PaymentMethod | None:
    """A method the read expanded (an id alone says nothing to show)."""
    return payment_method_from_stripe(data) if isinstance(data, dict) else None


def _draft(data: dict[str, Any]) -> Draft:
    customer = data["customer"]
    return Draft(
        invoice_from_stripe(data),
        customer_from_stripe(customer),
        own_method=_method(data.get("default_payment_method")),
        default_method=_method(
            (customer.get("invoice_settings") or {}).get("default_payment_method")
        ),
    )


class Invoices(Connection):
    """Invoices and their payments (Stripe's `invoice_payments`)."""

    async def list_invoices(
        self,
        customer_id: str,
        *,
        status: str | None = None,
        limit: int = 100,
        starting_after: str | None = None,
    ) -> Page[Invoice]:
        params: dict[str, Any] = {"customer": customer_id, "limit": limit}
        if status:
            params["status"] = status
        if starting_after:
            params["starting_after"] = starting_after
        page = await self._get("/v1/invoices", **params, **self._invoice_reads())
        return Page(
            items=tuple(invoice_from_stripe(item) for item in page["data"]),
            has_more=bool(page.get("has_more")),
        )

    async def open_invoices(
        self, starting_after: str | None = None, *, limit: int = 100
    ) -> Page[OpenInvoice]:
        """One page of the account's open invoices, all customers (for reminders), each with
        its customer and their cash balance expanded in the same request: a page costs one
        call, however many customers it names. Raw JSON, no StripeObjects (`_get`)."""
        params: stripe.params.InvoiceListParams = {
            "status": "open",
            "limit": limit,
            "expand": list(OPEN_EXPAND),
        }
        return await self._account_page(params, starting_after, _open_invoice)

    async def charged_drafts(
        self, starting_after: str | None = None, *, limit: int = 100
    ) -> Page[Draft]:
        """One page of the account's drafts that Stripe charges when it finalizes them
        (`charge_automatically`), all customers, each with its customer and the methods it
        would be charged to: a page costs one call. Which of them are scheduled, and when, is
        the caller's to judge (`billing.upcoming`): Stripe's list cannot filter on it."""
        params: stripe.params.InvoiceListParams = {
            "status": "draft",
            "collection_method": "charge_automatically",
            "limit": limit,
            "expand": list(DRAFT_EXPAND),
        }
        return await self._account_page(params, starting_after, _draft)

    async def _account_page(
        self,
        params: stripe.params.InvoiceListParams,
        starting_after: str | None,
        convert: Callable[[dict[str, Any]], T],
    ) -> Page[T]:
        """One page of the account's invoices as a batch job reads them, all customers."""
        if starting_after:
            params = {**params, "starting_after": starting_after}
        page = await self._get("/v1/invoices", **dict(params), **self._invoice_reads())
        return Page(
            items=tuple(convert(item) for item in page["data"]),
            has_more=bool(page.get("has_more")),
        )

    async def get_invoice(self, invoice_id: str) -> Invoice:
        # With the seller's tax IDs, which e-mails show beside its name: no round trip more.
        return await self._read_invoice(invoice_id, ("account_tax_ids",))

    async def _read_invoice(self, invoice_id: str, expand: tuple[str, ...] = ()) -> Invoice:
        path = f"/v1/invoices/{quote(invoice_id, safe='')}"
        extra: dict[str, Any] = {"expand": list(expand)} if expand else {}
        return invoice_from_stripe(await self._get(path, **extra, **self._invoice_reads()))

    async def get_invoice_with_lines(self, invoice_id: str) -> Invoice:
        """An invoice with every line, even when Stripe sent only the first page of them."""
        return await self._with_all_lines(await self.get_invoice(invoice_id))

    async def _with_all_lines(self, invoice: Invoice, *, named: bool = False) -> Invoice:
        if invoice.lines_complete:
            return invoice
        invoice_id = invoice.id
        lines: list[InvoiceLine] = []
        cursor: str | None = None
        async with stripe_errors():
            while True:
                params: stripe.params.InvoiceLineItemListParams = {"limit": 100}
                if named:
                    params["expand"] = list(LINES_EXPAND)
                if cursor:
                    params["starting_after"] = cursor
                page = await self._client.v1.invoices.line_items.list_async(invoice_id, params)
                lines.extend(line_from_stripe(plain(i), invoice.currency) for i in page.data)
                if not page.has_more or not page.data:
                    break
                cursor = page.data[-1].id
        return dataclasses.replace(invoice, lines=tuple(lines), lines_complete=True)

    async def invoice_page(self, invoice_id: str) -> InvoicePage:
        """An invoice with its lines and its payments, read at the same time, and its credit
        notes where it has any (a second request, only then). The caller checks that the invoice
        is the customer's before showing any of it."""
        invoice, payments = await at_once(
            self._invoice_for_page(invoice_id), self.list_invoice_payments(invoice_id)
        )
        notes = await self.list_credit_notes(invoice_id) if invoice.credit_notes_amount else []
        return InvoicePage(invoice, payments, notes)

    async def _invoice_for_page(self, invoice_id: str) -> Invoice:
        invoice = await self._read_invoice(invoice_id, PAGE_EXPAND)
        return await self._with_all_lines(invoice, named=True)

    async def get_credit_note(self, credit_note_id: str) -> CreditNote:
        path = f"/v1/credit_notes/{quote(credit_note_id, safe='')}"
        return credit_note_from_stripe(await self._get(path))

    async def list_credit_notes(self, invoice_id: str) -> list[CreditNote]:
        page = await self._get("/v1/credit_notes", invoice=invoice_id, limit=100)
        return [credit_note_from_stripe(item) for item in page["data"]]

    async def list_invoice_payments(self, invoice_id: str) -> list[InvoicePayment]:
        # With each payment's charge: how it was paid and Stripe's receipt, in the same read.
        page = await self._get(
            "/v1/invoice_payments",
            invoice=invoice_id,
            limit=100,
            expand=["data.payment.payment_intent.latest_charge"],
        )
        return [invoice_payment_from_stripe(item) for item in page["data"]]

    async def get_invoice_payment(self, invoice_payment_id: str) -> InvoicePayment:
        async with stripe_errors():
            data = await self._client.v1.invoice_payments.retrieve_async(invoice_payment_id)
        return invoice_payment_from_stripe(plain(data))
