"""The demo seed, run against the sandbox and checked from the outside with the official SDK.

Everything the demo promises (issue text) must be visible the way the portal will see it: six
languages, several currencies, every invoice state, an installment plan mid-way, a long paid
history, expired and SEPA payment methods, tax IDs in each verification state, and one e-mail
address shared by two customers.
"""

from __future__ import annotations

import asyncio
import time
from collections.abc import Iterator
from dataclasses import dataclass
from datetime import UTC, datetime
from typing import Any

import httpx
import pytest
import stripe
from starlette.responses import PlainTextResponse

from portal.settings import STRIPE_INVOICE_API_VERSION
from portal_dev.demo.seed import DemoData, format_summary, seed_demo
from portal_dev.demo.stories import SELLER
from portal_dev.demo.stripe_http import StripeAPIError
from stripe_sandbox.app import SandboxConfig, create_sandbox_app
from tests.support.servers import serve_in_thread

API_KEY = "sk_test_demo"


@dataclass
class Seeded:
    base_url: str
    data: DemoData
    seconds: float
    client: stripe.StripeClient
    invoices: dict[str, list[Any]]  # customer id -> every invoice, all pages


@pytest.fixture(scope="module")
def seeded() -> Iterator[Seeded]:
    with serve_in_thread(create_sandbox_app(SandboxConfig())) as base_url:
        started = time.monotonic()
        data = asyncio.run(seed_demo(base_url, API_KEY))
        seconds = time.monotonic() - started
        # Read as the portal reads invoices: with the preview version that shows payment plans.
        client = stripe.StripeClient(
            API_KEY,
            base_addresses={"api": base_url, "files": base_url},
            max_network_retries=0,
            stripe_version=STRIPE_INVOICE_API_VERSION,
        )
        invoices = {
            c.customer_id: list(
                client.v1.invoices.list(
                    {"customer": c.customer_id, "limit": 100}
                ).auto_paging_iter()
            )
            for c in data.customers
        }
        yield Seeded(base_url, data, seconds, client, invoices)


def _all_invoices(seeded: Seeded) -> list[Any]:
    return [invoice for invoices in seeded.invoices.values() for invoice in invoices]


def _amounts_due(invoice: Any) -> list[dict[str, Any]]:
    # A preview field the SDK does not type (shared/stripe/README.md); read it as plain data.
    parts: list[dict[str, Any]] = invoice.to_dict().get("amounts_due") or []
    return parts


def _now() -> int:
    return int(datetime.now(UTC).timestamp())


def test_seeding_is_quick(seeded: Seeded) -> None:
    assert seeded.seconds < 10


def test_customers_speak_six_languages_in_at_least_three_currencies(seeded: Seeded) -> None:
    customers = [seeded.client.v1.customers.retrieve(c.customer_id) for c in seeded.data.customers]
    locales = {locale for c in customers for locale in c.preferred_locales or []}
    assert locales == {"de", "en", "nl", "es", "pl", "hr"}
    currencies = {i.currency for i in _all_invoices(seeded)}
    assert {"eur", "pln", "jpy"} <= currencies
    assert len(currencies) >= 3
    assert all(c.metadata is not None and c.metadata["demo"] == "true" for c in customers)


def test_one_email_belongs_to_two_customers(seeded: Seeded) -> None:
    emails = [c.email for c in seeded.data.customers]
    shared = {e for e in emails if emails.count(e) > 1}
    assert len(shared) == 1
    (email,) = shared
    found = seeded.client.v1.customers.list({"email": email})
    assert len(found.data) == 2
    assert len({c.name for c in found.data}) == 2


def test_open_invoices_both_overdue_and_not_yet_due(seeded: Seeded) -> None:
    simple_open = [i for i in _all_invoices(seeded) if i.status == "open" and not _amounts_due(i)]
    assert any(i.due_date is not None and i.due_date < _now() for i in simple_open)
    assert any(i.due_date is not None and i.due_date > _now() for i in simple_open)
    assert all(i.amount_remaining > 0 for i in simple_open)


def test_an_installment_plan_with_deposit_paid_one_part_late_one_upcoming(seeded: Seeded) -> None:
    plans = [i for i in _all_invoices(seeded) if _amounts_due(i)]
    assert plans
    matching = []
    for invoice in plans:
        parts = _amounts_due(invoice)
        assert sum(p["amount"] for p in parts) == invoice.amount_due
        statuses = [p["status"] for p in parts]
        if statuses[0] == "paid" and "past_due" in statuses and "open" in statuses:
            matching.append(invoice)
            assert invoice.status == "open"
            assert invoice.amount_paid == parts[0]["amount"]
            assert any(p["status"] == "open" and p["due_date"] > _now() for p in parts)
    assert matching


def test_uncollectible_void_and_draft_invoices_exist(seeded: Seeded) -> None:
    statuses = {i.status for i in _all_invoices(seeded)}
    assert {"draft", "open", "paid", "uncollectible", "void"} <= statuses


def test_a_draft_is_scheduled_to_be_charged_within_the_announcements_lead_time(
    seeded: Seeded,
) -> None:
    now = _now()
    scheduled = [
        i
        for i in _all_invoices(seeded)
        if i.status == "draft"
        and i.auto_advance
        and i.collection_method == "charge_automatically"
        and now < (i.automatically_finalizes_at or 0) <= now + 5 * 86400
    ]
    assert len(scheduled) == 1


def test_a_customer_has_over_a_page_of_paid_history_reaching_back_a_year(seeded: Seeded) -> None:
    by_customer = {
        cid: [i for i in invoices if i.status == "paid"]
        for cid, invoices in seeded.invoices.items()
    }
    cid, paid = max(by_customer.items(), key=lambda item: len(item[1]))
    assert len(paid) > 10
    first_page = seeded.client.v1.invoices.list({"customer": cid, "status": "paid"})
    assert first_page.has_more
    if seeded.data.dated_history:
        oldest = min(i.created for i in paid)
        assert _now() - oldest > 366 * 24 * 3600
        assert all(i.status_transitions.paid_at >= i.created for i in paid)


def test_default_card_expired_card_and_sepa_mandate(seeded: Seeded) -> None:
    client = seeded.client
    today = datetime.now(UTC)
    found = False
    for demo in seeded.data.customers:
        customer = client.v1.customers.retrieve(demo.customer_id)
        methods = client.v1.customers.payment_methods.list(demo.customer_id).data
        assert customer.invoice_settings is not None
        default = customer.invoice_settings.default_payment_method
        cards = [m.card for m in methods if m.type == "card" and m.card is not None]
        expired = [c for c in cards if (c.exp_year, c.exp_month) < (today.year, today.month)]
        card_ids = {m.id for m in methods if m.type == "card"}
        sepa = [m for m in methods if m.type == "sepa_debit"]
        if default in card_ids and expired and sepa:
            intents = client.v1.setup_intents.list({"customer": demo.customer_id}).data
            mandated = [s for s in intents if s.payment_method == sepa[0].id and s.mandate]
            assert mandated
            assert mandated[0].status == "succeeded"
            found = True
    assert found


def test_tax_ids_in_every_verification_state(seeded: Seeded) -> None:
    statuses = set()
    for demo in seeded.data.customers:
        for tax_id in seeded.client.v1.customers.tax_ids.list(demo.customer_id).data:
            if tax_id.verification is not None:
                statuses.add(tax_id.verification.status)
    assert statuses == {"pending", "verified", "unverified", "unavailable"}


def test_invoice_lines_speak_the_customers_language(seeded: Seeded) -> None:
    descriptions: dict[str, str] = {}
    for customer in seeded.data.customers:
        for invoice in seeded.invoices[customer.customer_id]:
            text = " ".join(line.description or "" for line in invoice.lines.data)
            descriptions[customer.locale] = descriptions.get(customer.locale, "") + " " + text
    assert "Wartungsvertrag" in descriptions["de"]
    assert "Abonament — pakiet Pro" in descriptions["pl"]
    assert "Održavanje web stranice" in descriptions["hr"]
    assert "Onderhoud webwinkel" in descriptions["nl"]
    assert "Mantenimiento preventivo" in descriptions["es"]
    assert "Project management retainer" in descriptions["en"]


def test_zero_decimal_amounts_are_whole_yen(seeded: Seeded) -> None:
    yen = [i for i in _all_invoices(seeded) if i.currency == "jpy"]
    assert yen
    assert all(1000 <= i.total < 10_000_000 for i in yen)


def test_demo_data_lists_every_customer_for_the_banner(seeded: Seeded) -> None:
    data = seeded.data
    assert len({c.customer_id for c in data.customers}) == len(data.customers)
    assert all(c.story for c in data.customers)
    summary = format_summary(data)
    for customer in data.customers:
        assert customer.email in summary
        assert customer.name in summary
    assert "Deutsch" in summary
    assert "hrvatski" in summary


def _without_sandbox_controls(app: Any) -> Any:
    """The sandbox as real Stripe looks to the seeder: no /_sandbox/ clock to move."""

    async def wrapped(scope: Any, receive: Any, send: Any) -> None:
        if scope["type"] == "http" and scope["path"].startswith("/_sandbox/"):
            await PlainTextResponse("Not Found", 404)(scope, receive, send)
            return
        await app(scope, receive, send)

    return wrapped


def test_without_a_clock_the_stories_still_hold_with_todays_dates() -> None:
    app = _without_sandbox_controls(create_sandbox_app(SandboxConfig()))
    with serve_in_thread(app) as base_url:
        data = asyncio.run(seed_demo(base_url, API_KEY))
        client = stripe.StripeClient(
            API_KEY, base_addresses={"api": base_url}, stripe_version=STRIPE_INVOICE_API_VERSION
        )
        invoices = [
            invoice
            for c in data.customers
            for invoice in client.v1.invoices.list(
                {"customer": c.customer_id, "limit": 100}
            ).auto_paging_iter()
        ]
    assert not data.dated_history
    assert "dated today" in format_summary(data)
    now = _now()
    assert any(i.status == "open" and (i.due_date or now) < now for i in invoices)
    assert sum(1 for i in invoices if i.status == "paid") > 50
    assert {"draft", "open", "paid", "uncollectible", "void"} <= {i.status for i in invoices}
    statuses = [[p["status"] for p in _amounts_due(i)] for i in invoices if _amounts_due(i)]
    assert ["paid", "past_due", "open"] in statuses


def test_a_refusal_stops_the_seed_with_stripes_message_and_restores_the_clock() -> None:
    with serve_in_thread(create_sandbox_app(SandboxConfig())) as base_url:
        httpx.post(
            f"{base_url}/_sandbox/faults",
            json={"status": 402, "count": 1, "match": "POST /v1/invoices/{invoice}/pay"},
        ).raise_for_status()
        with pytest.raises(StripeAPIError) as refused:
            asyncio.run(seed_demo(base_url, API_KEY))
        clock = httpx.get(f"{base_url}/_sandbox/clock").json()
    assert refused.value.status == 402
    assert refused.value.path.endswith("/pay")
    assert "Your card was declined." in str(refused.value)
    assert clock["offset"] == 0


def test_invoices_with_a_tax_rate_and_discounts(seeded: Seeded) -> None:
    taxed = [i for i in _all_invoices(seeded) if i.total_taxes]
    assert taxed
    both = [i for i in taxed if i.total_discount_amounts and i.discounts]
    assert both, "an invoice with a tax rate and a discount of its own"
    invoice = both[0]
    assert invoice.total == (invoice.total_excluding_tax or 0) + sum(
        t.amount for t in invoice.total_taxes or []
    )
    assert invoice.total < invoice.subtotal + sum(t.amount for t in invoice.total_taxes or [])
    assert any(line.discounts for i in taxed for line in i.lines.data), "a line's own discount"


def test_every_invoice_names_the_seller_and_its_german_vat_number(seeded: Seeded) -> None:
    tax_type, value = SELLER.tax_id
    seller_ids = [t for t in seeded.client.v1.tax_ids.list({"limit": 100}).data if t.value == value]
    assert len(seller_ids) == 1
    assert seller_ids[0].type == tax_type == "eu_vat"
    assert value.startswith("DE")
    assert len(value) == 11
    assert value[2:].isdigit()
    for invoice in _all_invoices(seeded):
        assert invoice.account_name == SELLER.name
        assert invoice.account_country == "DE"
        assert invoice.account_tax_ids == [seller_ids[0].id]
    one = _all_invoices(seeded)[0]
    shown = seeded.client.v1.invoices.retrieve(one.id, {"expand": ["account_tax_ids"]})
    assert [t.value for t in shown.account_tax_ids or []] == [value]  # type: ignore[union-attr]


def test_an_eu_business_abroad_is_billed_under_the_reverse_charge(seeded: Seeded) -> None:
    reverse = [
        c
        for c in seeded.data.customers
        if seeded.client.v1.customers.retrieve(c.customer_id).tax_exempt == "reverse"
    ]
    assert len(reverse) == 1
    customer = seeded.client.v1.customers.retrieve(reverse[0].customer_id)
    assert customer.address is not None
    assert customer.address.country == "AT"
    invoices = seeded.invoices[customer.id]
    assert invoices
    for invoice in invoices:
        assert invoice.customer_tax_exempt == "reverse"
        assert not invoice.total_taxes
    assert any(i.status == "open" for i in invoices)


def test_customers_billed_in_poland_and_the_netherlands(seeded: Seeded) -> None:
    countries = {}
    for c in seeded.data.customers:
        address = seeded.client.v1.customers.retrieve(c.customer_id).address
        countries[address.country if address else None] = c.currency
    assert countries.get("PL") in ("pln", "eur")
    assert countries.get("NL") == "eur"
