"""An invoice's totals as its page lists them, each tax named as the customer knows it.

The rows, in order: the subtotal (the lines' own discounts already taken, as Stripe counts
it), each of the invoice's own discounts (negative), each exclusive tax with its rate, the
total; then each inclusive tax ("incl. …"), which is part of the amounts above and not added.
An invoice without tax has no tax row ("VAT 0,00 €" says nothing); the page says why it has
none where Stripe knows (`portal.taxes.exemption_note`).

A tax's name: the tax rate's `display_name` as Stripe has it when it is the seller's own name
for the tax ("MwSt.", "BTW hoog", "GST", "PTU"), shown as it is; but Stripe's examples and most
accounts say just "VAT", "Tax" or "Sales tax", English words a German or Polish customer does
not write on an invoice. Those generic names get the portal's word in the customer's language:
for VAT (the rate's `tax_type` is `vat`, or the name says VAT) "USt." (German invoices by
§ 14 UStG), "btw", "VAT", "IVA", "VAT" (Polish invoices; "PTU" is the receipt's word) and "PDV";
for any other tax the portal's word for tax (the same words, which the catalogs already use for
"Tax"). The rate follows in the customer's number format ("19 %" in German, "21%" in Dutch), unless
the name already carries one.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Literal

from portal.formatting import format_rate
from portal.i18n import _, format_locale
from portal.stripe.models import DiscountAmount, Invoice, TaxAmount, TaxRate

RowKind = Literal["subtotal", "discount", "tax", "total", "included_tax"]

# Display names that only say "a tax" (compared case-insensitively, without a final dot).
VAT_NAMES = frozenset({"vat", "v.a.t", "value added tax", "value-added tax"})
GENERIC_NAMES = VAT_NAMES | frozenset({"tax", "taxes", "sales tax", "sales taxes"})


@dataclass(frozen=True)
class TotalsRow:
    label: str
    amount: int
    kind: RowKind


def _generic(name: str) -> bool:
    return name.casefold().strip().rstrip(".") in GENERIC_NAMES


def tax_name(rate: TaxRate | None) -> str:
    """What the invoice calls the tax (see the module's docstring)."""
    name = (rate.display_name or "").strip() if rate is not None else ""
    if name and not _generic(name):
        return name
    is_vat = rate is not None and rate.tax_type == "vat"
    if is_vat or name.casefold().rstrip(".") in VAT_NAMES:
        return _("VAT")
    return _("Tax")


def tax_label(tax: TaxAmount) -> str:
    """A tax with its rate: "USt. 19 %", "btw 21%"; one included in the prices "inkl. USt. 19 %"."""
    name = tax_name(tax.rate)
    percentage = tax.rate.percentage if tax.rate is not None else None
    if percentage is None or "%" in name:
        return _("incl. %(tax)s", tax=name) if tax.inclusive else name
    rate = format_rate(percentage, format_locale())
    if tax.inclusive:
        return _("incl. %(tax)s (%(rate)s)", tax=name, rate=rate)
    return _("%(tax)s (%(rate)s)", tax=name, rate=rate)


def discount_label(discount: DiscountAmount) -> str:
    """The coupon's name as Stripe shows it to customers, after the portal's word for it unless
    the name says it already ("Rabatt für Stammkunden", not "Rabatt: Rabatt für …")."""
    word = _("Discount")
    if not discount.name:
        return word
    if word.casefold() in discount.name.casefold():
        return discount.name
    return _("Discount: %(name)s", name=discount.name)


def totals_rows(invoice: Invoice) -> list[TotalsRow]:
    rows = [TotalsRow(_("Subtotal"), invoice.subtotal, "subtotal")]
    rows += [TotalsRow(discount_label(d), -d.amount, "discount") for d in invoice.discounts]
    if invoice.taxes:
        rows += [TotalsRow(tax_label(t), t.amount, "tax") for t in invoice.taxes if not t.inclusive]
    elif invoice.tax:
        # Tax without its breakdown (an older API version's invoice): its amount, unnamed.
        rows.append(TotalsRow(_("Tax"), invoice.tax, "tax"))
    rows.append(TotalsRow(_("Total"), invoice.total, "total"))
    rows += [
        TotalsRow(tax_label(t), t.amount, "included_tax") for t in invoice.taxes if t.inclusive
    ]
    return rows
