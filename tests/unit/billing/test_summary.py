"""An invoice's totals rows: each discount, each tax named as the customer knows it with its
rate in the customer's number format, inclusive taxes after the total."""

from __future__ import annotations

import dataclasses
from datetime import UTC, datetime
from decimal import Decimal

import pytest

from portal.billing.summary import discount_label, tax_label, tax_name, totals_rows
from portal.i18n import use_locale
from portal.stripe.models import DiscountAmount, Invoice, TaxAmount, TaxRate

NB = "\u00a0"


def rate(name: str | None, percentage: str | None = "19", **fields: object) -> TaxRate:
    return TaxRate(
        id="txr_1",
        display_name=name,
        percentage=Decimal(percentage) if percentage is not None else None,
        **fields,  # type: ignore[arg-type]
    )


def invoice(**fields: object) -> Invoice:
    base = Invoice(
        id="in_1", customer_id="cus_1", number="INV-1", status="open", currency="eur",
        collection_method="send_invoice", created=datetime(2026, 5, 14, tzinfo=UTC),
        due_date=None, amount_due=11781, amount_paid=0, amount_remaining=11781,
        subtotal=10000, tax=1881, total=11781,
    )  # fmt: skip
    return dataclasses.replace(base, **fields)  # type: ignore[arg-type]


@pytest.mark.parametrize(
    ("locale", "vat", "tax"),
    [("de", "USt.", "USt."), ("en", "VAT", "Tax"), ("nl", "btw", "btw"), ("es", "IVA", "IVA"),
     ("pl", "VAT", "VAT"), ("hr", "PDV", "PDV")],
)  # fmt: skip
def test_generic_names_become_the_customers_word(locale: str, vat: str, tax: str) -> None:
    with use_locale(locale):
        assert tax_name(rate("VAT")) == vat
        assert tax_name(rate("Value added tax")) == vat
        assert tax_name(rate("Tax", tax_type="vat")) == vat
        assert tax_name(rate("Sales tax", tax_type="sales_tax")) == tax
        assert tax_name(rate("tax")) == tax
        assert tax_name(None) == tax


def test_the_sellers_own_name_is_kept_as_stripe_has_it() -> None:
    with use_locale("pl"):
        assert tax_name(rate("PTU")) == "PTU"
        assert tax_name(rate("MwSt.", tax_type="vat")) == "MwSt."
        assert tax_name(rate("  BTW hoog ")) == "BTW hoog"


@pytest.mark.parametrize(
    ("locale", "exclusive", "inclusive"),
    [
        ("de", f"USt. 19{NB}%", f"inkl. USt. 19{NB}%"),
        ("de-AT", f"USt. 19{NB}%", f"inkl. USt. 19{NB}%"),
        ("en", "VAT (19%)", "incl. VAT (19%)"),
        ("nl", "btw 19%", "waarvan btw 19%"),
        ("es", f"IVA (19{NB}%)", f"IVA incluido (19{NB}%)"),
        ("pl", "VAT 19%", "w tym VAT 19%"),
        ("hr", f"PDV 19{NB}%", f"od toga PDV 19{NB}%"),
    ],
)
def test_a_tax_says_its_rate_in_the_customers_format(
    locale: str, exclusive: str, inclusive: str
) -> None:
    with use_locale(locale):
        assert tax_label(TaxAmount(1900, inclusive=False, rate=rate("VAT"))) == exclusive
        assert tax_label(TaxAmount(1900, inclusive=True, rate=rate("VAT"))) == inclusive


def test_a_rate_keeps_its_decimals_and_a_name_with_a_rate_gets_none_more() -> None:
    with use_locale("de-CH"):
        assert tax_label(TaxAmount(77, inclusive=False, rate=rate("MWST", "7.7"))) == "MWST 7.7%"
    with use_locale("de"):
        assert tax_label(TaxAmount(77, inclusive=False, rate=rate("MwSt. 19 %"))) == "MwSt. 19 %"
        assert tax_label(TaxAmount(5, inclusive=False, rate=None)) == "USt."
        assert tax_label(TaxAmount(5, inclusive=True, rate=None)) == "inkl. USt."


def test_a_discount_is_named_by_its_coupon() -> None:
    with use_locale("de"):
        assert discount_label(DiscountAmount(500, "di_1", "Stammkunde")) == "Rabatt: Stammkunde"
        assert discount_label(DiscountAmount(500, "di_1", None)) == "Rabatt"
    with use_locale("pl"):
        assert discount_label(DiscountAmount(500, "di_1", "Stały klient")) == "Rabat: Stały klient"


def test_a_coupon_named_with_the_word_for_discount_is_not_prefixed_with_it_again() -> None:
    with use_locale("de"):
        assert discount_label(DiscountAmount(500, "di_1", "Treuerabatt")) == "Treuerabatt"
    with use_locale("pl"):
        named = DiscountAmount(500, "di_1", "Rabat dla stałych klientów")
        assert discount_label(named) == "Rabat dla stałych klientów"


def test_rows_go_subtotal_discounts_exclusive_taxes_total_then_included_taxes() -> None:
    taxed = invoice(
        discounts=(DiscountAmount(1000, "di_1", "Treuerabatt"),),
        taxes=(
            TaxAmount(1710, inclusive=False, rate=rate("VAT")),
            TaxAmount(63, inclusive=True, rate=rate("MwSt.", "7")),
        ),
        subtotal=10000,
        total=10710,
    )
    with use_locale("de"):
        rows = [(row.kind, row.label, row.amount) for row in totals_rows(taxed)]
    assert rows == [
        ("subtotal", "Zwischensumme", 10000),
        ("discount", "Treuerabatt", -1000),
        ("tax", f"USt. 19{NB}%", 1710),
        ("total", "Gesamtbetrag", 10710),
        ("included_tax", f"inkl. MwSt. 7{NB}%", 63),
    ]


def test_an_invoice_without_tax_has_no_tax_row() -> None:
    with use_locale("nl"):
        rows = [(row.kind, row.label, row.amount) for row in totals_rows(invoice(tax=0))]
    assert rows == [("subtotal", "Subtotaal", 10000), ("total", "Totaal", 11781)]


def test_tax_without_its_breakdown_is_shown_unnamed() -> None:
    with use_locale("nl"):
        rows = [(row.kind, row.label, row.amount) for row in totals_rows(invoice(tax=1781))]
    assert ("tax", "btw", 1781) in rows
