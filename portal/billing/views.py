"""The customer's invoices: the overview, the history, one invoice, its PDF and the PDFs of its
credit notes."""

from __future__ import annotations

from datetime import UTC, datetime
from urllib.parse import quote

from markupsafe import Markup
from starlette.background import BackgroundTask
from starlette.requests import Request
from starlette.responses import RedirectResponse, Response, StreamingResponse

from portal.billing import invoices as rules
from portal.billing import lifecycle, mailing, transfers, upcoming
from portal.billing.messages import cannot_pay_message
from portal.billing.payments import CannotPay, PaymentKind, choices, next_step, plan_charge
from portal.billing.summary import discount_label, totals_rows
from portal.billing.unpaid import unpaid_invoices
from portal.concurrency import Ready, at_once
from portal.cookies import set_cookie
from portal.i18n import _
from portal.identity import invoice_links
from portal.permissions import Action, NotFound, Principal, require
from portal.principals import principal, visitor
from portal.services import services
from portal.stripe.cache import CachingGateway
from portal.stripe.errors import NotFound as StripeNotFound
from portal.stripe.models import CreditNote, Installment, Invoice
from portal.stripe.pdfs import InvoicePdf
from portal.taxes import exemption_note
from portal.templating import render

HISTORY_PAGE = 20
# Stripe's largest page: a seller with more drafts than that has its soonest scheduled ones
# missed only if over a hundred unscheduled drafts are newer (Stripe lists newest first).
DRAFTS = 100
STRIPE_ID_PREFIX = "in_"
CREDIT_NOTE_PREFIX = "cn_"


async def overview(request: Request) -> Response:
    """What to pay at the top, what Stripe will issue on a set date, the customer's balances,
    history below: five Stripe calls, made at the same time (and, when invoices may be paid by
    bank transfer, the customer's account for it, kept; when an upcoming invoice is to be
    charged to a method of its own, the customer's methods, kept)."""
    who = principal(request)
    gateway = services(request).gateway
    owed, recent, balances, drafts = await at_once(
        unpaid_invoices(gateway, who.customer_id),
        gateway.list_invoices(who.customer_id, limit=HISTORY_PAGE),
        gateway.get_balances(who.customer_id),
        gateway.list_invoices(who.customer_id, status="draft", limit=DRAFTS),
    )
    now = datetime.now(UTC)
    payable = rules.to_pay(owed, now)
    scheduled = upcoming.scheduled(drafts.items, now)
    # Where to transfer, for the invoices that may be paid by bank transfer (kept per currency),
    # and the methods upcoming invoices name, when not the default: both at once.
    accounts, own_methods = await at_once(
        transfers.accounts_for(gateway, who.customer_id, payable),
        gateway.list_payment_methods(who.customer_id)
        if upcoming.own_methods_needed(scheduled, balances.default_method)
        else Ready([]),
    )
    methods = {method.id: method for method in own_methods}
    return render(
        request,
        "pages/overview.html",
        {
            "to_pay": [
                (invoice, rules.invoice_state(invoice, now), next_step(invoice, now))
                for invoice in payable
            ],
            "totals": rules.totals_to_pay(payable, now),
            "upcoming": upcoming.upcoming(
                scheduled, now, methods=methods, default=balances.default_method
            ),
            "history": rules.history(recent.items),
            "more_after": recent.next_cursor,
            "accounts": accounts,
            "balances": balances,
        },
        keep=True,  # made only from the above: a repeat view is the same page (portal.pages)
    )


async def history(request: Request) -> Response:
    """Older invoices, a page at a time ("show more"), newest first."""
    who = principal(request)
    after = request.query_params.get("after")
    if after is not None and not after.startswith(STRIPE_ID_PREFIX):
        raise NotFound(after)
    try:
        page = await services(request).gateway.list_invoices(
            who.customer_id, limit=HISTORY_PAGE, starting_after=after
        )
    except StripeNotFound as exc:  # a cursor of another customer's invoice, or none at all
        raise NotFound(after) from exc
    return render(
        request,
        "pages/history.html",
        {"history": rules.history(page.items), "more_after": page.next_cursor},
    )


async def own_invoice(request: Request, action: Action, *, who: Principal | None = None) -> Invoice:
    who = who or principal(request)
    invoice_id = request.path_params["invoice_id"]
    if not invoice_id.startswith(STRIPE_ID_PREFIX):
        raise NotFound(invoice_id)
    try:
        invoice = await services(request).gateway.get_invoice_with_lines(invoice_id)
    except StripeNotFound as exc:
        raise NotFound(invoice_id) from exc
    require(who, action, invoice=invoice)
    return invoice


async def invoice_detail(request: Request) -> Response:
    gateway = services(request).gateway
    invoice_id = request.path_params["invoice_id"]
    # The payments are fetched alongside the invoice (one round trip); they are shown only once
    # the invoice has proved to be this customer's.
    who = principal(request)
    if not invoice_id.startswith(STRIPE_ID_PREFIX):
        raise NotFound(invoice_id)
    try:
        page = await gateway.invoice_page(invoice_id)
    except StripeNotFound as exc:
        raise NotFound(invoice_id) from exc
    invoice = page.invoice
    require(who, Action.VIEW_INVOICE, invoice=invoice)
    now = datetime.now(UTC)
    if who.invoice_id is not None and not invoice_links.still_open(invoice, now):
        return render(request, "pages/invoice_link_problem.html", {}, status=410)
    overdue = {part.index for part in rules.overdue_installments(invoice, now)}
    placing = await lifecycle.placing_on(services(request).engine, invoice.id, who.customer_id)
    # Money of the customer's that is being credited to it: paying again would pay twice.
    kept = any(c.status == "unattached" for c in placing)
    transfer = await transfers.read_awaited(services(request).gateway, invoice, page.payments)
    return render(
        request,
        "pages/invoice.html",
        {
            "invoice": invoice,
            "state": rules.invoice_state(invoice, now),
            "payments": sorted(
                (
                    p
                    for p in page.payments
                    if p.status == "paid" and not (p.is_default and not p.amount_paid)
                ),
                key=lambda p: p.paid_at or p.created,
            ),
            "credit_notes": [note for note in page.credit_notes if note.status != "void"],
            # Subtotal, the invoice's discounts, each tax with its rate, total, included taxes.
            "totals": totals_rows(invoice),
            "discount_label": discount_label,
            "next_installment": rules.next_installment(invoice),
            "pay_options": [] if kept else pay_options(invoice, now),
            "placing": placing,
            # What to transfer and where, when the invoice may be paid by bank transfer.
            "transfer": transfer,
            "transfer_qr": _qr(transfer),
            "installments": [
                (part, _installment_state(part, overdue)) for part in invoice.installments
            ],
            "plan_paid": sum(part.status == "paid" for part in invoice.installments),
            "overdue_parts": tuple(sorted(overdue)),
            # Why an invoice without tax has none (reverse charge, exemption), in the law's words.
            "exemption": exemption_note(invoice.customer_tax_exempt, invoice.tax),
            # Opened from an e-mailed link without signing in: this invoice and nothing else.
            "link_mode": who.invoice_id is not None,
            # Support viewing as the customer may copy the invoice's link for them.
            "invoice_link": mailing.invoice_link_url(services(request), invoice)
            if visitor(request).impersonation is not None
            else None,
        },
        keep=True,  # made only from the above: a repeat view is the same page (portal.pages)
    )


def _qr(transfer: transfers.Awaited | None) -> Markup | None:
    payload = transfers.epc_payload(transfer.qr) if transfer and transfer.qr else None
    if payload is None:
        return None
    return transfers.qr_svg(
        payload, title=_("QR code for your banking app, with the transfer's details filled in")
    )


def pay_options(
    invoice: Invoice, now: datetime
) -> list[tuple[PaymentKind, int | None, str | None]]:
    """What the invoice page offers to pay: (kind, amount, or why it cannot be paid)."""
    options: list[tuple[PaymentKind, int | None, str | None]] = []
    for kind in choices(invoice, now):
        try:
            options.append((kind, plan_charge(invoice, kind, now).amount, None))
        except CannotPay as exc:
            options.append((kind, None, cannot_pay_message(exc)))
    return options


def _installment_state(part: Installment, overdue: set[int]) -> rules.InvoiceState:
    if part.amount_remaining == 0:
        return "paid"
    if part.index in overdue:
        return "overdue"
    return "partially_paid" if part.amount_paid else "open"


def _file_name(word: str, number: str) -> str:
    safe = "".join(ch if ch.isalnum() or ch in "-_" else "-" for ch in number)
    return f"{word.replace(' ', '-')}-{safe}.pdf"


def pdf_filename(invoice: Invoice) -> str:
    """The PDF's file name in the customer's language, e.g. `Rechnung-INV-0042.pdf`."""
    return _file_name(_("Invoice"), invoice.number or invoice.id)


def credit_note_filename(note: CreditNote) -> str:
    """`Rechnungskorrektur-INV-0042-CN-01.pdf`, `Faktura-korygująca-….pdf`."""
    return _file_name(_("Credit note"), note.number or note.id)


async def invoice_pdf(request: Request) -> Response:
    invoice = await own_invoice(request, Action.DOWNLOAD_PDF)
    # Opened (redirects followed) before the answer starts, so that Stripe being unreachable
    # still gets the error page; then passed on chunk by chunk, never held whole.
    pdf = await services(request).gateway.open_invoice_pdf(invoice)
    return _pdf_download(pdf, pdf_filename(invoice))


async def credit_note_pdf(request: Request) -> Response:
    """A credit note's PDF, for whoever may have its invoice's: the invoice is checked as for
    its own PDF, and the credit note must be one of that invoice's (anything else is not found,
    whoever's it is)."""
    note_id = request.path_params["credit_note_id"]
    if not note_id.startswith(CREDIT_NOTE_PREFIX):
        raise NotFound(note_id)
    gateway = services(request).gateway
    # Both read at once; the credit note is used only once the invoice has proved the
    # visitor's and the note has proved the invoice's.
    invoice, note = await at_once(
        own_invoice(request, Action.DOWNLOAD_PDF), _credit_note(gateway, note_id)
    )
    if note is None:
        raise NotFound(note_id)
    require(principal(request), Action.DOWNLOAD_PDF, invoice=invoice, credit_note=note)
    pdf = await gateway.open_credit_note_pdf(note)
    return _pdf_download(pdf, credit_note_filename(note))


async def _credit_note(gateway: CachingGateway, note_id: str) -> CreditNote | None:
    try:
        return await gateway.get_credit_note(note_id)
    except StripeNotFound:
        return None


def _pdf_download(pdf: InvoicePdf, name: str) -> Response:
    ascii_name = name.encode("ascii", "replace").decode().replace("?", "_")
    headers = {
        "content-disposition": f"attachment; filename=\"{ascii_name}\"; filename*=UTF-8''{quote(name)}",
        "cache-control": "private, no-store",
    }
    if pdf.size is not None:
        headers["content-length"] = str(pdf.size)
    return StreamingResponse(
        pdf.chunks(),
        media_type="application/pdf",
        headers=headers,
        # A download the customer abandons before the first chunk leaves the stream unread.
        background=BackgroundTask(pdf.aclose),
    )


async def invoice_link(request: Request) -> Response:
    """An e-mailed invoice link: checked, remembered in a cookie for this browser session, and
    then the invoice's own page (so the token leaves the address bar and the history)."""
    svc = services(request)
    token = request.path_params["token"]
    try:
        link = invoice_links.read(svc.settings.secret_key, token)
        invoice = await svc.gateway.get_invoice(link.invoice_id)
    except (invoice_links.BadLink, StripeNotFound):
        return _link_problem(request)
    if (
        invoice.customer_id != link.customer_id
        or invoice.status == "draft"
        or not invoice_links.still_open(invoice, datetime.now(UTC))
    ):
        return _link_problem(request)
    response = RedirectResponse(request.url_for("billing:invoice", invoice_id=invoice.id), 303)
    set_cookie(response, svc.settings, "invoice", token, max_age=None)
    response.headers["referrer-policy"] = "no-referrer"  # this URL carries the token
    return response


def _link_problem(request: Request) -> Response:
    """Tampered, expired or foreign: one page for all, which tells nothing about the invoice."""
    response = render(request, "pages/invoice_link_problem.html", {}, status=410)
    response.headers["referrer-policy"] = "no-referrer"
    return response
