"""Taxes as an invoice names them to its reader: the kinds of tax ID, and why an invoice
carries no tax.

Stripe gives codes (`eu_vat`, `customer_tax_exempt: "reverse"`); the customer reads the words
their tax authority uses. An invoice to a business in another EU country that accounts for the
VAT itself must say so (Council Directive 2006/112/EC, Art. 226(11a): the mention "Reverse
charge"); each catalog has the wording of that language's version of the Directive and its
national law (locales/glossary.*).
"""

from __future__ import annotations

from portal.i18n import _


def tax_id_name(kind: str) -> str:
    """What a Stripe tax ID type is called: "VAT number", "Tax ID (NIP)"; the code itself for
    a type the portal does not name."""
    names = {
        "eu_vat": _("VAT number"),
        "gb_vat": _("VAT number"),
        "ch_vat": _("VAT number"),
        "no_vat": _("VAT number"),
        "de_stn": _("Tax number (Steuernummer)"),
        "es_cif": _("Tax ID (CIF)"),
        "hr_oib": _("Personal identification number (OIB)"),
        "pl_nip": _("Tax ID (NIP)"),
    }
    return names.get(kind, kind)


def exemption_note(customer_tax_exempt: str | None, tax: int) -> str | None:
    """Why an invoice without tax has none (Stripe's `customer_tax_exempt`, frozen on the
    invoice), or None where it has tax or no reason is known."""
    if tax:
        return None
    if customer_tax_exempt == "reverse":
        return _("Reverse charge: the VAT is accounted for by the customer.")
    if customer_tax_exempt == "exempt":
        return _("No VAT is charged: the customer is exempt from VAT.")
    return None
