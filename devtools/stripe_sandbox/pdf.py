"""Invoice and credit note PDFs, like the ones behind Stripe's `invoice_pdf` and a credit note's
`pdf` links, drawn with fpdf2.

fpdf2's built-in fonts only know Latin-1, and customers' names carry Polish or Croatian letters
(Ł, ć, č, ž). When DejaVu Sans is installed the PDF embeds it and shows every letter; otherwise it
falls back to Helvetica and transliterates what Latin-1 lacks (Ł → L, č → c).
"""

from __future__ import annotations

import datetime
import unicodedata
from collections.abc import Sequence
from pathlib import Path
from typing import Any

from fpdf import FPDF
from fpdf.enums import XPos, YPos

from stripe_sandbox.money import format_amount
from stripe_sandbox.store import JSON

FONT_DIRS = (
    Path("/usr/share/fonts/truetype/dejavu"),
    Path("/usr/share/fonts/dejavu"),
    Path("/usr/local/share/fonts"),
)

# Letters NFKD cannot take apart, and punctuation Latin-1 lacks (dashes, curly quotes).
_TRANSLITERATION = str.maketrans(
    {"Ł": "L", "ł": "l", "Đ": "D", "đ": "d", "Ø": "O", "ø": "o", "Œ": "OE", "œ": "oe",
     "€": "EUR", "\u2013": "-", "\u2014": "-", "\u2019": "'", "\u201c": '"', "\u201d": '"',
     "\u201e": '"'}
)  # fmt: skip


def unicode_font() -> tuple[Path, Path] | None:
    """Regular and bold DejaVu Sans, if the machine has them."""
    for directory in FONT_DIRS:
        regular, bold = directory / "DejaVuSans.ttf", directory / "DejaVuSans-Bold.ttf"
        if regular.is_file():
            return regular, bold if bold.is_file() else regular
    return None


def transliterate(text: str) -> str:
    """Make `text` printable with a Latin-1 core font, keeping what Latin-1 has (é, ö, ß)."""
    out = []
    for char in text.translate(_TRANSLITERATION):
        if ord(char) < 256:
            out.append(char)
            continue
        base = unicodedata.normalize("NFKD", char)
        kept = "".join(c for c in base if ord(c) < 256 and not unicodedata.combining(c))
        out.append(kept or "?")
    return "".join(out)


def _date(timestamp: int | None) -> str:
    if not timestamp:
        return "-"
    return datetime.datetime.fromtimestamp(timestamp, datetime.UTC).strftime("%Y-%m-%d")


class _Document:
    def __init__(self, font: tuple[Path, Path] | None) -> None:
        self.pdf = FPDF(format="A4")
        self.pdf.set_margins(18, 18, 18)
        self.pdf.set_auto_page_break(auto=True, margin=18)
        self.unicode = font is not None
        if font is not None:
            self.pdf.add_font("Body", "", str(font[0]))
            self.pdf.add_font("Body", "B", str(font[1]))
            self.family = "Body"
        else:
            self.family = "helvetica"
        self.pdf.add_page()

    def text(self, value: Any) -> str:
        text = "" if value is None else str(value)
        return text if self.unicode else transliterate(text)

    def font(self, size: float, bold: bool = False) -> None:
        self.pdf.set_font(self.family, "B" if bold else "", size)

    def line(self, value: Any, size: float = 10, bold: bool = False, height: float = 5.5) -> None:
        self.font(size, bold)
        self.pdf.multi_cell(0, height, self.text(value), new_x=XPos.LMARGIN, new_y=YPos.NEXT)

    def row(self, cells: list[tuple[Any, float, str]], bold: bool = False) -> None:
        self.font(9.5, bold)
        for value, width, align in cells:
            self.pdf.cell(width, 6.5, self.text(value), border="B", align=align)
        self.pdf.ln(6.5)

    def gap(self, height: float = 4) -> None:
        self.pdf.ln(height)


def render_invoice(
    invoice: JSON, lines: list[JSON], account_name: str, seller_tax_ids: Sequence[JSON] = ()
) -> bytes:
    """`seller_tax_ids`: the invoice's `account_tax_ids` as TaxId objects."""
    doc = _Document(unicode_font())
    currency = invoice["currency"]

    def amount(value: int) -> str:
        return format_amount(value, currency)

    doc.line(f"Invoice {invoice['number'] or '(draft)'}", size=18, bold=True, height=9)
    doc.line(account_name, size=11)
    for tax_id in seller_tax_ids:
        doc.line(_tax_id_line(tax_id))
    doc.gap()
    doc.line(f"Invoice number: {invoice['number'] or '-'}")
    doc.line(f"Status: {invoice['status']}")
    doc.line(f"Date of issue: {_date(invoice['effective_at'] or invoice['created'])}")
    doc.line(f"Date due: {_date(invoice['due_date'])}")
    doc.gap()
    doc.line("Bill to", bold=True)
    for value in _bill_to(invoice):
        doc.line(value)
    if invoice.get("customer_tax_exempt") == "reverse":
        # The SDK's Customer.tax_exempt: with `reverse`, "invoice and receipt PDFs include the
        # following text: Reverse charge".
        doc.gap()
        doc.line("Reverse charge", bold=True)
    if invoice.get("description"):
        doc.gap()
        doc.line(invoice["description"])
    doc.gap(6)
    widths = (92.0, 18.0, 32.0, 32.0)
    doc.row(
        [("Description", widths[0], "L"), ("Qty", widths[1], "R"),
         ("Unit price", widths[2], "R"), ("Amount", widths[3], "R")],
        bold=True,
    )  # fmt: skip
    for line in lines:
        unit = line["pricing"].get("unit_amount_decimal")
        unit_amount = amount(int(float(unit))) if unit else amount(line["amount"])
        doc.row(
            [(line["description"] or "-", widths[0], "L"), (line["quantity"], widths[1], "R"),
             (unit_amount, widths[2], "R"), (amount(line["amount"]), widths[3], "R")]
        )  # fmt: skip
    doc.gap()
    taxes = invoice.get("total_taxes") or []
    # The invoice's own discounts (the lines' are in the subtotal already, as at Stripe).
    own = set(invoice.get("discounts") or [])
    discount = sum(
        d["amount"] for d in invoice.get("total_discount_amounts") or [] if d["discount"] in own
    )
    rows: list[tuple[str, int, bool]] = [("Subtotal", invoice["subtotal"], False)]
    if discount:
        rows.append(("Discount", -discount, False))
    if taxes:
        rows.append(("Total excluding tax", invoice["total_excluding_tax"], False))
    rows += [
        ("Tax", sum(t.get("amount", 0) for t in taxes), False),
        ("Total", invoice["total"], True),
        ("Amount paid", invoice["amount_paid"], False),
        ("Amount remaining", invoice["amount_remaining"], True),
    ]
    for label, figure, bold in rows:
        doc.row([(label, 142.0, "R"), (amount(figure), 32.0, "R")], bold=bold)
    if invoice["amounts_due"]:
        doc.gap(6)
        doc.line("Payment plan", size=12, bold=True, height=7)
        plan_widths = (10.0, 28.0, 56.0, 28.0, 28.0, 24.0)
        doc.row(
            [("#", plan_widths[0], "L"), ("Due date", plan_widths[1], "L"),
             ("Description", plan_widths[2], "L"), ("Amount", plan_widths[3], "R"),
             ("Paid", plan_widths[4], "R"), ("Status", plan_widths[5], "R")],
            bold=True,
        )  # fmt: skip
        for index, entry in enumerate(invoice["amounts_due"], start=1):
            doc.row(
                [(index, plan_widths[0], "L"), (_date(entry["due_date"]), plan_widths[1], "L"),
                 (entry["description"] or "-", plan_widths[2], "L"),
                 (amount(entry["amount"]), plan_widths[3], "R"),
                 (amount(entry["amount_paid"]), plan_widths[4], "R"),
                 (entry["status"], plan_widths[5], "R")]
            )  # fmt: skip
    if invoice.get("footer"):
        doc.gap(6)
        doc.line(invoice["footer"], size=8.5)
    return bytes(doc.pdf.output())


def render_credit_note(note: JSON, invoice: JSON, account_name: str) -> bytes:
    """A credit note with its lines, against its invoice (`invoice` may be empty)."""
    doc = _Document(unicode_font())
    currency = note["currency"]
    doc.line(f"Credit note {note['number']}", size=18, bold=True, height=9)
    doc.line(account_name, size=11)
    doc.gap()
    doc.line(f"Credit note number: {note['number']}")
    doc.line(f"Invoice number: {invoice.get('number') or note['invoice']}")
    doc.line(f"Date of issue: {_date(note['effective_at'] or note['created'])}")
    if note.get("reason"):
        doc.line(f"Reason: {note['reason']}")
    doc.gap()
    doc.line("Credited to", bold=True)
    for value in _bill_to(invoice):
        doc.line(value)
    doc.gap(6)
    widths = (124.0, 18.0, 32.0)
    doc.row(
        [("Description", widths[0], "L"), ("Qty", widths[1], "R"), ("Amount", widths[2], "R")],
        bold=True,
    )
    for line in note["lines"]["data"]:
        doc.row(
            [(line["description"] or "Credit", widths[0], "L"), (line["quantity"], widths[1], "R"),
             (format_amount(line["amount"], currency), widths[2], "R")]
        )  # fmt: skip
    doc.gap()
    doc.row([("Total credited", 142.0, "R"), (format_amount(note["total"], currency), 32.0, "R")],
            bold=True)  # fmt: skip
    if note.get("memo"):
        doc.gap(6)
        doc.line(note["memo"])
    return bytes(doc.pdf.output())


def _bill_to(invoice: JSON) -> list[str]:
    values = [invoice.get("customer_name"), invoice.get("customer_email")]
    address = invoice.get("customer_address") or {}
    values += [address.get("line1"), address.get("line2")]
    city = " ".join(p for p in (address.get("postal_code"), address.get("city")) if p)
    values += [city, address.get("state"), address.get("country")]
    for tax_id in invoice.get("customer_tax_ids") or []:
        values.append(_tax_id_line(tax_id))
    return [str(v) for v in values if v]


def _tax_id_line(tax_id: JSON) -> str:
    return f"{tax_id['type'].upper().replace('_', ' ')}: {tax_id['value']}"
