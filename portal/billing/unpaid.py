"""What a customer still has to pay, as Stripe lists it: one rule for the overview, "pay all
overdue", the payment methods page and support's customer search, so that customer and support
never see different totals.

Unpaid is `open` or `uncollectible` (`invoices.PAYABLE_STATUSES`: a written-off invoice can
still be paid at Stripe). Stripe's list filters by one status at a time, so each is listed, all
at once: one round trip.
"""

from __future__ import annotations

from collections.abc import Awaitable

from portal.billing.invoices import PAYABLE_STATUSES
from portal.concurrency import at_once, then
from portal.stripe.cache import CachingGateway
from portal.stripe.models import Invoice


def unpaid_invoices(
    gateway: CachingGateway, customer_id: str, *, limit: int = 100
) -> Awaitable[list[Invoice]]:
    """The customer's open and uncollectible invoices (up to `limit` of each)."""
    pages = at_once(
        *(
            gateway.list_invoices(customer_id, status=status, limit=limit)
            for status in sorted(PAYABLE_STATUSES)
        )
    )
    return then(pages, lambda found: [invoice for page in found for invoice in page.items])
