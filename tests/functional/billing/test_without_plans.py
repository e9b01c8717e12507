"""A portal whose invoice reads come without payment plans (a GA API version set, or an account
without the preview): every invoice is shown and paid as a whole, with nothing missing."""

from __future__ import annotations

from collections.abc import Iterator

import pytest

from tests.functional.billing.billing_support import (
    charged,
    customer_with_card,
    open_pay_page,
    plan_invoice,
    signed_in,
)
from tests.functional.portal_support import Portal, serve_portal, text_of

GA_VERSION = "2026-10-28.endive"


@pytest.fixture(scope="module")
def ga_portal(sandbox_url: str, tmp_path_factory: pytest.TempPathFactory) -> Iterator[Portal]:
    with serve_portal(
        tmp_path_factory.mktemp("ga"), sandbox_url, stripe_invoice_api_version=GA_VERSION
    ) as found:
        yield found


def test_an_invoice_without_its_plan_is_shown_whole(ga_portal: Portal) -> None:
    email, customer, _ = customer_with_card(ga_portal, locale="en")
    invoice = plan_invoice(ga_portal, customer, late=True)  # at Stripe: three installments
    browser = signed_in(ga_portal, email)
    page = browser.get(f"/invoices/{invoice}")
    assert page.status_code == 200
    text = text_of(page)
    assert "€300.00" in text
    assert "Payment plan" not in text
    assert "installment" not in text.lower()
    assert 'name="what" value="whole"' in page.text
    assert "what=next_installment" not in page.text
    assert "what=overdue_installments" not in page.text
    assert "None" not in text
    overview = text_of(browser.get("/"))
    assert "€300.00" in overview
    assert "None" not in overview


def test_an_invoice_without_its_plan_is_paid_whole(ga_portal: Portal) -> None:
    email, customer, pm = customer_with_card(ga_portal, locale="en")
    invoice = plan_invoice(ga_portal, customer, late=False)
    browser = signed_in(ga_portal, email)
    assert browser.get(f"/invoices/{invoice}/pay?what=next_installment").status_code in (404, 409)
    answer = browser.post(open_pay_page(browser, invoice, "whole"), {"payment_method": pm})
    assert answer.status_code == 303
    assert charged(ga_portal, customer) == [30000]
    assert ga_portal.sdk.v1.invoices.retrieve(invoice).status == "paid"
