"""The pages the sandbox hosts in place of Stripe's: Checkout (`/c/pay/{session}`), the 3-D Secure
challenge (`/3ds/{intent}`), the hosted invoice page (`/i/{invoice}`), a bank transfer's
instructions (`/c/pay/instructions/{intent}`, on Checkout's origin), invoice PDFs (`/invoice/{invoice}/pdf`,
redirecting to the file at `/files/invoices/{invoice}.pdf`) and receipts. Plain HTML forms without scripts or outside
assets, so a person, a browser test or a plain HTTP POST can use them. No API key is needed,
as with Stripe's links: the ids in the URLs are the secret.
"""

from __future__ import annotations

import datetime
import html
from collections.abc import Awaitable, Callable
from urllib.parse import urlencode, urlsplit, urlunsplit

from starlette.requests import Request
from starlette.responses import HTMLResponse, RedirectResponse, Response

from stripe_sandbox import bank_transfers, checkout, invoices, payment_methods, payments, pdf
from stripe_sandbox.errors import StripeError
from stripe_sandbox.money import format_amount
from stripe_sandbox.store import JSON, RequestInfo, Store, current_request

Page = Callable[[Request], Awaitable[Response]]

CARD_CHOICES = (
    ("pm_card_visa", "Visa •••• 4242 — succeeds"),
    ("pm_card_mastercard", "Mastercard •••• 4444 — succeeds"),
    ("pm_card_chargeDeclined", "Visa •••• 0002 — declined (generic_decline)"),
    ("pm_card_chargeDeclinedInsufficientFunds", "Visa •••• 9995 — declined (insufficient_funds)"),
    ("pm_card_authenticationRequired", "Visa •••• 3184 — asks for 3-D Secure"),
)

_STYLE = """
body{font-family:system-ui,sans-serif;max-width:40rem;margin:2rem auto;padding:0 1rem;color:#222}
h1{font-size:1.4rem} table{border-collapse:collapse;width:100%} td,th{padding:.3rem;
border-bottom:1px solid #ddd;text-align:left} .num{text-align:right} .error{background:#fde8e8;
padding:.6rem;border-left:4px solid #c00} .note{color:#666;font-size:.9rem} fieldset{margin:1rem 0}
button{font-size:1rem;padding:.5rem 1.2rem;margin:.3rem .3rem 0 0}
"""


def _page(title: str, body: str, status: int = 200) -> HTMLResponse:
    document = (
        f'<!doctype html><html lang="en"><head><meta charset="utf-8"><title>{html.escape(title)}'
        f"</title><style>{_STYLE}</style></head><body>"
        '<p class="note">Stripe sandbox — test mode</p>'
        f"{body}</body></html>"
    )
    return HTMLResponse(document, status)


def _e(value: object) -> str:
    return html.escape("" if value is None else str(value))


async def _locked(store: Store, request: Request, work: Callable[[], Response]) -> Response:
    """Run page work under the store lock, with follow-up work (deferred settling) after it."""
    async with store.lock:
        token = current_request.set(RequestInfo(base_url=str(request.base_url)))
        try:
            return work()
        finally:
            try:
                store.run_deferred()
            finally:
                current_request.reset(token)


def _not_found(what: str) -> HTMLResponse:
    return _page("Not found", f"<h1>No such {_e(what)}</h1>", 404)


# -- Checkout ----------------------------------------------------------------------------------


def _checkout_form(store: Store, session: JSON, error: str | None = None) -> HTMLResponse:
    if session["status"] != "open":
        link = ""
        if session["status"] == "complete":
            link = f'<p><a href="{_e(checkout.success_url(session))}">Continue</a></p>'
        return _page("Checkout", f"<h1>This session is {_e(session['status'])}</h1>{link}")
    parts = [f"<h1>{'Save a payment method' if session['mode'] == 'setup' else 'Pay'}</h1>"]
    if session["mode"] == "payment":
        rows = "".join(
            f"<tr><td>{_e(item['description'])} x {item['quantity']}</td>"
            f'<td class="num">{_e(format_amount(item["amount_total"], item["currency"]))}</td></tr>'
            for item in store.secret(session["id"]).get("line_items", [])
        )
        total = format_amount(session["amount_total"], session["currency"])
        parts.append(
            f'<table>{rows}<tr><th>Total</th><th class="num">{_e(total)}</th></tr></table>'
        )
    if error:
        parts.append(f'<p class="error" role="alert">{_e(error)}</p>')
    form = [f'<form method="post" action="/c/pay/{_e(session["id"])}">']
    form.append(
        '<p><label>Name <input name="name" autocomplete="name"></label></p>'
        f'<p><label>E-mail <input name="email" type="email" '
        f'value="{_e(session.get("customer_email"))}"></label></p>'
    )
    if "card" in session["payment_method_types"]:
        choices = "".join(
            f'<p><label><input type="radio" name="card" value="{token}"'
            f"{' checked' if index == 0 else ''}> {_e(label)}</label></p>"
            for index, (token, label) in enumerate(CARD_CHOICES)
        )
        form.append(
            f"<fieldset><legend>Test card</legend>{choices}"
            '<button name="method" value="card">Use this card</button></fieldset>'
        )
    if "ideal" in session["payment_method_types"]:
        banks = "".join(
            f'<option value="{_e(code)}">{_e(code)}</option>'
            for code in payment_methods.IDEAL_BANKS
        )
        form.append(
            "<fieldset><legend>iDEAL</legend>"
            f'<p><label>Bank <select name="ideal_bank">{banks}</select></label></p>'
            '<p class="note">You authorize or fail the payment on the next page.</p>'
            '<button name="method" value="ideal">Pay with iDEAL</button></fieldset>'
        )
    if "sepa_debit" in session["payment_method_types"]:
        form.append(
            "<fieldset><legend>SEPA Direct Debit</legend>"
            '<p><label>IBAN <input name="iban" value="DE89370400440532013000" size="34">'
            "</label></p>"
            '<p class="note">DE89370400440532013000 succeeds, DE62370400440532013001 fails.</p>'
            '<button name="method" value="sepa_debit">Use this account</button></fieldset>'
        )
    if "customer_balance" in session["payment_method_types"]:
        form.append(
            "<fieldset><legend>Bank transfer</legend>"
            '<p class="note">The next page shows the account to transfer to and the reference; '
            "the payment completes when the money arrives.</p>"
            '<button name="method" value="customer_balance">Pay by bank transfer</button>'
            "</fieldset>"
        )
    form.append("</form>")
    parts.extend(form)
    if session.get("cancel_url"):
        parts.append(f'<p><a href="{_e(session["cancel_url"])}">Cancel and go back</a></p>')
    return _page("Checkout", "".join(parts))


def checkout_page(store: Store) -> Page:
    async def page(request: Request) -> Response:
        session = store.get("checkout_sessions", request.path_params["session"])
        if session is None:
            return _not_found("Checkout Session")
        return _checkout_form(store, session)

    return page


def checkout_submit(store: Store) -> Page:
    async def submit(request: Request) -> Response:
        form = {key: str(value) for key, value in (await request.form()).items()}
        session_id = request.path_params["session"]

        def work() -> Response:
            session = store.get("checkout_sessions", session_id)
            if session is None:
                return _not_found("Checkout Session")
            result = checkout.submit(store, session, form)
            if result.redirect:
                return RedirectResponse(result.redirect, 303)
            return _checkout_form(store, session, result.error)

        return await _locked(store, request, work)

    return submit


def checkout_return(store: Store) -> Page:
    async def back(request: Request) -> Response:
        session_id = request.path_params["session"]

        def work() -> Response:
            session = store.get("checkout_sessions", session_id)
            if session is None:
                return _not_found("Checkout Session")
            result = checkout.resume(store, session)
            if result.redirect:
                return RedirectResponse(result.redirect, 303)
            return _checkout_form(store, session, result.error)

        return await _locked(store, request, work)

    return back


# -- 3-D Secure --------------------------------------------------------------------------------


def _intent(store: Store, intent_id: str) -> tuple[str, JSON] | None:
    for collection in ("payment_intents", "setup_intents"):
        intent = store.get(collection, intent_id)
        if intent is not None:
            return collection, intent
    return None


def authenticate_page(store: Store) -> Page:
    async def page(request: Request) -> Response:
        found = _intent(store, request.path_params["intent"])
        if found is None:
            return _not_found("PaymentIntent or SetupIntent")
        _, intent = found
        if intent["status"] != "requires_action":
            return _page(
                "3-D Secure",
                f"<h1>Nothing to authenticate</h1><p>Status: {_e(intent['status'])}</p>",
            )
        amount = ""
        if intent["object"] == "payment_intent":
            amount = f"<p>Amount: {_e(format_amount(intent['amount'], intent['currency']))}</p>"
        pm = store.get("payment_methods", intent["payment_method"] or "")
        if pm is not None and pm["type"] == "ideal":
            return _page("iDEAL", _bank_page(intent, pm, amount))
        body = (
            "<h1>3-D Secure authentication</h1>"
            f"<p>{_e(intent['id'])}</p>{amount}"
            '<p class="note">A test page standing in for the card issuer\'s challenge.</p>'
            f'<form method="post" action="/3ds/{_e(intent["id"])}">'
            '<button name="outcome" value="complete">Complete authentication</button>'
            '<button name="outcome" value="fail">Fail authentication</button></form>'
        )
        return _page("3-D Secure", body)

    return page


def _bank_page(intent: JSON, pm: JSON, amount: str) -> str:
    """Stands in for the customer's bank's iDEAL page, as Stripe's test mode does."""
    bank = pm["ideal"]["bank"] or "your bank"
    return (
        f"<h1>iDEAL test payment</h1><p>{_e(intent['id'])}</p>{amount}"
        f'<p class="note">A test page standing in for {_e(bank)}.</p>'
        f'<form method="post" action="/3ds/{_e(intent["id"])}">'
        '<button name="outcome" value="complete">Authorize test payment</button>'
        '<button name="outcome" value="fail">Fail test payment</button></form>'
    )


def authenticate_submit(store: Store) -> Page:
    async def submit(request: Request) -> Response:
        form = await request.form()
        succeeded = str(form.get("outcome", "complete")) == "complete"
        intent_id = request.path_params["intent"]

        def work() -> Response:
            found = _intent(store, intent_id)
            if found is None:
                return _not_found("PaymentIntent or SetupIntent")
            collection, intent = found
            if intent["status"] != "requires_action":
                return _page("3-D Secure", "<h1>Nothing to authenticate</h1>", 409)
            try:
                if collection == "payment_intents":
                    payments.finish_authentication(store, intent, succeeded)
                else:
                    payments.finish_setup_authentication(store, intent, succeeded)
            except StripeError:
                pass  # a decline after authentication: the intent records it
            return_url = store.secret(intent["id"]).get("return_url")
            outcome = "succeeded" if intent["status"] in ("succeeded", "processing") else "failed"
            if return_url:
                return RedirectResponse(_with_query(return_url, intent, outcome), 303)
            return _page(
                "3-D Secure",
                f"<h1>Authentication {'complete' if succeeded else 'failed'}</h1>"
                f"<p>{_e(intent['id'])} is now <strong>{_e(intent['status'])}</strong>.</p>",
            )

        return await _locked(store, request, work)

    return submit


def _with_query(url: str, intent: JSON, outcome: str) -> str:
    """Stripe appends the intent, its client secret and `redirect_status` to the return URL."""
    kind = "payment_intent" if intent["object"] == "payment_intent" else "setup_intent"
    extra = urlencode(
        {kind: intent["id"], f"{kind}_client_secret": intent["client_secret"],
         "redirect_status": outcome}
    )  # fmt: skip
    parts = urlsplit(url)
    query = f"{parts.query}&{extra}" if parts.query else extra
    return urlunsplit((parts.scheme, parts.netloc, parts.path, query, parts.fragment))


# -- bank transfers ----------------------------------------------------------------------------


def _transfer_rows(instructions: JSON) -> str:
    """The account to pay and the reference, as a table."""
    rows = []
    for address in instructions["financial_addresses"]:
        record = address[address["type"]]
        for label, key in (("Account holder", "account_holder_name"), ("IBAN", "iban"),
                           ("BIC", "bic"), ("Sort code", "sort_code"),
                           ("Account number", "account_number"),
                           ("Routing number", "routing_number"), ("SWIFT", "swift_code"),
                           ("Bank code", "bank_code"), ("Branch code", "branch_code"),
                           ("CLABE", "clabe")):  # fmt: skip
            if record.get(key):
                rows.append(f"<tr><th>{_e(label)}</th><td>{_e(record[key])}</td></tr>")
    rows.append(f"<tr><th>Reference</th><td>{_e(instructions['reference'])}</td></tr>")
    amount = format_amount(instructions["amount_remaining"], instructions["currency"])
    rows.append(f"<tr><th>Amount</th><td>{_e(amount)}</td></tr>")
    return f"<table>{''.join(rows)}</table>"


def bank_transfer_instructions(store: Store) -> Page:
    """A PaymentIntent's `hosted_instructions_url`: where to send the money, and whether it
    arrived."""

    async def page(request: Request) -> Response:
        pi = store.get("payment_intents", request.path_params["intent"])
        if pi is None:
            return _not_found("PaymentIntent")
        action = pi.get("next_action") or {}
        if pi["status"] == "succeeded":
            body = "<h1>Payment received</h1><p>Thank you: the transfer has arrived.</p>"
        elif action.get("type") == "display_bank_transfer_instructions":
            body = (
                "<h1>Pay by bank transfer</h1>"
                "<p>Transfer the amount below to this account, with the reference.</p>"
                + _transfer_rows(action["display_bank_transfer_instructions"])
            )
        else:
            return _page("Bank transfer", f"<h1>Nothing to pay</h1><p>{_e(pi['status'])}</p>")
        session = store.get(
            "checkout_sessions", store.secret(pi["id"]).get("checkout_session") or ""
        )
        if session is not None:
            body += f'<p><a href="{_e(checkout.success_url(session))}">Continue</a></p>'
        return _page("Bank transfer", body)

    return page


def _invoice_transfer(store: Store, invoice: JSON) -> str:
    """The hosted invoice page's bank transfer section (open invoices that take transfers)."""
    options = invoices.bank_transfer_options(store, invoice)
    if options is None or invoice["status"] != "open":
        return ""
    instructions = {
        "financial_addresses": bank_transfers.virtual_account(store, invoice["customer"], options),
        "reference": invoice["number"],
        "amount_remaining": invoice["amount_remaining"],
        "currency": invoice["currency"],
    }
    return "<h2>Pay by bank transfer</h2>" + _transfer_rows(instructions)


# -- invoices ----------------------------------------------------------------------------------


def _finalized(store: Store, invoice_id: str) -> JSON | None:
    invoice = store.get("invoices", invoice_id)
    if invoice is None or invoice["status"] == "draft":
        return None
    return store.render("invoices", invoice)


def hosted_invoice_page(store: Store) -> Page:
    async def page(request: Request) -> Response:
        invoice = _finalized(store, request.path_params["invoice"])
        if invoice is None:
            return _not_found("invoice")
        currency = invoice["currency"]

        def money(amount: int) -> str:
            return _e(format_amount(amount, currency))

        lines = "".join(
            f"<tr><td>{_e(line['description'])}</td><td class='num'>{line['quantity']}</td>"
            f"<td class='num'>{money(line['amount'])}</td></tr>"
            for line in invoices.lines_of(store, store.table("invoices")[invoice["id"]])
        )
        plan = ""
        if invoice["amounts_due"]:
            rows = "".join(
                f"<tr><td>{_e(entry['description'])}</td><td>{_e(_day(entry['due_date']))}</td>"
                f"<td class='num'>{money(entry['amount'])}</td>"
                f"<td class='num'>{money(entry['amount_paid'])}</td><td>{_e(entry['status'])}"
                "</td></tr>"
                for entry in invoice["amounts_due"]
            )
            plan = (
                "<h2>Payment plan</h2><table><tr><th>Part</th><th>Due</th><th class='num'>"
                "Amount</th><th class='num'>Paid</th><th>Status</th></tr>"
                f"{rows}</table>"
            )
        seller = "".join(
            f"<p>{_e(tax_id['type'].upper().replace('_', ' '))}: {_e(tax_id['value'])}</p>"
            for tax_id in _seller_tax_ids(store, invoice)
        )
        if invoice["customer_tax_exempt"] == "reverse":
            seller += "<p><strong>Reverse charge</strong></p>"
        body = (
            f"<h1>Invoice {_e(invoice['number'])}</h1>"
            f"<p>{_e(invoice['account_name'])}</p>{seller}"
            f"<p>Status: <strong>{_e(invoice['status'])}</strong> · Due "
            f"{_e(_day(invoice['due_date']))}</p>"
            f"<p>Billed to {_e(invoice['customer_name'])} {_e(invoice['customer_email'])}</p>"
            "<table><tr><th>Description</th><th class='num'>Qty</th><th class='num'>Amount"
            f"</th></tr>{lines}"
            f"<tr><th colspan=2>Total</th><th class='num'>{money(invoice['total'])}</th></tr>"
            f"<tr><td colspan=2>Amount paid</td><td class='num'>{money(invoice['amount_paid'])}"
            "</td></tr>"
            f"<tr><th colspan=2>Amount remaining</th><th class='num'>"
            f"{money(invoice['amount_remaining'])}</th></tr></table>{plan}"
            f"{_invoice_transfer(store, store.table('invoices')[invoice['id']])}"
            f'<p><a href="{_e(invoice["invoice_pdf"])}">Download PDF</a></p>'
        )
        return _page(f"Invoice {invoice['number']}", body)

    return page


def _seller_tax_ids(store: Store, invoice: JSON) -> list[JSON]:
    """The invoice's `account_tax_ids` as TaxId objects (a deleted one still shows)."""
    found = []
    for tax_id in invoice["account_tax_ids"] or []:
        obj = store.get("tax_ids", tax_id) or store.get("deleted_tax_ids", tax_id)
        if obj is not None:
            found.append(obj)
    return found


def _day(timestamp: int | None) -> str:
    if not timestamp:
        return "-"
    return datetime.datetime.fromtimestamp(timestamp, datetime.UTC).strftime("%Y-%m-%d")


def invoice_pdf_link(store: Store) -> Page:
    """An invoice's `invoice_pdf` URL: like Stripe's, a redirect to where the file is stored."""

    async def redirect(request: Request) -> Response:
        invoice_id = request.path_params["invoice"]
        if _finalized(store, invoice_id) is None:
            return _not_found("invoice")
        token = current_request.set(RequestInfo(base_url=str(request.base_url)))
        try:
            files = store.surface_url("files")
        finally:
            current_request.reset(token)
        return RedirectResponse(f"{files}/files/invoices/{invoice_id}.pdf", 302)

    return redirect


def invoice_pdf(store: Store) -> Page:
    async def download(request: Request) -> Response:
        invoice = _finalized(store, request.path_params["invoice"])
        if invoice is None:
            return _not_found("invoice")
        lines = invoices.lines_of(store, store.table("invoices")[invoice["id"]])
        content = pdf.render_invoice(
            invoice, lines, invoice["account_name"] or "", _seller_tax_ids(store, invoice)
        )
        filename = f"Invoice-{invoice['number']}.pdf"
        return Response(
            content,
            media_type="application/pdf",
            headers={"Content-Disposition": f'inline; filename="{filename}"'},
        )

    return download


def receipt_page(store: Store) -> Page:
    async def page(request: Request) -> Response:
        charge = store.get("charges", request.path_params["charge"])
        if charge is None:
            return _not_found("charge")
        body = (
            f"<h1>Receipt</h1><p>{_e(charge['id'])}</p>"
            f"<p>Amount: {_e(format_amount(charge['amount'], charge['currency']))}</p>"
            f"<p>Status: {_e(charge['status'])}</p>"
        )
        return _page("Receipt", body)

    return page
