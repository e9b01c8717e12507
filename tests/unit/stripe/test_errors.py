"""Stripe's exceptions turned into the portal's few, each with one meaning."""

from __future__ import annotations

from typing import Any

import pytest
import stripe

from portal.stripe.errors import (
    GatewayError,
    IdempotencyConflict,
    InvalidRequest,
    NotFound,
    PaymentDeclined,
    StripeMisconfigured,
    StripeRateLimited,
    StripeUnavailable,
    translate,
)


def _error(cls: type[stripe.StripeError], status: int, **error: Any) -> stripe.StripeError:
    body = {"error": error}
    if cls is stripe.CardError:
        exc: stripe.StripeError = stripe.CardError(
            error.get("message", ""),
            error.get("param"),
            error.get("code"),
            http_status=status,
            json_body=body,
        )
    elif cls is stripe.InvalidRequestError:
        exc = stripe.InvalidRequestError(
            error.get("message", ""),
            error.get("param"),
            error.get("code"),
            http_status=status,
            json_body=body,
        )
    else:
        exc = cls(
            error.get("message", ""), http_status=status, json_body=body, code=error.get("code")
        )
    return exc


@pytest.mark.parametrize(
    ("exc", "expected"),
    [
        (
            _error(
                stripe.CardError,
                402,
                code="card_declined",
                decline_code="insufficient_funds",
                type="card_error",
            ),
            PaymentDeclined,
        ),
        (
            _error(
                stripe.InvalidRequestError,
                404,
                code="resource_missing",
                type="invalid_request_error",
            ),
            NotFound,
        ),
        (
            _error(
                stripe.InvalidRequestError,
                400,
                code="amount_too_small",
                param="amount",
                type="invalid_request_error",
            ),
            InvalidRequest,
        ),
        (_error(stripe.RateLimitError, 429, type="rate_limit_error"), StripeRateLimited),
        (_error(stripe.APIError, 500, type="api_error"), StripeUnavailable),
        (stripe.APIConnectionError("connection refused"), StripeUnavailable),
        (
            _error(stripe.AuthenticationError, 401, type="invalid_request_error"),
            StripeMisconfigured,
        ),
        (_error(stripe.IdempotencyError, 400, type="idempotency_error"), IdempotencyConflict),
    ],
)
def test_stripe_errors_become_portal_errors(
    exc: stripe.StripeError, expected: type[GatewayError]
) -> None:
    assert type(translate(exc)) is expected


def test_declines_keep_their_decline_code() -> None:
    exc = _error(
        stripe.CardError, 402, code="card_declined", decline_code="expired_card", type="card_error"
    )
    translated = translate(exc)
    assert isinstance(translated, PaymentDeclined)
    assert (translated.code, translated.decline_code) == ("card_declined", "expired_card")
