"""Pages for what can go wrong, in the visitor's language, never a traceback.

Each page says what happened and what to do. Unexpected errors get a short reference id that is
also written to the log with the traceback, so support can find the one from the customer's
screenshot.
"""

from __future__ import annotations

import logging
import secrets
from collections.abc import Callable, Mapping
from datetime import UTC, datetime
from typing import Any

from starlette.exceptions import HTTPException
from starlette.requests import Request
from starlette.responses import RedirectResponse, Response

from portal import audit
from portal.csrf import CsrfFailed
from portal.i18n import _, ngettext
from portal.logs import request_id
from portal.permissions import Forbidden, NotFound
from portal.principals import ImpersonationOver, SignInRequired
from portal.ratelimit import RateLimited
from portal.services import services
from portal.state import request_state
from portal.storage.database import UnstorableText
from portal.stripe.errors import GatewayError, StripeRateLimited, StripeUnavailable
from portal.stripe.errors import NotFound as StripeNotFound
from portal.templating import render

log = logging.getLogger("portal.errors")


def reference() -> str:
    """The request's id (see portal.logs): the log line of this request carries it too."""
    return request_id() or secrets.token_hex(8)


def error_page(
    request: Request,
    status: int,
    title: str,
    message: str,
    *,
    ref: str | None = None,
    headers: Mapping[str, str] | None = None,
) -> Response:
    if ref is None:
        # Every error page carries a reference that support can find in the log.
        ref = reference()
        log.info("%s on %s %s [ref %s]", status, request.method, request.url.path, ref)
    response = render(
        request,
        "pages/error.html",
        {"title": title, "message": message, "reference": ref, "status": status},
        status=status,
    )
    if headers:
        response.headers.update(headers)
    return response


async def not_found(request: Request, exc: Exception) -> Response:
    return error_page(
        request,
        404,
        _("Page not found"),
        _(
            "This page does not exist, or it belongs to another account. Please check the address or go back to your invoices."
        ),
    )


async def http_error(request: Request, exc: Exception) -> Response:
    assert isinstance(exc, HTTPException)
    if exc.status_code == 404:
        return await not_found(request, exc)
    if exc.status_code == 405:
        return error_page(
            request,
            405,
            _("Not possible"),
            _("This address cannot be used this way. Please go back and try again."),
        )
    if exc.status_code == 413:
        return error_page(
            request,
            413,
            _("Too much at once"),
            _(
                "What was sent is larger than any form of ours can be, so nothing was done. Please go back and send the form again."
            ),
        )
    if 400 <= exc.status_code < 500:
        # Starlette's own refusals (a form it cannot parse, too many fields) and the route
        # guard's (`portal.routing`): the client's mistake, not logged as the portal's.
        return await unreadable(request, exc)
    return await server_error(request, exc)


async def unreadable(request: Request, exc: Exception) -> Response:
    if isinstance(exc, UnstorableText):
        if _charging(request):  # not the visitor's input but the portal's own: a bug
            return await server_error(request, exc)
        # A value that no check before caught (portal.storage.database): worth a look.
        log.warning("text the database cannot store, on %s %s", request.method, request.url.path)
    return error_page(
        request,
        400,
        _("Not possible"),
        _(
            "What was sent could not be read, so nothing was done. Please go back, reload the page and send the form again."
        ),
    )


async def forbidden(request: Request, exc: Exception) -> Response:
    assert isinstance(exc, Forbidden)
    found = request_state(request).visitor
    staff = found.impersonation if found is not None else None
    if staff is not None and staff.impersonation is not None:
        await audit.record(
            services(request).engine,
            request,
            staff.member,
            str(exc.action),
            now=datetime.now(UTC),
            customer_id=staff.impersonation.customer_id,
            target=f"{request.method} {request.url.path}",
            outcome="refused",
        )
    return error_page(
        request,
        403,
        _("Not allowed"),
        _("You may look at this account but not change anything in it."),
    )


async def csrf_failed(request: Request, exc: Exception) -> Response:
    return error_page(
        request,
        403,
        _("Please try again"),
        _(
            "This form was open for too long or came from another site, so nothing was done. Please go back, reload the page and send the form again."
        ),
    )


async def impersonation_over(request: Request, exc: Exception) -> Response:
    return RedirectResponse(request.url_for("staff:home").include_query_params(ended=1), 303)


async def sign_in_required(request: Request, exc: Exception) -> Response:
    return RedirectResponse(request.url_for("auth:sign_in"), status_code=303)


async def rate_limited(request: Request, exc: Exception) -> Response:
    assert isinstance(exc, RateLimited)
    if exc.limit.about == "paying":
        return _paying_paused(request, exc)
    minutes = max(1, exc.retry_after // 60)
    return error_page(
        request,
        429,
        _("Too many attempts"),
        ngettext(
            "For your security, nothing was sent. Please try again in %(num)d minute.",
            "For your security, nothing was sent. Please try again in %(num)d minutes.",
            minutes,
        ),
        headers={"Retry-After": str(exc.retry_after)},
    )


def _charging(request: Request) -> bool:
    """Whether the request had begun charging (`portal.billing.paying`): from then on an error
    page must not say that nothing was charged, since Stripe may have acted on a request whose
    answer was lost."""
    return request_state(request).charging


def _paying_paused(request: Request, exc: RateLimited) -> Response:
    """Too many payments started or Stripe pages opened (`portal.billing.rate_limits`): said
    as such, with the whole minutes until the window ends (rounded up, so that trying again
    then works)."""
    minutes = max(1, -(-exc.retry_after // 60))
    return error_page(
        request,
        429,
        _("Too many payment attempts"),
        ngettext(
            "For your security, new payments and new payment methods are paused for a while. Nothing was charged. Please try again in %(num)d minute.",
            "For your security, new payments and new payment methods are paused for a while. Nothing was charged. Please try again in %(num)d minutes.",
            minutes,
        ),
        headers={"Retry-After": str(exc.retry_after)},
    )


def _at_stripe(request: Request) -> bool:
    """Whether the request's payment may have been paid on Stripe's Checkout page
    (`portal.billing.paying`): its error pages never say that nothing was charged."""
    return request_state(request).at_stripe


def _not_checked(request: Request, ref: str, status: int, *, unreachable: bool) -> Response:
    """A payment that may have been paid on Stripe's page could not be checked: the money,
    if paid, is Stripe's to count (the return, the webhook, the page's check all count it,
    once), so the page says it is safe and leads to the payment's page to check again."""
    if unreachable:
        message = _(
            "We could not reach Stripe to check this payment. If you paid on Stripe's page, your payment is safe and will be counted on your invoice; nothing will be charged twice. Please check again in a moment."
        )
    else:
        message = _(
            "Something went wrong while we were checking this payment. If you paid on Stripe's page, your payment is safe and will be counted on your invoice; nothing will be charged twice. Please check again in a moment."
        )
    response = render(
        request,
        "pages/payment_not_checked.html",
        {
            "title": _("We could not check your payment just now"),
            "message": message,
            "reference": ref,
            "payment_id": request.path_params["payment_id"],
        },
        status=status,
    )
    if unreachable:
        response.headers["Retry-After"] = "30"
    return response


def _outcome_unknown(request: Request, ref: str, status: int) -> Response:
    return error_page(
        request,
        status,
        _("We are checking whether your payment went through"),
        _(
            "Your payment was sent to our payment provider, but its answer did not reach us. It will not be charged twice. Please open the payment again in a few minutes to see whether it went through."
        ),
        ref=ref,
    )


async def stripe_error(request: Request, exc: Exception) -> Response:
    ref = reference()
    if isinstance(exc, StripeNotFound):
        return await not_found(request, exc)
    level = logging.WARNING if isinstance(exc, StripeUnavailable) else logging.ERROR
    log.log(
        level,
        "Stripe error [ref %s]: %r",
        ref,
        exc,
        exc_info=not isinstance(exc, StripeUnavailable),
    )
    if _at_stripe(request):
        return _not_checked(request, ref, 503, unreachable=isinstance(exc, StripeUnavailable))
    if _charging(request):
        return _outcome_unknown(request, ref, 503)
    # A page that only shows something says so; "nothing was changed or charged" is for a
    # form whose change Stripe refused, and next to a paid payment it would mislead.
    showing = request.method in ("GET", "HEAD")
    if isinstance(exc, StripeRateLimited):
        # Still refused after the SDK's retries: Stripe is asking everyone to slow down, which
        # passes within seconds. Not the portal's fault, so no ERROR and no traceback.
        return error_page(
            request,
            503,
            _("Very busy right now"),
            _(
                "Our payment provider is handling a great many requests at the moment, so this page cannot be shown. Please try again in a minute."
            )
            if showing
            else _(
                "Our payment provider is handling a great many requests at the moment. Nothing was changed or charged. Please try again in a minute."
            ),
            ref=ref,
            headers={"Retry-After": "30"},
        )
    return error_page(
        request,
        503,
        _("Temporarily unavailable"),
        _(
            "Our payment provider cannot be reached right now, so this page cannot be shown. Please try again in a few minutes."
        )
        if showing
        else _(
            "Our payment provider cannot be reached right now. Nothing was changed or charged. Please try again in a few minutes."
        ),
        ref=ref,
        headers={"Retry-After": "60"},
    )


async def server_error(request: Request, exc: Exception) -> Response:
    ref = reference()
    log.exception(
        "unexpected error [ref %s] on %s %s", ref, request.method, request.url.path, exc_info=exc
    )
    if _at_stripe(request):
        return _not_checked(request, ref, 500, unreachable=False)
    if _charging(request):
        return _outcome_unknown(request, ref, 500)
    return error_page(
        request,
        500,
        _("Something went wrong"),
        _(
            "Sorry, this did not work. Nothing was changed or charged. Please try again; if it keeps happening, contact us and quote the reference below."
        ),
        ref=ref,
    )


HANDLERS: Mapping[Any, Callable[[Request, Exception], Any]] = {
    404: not_found,
    HTTPException: http_error,
    NotFound: not_found,
    Forbidden: forbidden,
    CsrfFailed: csrf_failed,
    SignInRequired: sign_in_required,
    ImpersonationOver: impersonation_over,
    RateLimited: rate_limited,
    GatewayError: stripe_error,
    UnstorableText: unreadable,
}
