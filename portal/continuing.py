"""The step between a form's answer and an off-site page (Stripe's Checkout, 3-D Secure at the
bank, the staff's identity provider).

A form POST that has to send the customer off-site answers with a redirect to one of the
portal's own GET pages, which renders this interstitial: a plain link to the target and a
`<meta http-equiv="refresh">`. The refresh is a new navigation, not the continuation of a form
submission, so the CSP's `form-action` stays `'self'` (why: `portal.security`); and browsers
follow a refresh by replacing the page in the history (HTML's "shared declarative refresh
steps"), so "back" from Stripe leads to the page the customer came from, not to this step,
which would send them straight on again. The target is always read server-side from what
Stripe returned for this customer's payment or Checkout Session, never from the request, so
the page is no open redirect; and it must be https (plain http only to the host of a
configured non-Stripe API base: the local sandbox).

Staff sign-in is the one form whose answer is this page itself (200, not a redirect to it):
the provider's address carries a one-time `state` that the portal stores only as a hash, so a
later GET could not rebuild it. The address comes from the configured issuer's discovery
document, not from the request.
"""

from __future__ import annotations

from typing import Literal

from starlette.requests import Request
from starlette.responses import Response

from portal.services import services
from portal.stripe.destinations import may_send_to
from portal.stripe.errors import GatewayError
from portal.templating import render

# Where the browser is going: Stripe's Checkout, the bank's confirmation (3-D Secure, on
# Stripe's pages), or the company's identity provider (staff sign-in).
Destination = Literal["stripe", "bank", "sign_in"]


def to_stripe(request: Request, target: str, *, to: Literal["stripe", "bank"]) -> Response:
    """The interstitial that sends the customer on to `target`, which Stripe gave us."""
    if not may_send_to(target, services(request).settings.stripe_api_base):
        raise GatewayError(f"Stripe sent an unexpected address to continue to: {target!r}")
    return page(request, target, to=to)


def page(request: Request, target: str, *, to: Destination) -> Response:
    """The interstitial itself; `target` is one the caller built or checked."""
    response = render(request, "pages/continue.html", {"target": target, "to": to})
    # The next site need not learn which page of the portal the browser came from.
    response.headers["referrer-policy"] = "no-referrer"
    return response
