"""What a payment charges: planned from Stripe's invoice at the moment of paying, never from a form.

A customer chooses *what* to pay (the whole remainder, the next installment, the overdue
installments, or everything overdue in one currency); these functions turn that choice and the
invoice as Stripe reports it now into `Charge`s with amounts. A charge below Stripe's minimum for
the currency is refused here, before Stripe is asked.

`fingerprint` captures what the customer saw when they chose; the paying step compares it with
the invoice re-read from Stripe, so a second tab, a resubmitted form or a payment that arrived in
between cannot turn "pay the next installment" into paying the one after it.
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass
from datetime import datetime
from typing import Literal

from portal.billing import invoices as rules
from portal.stripe.currencies import below_minimum, minimum_charge
from portal.stripe.models import Installment, Invoice

PaymentKind = Literal["whole", "next_installment", "overdue_installments"]
KINDS: tuple[PaymentKind, ...] = ("whole", "next_installment", "overdue_installments")


@dataclass(frozen=True)
class Charge:
    """One charge on one invoice, in the invoice's currency and minor unit."""

    invoice_id: str
    customer_id: str
    currency: str
    amount: int
    kind: PaymentKind
    installments: tuple[int, ...] = ()  # the plan's parts this pays, by index

    @property
    def settles_invoice(self) -> bool:
        """Whether this pays everything left (Stripe's `invoices.pay`), not a part of it."""
        return self.kind == "whole"


class CannotPay(Exception):
    """The choice cannot be paid; `reason` names why for the customer's message."""

    def __init__(
        self,
        reason: Literal["not_payable", "no_plan", "nothing_due", "below_minimum", "transfer_only"],
        *,
        amount: int = 0,
        minimum: int = 0,
        currency: str = "",
    ) -> None:
        super().__init__(reason)
        self.reason = reason
        self.amount = amount
        self.minimum = minimum
        self.currency = currency


def choices(invoice: Invoice, now: datetime) -> list[PaymentKind]:
    """What this invoice offers to pay now, in the order a page lists them."""
    if not rules.needs_payment(invoice) or not rules.payable_here(invoice):
        return []
    # Each choice once: a part that is all that remains is offered as the whole remainder, and
    # the next installment only when it is not also the one overdue installment.
    offered: list[PaymentKind] = []
    whole = invoice.amount_remaining
    if invoice.installments:
        late = rules.overdue_installments(invoice, now)
        if late and sum(p.amount_remaining for p in late) < whole:
            offered.append("overdue_installments")
        nxt = rules.next_installment(invoice)
        if (
            nxt is not None
            and nxt.amount_remaining < whole
            and not (len(late) == 1 and late[0].index == nxt.index)
        ):
            offered.append("next_installment")
    offered.append("whole")
    return offered


def plan_charge(invoice: Invoice, kind: PaymentKind, now: datetime) -> Charge:
    """The charge for paying `kind` of `invoice` as it stands now."""
    if not rules.needs_payment(invoice):
        raise CannotPay("not_payable")
    if not rules.payable_here(invoice):
        raise CannotPay("transfer_only")
    parts: tuple[int, ...] = ()
    if kind == "whole":
        amount = invoice.amount_remaining
    elif not invoice.installments:
        raise CannotPay("no_plan")
    elif kind == "next_installment":
        nxt = rules.next_installment(invoice)
        if nxt is None:
            raise CannotPay("nothing_due")
        amount, parts = nxt.amount_remaining, (nxt.index,)
    else:
        late = rules.overdue_installments(invoice, now)
        if not late:
            raise CannotPay("nothing_due")
        amount, parts = sum(p.amount_remaining for p in late), tuple(p.index for p in late)
    # Stripe accepts no more than what remains on the invoice.
    amount = min(amount, invoice.amount_remaining)
    if amount == invoice.amount_remaining:
        kind = "whole"
    if below_minimum(amount, invoice.currency):
        raise CannotPay(
            "below_minimum",
            amount=amount,
            minimum=minimum_charge(invoice.currency),
            currency=invoice.currency,
        )
    return Charge(invoice.id, invoice.customer_id, invoice.currency, amount, kind, parts)


@dataclass(frozen=True)
class NextStep:
    """What an invoice to pay asks for next, as its overview row shows it: the overdue
    installments when any are late, else the next installment, else the remainder; when that
    is due, how many days late it is, and the charge paying it (None when it cannot be paid
    from the row, e.g. below Stripe's minimum: the invoice's page explains)."""

    amount: int
    due_date: datetime | None
    days_late: int
    installment: Installment | None  # the plan's part concerned (the first late one, or the next)
    charge: Charge | None


def next_step(invoice: Invoice, now: datetime) -> NextStep | None:
    """The next thing to pay on `invoice` (None when nothing is left to pay)."""
    if not rules.needs_payment(invoice):
        return None
    kind: PaymentKind = "whole"
    part: Installment | None = None
    due = invoice.due_date
    amount = invoice.amount_remaining
    if invoice.installments:
        late = rules.overdue_installments(invoice, now)
        nxt = rules.next_installment(invoice)
        if late:
            kind, part = "overdue_installments", late[0]
            amount = sum(p.amount_remaining for p in late)
        elif nxt is not None:
            kind, part = "next_installment", nxt
            amount = nxt.amount_remaining
        due = part.due_date if part is not None else None
    amount = min(amount, invoice.amount_remaining)
    late_days = 0
    if due is not None and rules.is_overdue(invoice, now):
        late_days = rules.days_late(due, now)
    try:
        charge: Charge | None = plan_charge(invoice, kind, now)
    except CannotPay:
        charge = None
    return NextStep(amount, due, late_days, part, charge)


def plan_overdue(invoices: Iterable[Invoice], currency: str, now: datetime) -> list[Charge]:
    """ "Pay all overdue" in one currency: one charge per invoice, the longest overdue first.

    Invoices whose overdue part is below the minimum charge are left out (the page says so); the
    others are charged one after another.
    """
    charges = []
    for invoice in rules.to_pay(invoices, now):  # most urgent (longest overdue) first
        if invoice.currency != currency or not rules.is_overdue(invoice, now):
            continue
        kind: PaymentKind = "overdue_installments" if invoice.installments else "whole"
        try:
            charges.append(plan_charge(invoice, kind, now))
        except CannotPay:
            continue
    return charges


def fingerprint(invoice: Invoice) -> str:
    """What the customer saw of the invoice's balance: changes whenever any payment lands."""
    parts = ",".join(str(p.amount_remaining) for p in invoice.installments)
    return f"{invoice.id}:{invoice.status}:{invoice.amount_remaining}:{parts}"


def still_as_seen(invoice: Invoice, seen: str, amount: int) -> bool:
    """Whether a charge of `amount`, planned when the invoice's fingerprint was `seen`, may go
    ahead on the invoice as Stripe reports it now: nothing has landed on it since, and the
    charge is no more than what remains (Stripe's `amount_remaining`), so that no sum of
    charges exceeds what is owed."""
    return (
        rules.needs_payment(invoice)
        and fingerprint(invoice) == seen
        and 0 < amount <= invoice.amount_remaining
    )


def may_remove_method(method_count: int, has_unpaid_invoices: bool) -> bool:
    """A saved method may go unless it is the last one while invoices are still to be paid:
    Stripe would then have nothing to collect them with (the rule customers know from other
    billing portals), so the customer adds another first."""
    return method_count > 1 or not has_unpaid_invoices
