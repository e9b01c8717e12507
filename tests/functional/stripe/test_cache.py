"""The cache of Stripe reads: a repeat view costs no Stripe call; webhooks (on any instance) and
the portal's own changes end it; when Stripe is down the last known data is shown, saying so."""

from __future__ import annotations

import asyncio
from collections.abc import Iterator
from datetime import UTC, datetime
from pathlib import Path

import httpx
import pytest
import stripe

from portal import i18n
from portal.concurrency import Ready
from portal.storage import migrate
from portal.storage.database import create_engine, dispose, transaction
from portal.stripe import cache, changes
from portal.stripe.cache import CachingGateway
from portal.stripe.gateway import StripeGateway
from tests.functional.billing.billing_support import customer_with_card, signed_in
from tests.functional.billing.test_webhooks import deliver, event
from tests.functional.portal_support import Portal, serve_portal, text_of


@pytest.fixture(scope="module")
def portal(sandbox_url: str, tmp_path_factory: pytest.TempPathFactory) -> Iterator[Portal]:
    with serve_portal(
        tmp_path_factory.mktemp("cache"), sandbox_url, stripe_cache_seconds=60
    ) as found:
        yield found


def stripe_calls(control: httpx.Client) -> int:
    return int(control.get("/_sandbox/stats").json()["requests"])


def test_a_repeat_view_costs_no_stripe_call(portal: Portal, stripe_faults: httpx.Client) -> None:
    email, customer, _ = customer_with_card(portal)
    invoice = portal.invoice(customer, amount=4200).id
    browser = signed_in(portal, email)
    for path in ("/", f"/invoices/{invoice}", "/payment-methods", "/account/tax-ids"):
        assert browser.get(path).status_code == 200  # first view: read from Stripe
        stripe_faults.post("/_sandbox/stats/reset")
        assert browser.get(path).status_code == 200
        assert stripe_calls(stripe_faults) == 0, path


def test_a_webhook_on_another_instance_ends_the_cache_here(
    portal: Portal, stripe_faults: httpx.Client, tmp_path: Path, sandbox_url: str
) -> None:
    email, customer, _ = customer_with_card(portal)
    browser = signed_in(portal, email)
    assert 'value="Müller &amp; Söhne GmbH"' in browser.get("/account").text
    portal.sdk.v1.customers.update(customer, {"name": "Neuer Name AG"})  # no webhook yet
    assert 'value="Müller &amp; Söhne GmbH"' in browser.get("/account").text  # cached
    with serve_portal(
        tmp_path, sandbox_url, database_url=portal.settings.database_url, stripe_cache_seconds=60
    ) as other:  # a second instance on the same database receives the webhook
        assert deliver(other, event("customer.updated", {"id": customer, "object": "customer"}))
    assert 'value="Neuer Name AG"' in browser.get("/account").text


def test_the_portals_own_change_ends_the_cache(portal: Portal) -> None:
    email, customer, first = customer_with_card(portal)
    second = portal.sdk.v1.payment_methods.attach("pm_card_mastercard", {"customer": customer}).id
    browser = signed_in(portal, email)
    browser.get("/payment-methods")
    assert browser.post("/payment-methods/default", {"payment_method": second}).status_code == 303
    page = browser.get("/payment-methods").text
    row = page.split(second, 1)[0].rsplit('class="method-row"', 1)[1]
    assert "badge--open" in row  # the new default is shown at once
    assert f'value="{first}"' in page  # the old default now offers "make default"


def test_stripe_down_shows_the_last_known_data_and_refuses_actions(
    portal: Portal, stripe_faults: httpx.Client
) -> None:
    email, customer, _ = customer_with_card(portal)
    invoice = portal.invoice(customer, amount=5100).id
    browser = signed_in(portal, email)
    assert browser.get("/").status_code == 200
    # Something changed (a webhook said so), and then Stripe stops answering.
    deliver(portal, event("customer.updated", {"id": customer, "object": "customer"}))
    stripe_faults.post("/_sandbox/faults", json={"status": 503, "count": 50})
    page = browser.get("/")
    assert page.status_code == 200
    assert "51,00" in text_of(page)
    with i18n.use_locale("de"):
        note = i18n.gettext(
            "Our payment provider cannot be reached right now, so this page shows your data as of %(time)s. Paying and changes are possible again as soon as it is back.",
            time="",
        ).split(",")[0]
    assert note in text_of(page)
    paying = browser.get(f"/invoices/{invoice}/pay?what=whole")
    assert paying.status_code == 503  # an action that needs Stripe says it is unavailable
    stripe_faults.post("/_sandbox/faults/clear")


@pytest.mark.anyio
async def test_a_kept_read_is_ready_without_a_coroutine_once_the_request_knows_the_counter(
    gateway: StripeGateway, sdk: stripe.StripeClient, tmp_path: Path
) -> None:
    """Within a request that has read the customer's change counter (the session's query
    brings it), a kept read is `Ready`: no coroutine, so `at_once` needs no task. A read
    that must still look at the counter or at Stripe is a coroutine, as before."""
    engine = create_engine(f"sqlite+aiosqlite:///{tmp_path / 'cache.sqlite3'}")
    await migrate.upgrade(engine)
    customer = sdk.v1.customers.create({"email": "ready@example.com"}).id
    cached = CachingGateway(gateway, engine=engine, ttl=60)
    try:
        record = cache.start_request()
        try:
            first = cached.get_customer(customer)
            assert not isinstance(first, Ready)  # read at Stripe
            read = await first
            again = cached.get_customer(customer)
            assert isinstance(again, Ready)
            assert await again is read  # the very object kept
            await cached.changed(customer)  # a webhook, the portal's own change
            after_change = cached.get_customer(customer)
            assert not isinstance(after_change, Ready)
            assert await after_change is not read
        finally:
            cache.end_request(record)
        record = cache.start_request()  # the next request has not read the counter yet
        try:
            unknown = cached.get_customer(customer)
            assert not isinstance(unknown, Ready)
            await unknown
            assert isinstance(cached.get_customer(customer), Ready)
        finally:
            cache.end_request(record)
    finally:
        await dispose(engine)


@pytest.mark.anyio
async def test_a_counter_read_without_a_session_sees_another_instances_change(
    gateway: StripeGateway, sdk: stripe.StripeClient, tmp_path: Path
) -> None:
    """An invoice link's holder has no session to bring the customer's counter: the cache
    reads it itself, kept on SQLite until the next commit, so a webhook taken by another
    instance (another process, another connection) ends what this one keeps at once."""
    database = f"sqlite+aiosqlite:///{tmp_path / 'cache.sqlite3'}"
    here, there = create_engine(database), create_engine(database)
    await migrate.upgrade(here)
    customer = sdk.v1.customers.create({"email": "link@example.com"}).id
    cached = CachingGateway(gateway, engine=here, ttl=60)

    async def read() -> object:
        record = cache.start_request()  # a request of its own, no session read first
        try:
            return await cached.get_customer(customer)
        finally:
            cache.end_request(record)

    try:
        first = await read()
        assert await read() is first  # kept: the counter has not moved
        async with transaction(there) as conn:  # the webhook, on the other instance
            await changes.bump(conn, customer, datetime.now(UTC))
        assert await read() is not first
    finally:
        await dispose(here)
        await dispose(there)


@pytest.mark.anyio
@pytest.mark.parametrize("counter_read_first", [True, False], ids=["known", "unknown"])
async def test_a_change_while_a_page_is_read_from_stripe_is_not_missed(
    gateway: StripeGateway,
    sdk: stripe.StripeClient,
    sandbox_url: str,
    tmp_path: Path,
    counter_read_first: bool,
) -> None:
    """An invoice page names its customer only in Stripe's answer. A change counted while the
    page is being read (a webhook, on another instance) may be about what the read missed: the
    page is kept under the counter the request read before the read (principals read the acting
    customer's first), or, without one, not kept; either way the next view reads again."""
    database = f"sqlite+aiosqlite:///{tmp_path / 'cache.sqlite3'}"
    here, there = create_engine(database), create_engine(database)
    await migrate.upgrade(here)
    customer = sdk.v1.customers.create({"email": "slow@example.com"}).id
    invoice = sdk.v1.invoices.create(
        {"customer": customer, "collection_method": "send_invoice", "days_until_due": 14}
    )
    sdk.v1.invoice_items.create({"customer": customer, "invoice": invoice.id, "amount": 900})
    sdk.v1.invoices.finalize_invoice(invoice.id)
    cached = CachingGateway(gateway, engine=here, ttl=60)
    control = httpx.Client(base_url=sandbox_url)

    async def view() -> tuple[object, bool]:
        record = cache.start_request()
        try:
            if counter_read_first:
                cache.remember_version(customer, await changes.version(here, customer))
            read = cached.invoice_page(invoice.id)
            return await read, isinstance(read, Ready)
        finally:
            cache.end_request(record)

    try:
        control.post("/_sandbox/latency", json={"ms": 400})
        reading = asyncio.create_task(view())
        await asyncio.sleep(0.15)  # the read is under way at Stripe
        async with transaction(there) as conn:
            await changes.bump(conn, customer, datetime.now(UTC))
        first, _ = await reading
        control.post("/_sandbox/latency", json={"ms": 0})
        again, ready = await view()
        assert not ready
        assert again is not first  # read from Stripe again
        third, ready = await view()
        assert third is again or not counter_read_first  # kept once nothing moved meanwhile
    finally:
        control.post("/_sandbox/latency", json={"ms": 0})
        control.close()
        await dispose(here)
        await dispose(there)


@pytest.mark.anyio
async def test_the_reads_kept_stay_within_the_byte_budget(
    gateway: StripeGateway, sdk: stripe.StripeClient, tmp_path: Path
) -> None:
    """Each read is kept with its estimated size; the least recently used go first."""
    engine = create_engine(f"sqlite+aiosqlite:///{tmp_path / 'budget.sqlite3'}")
    await migrate.upgrade(engine)
    customers = [
        sdk.v1.customers.create({"email": f"budget{n}@example.com", "name": "x" * 2_000}).id
        for n in range(6)
    ]
    budget = 12_000  # room for a few customers of some 2-3 KB each, not six
    cached = CachingGateway(gateway, engine=engine, ttl=60, budget=budget)
    try:
        record = cache.start_request()
        try:
            for customer in customers:
                await cached.get_customer(customer)
                entries, size = cached.kept()
                assert size <= budget
            assert 1 < entries < len(customers)
            assert isinstance(cached.get_customer(customers[-1]), Ready)  # the newest kept
            oldest = cached.get_customer(customers[0])
            assert not isinstance(oldest, Ready)  # gone: read at Stripe again
            await oldest
        finally:
            cache.end_request(record)
    finally:
        await dispose(engine)
