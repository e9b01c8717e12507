"""Webhook events acknowledged before they were handled (`portal.billing.inbox`): handled after
the answer, after a restart when the process stopped first, by any instance once a claim has
lapsed; once each."""

from __future__ import annotations

import concurrent.futures
import time
from collections.abc import Callable, Iterator
from datetime import UTC, datetime, timedelta
from pathlib import Path

import httpx
import pytest
from sqlalchemy import func, select

from portal.billing import inbox
from portal.storage.tables import customer_changes, webhook_events, webhook_inbox
from tests.functional.billing.test_webhooks import changes_of, deliver, event, recorded, signed
from tests.functional.portal_support import Portal, PostgresDb, serve_portal
from tests.functional.test_two_instances import public, two_instances

SLOW_STRIPE_MS = 2500  # each Stripe call: longer than a delivery waits for its handling


@pytest.fixture
def control(sandbox_url: str) -> Iterator[httpx.Client]:
    with httpx.Client(base_url=sandbox_url) as client:
        yield client
        client.post("/_sandbox/latency", json={"ms": 0})


def in_inbox(portal: Portal, event_id: str) -> dict[str, object] | None:
    with portal.db.connect() as conn:
        found = conn.execute(select(webhook_inbox).where(webhook_inbox.c.event_id == event_id))
        row = found.first()
        return None if row is None else dict(row._mapping)


def wait_until(done: Callable[[], bool], seconds: float = 20) -> None:
    deadline = time.monotonic() + seconds
    while time.monotonic() < deadline:
        if done():
            return
        time.sleep(0.05)
    raise AssertionError("not within the time")


def test_a_slow_handling_is_answered_202_and_takes_effect_after(
    portal: Portal, control: httpx.Client
) -> None:
    customer = portal.customer()
    updated = event("customer.updated", {"id": customer, "object": "customer"})
    control.post("/_sandbox/latency", json={"ms": SLOW_STRIPE_MS})
    started = time.monotonic()
    answer = deliver(portal, updated)
    assert answer.status_code == 202
    assert time.monotonic() - started < SLOW_STRIPE_MS / 1000
    assert deliver(portal, updated).json() == {"received": True, "duplicate": True}
    wait_until(lambda: recorded(portal, updated["id"]))
    assert in_inbox(portal, updated["id"]) is None
    assert changes_of(portal, customer) == 1


def test_an_event_acknowledged_but_not_handled_when_the_process_stops_is_handled_after_restart(
    sandbox_url: str, tmp_path: Path, control: httpx.Client, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setattr(inbox, "FINISH_WITHIN", timedelta(0))  # stopped without waiting
    with serve_portal(tmp_path, sandbox_url) as first:
        customer = first.customer()
        updated = event("customer.updated", {"id": customer, "object": "customer"})
        control.post("/_sandbox/latency", json={"ms": SLOW_STRIPE_MS})
        assert deliver(first, updated).status_code == 202
    # Stopped while Stripe was still answering: nothing applied, the event kept, unclaimed.
    assert not recorded(first, updated["id"])
    kept = in_inbox(first, updated["id"])
    assert kept is not None
    assert kept["claimed_until"] is None
    control.post("/_sandbox/latency", json={"ms": 0})
    with serve_portal(tmp_path, sandbox_url) as again:
        wait_until(lambda: recorded(again, updated["id"]))
        assert in_inbox(again, updated["id"]) is None
        assert changes_of(again, customer) == 1


def test_an_event_whose_claim_lapsed_is_taken_up_by_any_instance(portal: Portal) -> None:
    """A process that died while handling never gave its claim up: once the claim lapses, a
    worker takes the event (and its effects still happen once)."""
    customer = portal.customer()
    updated = event("customer.updated", {"id": customer, "object": "customer"})
    now = datetime.now(UTC)
    row = {
        "event_id": updated["id"],
        "type": "customer.updated",
        "object_type": "customer",
        "object_id": customer,
        "customer_id": customer,
        "created": now,
        "received_at": now - inbox.CLAIM * 2,
        "claimed_until": now - inbox.CLAIM,  # the dead process's
        "attempts": 0,
        "next_try_at": now - inbox.CLAIM * 2,
    }
    with portal.db.connect() as conn:
        conn.execute(webhook_inbox.insert().values(row))
        conn.commit()
    wait_until(lambda: recorded(portal, updated["id"]))
    assert changes_of(portal, customer) == 1
    # A late delivery of it changes nothing more.
    assert deliver(portal, updated).json() == {"received": True, "duplicate": True}
    assert changes_of(portal, customer) == 1


@pytest.mark.parametrize("database_url", ["postgresql"], indirect=True)
def test_two_instances_given_each_event_at_once_handle_each_once(
    database_url: str, sandbox_url: str, tmp_path: Path
) -> None:
    """Stripe delivering each event to both instances behind the load balancer at the same
    moment, more than either handles at once: every event handled, each once."""
    count = 3 * inbox.AT_ONCE
    with two_instances(database_url, sandbox_url, tmp_path) as pair:
        customer = pair.sdk.v1.customers.create({"name": "Zwei Instanzen GmbH"}).id
        events = [
            event("customer.updated", {"id": customer, "object": "customer"}) for _ in range(count)
        ]

        def send(delivery: tuple[str, dict[str, object]]) -> int:
            body, headers = signed(delivery[1])
            answer = httpx.post(
                f"{delivery[0]}/stripe/webhook",
                content=body,
                headers=headers | public(pair.base_url),
                timeout=30,
            )
            return answer.status_code

        deliveries = [(url, e) for e in events for url in (pair.a, pair.b)]
        with concurrent.futures.ThreadPoolExecutor(32) as pool:
            statuses = list(pool.map(send, deliveries))
        assert set(statuses) <= {200, 202}
        db = PostgresDb(pair.database_url)
        try:

            def handled() -> int:
                ids = [e["id"] for e in events]
                found = db.execute(select(func.count()).where(webhook_events.c.event_id.in_(ids)))
                return int(found.scalar() or 0)

            wait_until(lambda: handled() == count, seconds=60)
            version = db.execute(
                select(customer_changes.c.version).where(customer_changes.c.customer_id == customer)
            )
            assert version.scalar() == count
        finally:
            db.dispose()


def test_an_event_whose_handling_failed_is_tried_again_without_a_redelivery(
    portal: Portal, stripe_faults: httpx.Client, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setattr(inbox, "RETRY_AFTER", (timedelta(milliseconds=100),))
    customer = portal.customer()
    updated = event("customer.updated", {"id": customer, "object": "customer"})
    stripe_faults.post("/_sandbox/faults", json={"status": 500, "count": 1})
    assert deliver(portal, updated).status_code == 503  # Stripe will deliver it again, too
    wait_until(lambda: recorded(portal, updated["id"]))  # ... but need not
    assert changes_of(portal, customer) == 1
    assert in_inbox(portal, updated["id"]) is None
