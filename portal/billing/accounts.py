"""Choosing among the accounts one sign-in opened (one e-mail address, several companies), each
with what it has to pay and where it is, and switching between them. Support viewing as a
customer sees the one account they view, with nothing to switch to."""

from __future__ import annotations

from collections import Counter
from collections.abc import Sequence
from dataclasses import dataclass
from datetime import UTC, datetime

from starlette.requests import Request
from starlette.responses import RedirectResponse, Response

from portal.billing import invoices as rules
from portal.billing.unpaid import unpaid_invoices
from portal.concurrency import at_once
from portal.identity import customer_sessions
from portal.identity.customer_sessions import Account
from portal.permissions import require_account
from portal.principals import principal, visitor
from portal.services import services
from portal.stripe.cache import CachingGateway
from portal.stripe.errors import NotFound
from portal.stripe.models import Customer
from portal.templating import render


@dataclass(frozen=True)
class Whereabouts:
    """What tells an account apart from others of a similar name: where it is billed (the
    street only where city and country are shared with another listed account), else its
    e-mail address. The country is a code, named in the reader's language by the page."""

    street: str | None = None
    city: str | None = None
    country: str | None = None
    email: str | None = None


@dataclass(frozen=True)
class Row:
    """One account in the picker."""

    account: Account
    name: str | None  # as Stripe has it now, else as it was at sign-in
    where: Whereabouts
    totals: list[rules.CurrencyTotal]


def whereabouts(customers: Sequence[Customer | None]) -> list[Whereabouts]:
    """One line per customer, in their order (None: Stripe no longer has it)."""
    places = [_place(c) for c in customers]
    shared = Counter(p for p in places if p is not None)
    found = []
    for customer, place in zip(customers, places, strict=True):
        if customer is None:
            found.append(Whereabouts())
        elif place is None:
            found.append(Whereabouts(email=customer.email))
        else:
            address = customer.address
            street = address.line1 if address and shared[place] > 1 else None
            found.append(Whereabouts(street=street or None, city=place[0], country=place[1]))
    return found


def _place(customer: Customer | None) -> tuple[str | None, str | None] | None:
    address = customer.address if customer else None
    if address is None or not (address.city or address.country):
        return None
    return (address.city or None, address.country or None)


async def _customer(gateway: CachingGateway, customer_id: str) -> Customer | None:
    # An account deleted at Stripe since sign-in still lists (what it owes reads as nothing):
    # the picker is the way to the others.
    try:
        return await gateway.get_customer(customer_id)
    except NotFound:
        return None


def _accounts(request: Request) -> tuple[Account, ...]:
    """The accounts this request may choose among: the sign-in's, or the one support views."""
    found = visitor(request)
    if found.session is not None:
        return found.session.accounts
    viewing = found.impersonation.impersonation if found.impersonation else None
    assert viewing is not None  # Access.CUSTOMER: a customer's sign-in or support's view
    locales = (viewing.customer_locale,) if viewing.customer_locale else ()
    return (Account(viewing.customer_id, viewing.customer_name, locales),)


async def accounts(request: Request) -> Response:
    """The picker. Right after sign-in (`?choose=1`) no account is marked as the open one and
    the header offers nothing (every page there would be of an account not yet chosen): the
    customer picks; later the open one is marked. Each row says what that account has to pay
    (the overview's own totals) and where it is, all accounts read at the same time."""
    who = principal(request)
    listed = _accounts(request)
    gateway = services(request).gateway
    owed, customers = await at_once(
        at_once(*(unpaid_invoices(gateway, a.id) for a in listed)),
        at_once(*(_customer(gateway, a.id) for a in listed)),
    )
    now = datetime.now(UTC)
    choosing = bool(request.query_params.get("choose"))
    rows = [
        Row(account, (customer.name if customer else None) or account.name, where, totals)
        for account, customer, where, totals in zip(
            listed,
            customers,
            whereabouts(customers),
            (rules.totals_to_pay(invoices, now) for invoices in owed),
            strict=True,
        )
    ]
    return render(
        request,
        "pages/accounts.html",
        {
            "rows": rows,
            "active": None if choosing else who.customer_id,
            "choosing": choosing,
            # Changing the language before a choice stays before the choice.
            **({"language_next": f"{request.url.path}?choose=1"} if choosing else {}),
        },
    )


async def switch_account(request: Request) -> Response:
    form = await request.form()
    who = principal(request)
    customer_id = str(form.get("customer", ""))
    require_account(who, customer_id)
    session = visitor(request).session
    # Support's view holds one account, already open: nothing to switch.
    if session is not None:
        await customer_sessions.switch_customer(services(request).engine, session, customer_id)
    return RedirectResponse(request.url_for("billing:overview"), status_code=303)
