"""What a customer still has to pay, as Stripe lists it: one rule for the overview, "pay all
overdue", the payment methods page and support's customer search, so that customer and support
never see different totals.

Unpaid is `open` or `uncollectible` (`invoices.PAYABLE_STATUSES`: a written-off invoice can
still be paid at Stripe). Stripe's list filters by one status at a time, so each is listed, all
at once: one round trip, and one more for each further 100 of a status (Stripe's largest page):
totals and "pay all overdue" count every unpaid invoice, however many.
"""

from __future__ import annotations

from collections.abc import Awaitable, Sequence

from portal.billing.invoices import PAYABLE_STATUSES
from portal.concurrency import Ready, at_once, then
from portal.stripe.cache import CachingGateway
from portal.stripe.models import Invoice, Page

STATUSES = tuple(sorted(PAYABLE_STATUSES))
PAGE = 100  # Stripe's largest


def unpaid_invoices(
    gateway: CachingGateway, customer_id: str, *, limit: int | None = None
) -> Awaitable[list[Invoice]]:
    """The customer's open and uncollectible invoices: all of them, or up to `limit` of each
    (enough to know whether there are any)."""
    pages = at_once(
        *(
            gateway.list_invoices(customer_id, status=status, limit=limit or PAGE)
            for status in STATUSES
        )
    )
    if limit is not None:
        return then(pages, _items)
    if isinstance(pages, Ready) and not any(page.has_more for page in pages.value):
        return Ready(_items(pages.value))
    return _with_the_rest(gateway, customer_id, pages)


def _items(pages: Sequence[Page[Invoice]]) -> list[Invoice]:
    return [invoice for page in pages for invoice in page.items]


async def _with_the_rest(
    gateway: CachingGateway, customer_id: str, first: Awaitable[Sequence[Page[Invoice]]]
) -> list[Invoice]:
    found: list[Invoice] = []
    for status, page in zip(STATUSES, await first, strict=True):
        found += page.items
        while page.next_cursor is not None:
            page = await gateway.list_invoices(
                customer_id, status=status, limit=PAGE, starting_after=page.next_cursor
            )
            found += page.items
    return found
