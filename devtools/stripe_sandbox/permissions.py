"""Restricted API keys: Stripe's permissions, the one each /v1 route needs, and Stripe's 403 for
a request the key's permissions do not cover.

A restricted key (`rk_test_…`, made by `POST /_sandbox/keys`) holds `read` or `write` on some of
Stripe's resources; write includes read. Stripe names a permission `<resource>_<read|write>`
(https://docs.stripe.com/stripe-apps/reference/permissions; restricted keys use the same names,
prefixed `rak_` in the error), and expanding an object needs its resource's read permission ("If
you're expanding objects in the responses of your API requests, you must also request at least
one corresponding permission for each API object you expand", same page). Stripe's reference of
which permission each endpoint needs is https://docs.stripe.com/keys/permissions-reference; the
routes below whose rows could not be read there are marked as the sandbox's reading in
docs/sandbox.md.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from typing import Literal

from stripe_sandbox import ids
from stripe_sandbox.errors import StripeError

Level = Literal["read", "write"]
RESTRICTED_PREFIX = "rk_test_"

# Stripe's resources the sandbox serves, with the levels Stripe offers for each (events can only
# be read). Refunds have no permission of their own: the Dashboard's row is "Charges and refunds".
RESOURCES: Mapping[str, tuple[Level, ...]] = {
    "charge": ("read", "write"),
    "checkout_session": ("read", "write"),
    "coupon": ("read", "write"),
    "credit_note": ("read", "write"),
    "customer": ("read", "write"),
    "event": ("read",),
    "invoice": ("read", "write"),
    "payment_intent": ("read", "write"),
    "payment_method": ("read", "write"),
    "setup_intent": ("read", "write"),
    "tax_rate": ("read", "write"),
    "webhook": ("read", "write"),
}

# "This permission also implies the following permissions" (Stripe's permissions reference),
# for the implied ones the sandbox serves.
IMPLIES: Mapping[str, tuple[str, ...]] = {
    "checkout_session_read": ("payment_intent_read", "setup_intent_read"),
    "checkout_session_write": ("payment_intent_read", "setup_intent_read"),
    "credit_note_read": ("invoice_read",),
    "credit_note_write": ("invoice_read",),
    "invoice_read": ("credit_note_read",),
    "invoice_write": ("credit_note_read",),
}


@dataclass(frozen=True)
class Permission:
    resource: str
    level: Level

    @property
    def name(self) -> str:
        return f"{self.resource}_{self.level}"


def _read(resource: str) -> Permission:
    return Permission(resource, "read")


def _write(resource: str) -> Permission:
    return Permission(resource, "write")


# Every /v1 route of the API table (app.py) and the permission it needs; a route missing here
# fails tests/unit/sandbox/test_permissions.py.
ROUTES: Mapping[str, Permission] = {
    "POST /v1/customers": _write("customer"),
    "GET /v1/customers": _read("customer"),
    "GET /v1/customers/search": _read("customer"),
    "GET /v1/customers/{customer}": _read("customer"),
    "POST /v1/customers/{customer}": _write("customer"),
    "DELETE /v1/customers/{customer}": _write("customer"),
    "POST /v1/customers/{customer}/tax_ids": _write("customer"),
    "GET /v1/customers/{customer}/tax_ids": _read("customer"),
    "GET /v1/customers/{customer}/tax_ids/{tax_id}": _read("customer"),
    "DELETE /v1/customers/{customer}/tax_ids/{tax_id}": _write("customer"),
    "POST /v1/tax_ids": _write("customer"),
    "GET /v1/tax_ids": _read("customer"),
    "GET /v1/tax_ids/{tax_id}": _read("customer"),
    "DELETE /v1/tax_ids/{tax_id}": _write("customer"),
    "POST /v1/customers/{customer}/funding_instructions": _write("customer"),
    "GET /v1/customers/{customer}/cash_balance": _read("customer"),
    "POST /v1/customers/{customer}/cash_balance": _write("customer"),
    "GET /v1/customers/{customer}/cash_balance_transactions": _read("customer"),
    "GET /v1/customers/{customer}/cash_balance_transactions/{transaction}": _read("customer"),
    "POST /v1/test_helpers/customers/{customer}/fund_cash_balance": _write("customer"),
    "POST /v1/customers/{customer}/balance_transactions": _write("customer"),
    "GET /v1/customers/{customer}/balance_transactions": _read("customer"),
    "GET /v1/customers/{customer}/balance_transactions/{transaction}": _read("customer"),
    "POST /v1/customers/{customer}/balance_transactions/{transaction}": _write("customer"),
    "GET /v1/customers/{customer}/payment_methods": _read("payment_method"),
    "GET /v1/customers/{customer}/payment_methods/{pm}": _read("payment_method"),
    "POST /v1/payment_methods": _write("payment_method"),
    "GET /v1/payment_methods": _read("payment_method"),
    "GET /v1/payment_methods/{pm}": _read("payment_method"),
    "POST /v1/payment_methods/{pm}": _write("payment_method"),
    "POST /v1/payment_methods/{pm}/attach": _write("payment_method"),
    "POST /v1/payment_methods/{pm}/detach": _write("payment_method"),
    "POST /v1/setup_intents": _write("setup_intent"),
    "GET /v1/setup_intents": _read("setup_intent"),
    "GET /v1/setup_intents/{intent}": _read("setup_intent"),
    "POST /v1/setup_intents/{intent}": _write("setup_intent"),
    "POST /v1/setup_intents/{intent}/confirm": _write("setup_intent"),
    "POST /v1/setup_intents/{intent}/cancel": _write("setup_intent"),
    "POST /v1/payment_intents": _write("payment_intent"),
    "GET /v1/payment_intents": _read("payment_intent"),
    "GET /v1/payment_intents/search": _read("payment_intent"),
    "GET /v1/payment_intents/{intent}": _read("payment_intent"),
    "POST /v1/payment_intents/{intent}": _write("payment_intent"),
    "POST /v1/payment_intents/{intent}/confirm": _write("payment_intent"),
    "POST /v1/payment_intents/{intent}/cancel": _write("payment_intent"),
    "POST /v1/payment_intents/{intent}/apply_customer_balance": _write("payment_intent"),
    "GET /v1/charges": _read("charge"),
    "GET /v1/charges/{charge}": _read("charge"),
    "POST /v1/tax_rates": _write("tax_rate"),
    "GET /v1/tax_rates": _read("tax_rate"),
    "GET /v1/tax_rates/{tax_rate}": _read("tax_rate"),
    "POST /v1/tax_rates/{tax_rate}": _write("tax_rate"),
    "POST /v1/coupons": _write("coupon"),
    "GET /v1/coupons": _read("coupon"),
    "GET /v1/coupons/{coupon}": _read("coupon"),
    "POST /v1/coupons/{coupon}": _write("coupon"),
    "POST /v1/invoiceitems": _write("invoice"),
    "GET /v1/invoiceitems": _read("invoice"),
    "GET /v1/invoiceitems/{item}": _read("invoice"),
    "POST /v1/invoiceitems/{item}": _write("invoice"),
    "DELETE /v1/invoiceitems/{item}": _write("invoice"),
    "POST /v1/invoices": _write("invoice"),
    "GET /v1/invoices": _read("invoice"),
    "GET /v1/invoices/search": _read("invoice"),
    "GET /v1/invoices/{invoice}": _read("invoice"),
    "POST /v1/invoices/{invoice}": _write("invoice"),
    "DELETE /v1/invoices/{invoice}": _write("invoice"),
    "GET /v1/invoices/{invoice}/lines": _read("invoice"),
    "POST /v1/invoices/{invoice}/finalize": _write("invoice"),
    "POST /v1/invoices/{invoice}/pay": _write("invoice"),
    "POST /v1/invoices/{invoice}/void": _write("invoice"),
    "POST /v1/invoices/{invoice}/mark_uncollectible": _write("invoice"),
    "POST /v1/invoices/{invoice}/attach_payment": _write("invoice"),
    "GET /v1/invoice_payments": _read("invoice"),
    "GET /v1/invoice_payments/{payment}": _read("invoice"),
    "POST /v1/credit_notes": _write("credit_note"),
    "GET /v1/credit_notes": _read("credit_note"),
    "GET /v1/credit_notes/{credit_note}": _read("credit_note"),
    "POST /v1/checkout/sessions": _write("checkout_session"),
    "GET /v1/checkout/sessions": _read("checkout_session"),
    "GET /v1/checkout/sessions/{session}": _read("checkout_session"),
    "GET /v1/checkout/sessions/{session}/line_items": _read("checkout_session"),
    "POST /v1/checkout/sessions/{session}/expire": _write("checkout_session"),
    "POST /v1/refunds": _write("charge"),
    "GET /v1/refunds": _read("charge"),
    "GET /v1/refunds/{refund}": _read("charge"),
    "GET /v1/events": _read("event"),
    "GET /v1/events/{event}": _read("event"),
    "POST /v1/webhook_endpoints": _write("webhook"),
    "GET /v1/webhook_endpoints": _read("webhook"),
    "GET /v1/webhook_endpoints/{endpoint}": _read("webhook"),
    "POST /v1/webhook_endpoints/{endpoint}": _write("webhook"),
    "DELETE /v1/webhook_endpoints/{endpoint}": _write("webhook"),
}

# The resource whose read permission expanding (or including) an object of each stored
# collection needs. Discounts have no permission of their own at Stripe; the sandbox asks for
# coupons, which a discount applies.
EXPANDS: Mapping[str, str] = {
    "customers": "customer",
    "cash_balance_transactions": "customer",
    "customer_balance_transactions": "customer",
    "tax_ids": "customer",
    "payment_methods": "payment_method",
    "setup_intents": "setup_intent",
    "payment_intents": "payment_intent",
    "charges": "charge",
    "refunds": "charge",
    "invoiceitems": "invoice",
    "invoices": "invoice",
    "invoice_payments": "invoice",
    "credit_notes": "credit_note",
    "tax_rates": "tax_rate",
    "discounts": "coupon",
    "coupons": "coupon",
    "checkout_sessions": "checkout_session",
    "events": "event",
    "webhook_endpoints": "webhook",
}


class InvalidGrant(ValueError):
    """A `POST /_sandbox/keys` body naming a resource or level Stripe does not offer."""


@dataclass(frozen=True)
class RestrictedKey:
    key: str
    account: str
    levels: Mapping[str, Level]

    def held(self) -> frozenset[str]:
        """The permission names the key holds, with what write and Stripe's implications add."""
        names: set[str] = set()
        for resource, level in self.levels.items():
            names.add(f"{resource}_read")
            if level == "write":
                names.add(f"{resource}_write")
        pending = list(names)
        while pending:
            for implied in IMPLIES.get(pending.pop(), ()):
                if implied not in names:
                    names.add(implied)
                    pending.append(implied)
        return frozenset(names)

    def require(self, permission: Permission) -> None:
        if permission.name not in self.held():
            raise denied(self, permission)

    def require_route(self, label: str) -> None:
        """Raise Stripe's 403 unless the key may call the route (`"GET /v1/customers"`)."""
        self.require(ROUTES[label])

    def require_expansion(self, collection: str) -> None:
        """Raise Stripe's 403 unless the key may read what it asks to expand."""
        self.require(_read(EXPANDS[collection]))


def parse_grants(permissions: object) -> dict[str, Level]:
    """`{"customer": "write", "charge": "read", "coupon": "none"}` -> the levels held."""
    if not isinstance(permissions, dict):
        raise InvalidGrant('send {"permissions": {"<resource>": "read"|"write"|"none", ...}}')
    levels: dict[str, Level] = {}
    for resource, level in permissions.items():
        offered = RESOURCES.get(resource)
        if offered is None:
            raise InvalidGrant(
                f"unknown resource {resource!r}; Stripe's resources the sandbox serves: "
                + ", ".join(RESOURCES)
            )
        if level == "none":
            continue
        if level not in offered:
            raise InvalidGrant(
                f"{resource} can be {' or '.join((*offered, 'none'))}, not {level!r}"
            )
        levels[resource] = level
    return levels


def new_key(account: str, levels: Mapping[str, Level]) -> RestrictedKey:
    # As long as Stripe's own keys (107 characters).
    return RestrictedKey(RESTRICTED_PREFIX + ids.random_token(99), account, dict(levels))


def denied(key: RestrictedKey, permission: Permission) -> StripeError:
    """Stripe's answer, as its SDKs receive it: HTTP 403 (PermissionError in stripe-python),
    type `invalid_request_error`, no code, the key shown with its last six characters."""
    shown = key.key[:8] + "*" * (len(key.key) - 14) + key.key[-6:]
    return StripeError(
        403,
        "invalid_request_error",
        f"The provided key '{shown}' does not have the required permissions for this endpoint "
        f"on account '{key.account}'. Having the 'rak_{permission.name}' permission would "
        "allow this request to continue.",
    )
