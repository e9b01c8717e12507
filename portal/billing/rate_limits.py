"""How many payments a visitor may start, and Stripe Checkout pages open, in an hour.

Starting a payment writes a row; opening Checkout (to add a method, or to pay another way) is a
write at Stripe, counted against the account's rate limit that every customer shares. Each is
counted per visitor, per invoice and per customer (`portal.ratelimit`, fixed windows of an
hour); the page that refuses says when to try again (`portal.errors`).

The visitor is the sign-in, or for an invoice link's holder the link: neither can be exchanged
cheaply (a new sign-in needs the mailbox and is itself limited; the link is the invoice's),
where a browser's cookie or an address could be. A visitor's limit is below the invoice's and
the customer's, so that one visitor alone cannot lock the others out; those two cap what many
visitors do together.
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass
from datetime import timedelta

from starlette.requests import Request

from portal import ratelimit
from portal.identity.customer_sessions import CustomerSession
from portal.permissions import Principal
from portal.principals import visitor
from portal.ratelimit import Limit
from portal.services import services

HOUR = timedelta(hours=1)


@dataclass(frozen=True)
class Limits:
    per_visitor: Limit
    per_invoice: Limit
    per_customer: Limit


# A customer starts one payment per invoice paid and one per "Try again" (a declined card, a
# card changed): paying a dozen invoices one by one, a few of them twice, is a third of the
# visitor's limit, and no one tries one invoice twenty times in an hour.
STARTS = Limits(
    per_visitor=Limit("payment-start-visitor", 30, HOUR, about="paying"),
    per_invoice=Limit("payment-start-invoice", 40, HOUR, about="paying"),
    per_customer=Limit("payment-start-customer", 100, HOUR, about="paying"),
)
# A customer opens Checkout to add a card, again when the bank declines it, and to pay another
# way, and may come back and go again: four or five in an hour is a lot.
CHECKOUTS = Limits(
    per_visitor=Limit("checkout-visitor", 10, HOUR, about="paying"),
    per_invoice=Limit("checkout-invoice", 15, HOUR, about="paying"),
    per_customer=Limit("checkout-customer", 30, HOUR, about="paying"),
)


def visitor_key(who: Principal, session: CustomerSession | None) -> str:
    """Whom a visitor's limit counts: the invoice link, else the sign-in (its stored hash),
    else the customer (support's view as the customer, which cannot pay)."""
    if who.invoice_id is not None:
        return f"link:{who.customer_id}:{who.invoice_id}"
    if session is not None:
        return f"session:{session.id_hash}"
    return f"customer:{who.customer_id}"


def checks(
    limits: Limits, who: Principal, session: CustomerSession | None, invoice_ids: Iterable[str]
) -> list[tuple[Limit, str]]:
    """The counters one attempt adds to: the visitor's, the customer's, each invoice's."""
    return [
        (limits.per_visitor, visitor_key(who, session)),
        (limits.per_customer, who.customer_id),
        *((limits.per_invoice, invoice_id) for invoice_id in sorted(set(invoice_ids))),
    ]


async def _count(
    request: Request, limits: Limits, who: Principal, invoice_ids: Iterable[str]
) -> None:
    await ratelimit.check(
        services(request).engine, checks(limits, who, visitor(request).session, invoice_ids)
    )


async def count_start(request: Request, who: Principal, invoice_ids: Iterable[str]) -> None:
    """Count a payment about to be started on these invoices; `RateLimited` if too many."""
    await _count(request, STARTS, who, invoice_ids)


async def count_checkout(request: Request, who: Principal, invoice_ids: Iterable[str] = ()) -> None:
    """Count a Checkout Session about to be created (for a payment of these invoices, or
    none: the payment methods page); `RateLimited` if too many."""
    await _count(request, CHECKOUTS, who, invoice_ids)
