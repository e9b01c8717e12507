"""What the overview says is coming: drafts Stripe will issue by itself on a set date
(docs.stripe.com/invoicing/scheduled-finalization), with their amount as it stands and how they
will be paid, so that a charge never comes as a surprise.

The rules, in one place:

- Shown (`scheduled`): drafts with `auto_advance` and an `automatically_finalizes_at` still
  ahead, soonest first. Any other draft is the seller's work in progress: nothing of it is shown.
- Issued on: `automatically_finalizes_at`. Stripe attempts a `charge_automatically` invoice's
  payment as it finalizes it, so that is the day it is charged too.
- Charged to (`charged_with`): the invoice's own `default_payment_method`, else the customer's
  `invoice_settings.default_payment_method`, the order Stripe uses (the SDK's
  `Invoice.default_payment_method`). None: no saved method Stripe would use.
- A `send_invoice` draft is sent on that date; its due date is shown when the draft has one
  (one made with `days_until_due` gets its date only when Stripe finalizes it).
- Announced (`charge_notice`): a scheduled `charge_automatically` draft with something to
  charge, once it is within the lead time of its date (one scheduled sooner at once), under a
  key naming its amount and date, so that a changed amount or date is announced again and an
  unchanged one never twice. A finalized invoice is no draft: nothing is announced after.
  Debits whose notice Stripe e-mails itself are left to Stripe while the company keeps those
  e-mails on, so that no one is told of one debit twice.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from dataclasses import dataclass
from datetime import datetime, timedelta

from portal.stripe.models import Invoice, PaymentMethod

# Bank debits whose schemes ask that the payer be told of each debit before it is made, and
# whose notice Stripe e-mails by default ("debit notification emails", per method in Stripe's
# docs). A card charge Stripe announces to nobody.
DEBITS_STRIPE_ANNOUNCES = frozenset({"acss_debit", "au_becs_debit", "bacs_debit", "sepa_debit"})


@dataclass(frozen=True)
class Upcoming:
    """A draft Stripe will issue on `issued_on`; for `charge_automatically`, charged then to
    `charged_with` (None when Stripe has no method of the customer's to use)."""

    invoice: Invoice
    issued_on: datetime
    charged_with: PaymentMethod | None = None


def scheduled(drafts: Iterable[Invoice], now: datetime) -> list[Invoice]:
    """The drafts Stripe will finalize by itself after `now`, soonest first."""
    found = [
        (moment, invoice)
        for invoice in drafts
        if invoice.status == "draft"
        and invoice.auto_advance
        and (moment := invoice.automatically_finalizes_at) is not None
        and moment > now
    ]
    found.sort(key=lambda pair: (pair[0], pair[1].created, pair[1].id))
    return [invoice for _moment, invoice in found]


def own_methods_needed(drafts: Iterable[Invoice], default: PaymentMethod | None) -> bool:
    """Whether a draft to be charged names a method of its own other than the customer's
    default: only then must the customer's methods be read to describe it."""
    default_id = default.id if default is not None else None
    return any(
        invoice.collection_method == "charge_automatically"
        and invoice.default_payment_method_id not in (None, default_id)
        for invoice in drafts
    )


def charged_with(
    invoice: Invoice, methods: Mapping[str, PaymentMethod], default: PaymentMethod | None
) -> PaymentMethod | None:
    """The method Stripe will charge the invoice to (None for `send_invoice`)."""
    if invoice.collection_method != "charge_automatically":
        return None
    if invoice.default_payment_method_id is None:
        return default
    if default is not None and default.id == invoice.default_payment_method_id:
        return default
    return methods.get(invoice.default_payment_method_id)


def upcoming(
    drafts: Iterable[Invoice],
    now: datetime,
    *,
    methods: Mapping[str, PaymentMethod],
    default: PaymentMethod | None,
) -> tuple[Upcoming, ...]:
    """The overview's upcoming part: each scheduled draft with its date and payment method."""
    return tuple(
        Upcoming(
            invoice=invoice,
            issued_on=invoice.automatically_finalizes_at,
            charged_with=charged_with(invoice, methods, default),
        )
        for invoice in scheduled(drafts, now)
        if invoice.automatically_finalizes_at is not None  # for mypy: `scheduled` checked it
    )


@dataclass(frozen=True)
class ChargeNotice:
    """The e-mail telling a customer that Stripe will charge `amount` on `charge_on` to
    `method` (None: no saved method Stripe could use, so the e-mail asks for one)."""

    invoice_id: str
    amount: int
    currency: str
    charge_on: datetime
    method: PaymentMethod | None

    @property
    def key(self) -> str:
        """One per draft, amount and date: a change of either is news, a repeat is not."""
        moment = int(self.charge_on.timestamp())
        return f"upcoming_charge:{self.invoice_id}:{self.amount}{self.currency}:{moment}"


def charge_notice(
    draft: Invoice,
    method: PaymentMethod | None,
    now: datetime,
    *,
    lead: timedelta,
    stripe_announces_debits: bool,
) -> ChargeNotice | None:
    """The announcement `draft` calls for at `now`, if any: Stripe will charge it within `lead`
    to `method` (as `charged_with` finds it). Nothing for a lead of zero, for a draft that
    would charge nothing (a credit balance covers it), or for a debit Stripe announces."""
    if not lead or draft.collection_method != "charge_automatically":
        return None
    moment = draft.automatically_finalizes_at
    if not scheduled([draft], now) or moment is None or moment > now + lead:
        return None
    if draft.amount_due <= 0:
        return None
    if stripe_announces_debits and method is not None and method.type in DEBITS_STRIPE_ANNOUNCES:
        return None
    return ChargeNotice(draft.id, draft.amount_due, draft.currency, moment, method)
