"""What the overview and invoice pages say about invoices: state, urgency and what to pay now.

Plain functions over `portal.stripe.models.Invoice`, so every rule is tested without a server.
Stripe has no "overdue" status (it is an open invoice past its due date) and its installment
`status` can lag behind the clock, so everything here is computed from dates and amounts with an
explicit `now`; Stripe's `past_due` is honoured as well, never relied on alone.

The rules, in one place:

- Shown at all (`visible`): `open`, `paid`, `uncollectible` and `void`. Drafts never are.
- Payable (`needs_payment`): `open` or `uncollectible` with something left to pay. `uncollectible`
  is the merchant's write-off in their books: Stripe still accepts payment and the amount stays
  in what the customer has to pay (their total and support's are the same), but it is no longer
  chased as late. It has a state of its own ("unpaid"), is never overdue or due soon, comes
  after the invoices still being collected, and "pay all overdue" leaves it out: it is paid on
  its own page.
- Nothing left to pay is "paid" whatever the status says (a zero-amount invoice, or an open one
  whose last payment Stripe has not yet turned into `paid`), as Stripe itself defines it.
- Due: an invoice's `due_date`, or with a payment plan each installment's own `due_date`. A date
  exactly `now` is due (it counts in `amount_due_now`) but not yet overdue; overdue is strictly
  after it. No due date (a `charge_automatically` invoice, or an installment Stripe sent without
  one) means due when issued: never overdue or due soon by date (only Stripe's `past_due` makes
  it late), but its whole remainder is due now.
- State precedence: written off (`uncollectible`), then overdue, then partially paid, then due
  soon, then open.
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from typing import Final, Literal

from portal.stripe.models import Installment, Invoice, InvoiceStatus

InvoiceState = Literal[
    "overdue", "partially_paid", "due_soon", "open", "uncollectible", "paid", "void"
]

# Stripe reminds customers a week before each installment is due; "due soon" matches that.
DUE_SOON: Final = timedelta(days=7)

VISIBLE_STATUSES: Final[frozenset[InvoiceStatus]] = frozenset(
    ["open", "paid", "uncollectible", "void"]
)
PAYABLE_STATUSES: Final[frozenset[InvoiceStatus]] = frozenset(["open", "uncollectible"])


@dataclass(frozen=True)
class CurrencyTotal:
    """The "to pay" summary for one currency; amounts in its minor unit.

    `amount` is everything still owed, `due_now` the part whose due date has come, and
    `overdue_amount` the part of that which is late. Currencies are never added together.
    """

    currency: str
    amount: int
    due_now: int
    overdue_amount: int
    count: int


def visible(invoices: Iterable[Invoice]) -> list[Invoice]:
    """The invoices a customer may see, in the given order: drafts and unknown statuses left out."""
    return [invoice for invoice in invoices if invoice.status in VISIBLE_STATUSES]


def needs_payment(invoice: Invoice) -> bool:
    """Open or uncollectible with something left to pay."""
    return invoice.status in PAYABLE_STATUSES and invoice.amount_remaining > 0


# The ways to pay the portal charges itself (saved or new cards and SEPA mandates).
PORTAL_METHODS = frozenset({"card", "sepa_debit"})


def payable_here(invoice: Invoice) -> bool:
    """Whether the invoice's payment settings let the portal charge it: no settings (the
    account's defaults), or a card or SEPA mandate among them. An invoice to be paid by bank
    transfer only is paid with its transfer instructions."""
    methods = set(invoice.payment_method_types)
    return not methods or bool(methods & PORTAL_METHODS)


def _unpaid(invoice: Invoice) -> list[Installment]:
    # Amounts, not `status`: a part with money left is unpaid whatever Stripe's status says.
    parts = sorted(invoice.installments, key=lambda part: part.index)
    return [part for part in parts if part.amount_remaining > 0]


def written_off(invoice: Invoice) -> bool:
    """Payable, but written off by the merchant (`uncollectible`): owed, no longer chased."""
    return invoice.status == "uncollectible" and needs_payment(invoice)


def _installment_overdue(part: Installment, now: datetime) -> bool:
    late_by_date = part.due_date is not None and part.due_date < now
    return part.amount_remaining > 0 and (part.status == "past_due" or late_by_date)


def _installment_due_now(part: Installment, now: datetime) -> bool:
    due_by_date = part.due_date is None or part.due_date <= now
    return part.amount_remaining > 0 and (part.status == "past_due" or due_by_date)


def next_installment(invoice: Invoice) -> Installment | None:
    """The first unpaid part of a payment plan; None without a plan or with nothing to pay."""
    if not needs_payment(invoice):
        return None
    unpaid = _unpaid(invoice)
    return unpaid[0] if unpaid else None


def overdue_installments(invoice: Invoice, now: datetime) -> list[Installment]:
    """The plan's parts that are late (past their due date, or `past_due` at Stripe), in order."""
    if not needs_payment(invoice) or written_off(invoice):
        return []
    return [part for part in _unpaid(invoice) if _installment_overdue(part, now)]


def is_overdue(invoice: Invoice, now: datetime) -> bool:
    """Payable and late: past its due date, or with a plan, any part late.

    With a plan the installments' dates replace the invoice's single due date. A written-off
    invoice is never overdue: the merchant has stopped chasing it.
    """
    if not needs_payment(invoice) or written_off(invoice):
        return False
    if invoice.installments:
        return bool(overdue_installments(invoice, now))
    return invoice.due_date is not None and invoice.due_date < now


def next_due_date(invoice: Invoice) -> datetime | None:
    """When the next payment is due: the next unpaid installment's date, else the invoice's."""
    if not needs_payment(invoice):
        return None
    if invoice.installments:
        part = next_installment(invoice)
        return part.due_date if part is not None else None
    return invoice.due_date


def days_late(due: datetime, now: datetime) -> int:
    """Calendar days from `due` to `now` in UTC, the zone every date of the portal is shown in
    (0 before or on the day)."""
    return max(0, (now.astimezone(UTC).date() - due.astimezone(UTC).date()).days)


def is_due_soon(invoice: Invoice, now: datetime) -> bool:
    """Not overdue, and the next payment falls due within `DUE_SOON` (now included)."""
    if not needs_payment(invoice) or written_off(invoice) or is_overdue(invoice, now):
        return False
    due = next_due_date(invoice)
    return due is not None and now <= due <= now + DUE_SOON


def is_partially_paid(invoice: Invoice) -> bool:
    """Some, but not all, of the invoice has been paid."""
    return 0 < invoice.amount_paid < invoice.amount_due


def invoice_state(invoice: Invoice, now: datetime) -> InvoiceState:
    """The one state a page shows for a visible invoice (see the module docstring for the rules).

    Raises ValueError for a draft: drafts are never shown, so one reaching a page is a bug.
    """
    if invoice.status == "draft":
        raise ValueError(f"invoice {invoice.id} is a draft; drafts are never shown")
    if invoice.status == "void":
        return "void"
    if not needs_payment(invoice):
        return "paid"
    if written_off(invoice):
        return "uncollectible"
    if is_overdue(invoice, now):
        return "overdue"
    if is_partially_paid(invoice):
        return "partially_paid"
    if is_due_soon(invoice, now):
        return "due_soon"
    return "open"


def amount_due_now(invoice: Invoice, now: datetime) -> int:
    """What must be paid now to be up to date, in minor units.

    With a plan: the remaining amounts of the parts whose due date has come (or that Stripe calls
    `past_due`); without: the whole remainder once the due date has come, or at once when there
    is no due date. Never more than the invoice's own remainder, which is what Stripe will accept.
    """
    if not needs_payment(invoice):
        return 0
    if invoice.installments:
        due = sum(p.amount_remaining for p in _unpaid(invoice) if _installment_due_now(p, now))
        return min(due, invoice.amount_remaining)
    if invoice.due_date is None or invoice.due_date <= now:
        return invoice.amount_remaining
    return 0


def overdue_amount(invoice: Invoice, now: datetime) -> int:
    """The late part of what is owed, in minor units (0 when nothing is late)."""
    if not is_overdue(invoice, now):
        return 0
    if invoice.installments:
        late = sum(part.amount_remaining for part in overdue_installments(invoice, now))
        return min(late, invoice.amount_remaining)
    return invoice.amount_remaining


def _earliest_overdue_date(invoice: Invoice, now: datetime) -> datetime | None:
    if invoice.installments:
        dates = [p.due_date for p in overdue_installments(invoice, now) if p.due_date is not None]
        return min(dates, default=None)
    return invoice.due_date


def to_pay(invoices: Iterable[Invoice], now: datetime) -> list[Invoice]:
    """The payable invoices, most urgent first.

    Overdue ones first (the longest overdue first), then those due soon, then the rest by due
    date with undated ones last, then the written-off ones (by due date too). Ties go by creation time, then number, then id: `created` is
    always there and comparable, while numbers from different prefixes do not sort meaningfully.
    """

    def urgency(invoice: Invoice) -> tuple[int, bool, datetime, datetime, str, str]:
        if is_overdue(invoice, now):
            rank, due = 0, _earliest_overdue_date(invoice, now)
        elif is_due_soon(invoice, now):
            rank, due = 1, next_due_date(invoice)
        elif written_off(invoice):
            rank, due = 3, next_due_date(invoice)
        else:
            rank, due = 2, next_due_date(invoice)
        # (due is None, due) puts undated invoices last without comparing None with a datetime.
        return (
            rank,
            due is None,
            due if due is not None else invoice.created,
            invoice.created,
            invoice.number or "",
            invoice.id,
        )

    return sorted((invoice for invoice in invoices if needs_payment(invoice)), key=urgency)


def _closed_at(invoice: Invoice) -> datetime:
    # The moment that put the invoice into the history, with fallbacks for fields Stripe omits.
    if invoice.status == "void" and invoice.voided_at is not None:
        return invoice.voided_at
    if invoice.paid_at is not None:
        return invoice.paid_at
    return invoice.finalized_at or invoice.created


def history(invoices: Iterable[Invoice]) -> list[Invoice]:
    """Visible invoices with nothing left to pay (paid, void, or fully paid), newest first.

    Uncollectible invoices with money left stay in `to_pay`: they can still be paid.
    """
    done = [invoice for invoice in visible(invoices) if not needs_payment(invoice)]
    return sorted(
        done,
        key=lambda invoice: (_closed_at(invoice), invoice.created, invoice.id),
        reverse=True,
    )


def totals_to_pay(invoices: Iterable[Invoice], now: datetime) -> list[CurrencyTotal]:
    """The "to pay" summary line: one total per currency, sorted by currency code.

    `amount` is the whole outstanding remainder (what paying everything costs) and
    `overdue_amount` the late part of it, so the page can say "1.234,56 € to pay, 200,00 € of it
    overdue"; `due_now` is there for a "pay what is due" action on payment plans.
    """
    totals: dict[str, CurrencyTotal] = {}
    for invoice in invoices:
        if not needs_payment(invoice):
            continue
        current = totals.get(invoice.currency, CurrencyTotal(invoice.currency, 0, 0, 0, 0))
        totals[invoice.currency] = CurrencyTotal(
            currency=invoice.currency,
            amount=current.amount + invoice.amount_remaining,
            due_now=current.due_now + amount_due_now(invoice, now),
            overdue_amount=current.overdue_amount + overdue_amount(invoice, now),
            count=current.count + 1,
        )
    return [totals[currency] for currency in sorted(totals)]
