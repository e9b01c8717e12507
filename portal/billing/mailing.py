"""The portal's own e-mails about invoices: "invoice ready" (on `invoice.finalized`, when the
deployment turns it on), and the reminders and announcements of scheduled charges of
`portal send-reminders`.

Every e-mail is written to the outbox under its notice's key first and sent from there, so a
failed send is retried later and nothing is sent twice (see `portal.mail.outbox`). Each is in
the customer's language, with amounts and dates formatted for it, and carries an invoice link
that opens and pays the invoice without signing in.
"""

from __future__ import annotations

import asyncio
from collections.abc import Awaitable, Callable, Mapping, Sequence, Set
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta
from email.message import EmailMessage
from typing import Any, TypeVar

from portal import i18n
from portal.billing import charging, notices, transfers, upcoming
from portal.billing import invoices as rules
from portal.billing.notices import Notice
from portal.identity import invoice_links
from portal.mail import messages, outbox
from portal.services import Services
from portal.storage.database import transaction
from portal.stripe.models import Customer, Draft, Invoice, OpenInvoice, Page

T = TypeVar("T")


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
    locale = _language(customer)
    payload = transfers.epc_payload(transfer.qr) if transfer and transfer.qr else None
    return _to(
        svc,
        customer,
        "invoice_notice",
        locale,
        {
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


def compose_charge_notice(
    svc: Services, draft: Invoice, customer: Customer, notice: upcoming.ChargeNotice
) -> EmailMessage | None:
    """The e-mail announcing a scheduled charge, or None for a customer without an address.
    A draft has no number and no page yet: the button opens the portal (after signing in),
    where the overview shows it among the upcoming invoices, with the methods beside."""
    if not customer.email:
        return None
    return _to(
        svc,
        customer,
        "upcoming_charge",
        _language(customer),
        {"notice": notice, "invoice": draft, "link": svc.link("billing:overview")},
    )


def _language(customer: Customer) -> str:
    return i18n.first_supported_locale(customer.preferred_locales) or i18n.DEFAULT


def _to(
    svc: Services,
    customer: Customer,
    template: str,
    locale: str,
    context: dict[str, Any],
    images: Mapping[str, bytes] | None = None,
) -> EmailMessage:
    """The e-mail `template` to a customer with an address, greeting the person (Stripe's
    `individual_name`), not the company."""
    assert customer.email
    return messages.compose(
        svc.templates,
        svc.settings,
        template,
        locale=locale,
        to=customer.email,
        to_name=customer.name,
        context={"name": customer.individual_name, **context},
        images=images,
    )


async def awaited_transfer(svc: Services, invoice: Invoice) -> transfers.Awaited | None:
    """The bank transfer an invoice that may be paid by one waits for (`transfers`)."""
    return await transfers.read_awaited(svc.gateway, invoice)


@dataclass(frozen=True)
class ReminderReport:
    due: int  # e-mails the open invoices and scheduled drafts call for now
    queued: int  # of those, new in the outbox (the others were queued by an earlier run)
    sent: int
    failed: int  # left in the outbox for the next run
    stopped: bool = False  # asked to stop before the end: the next run goes on from there


@dataclass(frozen=True)
class PagePlan:
    """What one page of open invoices calls for: the reminders due now, and of those the ones
    to write (not in the outbox yet, to a customer with an address)."""

    due: tuple[tuple[OpenInvoice, Notice], ...]
    to_write: tuple[tuple[OpenInvoice, Notice], ...]


def plan_page(
    page: Sequence[OpenInvoice], now: datetime, *, waiting: Set[str], stored: Set[str]
) -> PagePlan:
    """The reminders `page` calls for at `now`, but for invoices with a debit still being
    collected (`waiting`); to write: those whose key the outbox does not hold (`stored`)."""
    due = tuple(
        (o, n)
        for o in page
        if o.invoice.id not in waiting
        for n in notices.reminders(o.invoice, now)
    )
    to_write = tuple((o, n) for o, n in due if n.key not in stored and o.customer.email)
    return PagePlan(due, to_write)


def plan_charge_notices(
    page: Sequence[Draft],
    now: datetime,
    *,
    lead: timedelta,
    stripe_announces_debits: bool,
) -> list[tuple[Draft, upcoming.ChargeNotice]]:
    """The announcements a page of drafts calls for at `now` (`upcoming.charge_notice`), each
    with the method Stripe would charge."""
    found = []
    for draft in page:
        own = {draft.own_method.id: draft.own_method} if draft.own_method else {}
        method = upcoming.charged_with(draft.invoice, own, draft.default_method)
        notice = upcoming.charge_notice(
            draft.invoice,
            method,
            now,
            lead=lead,
            stripe_announces_debits=stripe_announces_debits,
        )
        if notice is not None:
            found.append((draft, notice))
    return found


@dataclass
class _Reading:
    """The reading side of a run: page after page planned and queued, counted, and the sending
    side woken after each (`queued`)."""

    stop: Callable[[], bool]
    queued: asyncio.Event = field(default_factory=asyncio.Event)
    due: int = 0
    new: int = 0

    async def pages(
        self,
        read: Callable[[str | None], Awaitable[Page[T]]],
        plan: Callable[[Sequence[T]], Awaitable[tuple[int, int]]],
    ) -> bool:
        """`read` page after page, `plan` each (what it calls for, and of that what is new in
        the outbox); True once the last page is done, False when asked to stop before."""
        cursor: str | None = None
        while not self.stop():
            page = await read(cursor)
            due, new = await plan(page.items)
            self.due, self.new = self.due + due, self.new + new
            self.queued.set()
            cursor = page.next_cursor
            if cursor is None:
                return True
        return False


async def send_reminders(
    svc: Services, now: datetime | None = None, *, stop: Callable[[], bool] = lambda: False
) -> ReminderReport:
    """Queue the reminders every open invoice calls for at `now`, and the announcements of
    the charges Stripe will make on scheduled drafts (`upcoming.charge_notice`), and send
    them.

    Page by page (a hundred invoices, with their customers, in one Stripe read): each page's
    reminders are written to the outbox in a transaction of their own, and sent while the
    next pages are read, so memory holds a page, and a run stopped halfway keeps what it
    queued and sent; the next run reads only what the outbox lacks and sends the rest. `stop`
    is asked between pages and between messages.

    Safe to run as often as a scheduler likes, and in several processes at once: each
    reminder has one outbox key, and the outbox sends each message once.

    An invoice with a debit (SEPA) still being collected stays open at Stripe for days,
    though the customer has paid: its reminders wait until the bank answers, and go on if
    the debit is returned (each at the latest step reached by then).

    An announcement queued but not yet sent when Stripe finalizes its draft (the mail server
    down until after the date) is still sent: the outbox does not ask Stripe again.
    """
    reading = _Reading(stop)
    reader = asyncio.create_task(_read_all(svc, now or datetime.now(UTC), reading))
    sent = failed = 0
    try:
        # The sending is never cancelled: a message is sent and marked sent, or not begun.
        while True:
            more = asyncio.create_task(reading.queued.wait())
            await asyncio.wait({reader, more}, return_when=asyncio.FIRST_COMPLETED)
            more.cancel()
            reading.queued.clear()
            read_all = reader.done()
            report = await outbox.send_all_due(svc.engine, svc.settings.smtp, stop=stop)
            sent, failed = sent + report.sent, failed + report.failed
            if read_all:
                break
    except BaseException:  # sending failed: the page being queued rolls back
        reader.cancel()
        await asyncio.wait({reader})
        raise
    reached_end = reader.result()  # Stripe's error, if any, once what was queued is sent
    return ReminderReport(reading.due, reading.new, sent, failed, stopped=not reached_end)


async def _read_all(svc: Services, now: datetime, reading: _Reading) -> bool:
    """Open invoices, then drafts to be charged; True once the last page is queued."""

    async def reminders(page: Sequence[OpenInvoice]) -> tuple[int, int]:
        plan = await _plan(svc, page, now)
        return len(plan.due), await _queue(svc, plan, now)

    if not await reading.pages(svc.gateway.open_invoices, reminders):
        return False
    lead = timedelta(days=svc.settings.charge_notice_days)
    if not lead:
        return True

    async def announcements(page: Sequence[Draft]) -> tuple[int, int]:
        due = plan_charge_notices(
            page, now, lead=lead, stripe_announces_debits=svc.settings.stripe_debit_emails
        )
        return len(due), await _queue_charge_notices(svc, due)

    return await reading.pages(svc.gateway.charged_drafts, announcements)


async def _queue_charge_notices(
    svc: Services, due: Sequence[tuple[Draft, upcoming.ChargeNotice]]
) -> int:
    """Write the announcements the outbox lacks, in one short transaction; how many were new."""
    if not due:
        return 0
    async with svc.engine.connect() as conn:
        stored = await outbox.stored(conn, [notice.key for _draft, notice in due])
    messages = [
        (notice.key, compose_charge_notice(svc, draft.invoice, draft.customer, notice))
        for draft, notice in due
        if notice.key not in stored
    ]
    return await _enqueue(svc, messages)


async def _plan(svc: Services, page: Sequence[OpenInvoice], now: datetime) -> PagePlan:
    candidates = [o for o in page if notices.reminders(o.invoice, now)]
    if not candidates:
        return PagePlan((), ())
    waiting = await charging.still_collecting(
        svc.engine, svc.gateway, {o.invoice.id for o in candidates}
    )
    keys = [n.key for o in candidates for n in notices.reminders(o.invoice, now)]
    async with svc.engine.connect() as conn:
        stored = await outbox.stored(conn, keys)
    return plan_page(candidates, now, waiting=waiting, stored=stored)


async def _queue(svc: Services, plan: PagePlan, now: datetime) -> int:
    """Write the page's new reminders to the outbox, in one short transaction; how many were
    new (another process may have written some meanwhile)."""
    if not plan.to_write:
        return 0
    # Read before the transaction: no database lock is held while Stripe answers.
    awaited = await transfers.read_awaited_each(
        svc.gateway, list({o.id: o for o, _ in plan.to_write}.values())
    )
    messages = [
        (notice.key, compose(svc, o.invoice, o.customer, notice, awaited.get(o.id), now=now))
        for o, notice in plan.to_write
    ]
    return await _enqueue(svc, messages)


async def _enqueue(svc: Services, messages: Sequence[tuple[str, EmailMessage | None]]) -> int:
    """Write `messages` (None: a customer without an address) to the outbox under their keys,
    in one short transaction; how many were new (another process may have written some)."""
    # The outbox keeps real time (when to send, when to retry); a job's `now` only plans.
    queue_time = datetime.now(UTC)
    queued = 0
    async with transaction(svc.engine) as conn:
        for key, message in messages:
            if message is not None and await outbox.enqueue(
                conn, key=key, message=message, now=queue_time
            ):
                queued += 1
    return queued
