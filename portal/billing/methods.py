"""The customer's saved payment methods: list, choose the default, remove."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import UTC, datetime

from starlette.requests import Request
from starlette.responses import RedirectResponse, Response

from portal import continuing
from portal.billing import rate_limits
from portal.billing.method_order import default_first
from portal.billing.paying import usable
from portal.billing.payments import may_remove_method
from portal.billing.unpaid import unpaid_invoices
from portal.concurrency import at_once
from portal.i18n import _, current_locale
from portal.permissions import NotFound, Principal
from portal.principals import principal
from portal.services import services
from portal.stripe.errors import NotFound as StripeNotFound
from portal.stripe.models import PaymentMethod
from portal.templating import render


@dataclass(frozen=True)
class Wallet:
    """What the page needs, read from Stripe in one concurrent round trip."""

    methods: list[PaymentMethod]
    default_id: str | None
    has_unpaid_invoices: bool


async def _wallet(request: Request, who: Principal) -> Wallet:
    gateway = services(request).gateway
    methods, customer, owed = await at_once(
        gateway.list_payment_methods(who.customer_id),
        gateway.get_customer(who.customer_id),
        unpaid_invoices(gateway, who.customer_id, limit=1),
    )
    unpaid = any(i.amount_remaining for i in owed)
    return Wallet(methods, customer.default_payment_method_id, unpaid)


def _page(
    request: Request, wallet: Wallet, *, message: str | None = None, status: int = 200
) -> Response:
    now = datetime.now(UTC)
    return render(
        request,
        "pages/payment_methods.html",
        {
            "methods": [
                (m, usable(m, now)) for m in default_first(wallet.methods, wallet.default_id)
            ],
            "default_id": wallet.default_id,
            "may_remove": may_remove_method(len(wallet.methods), wallet.has_unpaid_invoices),
            "message": message,
        },
        status=status,
    )


async def payment_methods(request: Request) -> Response:
    who = principal(request)
    return _page(request, await _wallet(request, who))


async def _chosen(request: Request) -> tuple[Principal, Wallet, PaymentMethod]:
    form = await request.form()
    who = principal(request)
    wallet = await _wallet(request, who)
    chosen = next((m for m in wallet.methods if m.id == form.get("payment_method")), None)
    if chosen is None:  # not one of this customer's methods
        raise NotFound(str(form.get("payment_method")))
    return who, wallet, chosen


async def make_default(request: Request) -> Response:
    who, _wallet_now, chosen = await _chosen(request)
    if not usable(chosen, datetime.now(UTC)):
        raise NotFound(chosen.id)
    await services(request).gateway.set_default_payment_method(who.customer_id, chosen.id)
    return RedirectResponse(request.url_for("billing:methods"), status_code=303)


async def remove(request: Request) -> Response:
    _who, wallet, chosen = await _chosen(request)
    if not may_remove_method(len(wallet.methods), wallet.has_unpaid_invoices):
        return _page(
            request,
            wallet,
            message=_(
                "This is your only payment method and some invoices are still to be paid, so it cannot be removed. Please add another payment method first."
            ),
            status=409,
        )
    await services(request).gateway.detach_payment_method(chosen)
    return RedirectResponse(request.url_for("billing:methods"), status_code=303)


async def add(request: Request) -> Response:
    """Off to Stripe's hosted page to add a card or a SEPA mandate; back to `added`."""
    who = principal(request)
    svc = services(request)
    await rate_limits.count_checkout(request, who)
    session = await svc.gateway.start_adding_payment_method(
        who.customer_id,
        # Stripe fills in its session's id where the template says so.
        success_url=svc.link("billing:method_added") + "?session_id={CHECKOUT_SESSION_ID}",
        cancel_url=svc.link("billing:methods"),
        locale=current_locale(),
    )
    # To Stripe through the portal's own page: a form's answer stays on the site.
    return RedirectResponse(
        request.url_for("billing:method_checkout", session_id=session.id), status_code=303
    )


async def checkout(request: Request) -> Response:
    """On to Stripe's Checkout (from `add`): the address is the Checkout Session's at Stripe,
    and the session must be this customer's and still open; else back to the methods."""
    who = principal(request)
    session_id = request.path_params["session_id"]
    if not session_id.startswith("cs_"):
        raise NotFound(session_id)
    try:
        session = await services(request).gateway.get_checkout_session(session_id)
    except StripeNotFound as exc:
        raise NotFound(session_id) from exc
    if session.customer_id != who.customer_id:
        raise NotFound(session_id)
    if session.status != "open" or not session.url:
        return RedirectResponse(request.url_for("billing:methods"), status_code=303)
    return continuing.to_stripe(request, session.url, to="stripe")


async def added(request: Request) -> Response:
    """Back from Stripe: the new method becomes the default when there was none."""
    who = principal(request)
    session_id = request.query_params.get("session_id", "")
    if not session_id.startswith("cs_"):
        raise NotFound(session_id)
    gateway = services(request).gateway
    method_id = await gateway.added_payment_method(session_id, who.customer_id)
    if method_id is None:
        raise NotFound(session_id)
    wallet = await _wallet(request, who)
    if wallet.default_id is None or not any(m.id == wallet.default_id for m in wallet.methods):
        await gateway.set_default_payment_method(who.customer_id, method_id)
    return RedirectResponse(request.url_for("billing:methods"), status_code=303)
