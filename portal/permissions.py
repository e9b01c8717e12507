"""Who may see and do what: the one place every view asks.

A request acts for a `Principal`: a signed-in customer, the holder of an e-mailed invoice link
(for that one invoice), or a staff member viewing as a customer (read-only). Views never compare customer
ids themselves: they call `require`, which raises `NotFound` for objects of other customers (the
same answer as for objects that do not exist, so ids cannot be probed) and `Forbidden` for actions
the principal may not take.
"""

from __future__ import annotations

from dataclasses import dataclass
from enum import StrEnum

from portal.stripe.models import CreditNote, Invoice


class Action(StrEnum):
    VIEW_ACCOUNT = "view_account"
    VIEW_INVOICE = "view_invoice"
    DOWNLOAD_PDF = "download_pdf"
    SWITCH_ACCOUNT = "switch_account"
    PAY = "pay"
    MANAGE_PAYMENT_METHODS = "manage_payment_methods"
    EDIT_BILLING_DETAILS = "edit_billing_details"
    SET_STRIPE_LANGUAGE = "set_stripe_language"


# What only the customer in person may do: everything that changes something in Stripe.
CHANGES = frozenset(
    {
        Action.PAY,
        Action.MANAGE_PAYMENT_METHODS,
        Action.EDIT_BILLING_DETAILS,
        Action.SET_STRIPE_LANGUAGE,
    }
)


@dataclass(frozen=True)
class Principal:
    """Acting for `customer_id`; `customer_ids` are all the accounts this sign-in opened."""

    customer_id: str
    customer_ids: tuple[str, ...]
    email: str
    read_only: bool = False
    # Opened through an e-mailed invoice link, not signed in: this one invoice and nothing else.
    invoice_id: str | None = None


class NotFound(Exception):
    """No such object for this principal (whether or not it exists for someone else)."""


class Forbidden(Exception):
    """The principal may not take this action."""

    def __init__(self, action: Action) -> None:
        super().__init__(f"{action} is not allowed")
        self.action = action


# What an invoice link allows on its invoice: see it, download it, pay it.
INVOICE_LINK_ACTIONS = frozenset({Action.VIEW_INVOICE, Action.DOWNLOAD_PDF, Action.PAY})


def can(principal: Principal, action: Action) -> bool:
    if principal.invoice_id is not None and action not in INVOICE_LINK_ACTIONS:
        return False
    return not (principal.read_only and action in CHANGES)


def require(
    principal: Principal,
    action: Action,
    *,
    invoice: Invoice | None = None,
    credit_note: CreditNote | None = None,
) -> None:
    """`credit_note` goes with the `invoice` it was issued against: it is the principal's only
    as that invoice's."""
    if credit_note is not None and (invoice is None or credit_note.invoice_id != invoice.id):
        raise NotFound(credit_note.id)
    if invoice is not None and (
        invoice.customer_id != principal.customer_id
        or invoice.status == "draft"
        or principal.invoice_id not in (None, invoice.id)
    ):
        raise NotFound(invoice.id)
    if not can(principal, action):
        raise Forbidden(action)


def require_account(principal: Principal, customer_id: str) -> None:
    """Switching to `customer_id` is allowed only among the accounts of this sign-in."""
    if customer_id not in principal.customer_ids:
        raise NotFound(customer_id)
