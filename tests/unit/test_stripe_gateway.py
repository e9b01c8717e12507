"""The gateway's conversions, checked on Stripe's own example objects, and its boundary."""

from __future__ import annotations

import ast
import json
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import pytest
import stripe

import portal
from portal.stripe.convert import (
    customer_from_stripe,
    invoice_from_stripe,
    invoice_payment_from_stripe,
    payment_method_from_stripe,
    tax_id_from_stripe,
)
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

EXAMPLES: dict[str, dict[str, Any]] = json.loads(
    (Path(__file__).parents[1] / "fixtures" / "stripe_examples.json").read_text()
)
PACKAGE = Path(portal.__file__).parent


def test_only_the_stripe_package_imports_stripe() -> None:
    importers = []
    for path in PACKAGE.rglob("*.py"):
        for node in ast.walk(ast.parse(path.read_text())):
            names = []
            if isinstance(node, ast.Import):
                names = [a.name for a in node.names]
            elif isinstance(node, ast.ImportFrom) and node.module and node.level == 0:
                names = [node.module]
            if any(n == "stripe" or n.startswith("stripe.") for n in names):
                importers.append(path.relative_to(PACKAGE).as_posix())
    # (The sandbox, which reads the SDK's parameter definitions, lives in devtools/.)
    assert "stripe/client.py" in importers  # the test sees the gateway's own imports
    assert sorted({p for p in importers if not p.startswith("stripe/")}) == []


def test_invoice_from_stripes_example() -> None:
    invoice = invoice_from_stripe(EXAMPLES["invoice"])
    assert invoice.id == "in_1Pgc6tB7WZ01zgkWu9fdqL6I"
    assert invoice.status == "draft"
    assert (invoice.amount_due, invoice.amount_paid, invoice.amount_remaining) == (1000, 0, 1000)
    assert invoice.due_date == datetime.fromtimestamp(1234567890, UTC)
    assert invoice.lines[0].description == "My First Invoice Item (created for API docs)"
    assert invoice.lines_complete
    assert invoice.installments == ()


def test_installments_are_read_from_amounts_due() -> None:
    data = EXAMPLES["invoice"] | {
        "amounts_due": [
            {
                "amount": 300,
                "amount_paid": 300,
                "amount_remaining": 0,
                "days_until_due": None,
                "due_date": 1700000000,
                "description": "Deposit",
                "paid_at": 1700000001,
                "status": "paid",
            },
            {
                "amount": 700,
                "amount_paid": 0,
                "amount_remaining": 700,
                "days_until_due": None,
                "due_date": 1800000000,
                "description": None,
                "paid_at": None,
                "status": "past_due",
            },
        ]
    }
    first, second = invoice_from_stripe(data).installments
    assert (first.index, first.status, first.description, first.amount_remaining) == (
        0,
        "paid",
        "Deposit",
        0,
    )
    assert first.paid_at == datetime.fromtimestamp(1700000001, UTC)
    assert (second.index, second.status, second.amount_remaining) == (1, "past_due", 700)


def test_customer_payment_method_payment_and_tax_id_examples() -> None:
    customer = customer_from_stripe(EXAMPLES["customer"])
    assert customer.id == "cus_QXg1o8vcGmoR32"
    assert customer.preferred_locales == ()
    card = payment_method_from_stripe(EXAMPLES["payment_method"])
    assert (card.type, card.brand, card.last4, card.exp_month, card.exp_year) == (
        "card",
        "visa",
        "4242",
        8,
        2030,
    )
    payment = invoice_payment_from_stripe(EXAMPLES["invoice_payment"])
    assert payment.is_default
    assert payment.amount_requested == 1112626247
    tax_id = tax_id_from_stripe(EXAMPLES["tax_id"])
    assert (tax_id.type, tax_id.value, tax_id.verification_status) == (
        "eu_vat",
        "DE123456789",
        "pending",
    )


def test_expanded_default_payment_method_is_read_as_its_id() -> None:
    data = EXAMPLES["customer"] | {
        "invoice_settings": {"default_payment_method": EXAMPLES["payment_method"]}
    }
    assert customer_from_stripe(data).default_payment_method_id == "pm_1Pgc75B7WZ01zgkWlHVgdEGJ"


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
