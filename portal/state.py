"""What the portal knows about one request beyond Starlette's own, in one typed value.

It lives in the ASGI scope under one key (`portal`) and each part has one writer: the cookies
and the browser id come from `portal.middleware`, the visitor from the route guard
(`portal.routing`, through `portal.principals.resolve`), the charging and at-Stripe flags
from the payment views (`portal.billing.paying`). Everyone else only reads. (The request's
language lives in `portal.i18n`'s context variables, which gettext reads everywhere, e-mails
included.)
"""

from __future__ import annotations

from collections.abc import MutableMapping
from dataclasses import dataclass
from typing import Any

from starlette.requests import HTTPConnection

from portal.identity.customer_sessions import CustomerSession
from portal.identity.staff_sessions import StaffSession
from portal.permissions import Principal

KEY = "portal"


@dataclass(frozen=True)
class Visitor:
    """Who is asking, resolved once per request before the view runs."""

    # Whom the request acts for; None on pages that need nobody (the sign-in page).
    principal: Principal | None = None
    # The customer sign-in in this browser (on invoice-link pages, see `through_link`).
    session: CustomerSession | None = None
    # The staff member signed in in this browser, whether or not viewing as a customer.
    staff: StaffSession | None = None
    # The staff session whose view as a customer this request is part of (checked for time
    # and on the record): set only on customer pages.
    impersonation: StaffSession | None = None
    # The principal is the holder of an e-mailed invoice link, not the sign-in: the page shows
    # nothing of the session's.
    through_link: bool = False

    @property
    def shown_session(self) -> CustomerSession | None:
        """The sign-in the page's header shows."""
        return None if self.through_link else self.session


@dataclass
class RequestState:
    # The request's cookies, parsed once (`portal.middleware`; `portal.cookies.read_cookie`).
    cookies: dict[str, str] | None = None
    browser_id: str | None = None
    visitor: Visitor | None = None
    # From here on Stripe may have acted on a charge whose answer was lost: no error page may
    # say that nothing was charged.
    charging: bool = False
    # The payment may have been paid on Stripe's Checkout page (its session open, or completed
    # and not yet counted): no error page may say that nothing was charged, and each says how
    # to check the payment again.
    at_stripe: bool = False


def state_of(scope: MutableMapping[str, Any]) -> RequestState:
    found = scope.get(KEY)
    if found is None:
        found = scope[KEY] = RequestState()
    assert isinstance(found, RequestState)
    return found


def request_state(conn: HTTPConnection) -> RequestState:
    return state_of(conn.scope)
