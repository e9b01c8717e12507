"""Tax rates, coupons and discounts through the official SDK: the endpoints, what they refuse,
the totals of drafts (frozen at finalization), the expansions that name them, and the credit
note PDF behind a credit note's `pdf` link."""

from __future__ import annotations

import io
from typing import Any

import httpx
import pypdf
import pytest
import stripe

from tests.functional.sandbox.sandbox_helpers import draft_invoice as draft
from tests.functional.sandbox.sandbox_helpers import new_customer


def item(client: stripe.StripeClient, invoice: stripe.Invoice, amount: int, **fields: Any) -> None:
    params: dict[str, Any] = {
        "customer": invoice.customer,
        "invoice": invoice.id,
        "amount": amount,
        "description": "Wartung",
        **fields,
    }
    client.v1.invoice_items.create(params)  # type: ignore[arg-type]


def error_of(caught: pytest.ExceptionInfo[stripe.StripeError]) -> dict[str, Any]:
    body = caught.value.json_body
    assert isinstance(body, dict)
    error: dict[str, Any] = body["error"]
    return error


# -- tax rates -----------------------------------------------------------------------------------


def test_tax_rates_are_created_read_listed_and_renamed(stripe_client: stripe.StripeClient) -> None:
    rate = stripe_client.v1.tax_rates.create(
        {"display_name": "MwSt.", "percentage": 7.7, "inclusive": False, "country": "ch",
         "jurisdiction": "CH", "description": "Schweiz, Normalsatz", "tax_type": "vat"}
    )  # fmt: skip
    assert rate.id.startswith("txr_")
    assert (rate.display_name, rate.percentage, rate.inclusive) == ("MwSt.", 7.7, False)
    assert (rate.country, rate.tax_type, rate.active) == ("CH", "vat", True)
    assert stripe_client.v1.tax_rates.retrieve(rate.id).description == "Schweiz, Normalsatz"
    renamed = stripe_client.v1.tax_rates.update(rate.id, {"display_name": "MWST", "active": False})
    assert (renamed.display_name, renamed.active, renamed.percentage) == ("MWST", False, 7.7)
    listed = stripe_client.v1.tax_rates.list({"active": False, "limit": 100}).data
    assert rate.id in [r.id for r in listed]
    assert rate.id not in [r.id for r in stripe_client.v1.tax_rates.list({"active": True}).data]


def test_tax_rates_refuse_what_stripe_refuses(stripe_client: stripe.StripeClient) -> None:
    with pytest.raises(stripe.InvalidRequestError) as caught:
        stripe_client.v1.tax_rates.create({"display_name": "VAT", "percentage": 19})  # type: ignore[typeddict-item]
    assert error_of(caught)["param"] == "inclusive"
    with pytest.raises(stripe.InvalidRequestError) as caught:
        stripe_client.v1.tax_rates.create(
            {"display_name": "VAT", "percentage": 120, "inclusive": False}
        )
    assert error_of(caught)["param"] == "percentage"
    rate = stripe_client.v1.tax_rates.create(
        {"display_name": "VAT", "percentage": 19, "inclusive": False}
    )
    # The rate itself is fixed once it exists: the SDK has no such update parameter.
    with pytest.raises(stripe.InvalidRequestError) as caught:
        stripe_client.v1.tax_rates.update(rate.id, {"percentage": 20})  # type: ignore[arg-type]
    assert error_of(caught)["code"] == "parameter_unknown"
    with pytest.raises(stripe.InvalidRequestError) as caught:
        stripe_client.v1.tax_rates.create(
            {"display_name": "VAT", "percentage": 19, "inclusive": False, "tax_type": "tithe"}
        )
    assert error_of(caught)["param"] == "tax_type"


def test_an_inactive_rate_cannot_be_set_anew(stripe_client: stripe.StripeClient) -> None:
    customer = new_customer(stripe_client)
    rate = stripe_client.v1.tax_rates.create(
        {"display_name": "VAT", "percentage": 19, "inclusive": False, "active": False}
    )
    with pytest.raises(stripe.InvalidRequestError, match="inactive"):
        draft(stripe_client, customer.id, default_tax_rates=[rate.id])
    with pytest.raises(stripe.InvalidRequestError) as caught:
        draft(stripe_client, customer.id, default_tax_rates=["txr_nothing"])
    assert error_of(caught)["code"] == "resource_missing"


# -- coupons -------------------------------------------------------------------------------------


def test_coupons_percent_or_amount_off(stripe_client: stripe.StripeClient) -> None:
    percent = stripe_client.v1.coupons.create({"percent_off": 12.5, "name": "Treuerabatt"})
    assert (percent.percent_off, percent.amount_off, percent.duration) == (12.5, None, "once")
    assert percent.valid is True
    assert stripe_client.v1.coupons.retrieve(percent.id).name == "Treuerabatt"
    amount = stripe_client.v1.coupons.create(
        {"id": "WELCOME10", "amount_off": 1000, "currency": "EUR", "duration": "forever"}
    )
    assert (amount.id, amount.currency, amount.name) == ("WELCOME10", "eur", None)
    assert stripe_client.v1.coupons.update(amount.id, {"name": "Willkommen"}).name == "Willkommen"
    assert {"WELCOME10", percent.id} <= {
        c.id for c in stripe_client.v1.coupons.list({"limit": 100})
    }


@pytest.mark.parametrize(
    ("params", "param", "code"),
    [
        ({"amount_off": 500}, "currency", "parameter_missing"),
        ({"amount_off": 500, "currency": "eur", "percent_off": 10}, "amount_off", None),
        ({"name": "nothing off"}, "percent_off", None),
        ({"percent_off": 0}, "percent_off", "parameter_invalid"),
        ({"percent_off": 101}, "percent_off", "parameter_invalid"),
        ({"percent_off": 10, "duration": "repeating"}, "duration_in_months", None),
        ({"percent_off": 10, "duration": "sometimes"}, "duration", None),
        ({"percent_off": 10, "applies_to": {"products": ["prod_x"]}}, "applies_to", None),
        ({"percent_off": 10, "colour": "red"}, "colour", "parameter_unknown"),
    ],
)
def test_coupons_refuse_what_they_cannot_be(
    stripe_client: stripe.StripeClient, params: dict[str, Any], param: str, code: str | None
) -> None:
    with pytest.raises(stripe.InvalidRequestError) as caught:
        stripe_client.v1.coupons.create(params)  # type: ignore[arg-type]
    error = error_of(caught)
    assert error["param"] == param
    assert error.get("code") == code


def test_a_coupon_id_is_taken_once(stripe_client: stripe.StripeClient) -> None:
    stripe_client.v1.coupons.create({"id": "ONCE-ONLY", "percent_off": 5})
    with pytest.raises(stripe.InvalidRequestError) as caught:
        stripe_client.v1.coupons.create({"id": "ONCE-ONLY", "percent_off": 5})
    assert error_of(caught)["code"] == "resource_already_exists"


# -- invoices with both ----------------------------------------------------------------------------


def test_a_draft_counts_discounts_before_tax_and_finalizing_freezes_it(
    stripe_client: stripe.StripeClient,
) -> None:
    customer = new_customer(stripe_client)
    vat = stripe_client.v1.tax_rates.create(
        {"display_name": "VAT", "percentage": 19, "inclusive": False, "tax_type": "vat"}
    )
    coupon = stripe_client.v1.coupons.create({"percent_off": 10, "name": "Treuerabatt"})
    invoice = draft(stripe_client, customer.id, default_tax_rates=[vat.id],
                    discounts=[{"coupon": coupon.id}])  # fmt: skip
    item(stripe_client, invoice, 10000)
    item(stripe_client, invoice, 250)
    current = stripe_client.v1.invoices.retrieve(invoice.id)
    assert (current.subtotal, current.total_excluding_tax) == (10250, 9225)
    # Per line: 19 % of 9000 and of 225 (42.75 -> 43), not 19 % of 9225 (1752.75 -> 1753).
    assert [t.amount for t in current.total_taxes or []] == [1710 + 43]
    assert current.total == current.amount_due == 9225 + 1753
    (discount_id,) = current.discounts
    assert isinstance(discount_id, str)
    assert discount_id.startswith("di_")
    assert [(d.amount, d.discount) for d in current.total_discount_amounts or []] == [
        (1025, discount_id)
    ]
    assert [p.type for p in current.total_pretax_credit_amounts or []] == ["discount"]
    assert current.default_tax_rates[0].display_name == "VAT"
    first, _second = current.lines.data
    assert [(d.amount, d.discount) for d in first.discount_amounts or []] == [(1000, discount_id)]
    assert [(t.amount, t.tax_behavior, t.taxable_amount) for t in first.taxes or []] == [
        (1710, "exclusive", 9000)
    ]
    assert first.taxes
    assert first.taxes[0].tax_rate_details
    assert first.taxes[0].tax_rate_details.tax_rate == vat.id
    assert first.discounts == []  # the invoice's discount is not the line's own

    finalized = stripe_client.v1.invoices.finalize_invoice(invoice.id)
    assert (finalized.total, finalized.amount_remaining) == (10978, 10978)
    with pytest.raises(stripe.InvalidRequestError):
        stripe_client.v1.invoices.update(invoice.id, {"discounts": ""})
    with pytest.raises(stripe.InvalidRequestError):
        stripe_client.v1.invoices.update(invoice.id, {"default_tax_rates": ""})
    # Renaming the rate later changes no amount of the issued invoice.
    stripe_client.v1.tax_rates.update(vat.id, {"display_name": "USt."})
    assert stripe_client.v1.invoices.retrieve(invoice.id).total == 10978


def test_a_line_with_its_own_coupon_and_inclusive_rate(stripe_client: stripe.StripeClient) -> None:
    customer = new_customer(stripe_client)
    included = stripe_client.v1.tax_rates.create(
        {"display_name": "BTW", "percentage": 21, "inclusive": True, "country": "NL"}
    )
    five_off = stripe_client.v1.coupons.create(
        {"amount_off": 500, "currency": "eur", "name": "Vijf euro korting"}
    )
    invoice = draft(stripe_client, customer.id)
    item(stripe_client, invoice, 12600, tax_rates=[included.id],
         discounts=[{"coupon": five_off.id}])  # fmt: skip
    current = stripe_client.v1.invoices.retrieve(invoice.id)
    (line,) = current.lines.data
    (own,) = line.discounts
    assert [(d.amount, d.discount) for d in line.discount_amounts or []] == [(500, own)]
    # 12100 with 21 % in it: 10000 net, 2100 tax, nothing added on top.
    assert [(t.amount, t.tax_behavior, t.taxable_amount) for t in line.taxes or []] == [
        (2100, "inclusive", 10000)
    ]
    assert (current.subtotal, current.total_excluding_tax, current.total) == (12100, 10000, 12100)
    assert current.discounts == []  # a line's coupon is not the invoice's
    items = stripe_client.v1.invoice_items.list({"invoice": invoice.id}).data
    assert items[0].net_amount == 12100
    assert [r.display_name for r in items[0].tax_rates or []] == ["BTW"]


def test_discounts_and_rates_can_be_changed_while_a_draft(
    stripe_client: stripe.StripeClient,
) -> None:
    customer = new_customer(stripe_client)
    rate = stripe_client.v1.tax_rates.create(
        {"display_name": "VAT", "percentage": 20, "inclusive": False}
    )
    coupon = stripe_client.v1.coupons.create({"percent_off": 50})
    invoice = draft(stripe_client, customer.id)
    item(stripe_client, invoice, 1000)
    updated = stripe_client.v1.invoices.update(
        invoice.id, {"default_tax_rates": [rate.id], "discounts": [{"coupon": coupon.id}]}
    )
    assert updated.total == 600
    kept = updated.discounts[0]
    assert isinstance(kept, str)
    again = stripe_client.v1.invoices.update(invoice.id, {"discounts": [{"discount": kept}]})
    assert (again.discounts, again.total) == ([kept], 600)
    cleared = stripe_client.v1.invoices.update(
        invoice.id, {"discounts": "", "default_tax_rates": ""}
    )
    assert (cleared.discounts, cleared.total, cleared.total_taxes) == ([], 1000, [])
    assert stripe_client.v1.coupons.retrieve(coupon.id).times_redeemed == 1


def test_a_coupon_in_another_currency_is_refused(stripe_client: stripe.StripeClient) -> None:
    customer = new_customer(stripe_client)
    dollars = stripe_client.v1.coupons.create({"amount_off": 500, "currency": "usd"})
    with pytest.raises(stripe.InvalidRequestError) as caught:
        draft(stripe_client, customer.id, discounts=[{"coupon": dollars.id}])
    assert error_of(caught)["param"] == "discounts[0][coupon]"
    with pytest.raises(stripe.InvalidRequestError) as caught:
        draft(stripe_client, customer.id, discounts=[{"coupon": "NO-SUCH-COUPON"}])
    assert error_of(caught)["code"] == "resource_missing"
    with pytest.raises(stripe.InvalidRequestError, match="promotion codes"):
        draft(stripe_client, customer.id, discounts=[{"promotion_code": "promo_1"}])


def test_a_used_up_coupon_is_no_longer_valid(stripe_client: stripe.StripeClient) -> None:
    customer = new_customer(stripe_client)
    coupon = stripe_client.v1.coupons.create({"percent_off": 5, "max_redemptions": 1})
    draft(stripe_client, customer.id, discounts=[{"coupon": coupon.id}])
    assert stripe_client.v1.coupons.retrieve(coupon.id).valid is False
    with pytest.raises(stripe.InvalidRequestError) as caught:
        draft(stripe_client, customer.id, discounts=[{"coupon": coupon.id}])
    assert error_of(caught)["code"] == "coupon_expired"


def test_the_names_come_with_the_invoice_when_expanded(stripe_client: stripe.StripeClient) -> None:
    customer = new_customer(stripe_client)
    rate = stripe_client.v1.tax_rates.create(
        {"display_name": "PDV", "percentage": 25, "inclusive": False, "country": "HR"}
    )
    coupon = stripe_client.v1.coupons.create({"percent_off": 10, "name": "Proljetni popust"})
    invoice = draft(stripe_client, customer.id, discounts=[{"coupon": coupon.id}])
    item(stripe_client, invoice, 4000, tax_rates=[rate.id])
    read = stripe_client.raw_request(
        "get",
        f"/v1/invoices/{invoice.id}",
        expand=["total_taxes.tax_rate_details.tax_rate",
                "total_discount_amounts.discount.source.coupon", "discounts"],
    )  # fmt: skip
    data = stripe_client.deserialize(read, api_mode="V1").to_dict()
    tax_rate = data["total_taxes"][0]["tax_rate_details"]["tax_rate"]
    assert (tax_rate["display_name"], tax_rate["percentage"]) == ("PDV", 25)
    discount = data["total_discount_amounts"][0]["discount"]
    assert discount["object"] == "discount"
    assert discount["source"]["coupon"]["name"] == "Proljetni popust"
    assert data["discounts"][0]["invoice"] == invoice.id
    # Five levels are more than Stripe expands.
    with pytest.raises(stripe.InvalidRequestError):
        stripe_client.v1.invoices.retrieve(
            invoice.id, {"expand": ["lines.data.taxes.tax_rate_details.tax_rate"]}
        )


# -- a credit note's PDF ---------------------------------------------------------------------------


def test_a_credit_notes_pdf_link_leads_to_its_file(stripe_client: stripe.StripeClient) -> None:
    customer = new_customer(stripe_client, name="Nowak Software sp. z o.o.")
    invoice = draft(stripe_client, customer.id)
    item(stripe_client, invoice, 20000)
    invoice = stripe_client.v1.invoices.finalize_invoice(invoice.id)
    note = stripe_client.v1.credit_notes.create(
        {"invoice": invoice.id, "amount": 5000, "memo": "Korekta ceny"}
    )
    assert note.pdf is not None
    link = httpx.get(note.pdf)
    assert link.status_code == 302  # as the invoice's PDF link: on to the file's storage
    assert link.headers["location"].endswith(f"/files/credit_notes/{note.id}.pdf")
    pdf = httpx.get(note.pdf, follow_redirects=True)
    assert pdf.headers["content-type"] == "application/pdf"
    text = pypdf.PdfReader(io.BytesIO(pdf.content)).pages[0].extract_text()
    for expected in (str(note.number), str(invoice.number), "Nowak Software", "50.00 EUR",
                     "Korekta ceny"):  # fmt: skip
        assert expected in text, expected
    missing = httpx.get(note.pdf.replace(note.id, "cn_nothing"))
    assert missing.status_code == 404
