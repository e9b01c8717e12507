"""Credit notes against what an open invoice still owes (Stripe's `pre_payment` credit notes).

A credit note lowers the invoice's `amount_due` and `amount_remaining` by its amount (never
below zero: Stripe refuses more) and adds it to `pre_payment_credit_notes_amount`; an invoice
left with nothing to pay is paid (https://docs.stripe.com/invoicing/dashboard/credit-notes,
the 2025-05-28.basil partial-payments changelog). The amount comes from `amount` or from
`lines` (custom lines with `unit_amount` x `quantity`, or `amount` on an invoice line).

What the sandbox leaves out, and refuses rather than pretends (docs/sandbox.md lists it): credit
notes after payment (`post_payment`: `credit_amount`, `refund_amount`, `refunds`,
`out_of_band_amount`), on invoices with a payment plan, taxes, discounts, shipping, voiding.

A credit note's `pdf` link answers as an invoice's does: a redirect (302) to the file on the
files origin (`/files/credit_notes/{id}.pdf`), a PDF drawn by `stripe_sandbox.pdf`.
"""

from __future__ import annotations

from collections.abc import Awaitable, Callable
from typing import Any

from starlette.requests import Request
from starlette.responses import JSONResponse, RedirectResponse, Response

from stripe_sandbox import ids, invoices, pdf
from stripe_sandbox.api import ApiRequest
from stripe_sandbox.errors import invalid_request, missing_param
from stripe_sandbox.listing import list_object, newest_first
from stripe_sandbox.params import apply_metadata, get_enum, get_int, get_list, get_str
from stripe_sandbox.store import JSON, RequestInfo, Store, current_request

Page = Callable[[Request], Awaitable[Response]]

REASONS = ("duplicate", "fraudulent", "order_change", "product_unsatisfactory")
_AFTER_PAYMENT = ("credit_amount", "refund_amount", "refunds", "out_of_band_amount")


def _lines(params: dict[str, Any], currency: str) -> list[JSON]:
    found = []
    for i, raw in enumerate(get_list(params, "lines") or []):
        kind = raw.get("type")
        if kind not in ("custom_line_item", "invoice_line_item"):
            raise invalid_request(
                "Invalid type: must be one of custom_line_item, invoice_line_item",
                param=f"lines[{i}][type]",
            )
        quantity = get_int(raw, "quantity") or 1
        unit = get_int(raw, "unit_amount")
        amount = get_int(raw, "amount")
        if amount is None and unit is not None:
            amount = unit * quantity
        if amount is None or amount <= 0:
            raise missing_param(f"lines[{i}][amount]")
        found.append(
            {
                "id": ids.new_id("cnli"),
                "object": "credit_note_line_item",
                "amount": amount,
                "description": raw.get("description"),
                "discount_amount": 0,
                "discount_amounts": [],
                "invoice_line_item": raw.get("invoice_line_item"),
                "livemode": False,
                "metadata": dict(raw.get("metadata") or {}),
                "pretax_credit_amounts": [],
                "quantity": quantity,
                "tax_rates": [],
                "taxes": [],
                "type": kind,
                "unit_amount": unit if unit is not None else amount,
                "unit_amount_decimal": str(unit if unit is not None else amount),
            }
        )
    return found


def create_credit_note(call: ApiRequest) -> JSON:
    store, params = call.store, call.params
    invoice_id = get_str(params, "invoice")
    if not invoice_id:
        raise missing_param("invoice")
    invoice = store.require("invoices", invoice_id, "invoice", param="invoice")
    for name in _AFTER_PAYMENT:
        if name in params:
            raise invalid_request(
                f"The sandbox issues credit notes only against what the invoice still owes "
                f"(pre_payment); {name} is not supported.",
                param=name,
            )
    if invoice["status"] not in ("open", "uncollectible"):
        raise invalid_request(
            f"You can only create a credit note for an invoice that has been finalized and is "
            f"still to be paid in the sandbox; this one is {invoice['status']}.",
            param="invoice",
        )
    if invoice["amounts_due"]:
        raise invalid_request(
            "The sandbox does not issue credit notes on invoices with a payment plan.",
            param="invoice",
        )
    lines = _lines(params, invoice["currency"])
    amount = get_int(params, "amount")
    total = sum(line["amount"] for line in lines) if lines else amount
    if lines and amount is not None and amount != total:
        raise invalid_request(
            "The amount of the credit note must equal the sum of its lines.", param="amount"
        )
    if total is None or total <= 0:
        raise missing_param("amount")
    if total > invoice["amount_remaining"]:
        raise invalid_request(
            f"The credit note's amount ({total}) cannot exceed the amount remaining on the "
            f"invoice ({invoice['amount_remaining']}).",
            param="amount",
        )
    count = sum(1 for note in store.values("credit_notes") if note["invoice"] == invoice_id)
    now = store.now()
    note_id = ids.new_id("cn")
    note: JSON = {
        "id": note_id,
        "object": "credit_note",
        "amount": total,
        "amount_shipping": 0,
        "created": now,
        "currency": invoice["currency"],
        "customer": invoice["customer"],
        "customer_account": None,
        "customer_balance_transaction": None,
        "discount_amount": 0,
        "discount_amounts": [],
        "effective_at": get_int(params, "effective_at") or now,
        "invoice": invoice_id,
        "livemode": False,
        "memo": get_str(params, "memo"),
        "metadata": {},
        "number": f"{invoice['number']}-CN-{count + 1:02d}",
        "out_of_band_amount": None,
        "pdf": f"{store.base_url()}/credit_notes/{note_id}/pdf",
        "post_payment_amount": 0,
        "pre_payment_amount": total,
        "pretax_credit_amounts": [],
        "reason": get_enum(params, "reason", REASONS),
        "refunds": [],
        "shipping_cost": None,
        "status": "issued",
        "subtotal": total,
        "subtotal_excluding_tax": total,
        "total": total,
        "total_excluding_tax": total,
        "total_taxes": [],
        "type": "pre_payment",
        "voided_at": None,
    }
    apply_metadata(note, params)
    store.secret(note["id"])["lines"] = lines or [
        {
            "id": ids.new_id("cnli"),
            "object": "credit_note_line_item",
            "amount": total,
            "description": None,
            "discount_amount": 0,
            "discount_amounts": [],
            "invoice_line_item": None,
            "livemode": False,
            "metadata": {},
            "pretax_credit_amounts": [],
            "quantity": 1,
            "tax_rates": [],
            "taxes": [],
            "type": "custom_line_item",
            "unit_amount": total,
            "unit_amount_decimal": str(total),
        }
    ]
    store.insert("credit_notes", note)
    invoices.reduce_by_credit_note(store, invoice, total)
    store.emit("credit_note.created", "credit_notes", note)
    return store.render("credit_notes", note)


def register_renderer(store: Store) -> None:
    store.renderers["credit_notes"] = lambda note: render_credit_note(store, note)


def render_credit_note(store: Store, note: JSON) -> JSON:
    body = dict(note)
    lines = store.secret(note["id"]).get("lines", [])
    body["lines"] = {
        "object": "list",
        "data": lines,
        "has_more": False,
        "url": f"/v1/credit_notes/{note['id']}/lines",
    }
    return body


def retrieve_credit_note(call: ApiRequest) -> JSON:
    note = call.store.require("credit_notes", call.path_id("credit_note"), "credit_note")
    return call.store.render("credit_notes", note)


def list_credit_notes(call: ApiRequest) -> JSON:
    params = call.params
    invoice, customer = get_str(params, "invoice"), get_str(params, "customer")
    items = [
        note
        for note in call.store.values("credit_notes")
        if (invoice is None or note["invoice"] == invoice)
        and (customer is None or note["customer"] == customer)
    ]
    return list_object(call.store, "credit_notes", newest_first(items), params, "/v1/credit_notes")


# -- the PDF (no API key, like Stripe's links: the id in the URL is the secret) -----------------


def _not_found() -> Response:
    body = {"error": {"type": "invalid_request_error", "message": "No such credit note"}}
    return JSONResponse(body, 404)


def pdf_link(store: Store) -> Page:
    """A credit note's `pdf` URL: like an invoice's `invoice_pdf`, a redirect to the file."""

    async def redirect(request: Request) -> Response:
        note_id = request.path_params["credit_note"]
        if store.get("credit_notes", note_id) is None:
            return _not_found()
        token = current_request.set(RequestInfo(base_url=str(request.base_url)))
        try:
            files = store.surface_url("files")
        finally:
            current_request.reset(token)
        return RedirectResponse(f"{files}/files/credit_notes/{note_id}.pdf", 302)

    return redirect


def pdf_file(store: Store) -> Page:
    async def download(request: Request) -> Response:
        note = store.get("credit_notes", request.path_params["credit_note"])
        if note is None:
            return _not_found()
        invoice = store.get("invoices", note["invoice"]) or {}
        content = pdf.render_credit_note(
            render_credit_note(store, note), invoice, store.account_settings.name
        )
        return Response(
            content,
            media_type="application/pdf",
            headers={"Content-Disposition": f'inline; filename="Credit-note-{note["number"]}.pdf"'},
        )

    return download
