"""The portal's own e-mails about invoices: "invoice ready" (on `invoice.finalized`, when the
deployment turns it on) and the reminders of `portal send-reminders`.

Every e-mail is written to the outbox under its notice's key first and sent from there, so a
failed send is retried later and nothing is sent twice (see `portal.mail.outbox`). Each is in
the customer's language, with amounts and dates formatted for it, and carries an invoice link
that opens and pays the invoice without signing in.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import UTC, datetime
from email.message import EmailMessage

from portal import i18n
from portal.billing import charging, notices, transfers
from portal.billing import invoices as rules
from portal.billing.notices import Notice
from portal.identity import invoice_links
from portal.mail import messages, outbox
from portal.services import Services
from portal.storage.database import transaction
from portal.stripe.models import Customer, Invoice


def invoice_link_url(svc: Services, invoice: Invoice, locale: str | None = None) -> str:
    token = invoice_links.make(
        svc.settings.secret_key, invoice.id, invoice.customer_id, locale=locale
    )
    return svc.link("billing:invoice_link", token=token)


def compose(
    svc: Services,
    invoice: Invoice,
    customer: Customer,
    notice: Notice,
    transfer: transfers.Awaited | None = None,
    now: datetime | None = None,
) -> EmailMessage | None:
    """The e-mail for `notice`, or None for a customer without an e-mail address. An invoice
    waiting for a bank transfer (`transfer`) carries its instructions, with the EPC QR code
    inline for euros. An overdue notice says how many days late it is at `now`."""
    if not customer.email:
        return None
    late_days = 0
    if notice.kind == "overdue" and notice.due_date is not None:
        late_days = rules.days_late(notice.due_date, now or datetime.now(UTC))
    locale = i18n.first_supported_locale(customer.preferred_locales) or i18n.DEFAULT
    payload = transfers.epc_payload(transfer.qr) if transfer and transfer.qr else None
    return messages.compose(
        svc.templates,
        svc.settings,
        "invoice_notice",
        locale=locale,
        to=customer.email,
        to_name=customer.name,
        context={
            "name": customer.individual_name,  # the person, not the company
            "notice": notice,
            "invoice": invoice,
            "installment": None
            if notice.installment is None
            else invoice.installments[notice.installment],
            "link": invoice_link_url(svc, invoice, locale),
            "transfer": transfer,
            "qr": payload is not None,
            "late_days": late_days,
        },
        images={"qr": transfers.qr_png(payload)} if payload else None,
    )


async def awaited_transfer(svc: Services, invoice: Invoice) -> transfers.Awaited | None:
    """The bank transfer an invoice that may be paid by one waits for (`transfers`)."""
    return await transfers.read_awaited(svc.gateway, invoice)


@dataclass(frozen=True)
class ReminderReport:
    due: int  # reminders the open invoices call for now
    queued: int  # of those, new in the outbox (the others were queued by an earlier run)
    sent: int
    failed: int  # left in the outbox for the next run


async def send_reminders(svc: Services, now: datetime | None = None) -> ReminderReport:
    """Queue the reminders every open invoice calls for at `now` and send what is due.

    Safe to run as often as a scheduler likes, and in several processes at once: each
    reminder has one outbox key, and the outbox sends each message once.

    An invoice with a debit (SEPA) still being collected stays open at Stripe for days,
    though the customer has paid: its reminders wait until the bank answers, and go on if
    the debit is returned (each at the latest step reached by then).
    """
    planning_time = now or datetime.now(UTC)
    invoices = await svc.gateway.all_open_invoices()
    planned = [(i, n) for i in invoices for n in notices.reminders(i, planning_time)]
    waiting = await charging.still_collecting(
        svc.engine, svc.gateway, {invoice.id for invoice, _ in planned}
    )
    planned = [(i, n) for i, n in planned if i.id not in waiting]
    customer_ids = tuple(sorted({invoice.customer_id for invoice, _ in planned}))
    customers = {c.id: c for c in await svc.gateway.get_customers(customer_ids)}
    queued = 0
    # The outbox keeps real time (when to send, when to retry); `now` only plans what is due.
    queue_time = datetime.now(UTC)
    # Read before the transaction: no database lock is held while Stripe answers.
    awaited = {
        invoice.id: await awaited_transfer(svc, invoice) for invoice in {i for i, _ in planned}
    }
    async with transaction(svc.engine) as conn:
        for invoice, notice in planned:
            message = compose(
                svc,
                invoice,
                customers[invoice.customer_id],
                notice,
                awaited[invoice.id],
                now=planning_time,
            )
            if message is not None and await outbox.enqueue(
                conn, key=notice.key, message=message, now=queue_time
            ):
                queued += 1
    report = await outbox.send_due(svc.engine, svc.settings.smtp)
    return ReminderReport(len(planned), queued, report.sent, report.failed)
