"""Paying by bank transfer: what to transfer where, and the EPC QR code a banking app scans.

The EPC QR code ("GiroCode", European Payments Council EPC069-12, version 002) carries a SEPA
credit transfer: the beneficiary's name, IBAN (and BIC), the amount in euros and the remittance
information. Banking apps across the euro area fill their transfer form from it, so the
customer types nothing. Only euro amounts can be carried; other currencies get the written
instructions alone.
"""

from __future__ import annotations

import io
from collections.abc import Awaitable, Iterable, Sequence
from dataclasses import dataclass, replace
from decimal import Decimal
from typing import TYPE_CHECKING

from markupsafe import Markup

from portal.billing import invoices as rules
from portal.concurrency import at_once
from portal.stripe.cache import CachingGateway
from portal.stripe.models import (
    BankAccount,
    BankTransferInstructions,
    Invoice,
    InvoicePayment,
    OpenInvoice,
)

if TYPE_CHECKING:
    import segno

# A bank transfer's kind by currency, when the invoice's payment settings do not name one
# (Stripe's bank transfer types: https://docs.stripe.com/payments/bank-transfers).
TRANSFER_TYPES = {
    "eur": "eu_bank_transfer",
    "gbp": "gb_bank_transfer",
    "jpy": "jp_bank_transfer",
    "mxn": "mx_bank_transfer",
    "usd": "us_bank_transfer",
}

# EPC069-12: at most 70 characters for the name, 140 for unstructured remittance information,
# amounts from 0.01 to 999999999.99 euros, the whole payload at most 331 bytes.
NAME_MAX = 70
TEXT_MAX = 140
AMOUNT_MAX = 99_999_999_999  # in cents
PAYLOAD_MAX = 331
# The largest QR version the standard allows (error correction "M" is mandatory).
VERSION_MAX = 13


@dataclass(frozen=True)
class Transfer:
    """What the customer transfers and where: one account and one reference."""

    account_holder: str
    iban: str
    bic: str | None
    reference: str
    amount: int  # still to transfer, in the currency's minor unit
    currency: str
    country: str | None = None  # the account's country


def epc_payload(transfer: Transfer) -> str | None:
    """The EPC QR code's content for the transfer, or None when it cannot carry it (not
    euros, no amount, an amount or name beyond the standard's limits). The reference is a
    Stripe reference, not an ISO 11649 creditor reference, so it goes into the unstructured
    remittance information (line 11), the structured one (line 10) left empty."""
    if transfer.currency.lower() != "eur" or not 0 < transfer.amount <= AMOUNT_MAX:
        return None
    name = transfer.account_holder.strip()
    if not name or len(name) > NAME_MAX or len(transfer.reference) > TEXT_MAX:
        return None
    euros = (Decimal(transfer.amount) / 100).normalize()
    amount = f"{euros:f}"
    lines = [
        "BCD",  # service tag
        "002",  # version: the BIC may be left out within the EEA
        "1",  # character set: UTF-8
        "SCT",  # SEPA credit transfer
        transfer.bic or "",
        name,
        "".join(transfer.iban.split()).upper(),
        f"EUR{amount}",
        "",  # purpose code
        "",  # structured remittance information (an RF creditor reference)
        transfer.reference,
    ]
    payload = "\n".join(lines)
    if len(payload.encode()) > PAYLOAD_MAX:
        return None
    return payload


def _code(payload: str) -> segno.QRCode:
    import segno  # on the first code drawn: most processes draw none

    code = segno.make_qr(payload, error="m", boost_error=False, encoding="utf-8")
    if isinstance(code.version, str) or code.version > VERSION_MAX:  # a Micro QR: never
        raise ValueError(f"EPC QR code of version {code.version}")
    return code


def qr_png(payload: str) -> bytes:
    """The payload as a PNG, for e-mails (their readers draw no SVG)."""
    out = io.BytesIO()
    _code(payload).save(out, kind="png", scale=5, border=4)
    return out.getvalue()


def qr_svg(payload: str, *, title: str) -> Markup:
    """The payload as an inline SVG QR code (error correction "M", as EPC069-12 requires),
    drawn on the server: no script, no image request, crisp at any size. `title` is its
    text alternative."""
    code = _code(payload)
    size = code.symbol_size(scale=4, border=4)[0]
    svg = code.svg_inline(scale=4, border=4, dark="#000", light="#fff", title=title)
    # segno escapes the title; a role and a viewBox let it be read out and scaled by CSS.
    svg = svg.replace("<svg ", f'<svg role="img" viewBox="0 0 {size} {size}" ', 1)
    return Markup(svg)  # noqa: S704 (segno's own SVG, its one text escaped by segno)


@dataclass(frozen=True)
class Awaited:
    """A bank transfer an invoice waits for, as its page and e-mails show it."""

    instructions: BankTransferInstructions  # `amount_remaining`: what is still to transfer
    arrived: int  # what has come so far (Stripe waits for the whole amount)
    qr: Transfer | None  # what the EPC QR code carries, when it can


def intent_instructions(payments: Iterable[InvoicePayment]) -> InvoicePayment | None:
    """The invoice's payment waiting for a bank transfer, with Stripe's instructions for it
    (the invoice's own first): Stripe gives them when bank transfer is the invoice's only way
    to pay; otherwise the customer's funding instructions serve (`awaited`)."""
    waiting = sorted(
        (p for p in payments if p.status == "open" and p.transfer is not None),
        key=lambda p: not p.is_default,
    )
    return waiting[0] if waiting else None


def awaited(
    instructions: BankTransferInstructions, *, requested: int | None, waiting: int
) -> Awaited:
    """What is still to transfer: the instructions' amount, less what already waits in the
    customer's cash balance (`waiting`: transfers that arrived but do not pay an invoice in
    full yet). `requested`: the PaymentIntent's amount, when the instructions are its own (a
    PaymentIntent funded in part lowers its `amount_remaining`)."""
    paid_in = max(0, requested - instructions.amount_remaining) if requested else 0
    held = min(waiting, instructions.amount_remaining)
    left = replace(instructions, amount_remaining=instructions.amount_remaining - held)
    return Awaited(left, paid_in + held, for_qr(left))


async def read_awaited(
    gateway: CachingGateway, invoice: Invoice, payments: Iterable[InvoicePayment] | None = None
) -> Awaited | None:
    """The bank transfer an invoice still to be paid waits for, read from Stripe: its
    PaymentIntent's instructions or the customer's funding instructions, and their cash
    balance. None (nothing read) for invoices that cannot be paid by transfer."""
    if not _by_transfer(invoice):
        return None
    if payments is None:
        payments = await gateway.uncached().list_invoice_payments(invoice.id)
    own = intent_instructions(payments)
    if own is not None and own.transfer is not None:
        instructions, requested = own.transfer, own.amount_requested
        balances = await gateway.get_balances(invoice.customer_id)
    else:
        key = _funding_key(invoice)
        if key is None:
            return None
        currency, kind, country = key
        instructions, balances = await at_once(  # one round trip for both
            gateway.funding_instructions(
                invoice.customer_id,
                currency=currency,
                transfer_type=kind,
                country=country,
                reference=invoice.number,
                amount=invoice.amount_remaining,
            ),
            gateway.get_balances(invoice.customer_id),
        )
        requested = None
    return awaited(
        instructions, requested=requested, waiting=balances.cash.get(invoice.currency, 0)
    )


def _by_transfer(invoice: Invoice) -> bool:
    return "customer_balance" in invoice.payment_method_types and rules.needs_payment(invoice)


async def read_awaited_each(
    gateway: CachingGateway, open_invoices: Sequence[OpenInvoice]
) -> dict[str, Awaited]:
    """`read_awaited` for many invoices at once (a batch job's page), by invoice id, with fewer
    reads: the cash balance as the list read it with each invoice, and each customer's funding
    instructions once per currency and kind (the same account for all their invoices); only
    each invoice's own payments are read per invoice."""
    payable = [o for o in open_invoices if _by_transfer(o.invoice)]
    uncached = gateway.uncached()
    payments = await at_once(*(uncached.list_invoice_payments(o.invoice.id) for o in payable))
    owns = [intent_instructions(paid) for paid in payments]
    wanted = sorted(
        {
            (o.invoice.customer_id, *key)
            for o, own in zip(payable, owns, strict=True)
            if (own is None or own.transfer is None) and (key := _funding_key(o.invoice))
        },
        key=str,
    )
    read = await at_once(
        *(
            _funding(gateway, customer, (currency, kind, country))
            for customer, currency, kind, country in wanted
        )
    )
    funding = dict(zip(wanted, read, strict=True))
    found: dict[str, Awaited] = {}
    for o, own in zip(payable, owns, strict=True):
        invoice, waiting = o.invoice, o.cash.get(o.invoice.currency, 0)
        if own is not None and own.transfer is not None:
            found[invoice.id] = awaited(
                own.transfer, requested=own.amount_requested, waiting=waiting
            )
        elif (key := _funding_key(invoice)) is not None:
            instructions = replace(
                funding[(invoice.customer_id, *key)],
                reference=invoice.number,
                amount_remaining=invoice.amount_remaining,
            )
            found[invoice.id] = awaited(instructions, requested=None, waiting=waiting)
    return found


def _funding(
    gateway: CachingGateway, customer_id: str, key: tuple[str, str, str | None]
) -> Awaitable[BankTransferInstructions]:
    """The customer's funding instructions for `key` (`_funding_key`), without an invoice's
    reference and amount: the same for every invoice of that currency and kind."""
    currency, kind, country = key
    return gateway.funding_instructions(
        customer_id,
        currency=currency,
        transfer_type=kind,
        country=country,
        reference=None,
        amount=0,
    )


def _funding_key(invoice: Invoice) -> tuple[str, str, str | None] | None:
    kind = invoice.transfer_type or TRANSFER_TYPES.get(invoice.currency)
    if kind is None:
        return None
    return invoice.currency, kind, invoice.transfer_country or invoice.account_country


async def accounts_for(
    gateway: CachingGateway, customer_id: str, invoices: Iterable[Invoice]
) -> dict[str, BankAccount]:
    """For each of these invoices that may be paid by bank transfer, the customer's account
    to transfer to (their funding instructions: one read per currency and kind, kept)."""
    keys = {
        invoice.id: key
        for invoice in invoices
        if "customer_balance" in invoice.payment_method_types
        and (key := _funding_key(invoice)) is not None
    }
    wanted = sorted(set(keys.values()), key=str)
    found = await at_once(*(_funding(gateway, customer_id, key) for key in wanted))
    first = {
        key: instructions.accounts[0]
        for key, instructions in zip(wanted, found, strict=True)
        if instructions.accounts
    }
    return {invoice_id: first[key] for invoice_id, key in keys.items() if key in first}


def for_qr(instructions: BankTransferInstructions) -> Transfer | None:
    """The instructions as an EPC QR code can carry them: euros to an IBAN, with a name."""
    account = next((a for a in instructions.accounts if a.iban), None)
    if account is None or account.iban is None or not account.account_holder:
        return None
    return Transfer(
        account_holder=account.account_holder,
        iban=account.iban,
        bic=account.bic,
        reference=instructions.reference or "",
        amount=instructions.amount_remaining,
        currency=instructions.currency,
        country=account.country,
    )
