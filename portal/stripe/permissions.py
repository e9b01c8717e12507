"""Every permission the portal's Stripe key needs, with why, and a harmless request that shows
whether the key has it: the one table `portal doctor` checks and the README lists (a test
keeps the README's list the same).

A restricted key (`rk_…`) is the safer choice for the portal: these permissions and no more.
Reading an object includes reading what the portal expands on it (a payment's charge, a tax
rate, a coupon), so each of those has its own row. The probes create nothing: a list of one,
or a change to an id that does not exist (Stripe checks the permission first; a key that has
it gets "no such object").
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Literal

MISSING = "doctor_missing"  # an id no object has: the probes' changes touch nothing


@dataclass(frozen=True)
class Probe:
    method: Literal["get", "post", "delete"]
    path: str
    params: dict[str, object] = field(default_factory=dict)


@dataclass(frozen=True)
class Permission:
    name: str  # as Stripe names it (its error for a key without it says `rak_<name>_<access>`)
    access: Literal["read", "write"]
    why: str  # what the portal does with it
    probe: Probe


def _list(path: str) -> Probe:
    return Probe("get", path, {"limit": 1})


WEBHOOK_ENDPOINTS = Permission(
    "webhook",
    "read",
    "checks its webhook endpoint (portal doctor)",
    _list("/v1/webhook_endpoints"),
)

PERMISSIONS: tuple[Permission, ...] = (
    Permission(
        "customer",
        "write",
        "finds customers by e-mail, shows and changes their details, tax IDs, languages, "
        "balances and bank-transfer account",
        Probe("post", f"/v1/customers/cus_{MISSING}"),
    ),
    Permission(
        "invoice",
        "write",
        "shows invoices, their payments and PDFs, and pays them or attaches payments",
        Probe("post", f"/v1/invoices/in_{MISSING}/pay"),
    ),
    Permission(
        "credit_note",
        "read",
        "shows an invoice's credit notes and their PDFs",
        _list("/v1/credit_notes"),
    ),
    Permission(
        "payment_intent",
        "write",
        "charges installments, confirms 3-D Secure and cancels what it left",
        Probe("post", f"/v1/payment_intents/pi_{MISSING}/cancel"),
    ),
    Permission(
        "payment_method",
        "write",
        "lists, removes and sets the default of the customer's cards and mandates",
        Probe("post", f"/v1/payment_methods/pm_{MISSING}/detach"),
    ),
    Permission(
        "checkout_session",
        "write",
        "opens Stripe's page to add a method or to pay another way",
        Probe("post", f"/v1/checkout/sessions/cs_{MISSING}/expire"),
    ),
    Permission(
        "setup_intent",
        "read",
        "reads the method a customer added on Stripe's page",
        _list("/v1/setup_intents"),
    ),
    Permission(
        "charge",
        "write",
        "shows how a payment was made and its receipt; gives back money an invoice no longer "
        "owes (refunds) and follows the refund",
        Probe("post", "/v1/refunds", {"payment_intent": f"pi_{MISSING}"}),
    ),
    Permission(
        "tax_rate",
        "read",
        "names each tax on an invoice with its rate",
        _list("/v1/tax_rates"),
    ),
    Permission(
        "coupon",
        "read",
        "names each discount on an invoice",
        _list("/v1/coupons"),
    ),
    WEBHOOK_ENDPOINTS,
)


def readme_table() -> str:
    """The permissions as the README lists them (a test keeps the two the same)."""
    rows = [f"| {p.name} | {p.access} | {p.why} |" for p in PERMISSIONS]
    return "\n".join(
        ["| permission | access | what the portal does with it |", "|---|---|---|", *rows]
    )
