"""The portal's own view of Stripe's objects: small, immutable, typed.

The gateway (`portal.stripe.gateway`) builds these from Stripe's responses (`convert.py`); nothing
else in the portal sees a Stripe object. They live below every feature package, which all read
them, so that no feature imports another for its data. Amounts are integers in the currency's
minor unit, as Stripe sends them; currencies are lower-case ISO codes; times are aware UTC
datetimes.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field
from datetime import datetime
from decimal import Decimal
from typing import Generic, Literal, TypeVar

T = TypeVar("T")

InvoiceStatus = Literal["draft", "open", "paid", "uncollectible", "void"]
TaxExempt = Literal["none", "exempt", "reverse"]
InstallmentStatus = Literal["open", "paid", "past_due"]
PaymentStatus = Literal["open", "paid", "canceled"]


@dataclass(frozen=True)
class Page(Generic[T]):
    """One page of a Stripe list; `next_cursor` feeds `starting_after` for the next page."""

    items: tuple[T, ...]
    has_more: bool

    @property
    def next_cursor(self) -> str | None:
        last = self.items[-1] if self.items else None
        return getattr(last, "id", None) if self.has_more else None


@dataclass(frozen=True)
class Address:
    line1: str | None = None
    line2: str | None = None
    postal_code: str | None = None
    city: str | None = None
    state: str | None = None
    country: str | None = None


@dataclass(frozen=True)
class Customer:
    id: str
    email: str | None
    name: str | None
    phone: str | None = None
    address: Address | None = None
    preferred_locales: tuple[str, ...] = ()
    default_payment_method_id: str | None = None
    # The person to address (Stripe's `individual_name`); `name` is often the company's.
    individual_name: str | None = None


@dataclass(frozen=True)
class TaxRate:
    """A tax rate as Stripe has it (`tax_rate`): its name for customers and its percentage."""

    id: str
    display_name: str | None
    percentage: Decimal | None  # out of 100: 19, 7.7
    inclusive: bool = False
    country: str | None = None
    jurisdiction: str | None = None
    tax_type: str | None = None  # "vat", "sales_tax", "gst", ...


@dataclass(frozen=True)
class TaxAmount:
    """One tax on an invoice (`total_taxes`): its amount, and its rate where Stripe said which."""

    amount: int
    inclusive: bool
    rate: TaxRate | None = None
    taxable_amount: int | None = None


@dataclass(frozen=True)
class DiscountAmount:
    """What one discount took (`discount_amounts`, `total_discount_amounts`)."""

    amount: int
    discount_id: str
    # The coupon's name, as Stripe shows it to customers (its id when it has no name); None
    # when the read did not include the coupon.
    name: str | None = None


@dataclass(frozen=True)
class InvoiceLine:
    id: str
    description: str | None
    quantity: int | None
    amount: int
    currency: str
    # The price of one unit in the currency's minor unit (Stripe's `unit_amount_decimal`,
    # which may have fractions of a cent); None where Stripe gives none.
    unit_amount: Decimal | None = None
    # The line's own discounts (an invoice item's coupons); its share of the invoice's
    # discounts is not here but in `Invoice.discounts`.
    discounts: tuple[DiscountAmount, ...] = ()


@dataclass(frozen=True)
class BilledTaxId:
    """A tax ID as Stripe froze it on an invoice (`customer_tax_ids`)."""

    type: str
    value: str


@dataclass(frozen=True)
class Installment:
    """One entry of an invoice's payment plan (Stripe's `amounts_due`)."""

    index: int
    amount: int
    amount_paid: int
    amount_remaining: int
    due_date: datetime | None
    description: str | None
    status: InstallmentStatus
    paid_at: datetime | None = None


@dataclass(frozen=True)
class Invoice:
    id: str
    customer_id: str
    number: str | None
    status: InvoiceStatus
    currency: str
    collection_method: Literal["charge_automatically", "send_invoice"]
    created: datetime
    due_date: datetime | None
    amount_due: int
    amount_paid: int
    amount_remaining: int
    subtotal: int
    tax: int
    total: int
    description: str | None = None
    customer_name: str | None = None
    customer_email: str | None = None
    # The bill-to details as Stripe froze them when it finalized the invoice.
    customer_address: Address | None = None
    customer_tax_ids: tuple[BilledTaxId, ...] = ()
    hosted_invoice_url: str | None = None
    invoice_pdf: str | None = None
    finalized_at: datetime | None = None
    paid_at: datetime | None = None
    voided_at: datetime | None = None
    lines: tuple[InvoiceLine, ...] = ()
    lines_complete: bool = True  # False when Stripe had more lines than came inline
    # What credit notes took off, before and after payment (Stripe's two counters).
    credit_notes_amount: int = 0
    installments: tuple[Installment, ...] = field(default=())
    # The invoice's own discounts, taken from the subtotal (the lines' own are in the subtotal
    # already, as Stripe counts it), and its taxes, one per rate.
    discounts: tuple[DiscountAmount, ...] = ()
    taxes: tuple[TaxAmount, ...] = ()
    total_excluding_tax: int | None = None
    # Paid beyond what it owed (two payments crossing): Stripe credited the excess to the
    # customer's credit balance.
    amount_overpaid: int = 0
    # The ways the invoice may be paid (its `payment_settings`; empty: the account's default).
    payment_method_types: tuple[str, ...] = ()
    # A bank transfer's kind ("eu_bank_transfer", ...) and, for euros, its account's country,
    # as the invoice's payment settings ask for them.
    transfer_type: str | None = None
    transfer_country: str | None = None
    # The seller as Stripe knows it and prints it on the invoice: the account's public business
    # name, its country and its tax IDs (`account_tax_ids`, when the read expanded them).
    account_country: str | None = None
    account_name: str | None = None
    account_tax_ids: tuple[BilledTaxId, ...] = ()
    # Why an invoice carries no tax, as Stripe froze it from the customer: "reverse" (the
    # customer accounts for the VAT) or "exempt".
    customer_tax_exempt: TaxExempt | None = None
    # The customer's balance the invoice took on when it was finalized: negative is credit that
    # lowered `amount_due`, positive an earlier debt it added.
    starting_balance: int = 0
    # Stripe finalizes a draft with `auto_advance` by itself, at `automatically_finalizes_at`
    # (null unless a draft is scheduled); then it sends or charges it.
    auto_advance: bool = False
    automatically_finalizes_at: datetime | None = None
    # The method set on the invoice itself; Stripe charges the customer's default without one.
    default_payment_method_id: str | None = None

    @property
    def purpose(self) -> str | None:
        """What the invoice is for, in the seller's words: its description (Stripe's "memo"),
        else its first line's."""
        if self.description:
            return self.description
        return next((line.description for line in self.lines if line.description), None)


@dataclass(frozen=True)
class CreditNote:
    """A credit note issued against an invoice: it lowered what the invoice asks for."""

    id: str
    number: str | None
    amount: int
    currency: str
    created: datetime
    memo: str | None = None
    reason: str | None = None
    status: str = "issued"  # or "void"
    invoice_id: str | None = None
    pdf: str | None = None  # Stripe's link to the PDF (it redirects to the file)
    # What it took off before the invoice was paid (lowering `amount_due`) and after (given
    # back or credited to the balance); they add up to `amount`.
    pre_payment_amount: int = 0
    post_payment_amount: int = 0


@dataclass(frozen=True)
class PaidWith:
    """How a payment was made, as Stripe's charge records it (`payment_method_details`)."""

    type: str  # "card", "sepa_debit", ...
    brand: str | None = None  # cards: Stripe's brand
    last4: str | None = None
    # Shaped like a saved `PaymentMethod` where pages show both; a charge has no expiry.
    exp_month: int | None = None
    exp_year: int | None = None


@dataclass(frozen=True)
class BankAccount:
    """Where a bank transfer goes: one of Stripe's financial addresses (the customer's own
    virtual account), as Stripe gives it for the account's network."""

    kind: str  # "iban", "sort_code", "aba", ...
    account_holder: str | None = None
    iban: str | None = None
    bic: str | None = None
    country: str | None = None
    account_number: str | None = None
    sort_code: str | None = None
    routing_number: str | None = None
    bank_name: str | None = None


@dataclass(frozen=True)
class BankTransferInstructions:
    """What the customer transfers, where and with which reference, to pay one PaymentIntent
    (Stripe's `next_action.display_bank_transfer_instructions`)."""

    amount_remaining: int
    currency: str
    reference: str | None
    accounts: tuple[BankAccount, ...]
    hosted_instructions_url: str | None = None


@dataclass(frozen=True)
class Balances:
    """Money of the customer's that Stripe holds, by currency: credit it takes off their next
    invoices (overpayments, credit notes to the balance), and bank transfers that arrived and
    wait in the cash balance until they pay an invoice in full."""

    credit: Mapping[str, int] = field(default_factory=dict)
    cash: Mapping[str, int] = field(default_factory=dict)
    # The method Stripe charges the customer's invoices with (`invoice_settings`), read with
    # the balances: the same customer object, so no request more.
    default_method: PaymentMethod | None = None


@dataclass(frozen=True)
class InvoicePayment:
    id: str
    invoice_id: str
    amount_requested: int
    amount_paid: int | None
    currency: str
    status: PaymentStatus
    is_default: bool
    payment_intent_id: str | None
    created: datetime
    paid_at: datetime | None = None
    paid_with: PaidWith | None = None
    # Stripe's receipt for the charge, a page of its own (None before the charge exists), and
    # the address Stripe e-mailed it to (only once it has sent one: `receipt_number` is set).
    receipt_url: str | None = None
    receipt_sent_to: str | None = None
    receipt_number: str | None = None
    # While its PaymentIntent waits for a bank transfer: what to transfer, and where.
    transfer: BankTransferInstructions | None = None


@dataclass(frozen=True)
class InvoicePage:
    """What an invoice's page shows from Stripe, read together."""

    invoice: Invoice
    payments: list[InvoicePayment]
    credit_notes: list[CreditNote]


@dataclass(frozen=True)
class PaymentMethod:
    id: str
    type: str  # "card", "sepa_debit", ... (other types are shown generically)
    brand: str | None = None  # cards
    last4: str | None = None
    exp_month: int | None = None  # cards
    exp_year: int | None = None  # cards
    bank_code: str | None = None  # SEPA debit
    country: str | None = None
    customer_id: str | None = None  # None once detached


@dataclass(frozen=True)
class PaymentIntent:
    id: str
    status: str
    amount: int
    currency: str
    # Where to send the customer when Stripe needs them (3-D Secure); None otherwise.
    action_url: str | None = None
    decline_code: str | None = None
    payment_method_id: str | None = None
    created: datetime | None = None
    # Stripe's page with what the customer has to do to pay (a bank transfer's instructions,
    # a voucher) while the PaymentIntent waits for the money (`requires_action`).
    instructions_url: str | None = None


@dataclass(frozen=True)
class WebhookEndpoint:
    id: str
    url: str
    enabled: bool
    events: tuple[str, ...]  # "*" for every event
    api_version: str | None  # None: the account's default version


@dataclass(frozen=True)
class Refund:
    id: str
    # "pending", "requires_action", "succeeded", "failed" or "canceled"
    status: str
    amount: int
    currency: str
    payment_intent_id: str | None = None
    failure_reason: str | None = None


@dataclass(frozen=True)
class CheckoutSession:
    id: str
    customer_id: str | None
    mode: str  # "setup", "payment"
    status: str  # "open", "complete", "expired"
    payment_method_id: str | None  # what a completed setup session saved
    url: str | None = None  # Stripe's page for it, while it is open
    # A payment session's PaymentIntent, once the customer has paid (or started to) on the page.
    payment_intent: PaymentIntent | None = None
    metadata: Mapping[str, str] = field(default_factory=dict)


@dataclass(frozen=True)
class TaxId:
    id: str
    type: str
    value: str
    country: str | None
    verification_status: Literal["pending", "verified", "unverified", "unavailable"] | None
    verified_name: str | None = None


@dataclass(frozen=True)
class WebhookEvent:
    """A verified Stripe event: only what is needed to re-read its object from the API."""

    id: str
    type: str
    object_type: str
    object_id: str | None
    customer_id: str | None
    created: datetime


@dataclass(frozen=True)
class OpenInvoice:
    """An open invoice as a batch job reads it: with its customer and what waits in their cash
    balance (transfers that arrived, by currency), all from the list's one request."""

    invoice: Invoice
    customer: Customer
    cash: Mapping[str, int] = field(default_factory=dict)

    @property
    def id(self) -> str:  # the list's cursor (`Page.next_cursor`)
        return self.invoice.id


@dataclass(frozen=True)
class Draft:
    """A draft Stripe will charge, as the announcements read it: with its customer, and the
    saved methods Stripe would charge it to (the draft's own, the customer's default), all
    from the list's one request."""

    invoice: Invoice
    customer: Customer
    own_method: PaymentMethod | None = None  # the draft's `default_payment_method`
    default_method: PaymentMethod | None = None  # the customer's, for their invoices

    @property
    def id(self) -> str:  # the list's cursor (`Page.next_cursor`)
        return self.invoice.id
