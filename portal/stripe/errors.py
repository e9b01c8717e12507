"""Stripe's exceptions turned into the few the portal acts on, each with one meaning.

Views and commands catch these, never the SDK's own classes (which only this package imports);
`translate` decides which is which (https://docs.stripe.com/error-handling).
"""

from __future__ import annotations

import contextlib
from collections.abc import AsyncIterator

import stripe

from portal.stripe.convert import object_id


class GatewayError(Exception):
    """Something went wrong talking to Stripe; subclasses say what the portal can do about it."""

    def __init__(self, message: str = "", *, request_id: str | None = None) -> None:
        super().__init__(message)
        self.request_id = request_id


class StripeUnavailable(GatewayError):
    """Stripe could not be reached or failed on its side: try again later, change nothing."""


class StripeRateLimited(StripeUnavailable):
    """Stripe asked us to slow down (HTTP 429)."""


class NotFound(GatewayError):
    """The object does not exist (or is not visible with this key)."""


class InvalidRequest(GatewayError):
    """Stripe refused the request's parameters; `code` and `param` say which and why. A step
    of several (`step`) refused after a PaymentIntent was created names it (`payment_intent_id`)."""

    def __init__(
        self,
        message: str = "",
        *,
        code: str | None,
        param: str | None,
        request_id: str | None = None,
        payment_intent_id: str | None = None,
        step: str | None = None,
    ) -> None:
        super().__init__(message, request_id=request_id)
        self.code = code
        self.param = param
        self.payment_intent_id = payment_intent_id
        self.step = step


class PaymentDeclined(GatewayError):
    """The payment method was declined; `decline_code` (or `code`) explains it to the customer."""

    def __init__(
        self,
        message: str = "",
        *,
        code: str | None,
        decline_code: str | None,
        payment_intent_id: str | None = None,
        request_id: str | None = None,
    ) -> None:
        super().__init__(message, request_id=request_id)
        self.code = code
        self.decline_code = decline_code
        self.payment_intent_id = payment_intent_id


class IdempotencyConflict(GatewayError):
    """The same idempotency key was used with different parameters: a bug on our side."""


class StripeMisconfigured(GatewayError):
    """The API key is wrong or lacks a permission: an operator has to fix the settings."""


class WebhookSignatureInvalid(GatewayError):
    """A webhook's body or `Stripe-Signature` header did not verify."""


class WebhookMalformed(GatewayError):
    """A correctly signed webhook whose body is not an event (a leaked secret, a test tool)."""


def translate(
    exc: stripe.StripeError, *, payment_intent_id: str | None = None, step: str | None = None
) -> GatewayError:
    request_id = exc.request_id
    message = str(exc.user_message or exc)
    error = exc.error
    code = exc.code
    if isinstance(exc, stripe.CardError):
        pi = getattr(error, "payment_intent", None) if error else None
        return PaymentDeclined(
            message,
            code=code,
            decline_code=getattr(error, "decline_code", None) if error else None,
            payment_intent_id=object_id(pi) or payment_intent_id,
            request_id=request_id,
        )
    if isinstance(exc, stripe.RateLimitError):
        return StripeRateLimited(message, request_id=request_id)
    if isinstance(exc, stripe.APIConnectionError | stripe.APIError):
        return StripeUnavailable(message, request_id=request_id)
    if isinstance(exc, stripe.AuthenticationError | stripe.PermissionError):
        return StripeMisconfigured(message, request_id=request_id)
    if code == "idempotency_key_in_use":
        # The same request is still under way (the return from Stripe's page and its webhook
        # at once): its answer is not known yet, as if the network had lost it.
        return StripeUnavailable(message, request_id=request_id)
    if isinstance(exc, stripe.IdempotencyError):
        return IdempotencyConflict(message, request_id=request_id)
    if isinstance(exc, stripe.InvalidRequestError):
        if code == "resource_missing" or exc.http_status == 404:
            return NotFound(message, request_id=request_id)
        return InvalidRequest(
            message,
            code=code,
            param=exc.param,
            request_id=request_id,
            payment_intent_id=payment_intent_id,
            step=step,
        )
    if exc.http_status is not None and exc.http_status >= 500:
        return StripeUnavailable(message, request_id=request_id)
    return GatewayError(message, request_id=request_id)


@contextlib.asynccontextmanager
async def stripe_errors(
    *, payment_intent_id: str | None = None, step: str | None = None
) -> AsyncIterator[None]:
    """Around every SDK call: its exceptions leave as the portal's (naming the PaymentIntent a
    refused or declined step leaves behind, when there is one)."""
    try:
        yield
    except stripe.StripeError as exc:
        raise translate(exc, payment_intent_id=payment_intent_id, step=step) from exc
