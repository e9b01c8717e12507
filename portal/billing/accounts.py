"""Choosing among the accounts one sign-in opened (one e-mail address, several companies), each
with what it has to pay, and switching between them."""

from __future__ import annotations

from datetime import UTC, datetime

from starlette.requests import Request
from starlette.responses import RedirectResponse, Response

from portal.billing import invoices as rules
from portal.billing.unpaid import unpaid_invoices
from portal.concurrency import at_once
from portal.identity import customer_sessions
from portal.permissions import require_account
from portal.principals import principal, visitor
from portal.services import services
from portal.templating import render


async def accounts(request: Request) -> Response:
    """The picker. Right after sign-in (`?choose=1`) no account is marked as the open one: the
    customer picks; later the open one is marked. Each row says what that account has to pay
    (the overview's own totals), read for all accounts at the same time."""
    who = principal(request)
    session = visitor(request).session
    assert session is not None
    gateway = services(request).gateway
    owed = await at_once(*(unpaid_invoices(gateway, a.id) for a in session.accounts))
    now = datetime.now(UTC)
    return render(
        request,
        "pages/accounts.html",
        {
            "accounts": [
                (account, rules.totals_to_pay(invoices, now))
                for account, invoices in zip(session.accounts, owed, strict=True)
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
    assert session is not None
    await customer_sessions.switch_customer(services(request).engine, session, customer_id)
    return RedirectResponse(request.url_for("billing:overview"), status_code=303)
