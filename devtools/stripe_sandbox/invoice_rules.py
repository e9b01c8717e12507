"""Invoice rules as plain functions: the status machine, due dates, and installment allocation.

Statuses and transitions follow shared/stripe/README.md: draft -finalize-> open; open -pay-> paid;
open -void-> void; open -mark_uncollectible-> uncollectible; uncollectible -pay-> paid;
uncollectible -void-> void. `paid` and `void` are final. "Past due" is not a status: an open
installment whose due date has passed.
"""

from __future__ import annotations

from typing import Any, Literal

from stripe_sandbox.errors import StripeError, invalid_request

Status = Literal["draft", "open", "paid", "uncollectible", "void"]
Action = Literal["finalize", "pay", "void", "mark_uncollectible", "delete", "edit", "attach"]

DAY = 24 * 60 * 60

_ALLOWED: dict[str, frozenset[str]] = {
    "finalize": frozenset({"draft"}),
    "pay": frozenset({"open", "uncollectible"}),
    "attach": frozenset({"open", "uncollectible"}),
    "void": frozenset({"open", "uncollectible"}),
    "mark_uncollectible": frozenset({"open"}),
    "delete": frozenset({"draft"}),
    "edit": frozenset({"draft"}),
}

_TARGET: dict[str, str] = {
    "finalize": "open",
    "void": "void",
    "mark_uncollectible": "uncollectible",
}


def refusal(status: str, action: Action) -> StripeError | None:
    """Stripe's error for doing `action` to an invoice in `status`, or None if it is allowed."""
    if status in _ALLOWED[action]:
        return None
    if action == "finalize":
        return invalid_request(
            "This invoice is already finalized, you can't re-finalize a non-draft invoice.",
            code="invoice_not_editable",
        )
    if action in ("pay", "attach"):
        reasons = {
            "draft": "This invoice is a draft and can't be paid; finalize it first.",
            "paid": "Invoice is already paid.",
            "void": "This invoice has been voided and can no longer be paid.",
        }
        return invalid_request(reasons[status])
    if action == "void":
        reasons = {
            "draft": "You can only void an open or uncollectible invoice; delete a draft instead.",
            "paid": "You cannot void an invoice that has been paid.",
            "void": "This invoice has already been voided.",
        }
        return invalid_request(reasons[status])
    if action == "mark_uncollectible":
        return invalid_request(
            f"You can only mark an open invoice as uncollectible; this invoice is {status}.",
            code="invoice_not_editable",
        )
    if action == "delete":
        return invalid_request("You can only delete draft invoices.", code="invoice_not_editable")
    return invalid_request(
        f"This invoice can no longer be edited because it is {status}; only draft invoices "
        "can be changed.",
        code="invoice_not_editable",
    )


def check(status: str, action: Action) -> None:
    error = refusal(status, action)
    if error is not None:
        raise error


def target_status(action: Action) -> str:
    return _TARGET[action]


def due_date(
    collection_method: str, days_until_due: int | None, due: int | None, finalized_at: int
) -> int | None:
    """The invoice's due date at finalization (null for charge_automatically, as at Stripe)."""
    if collection_method != "send_invoice":
        return None
    if due is not None:
        return due
    return finalized_at + (days_until_due or 0) * DAY


def schedule_installments(entries: list[dict[str, Any]], finalized_at: int) -> None:
    """Give each installment its due date: its own `due_date`, or finalization + days."""
    for entry in entries:
        if entry.get("due_date") is None:
            entry["due_date"] = finalized_at + (entry.get("days_until_due") or 0) * DAY


def plan_error(entries: list[dict[str, Any]], amount_due: int) -> StripeError | None:
    """The installments must add up to the invoice's amount due when it is finalized."""
    if not entries:
        return None
    total = sum(entry["amount"] for entry in entries)
    if total != amount_due:
        return invalid_request(
            f"The sum of amounts_due ({total}) must equal the invoice's amount_due ({amount_due}).",
            param="amounts_due",
        )
    return None


def allocate(entries: list[dict[str, Any]], amount: int, now: int) -> int:
    """Apply a payment to the installments, oldest first; returns what was left over."""
    left = amount
    for entry in entries:
        if left <= 0:
            break
        remaining = entry["amount_remaining"]
        if remaining <= 0:
            continue
        paid = min(remaining, left)
        entry["amount_paid"] += paid
        entry["amount_remaining"] -= paid
        left -= paid
        if entry["amount_remaining"] == 0:
            entry["status"] = "paid"
            entry["paid_at"] = now
    return left


def settle_all(entries: list[dict[str, Any]], now: int) -> None:
    """Mark every installment paid (an invoice paid in full or out of band)."""
    for entry in entries:
        if entry["amount_remaining"] > 0:
            entry["amount_paid"] += entry["amount_remaining"]
            entry["amount_remaining"] = 0
        if entry["status"] != "paid":
            entry["status"] = "paid"
            entry["paid_at"] = now


def installment_status(entry: dict[str, Any], now: int) -> str:
    if entry["amount_remaining"] <= 0:
        return "paid"
    due = entry.get("due_date")
    if due is not None and due < now:
        return "past_due"
    return "open"
