"""Choosing among the accounts one sign-in opened (one e-mail address, several companies), each
with what it has to pay, and switching between them. Support viewing as a customer sees the
one account they view, with nothing to switch to."""

from __future__ import annotations

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
from portal.templating import render


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
    """The picker. Right after sign-in (`?choose=1`) no account is marked as the open one: the
    customer picks; later the open one is marked. Each row says what that account has to pay
    (the overview's own totals), read for all accounts at the same time."""
    who = principal(request)
    listed = _accounts(request)
    gateway = services(request).gateway
    owed = await at_once(*(unpaid_invoices(gateway, a.id) for a in listed))
    now = datetime.now(UTC)
    return render(
        request,
        "pages/accounts.html",
        {
            "accounts": [
                (account, rules.totals_to_pay(invoices, now))
                for account, invoices in zip(listed, owed, strict=True)
            ],
            "active": None if request.query_params.get("choose") else who.customer_id,
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
