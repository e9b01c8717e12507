"""Which e-mails an invoice calls for, as plain data: "invoice ready", "due soon", "overdue".

Each notice has a key naming exactly what it is about (kind, invoice, installment, step); the
outbox stores e-mails under that key once, so running the reminders twice, or in two processes,
sends each one once. Stripe's `invoice.overdue`/`invoice.will_be_due` events exist only for
custom automations, so "due soon" and "overdue" are computed here from the due dates.
"""

from __future__ import annotations

from collections.abc import Iterator
from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Literal

from portal.stripe.models import Invoice

NoticeKind = Literal["invoice_ready", "due_soon", "overdue"]

REMIND_BEFORE = timedelta(days=7)
# An overdue notice when something becomes overdue, then again 7 and 14 days later; no more
# after that (the company's dunning takes over).
OVERDUE_STEPS = (0, 7, 14)


@dataclass(frozen=True)
class Notice:
    kind: NoticeKind
    invoice_id: str
    installment: int | None  # the plan's part (index), None for the invoice as a whole
    step: int  # days before (due_soon) or after (overdue) the due date; 0 for invoice_ready
    due_date: datetime | None
    amount: int  # what is to pay for it, in the invoice's currency

    @property
    def key(self) -> str:
        part = "-" if self.installment is None else str(self.installment)
        return f"{self.kind}:{self.invoice_id}:{part}:{self.step}"


def invoice_ready(invoice: Invoice) -> Notice:
    return Notice("invoice_ready", invoice.id, None, 0, invoice.due_date, invoice.amount_remaining)


def _due_items(invoice: Invoice) -> Iterator[tuple[int | None, datetime, int]]:
    """What falls due, and when: each unpaid installment, or the invoice itself."""
    if invoice.installments:
        for part in invoice.installments:
            if part.amount_remaining and part.due_date is not None:
                yield part.index, part.due_date, part.amount_remaining
    elif invoice.due_date is not None and invoice.amount_remaining:
        yield None, invoice.due_date, invoice.amount_remaining


def reminders(invoice: Invoice, now: datetime) -> list[Notice]:
    """The reminders this invoice calls for at `now`: "due soon" within 7 days before a due date,
    "overdue" from the due date on, at the latest step reached (a run missed for a while sends
    one notice, not three)."""
    if invoice.status != "open" or invoice.collection_method != "send_invoice":
        return []
    found = []
    for part, due, amount in _due_items(invoice):
        if now < due <= now + REMIND_BEFORE:
            found.append(Notice("due_soon", invoice.id, part, 7, due, amount))
        elif due <= now:
            late_days = (now - due).days
            step = max(s for s in OVERDUE_STEPS if s <= late_days)
            found.append(Notice("overdue", invoice.id, part, step, due, amount))
    return found
