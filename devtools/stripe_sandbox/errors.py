"""Stripe's error objects and the HTTP statuses that carry them.

The official SDK picks its exception class from the status and the error `type`
(400/404 → InvalidRequestError, 401 → AuthenticationError, 402 → CardError, 429 → RateLimitError,
`idempotency_error` → IdempotencyError, 5xx → APIError), so each error here keeps both right.
"""

from __future__ import annotations

from typing import Any, Literal

ErrorType = Literal[
    "api_error", "card_error", "idempotency_error", "invalid_request_error", "rate_limit"
]

_DOC_BASE = "https://stripe.com/docs/error-codes/"


class StripeError(Exception):
    """An API error, raised anywhere inside a handler and rendered by the dispatcher."""

    def __init__(
        self,
        status: int,
        type: ErrorType,
        message: str,
        *,
        code: str | None = None,
        param: str | None = None,
        decline_code: str | None = None,
        extra: dict[str, Any] | None = None,
        store_for_idempotency: bool = False,
    ) -> None:
        super().__init__(message)
        self.status = status
        self.type = type
        self.message = message
        self.code = code
        self.param = param
        self.decline_code = decline_code
        self.extra = extra or {}
        # Stripe saves an idempotent result only once the endpoint started executing: a
        # declined charge is replayed, a request that failed validation is not.
        self.store_for_idempotency = store_for_idempotency

    def body(self, request_log_url: str | None = None) -> dict[str, Any]:
        error: dict[str, Any] = {"type": self.type, "message": self.message}
        if self.code is not None:
            error["code"] = self.code
            error["doc_url"] = _DOC_BASE + self.code.replace("_", "-")
        if self.param is not None:
            error["param"] = self.param
        if self.decline_code is not None:
            error["decline_code"] = self.decline_code
        if request_log_url is not None:
            error["request_log_url"] = request_log_url
        error.update(self.extra)
        return {"error": error}

    def as_last_error(self) -> dict[str, Any]:
        """The shape kept on an intent's `last_payment_error` / `last_setup_error`."""
        body: dict[str, Any] = self.body()["error"]
        body.pop("payment_intent", None)
        body.pop("setup_intent", None)
        return body


def invalid_request(
    message: str, *, param: str | None = None, code: str | None = None, status: int = 400
) -> StripeError:
    return StripeError(status, "invalid_request_error", message, code=code, param=param)


def missing_param(param: str) -> StripeError:
    return invalid_request(
        f"Missing required param: {param}.", param=param, code="parameter_missing"
    )


def cannot_unset(param: str) -> StripeError:
    """An empty value (Stripe's way to unset a field) for a field that must keep a value."""
    return invalid_request(
        f"You passed an empty string for '{param}'. We assume empty values are an attempt to "
        f"unset a parameter; however '{param}' cannot be unset. You should remove '{param}' "
        "from your request or supply a non-empty value.",
        param=param,
        code="parameter_invalid_empty",
    )


def invalid_value(param: str, value: object) -> StripeError:
    return invalid_request(
        f"Invalid value for {param}: {value!r}.", param=param, code="parameter_invalid"
    )


def no_such(kind: str, object_id: str, param: str = "id") -> StripeError:
    return invalid_request(
        f"No such {kind}: '{object_id}'", param=param, code="resource_missing", status=404
    )


def unexpected_state(message: str, code: str | None = None) -> StripeError:
    return invalid_request(message, code=code)


def card_error(
    message: str,
    *,
    code: str,
    decline_code: str | None = None,
    param: str | None = None,
    extra: dict[str, Any] | None = None,
) -> StripeError:
    return StripeError(
        402,
        "card_error",
        message,
        code=code,
        decline_code=decline_code,
        param=param,
        extra=extra,
        store_for_idempotency=True,
    )


def authentication_failed(message: str) -> StripeError:
    return StripeError(401, "invalid_request_error", message)


def rate_limited() -> StripeError:
    """Stripe's 429 (the SDK raises RateLimitError for any 429)."""
    return StripeError(
        429,
        "invalid_request_error",
        "Request rate limit exceeded. Learn more about rate limits here "
        "https://stripe.com/docs/rate-limits.",
        code="rate_limit",
    )


def injected(status: int) -> StripeError:
    """A fault asked for through /_sandbox/faults: what Stripe answers when it is struggling."""
    if status == 429:
        return rate_limited()
    if status == 402:
        return card_error(
            "Your card was declined.", code="card_declined", decline_code="generic_decline"
        )
    if status == 401:
        return authentication_failed("Invalid API Key provided (sandbox fault).")
    if 400 <= status < 500:
        return invalid_request("Sandbox fault.", status=status)
    return StripeError(
        status,
        "api_error",
        "An unknown error occurred in the sandbox (injected fault).",
    )
