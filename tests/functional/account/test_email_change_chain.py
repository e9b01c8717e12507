"""Chains of e-mail changes: someone holding a session changes the address twice, so that the
second undo link goes to an address of theirs. The owner's first link still restores the owner's
address for good; every undo and every refused undo is told; a confirmation and an undo at the
same moment agree with Stripe; on SQLite and PostgreSQL where the records decide."""

from __future__ import annotations

import asyncio
import concurrent.futures
import re
import time
import uuid
from collections.abc import Iterator
from datetime import UTC, datetime, timedelta
from pathlib import Path

import httpx
import pytest
from sqlalchemy import update

from portal import i18n
from portal.account import email_change
from portal.storage import migrate
from portal.storage.database import create_engine, dispose, transaction
from portal.storage.tables import email_change_holds, email_changes
from tests.functional.account.test_email_change import confirmation_link
from tests.functional.billing.billing_support import signed_in
from tests.functional.billing.test_one_charge_at_a_time import LOSSY_TIMEOUT, lossy_stripe
from tests.functional.billing.test_webhooks import deliver, event
from tests.functional.portal_support import Browser, Portal, serve_portal, text_of

UNDO = re.compile(r"http://127\.0\.0\.1:\d+(/account/email/undo/[A-Za-z0-9_-]+)")
TOKEN = re.compile(r'name="token" value="([^"]+)"')


@pytest.fixture
def any_portal(database_url: str, sandbox_url: str, tmp_path: Path) -> Iterator[Portal]:
    with serve_portal(tmp_path, sandbox_url, database_url=database_url) as found:
        yield found


def address(who: str) -> str:
    return f"{who}-{uuid.uuid4().hex[:8]}@example.nl"


def ask_for_change(browser: Browser, new: str) -> None:
    browser.get("/account")
    assert browser.post("/account/email", {"email": new}).status_code == 200


def confirm_token(portal: Portal, new: str) -> str:
    page = portal.browser().get(confirmation_link(portal, new))
    found = TOKEN.search(page.text)
    assert found, page.text
    return found.group(1)


def change_address(portal: Portal, browser: Browser, new: str) -> None:
    ask_for_change(browser, new)
    token = confirm_token(portal, new)
    assert portal.browser().post("/account/email/confirm", {"token": token}).status_code == 200


def undo_link(portal: Portal, to: str, timeout: float = 10) -> str:
    """The newest undo link sent to `to` (waiting for it: notices go out after the answer)."""
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        for mail in portal.mailbox.messages():  # newest first
            if to in mail.recipients and (found := UNDO.search(mail.part("text/plain") or "")):
                return found.group(1)
        time.sleep(0.05)
    raise AssertionError(f"no undo link to {to}")


def use_undo(portal: Portal, link: str, browser: Browser | None = None) -> httpx.Response:
    """Open the link and press its button (or post the link's token when the page offers none)."""
    browser = browser or portal.browser()
    token = link.rsplit("/", 1)[1]
    return browser.post("/account/email/undo", {"token": token})


def stripe_email(portal: Portal, customer: str) -> str | None:
    return portal.sdk.v1.customers.retrieve(customer).email


def mails_with_subject(portal: Portal, to: str, subject: str) -> int:
    return sum(1 for m in portal.mailbox.messages() if to in m.recipients and m.subject == subject)


def subject(text: str, locale: str = "de", **values: str) -> str:
    with i18n.use_locale(locale):
        return i18n.gettext(text, **values)


def test_the_owners_first_link_wins_over_the_intruders_later_one(any_portal: Portal) -> None:
    portal = any_portal
    company = portal.settings.company_name
    owner, first, second = address("sanne"), address("attacker1"), address("attacker2")
    customer = portal.customer(email=owner, locale="nl")
    intruder = signed_in(portal, owner)  # a session the owner lost
    change_address(portal, intruder, first)
    owners_link = undo_link(portal, owner)
    intruder = signed_in(portal, first)
    change_address(portal, intruder, second)
    intruders_link = undo_link(portal, first)
    assert stripe_email(portal, customer) == second
    intruder = signed_in(portal, second)
    assert intruder.get("/").status_code == 200

    page = portal.browser().get(owners_link)  # the button page says what will happen
    assert page.status_code == 200
    assert owner in text_of(page)
    assert second in text_of(page)
    restored = use_undo(portal, owners_link)
    assert restored.status_code == 200
    assert stripe_email(portal, customer) == owner
    assert intruder.get("/").status_code == 303  # signed out
    restored_subject = subject(
        "Your e-mail address at %(company)s has been restored", "nl", company=company
    )
    undone_subject = subject(
        "The change of your e-mail address at %(company)s has been undone", "nl", company=company
    )
    assert portal.wait_for_mail(owner, count=3).subject == restored_subject
    assert portal.wait_for_mail(second, count=3).subject == undone_subject

    # The intruder's own link can no longer move the address, and the owner hears of it, once.
    assert portal.browser().get(intruders_link).status_code == 409
    assert mails_with_subject(portal, owner, restored_subject) == 1
    refused = use_undo(portal, intruders_link)
    assert refused.status_code == 409
    with i18n.use_locale("en"):  # the browser's language
        assert i18n.gettext("This link can no longer restore the address") in text_of(refused)
    assert stripe_email(portal, customer) == owner
    refused_subject = subject(
        "An attempt to change your e-mail address at %(company)s was refused", "nl", company=company
    )
    notice = portal.wait_for_mail(owner, count=4)
    assert notice.subject == refused_subject
    assert first in (notice.part("text/plain") or "")
    assert use_undo(portal, intruders_link).status_code == 409
    assert use_undo(portal, owners_link).status_code == 410  # used
    assert mails_with_subject(portal, owner, refused_subject) == 1


def test_a_later_link_used_first_leaves_the_first_one_working(portal: Portal) -> None:
    owner, first, second = address("owner"), address("first"), address("second")
    customer = portal.customer(email=owner)
    browser = signed_in(portal, owner)
    change_address(portal, browser, first)
    owners_link = undo_link(portal, owner)
    browser = signed_in(portal, first)
    change_address(portal, browser, second)
    assert use_undo(portal, undo_link(portal, first)).status_code == 200
    assert stripe_email(portal, customer) == first
    assert use_undo(portal, owners_link).status_code == 200
    assert stripe_email(portal, customer) == owner


def test_an_undo_after_a_change_at_stripe_is_refused_and_told(portal: Portal) -> None:
    owner, new, company_set = address("owner"), address("new"), address("dashboard")
    customer = portal.customer(email=owner)
    change_address(portal, signed_in(portal, owner), new)
    link = undo_link(portal, owner)
    portal.sdk.v1.customers.update(customer, {"email": company_set})  # the company, elsewhere
    assert portal.browser().get(link).status_code == 409  # opening it tells nobody
    assert not any(company_set in m.recipients for m in portal.mailbox.messages())
    assert use_undo(portal, link).status_code == 409
    assert stripe_email(portal, customer) == company_set
    notice = portal.wait_for_mail(company_set)
    assert notice.subject == subject(
        "An attempt to change your e-mail address at %(company)s was refused",
        company=portal.settings.company_name,
    )


def test_a_confirmation_and_an_undo_at_the_same_moment_leave_the_owners_address(
    any_portal: Portal, stripe_faults: httpx.Client
) -> None:
    """The intruder confirms a second change while the owner undoes the first: one waits for
    the other, so whichever comes first, Stripe ends with the owner's address and the records
    agree (a second undo link, if one went out, can no longer move it)."""
    portal = any_portal
    owner, first, second = address("owner"), address("first"), address("second")
    customer = portal.customer(email=owner)
    change_address(portal, signed_in(portal, owner), first)
    owners_link = undo_link(portal, owner)
    intruder = signed_in(portal, first)
    ask_for_change(intruder, second)
    token = confirm_token(portal, second)
    stripe_faults.post("/_sandbox/latency", json={"ms": 300})  # each side's calls overlap
    try:
        with concurrent.futures.ThreadPoolExecutor(max_workers=2) as pool:
            confirming = pool.submit(
                portal.browser().post, "/account/email/confirm", {"token": token}
            )
            undoing = pool.submit(use_undo, portal, owners_link)
            confirmed, undone = confirming.result(), undoing.result()
    finally:
        stripe_faults.post("/_sandbox/latency", json={"ms": 0})
    assert undone.status_code == 200
    assert confirmed.status_code in (200, 410)  # before the undo, or superseded by it
    assert stripe_email(portal, customer) == owner
    if confirmed.status_code == 200:
        late = undo_link(portal, first)
        assert use_undo(portal, late).status_code == 409
        assert stripe_email(portal, customer) == owner
    assert intruder.get("/").status_code == 303


def test_a_confirmation_let_in_after_an_undo_finds_its_link_ended_and_changes_nothing(
    portal: Portal,
) -> None:
    """The confirmation read its link as pending, then waited its turn behind the owner's
    undo, which ended every change not yet confirmed: let in, it must not set the intruder's
    address at Stripe behind the owner's back."""
    owner, first, second = address("owner"), address("first"), address("second")
    customer = portal.customer(email=owner)
    change_address(portal, signed_in(portal, owner), first)
    ask_for_change(signed_in(portal, first), second)
    token = confirm_token(portal, second)
    with portal.db.begin() as conn:  # the owner's undo, under way in another instance
        conn.execute(
            email_change_holds.insert().values(
                customer_id=customer,
                holder="the-owners-undo",
                lease_until=datetime.now(UTC) + timedelta(minutes=1),
            )
        )
    with concurrent.futures.ThreadPoolExecutor(max_workers=1) as pool:
        confirming = pool.submit(portal.browser().post, "/account/email/confirm", {"token": token})
        time.sleep(1)  # it has found its link pending and waits for the hold (up to 4 s)
        # What the undo does before it lets go: the owner's address at Stripe, and every
        # change of the customer not yet confirmed ended.
        portal.sdk.v1.customers.update(customer, {"email": owner})
        with portal.db.begin() as conn:
            conn.execute(
                update(email_changes)
                .where(
                    email_changes.c.customer_id == customer,
                    email_changes.c.consumed_at.is_(None),
                )
                .values(consumed_at=datetime.now(UTC))
            )
            conn.execute(email_change_holds.delete())
        confirmed = confirming.result()
    assert confirmed.status_code == 410
    assert stripe_email(portal, customer) == owner


def test_a_change_at_stripe_ends_sessions_signed_in_under_the_old_address(
    any_portal: Portal,
) -> None:
    portal = any_portal
    old, new = address("old"), address("new")
    customer = portal.customer(email=old)
    before = signed_in(portal, old)
    portal.sdk.v1.customers.update(customer, {"email": new})
    assert deliver(portal, event("customer.updated", {"id": customer, "object": "customer"}))
    assert before.get("/").status_code == 303
    after = signed_in(portal, new)
    assert deliver(portal, event("customer.updated", {"id": customer, "object": "customer"}))
    assert after.get("/").status_code == 200  # signed in under the address Stripe has


def test_the_browser_that_confirmed_stays_signed_in_when_stripe_reports_the_change(
    portal: Portal,
) -> None:
    old, new = address("old"), address("new")
    customer = portal.customer(email=old)
    browser = signed_in(portal, old)
    ask_for_change(browser, new)
    token = confirm_token(portal, new)
    assert browser.post("/account/email/confirm", {"token": token}).status_code == 200
    assert deliver(portal, event("customer.updated", {"id": customer, "object": "customer"}))
    assert browser.get("/").status_code == 200


@pytest.mark.anyio
async def test_one_change_or_undo_holds_a_customer_at_a_time(database_url: str) -> None:
    """Of many callers at once exactly one holds the customer; it is free again once let go
    or once its lease ran out (a process stopped midway)."""
    engine = create_engine(database_url)
    now = datetime.now(UTC)
    try:
        await migrate.upgrade(engine)

        async def hold(holder: str, at: datetime = now) -> bool:
            async with transaction(engine) as conn:
                return await email_change.hold(
                    conn, "cus_1", holder, at, lasting=timedelta(minutes=1)
                )

        results = await asyncio.gather(*(hold(f"h{i}") for i in range(8)))
        assert sorted(results) == [False] * 7 + [True]
        winner = f"h{results.index(True)}"
        assert not await hold("late")
        async with transaction(engine) as conn:
            await email_change.let_go(conn, "cus_1", winner)
        assert await hold("late")
        assert not await hold("other", now + timedelta(seconds=59))
        assert await hold("other", now + timedelta(minutes=1))  # the lease ran out
    finally:
        await dispose(engine)


def test_a_change_waits_for_one_under_way_and_says_so(
    portal: Portal, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setattr(email_change, "WAIT", timedelta(seconds=0.5))  # the portal's own thread
    old, new = address("old"), address("new")
    customer = portal.customer(email=old)
    ask_for_change(signed_in(portal, old), new)
    token = confirm_token(portal, new)
    with portal.db.begin() as conn:  # another instance is changing this customer's address
        conn.execute(
            email_change_holds.insert().values(
                customer_id=customer,
                holder="another-instance",
                lease_until=datetime.now(UTC) + timedelta(minutes=1),
            )
        )
    busy = portal.browser().post("/account/email/confirm", {"token": token})
    assert busy.status_code == 409
    with i18n.use_locale("en"):
        assert i18n.gettext(
            "Your e-mail address is being changed right now. Please try again in a moment."
        ) in text_of(busy)
    assert stripe_email(portal, customer) == old  # nothing done
    with portal.db.begin() as conn:
        conn.execute(email_change_holds.delete())
    assert portal.browser().post("/account/email/confirm", {"token": token}).status_code == 200
    assert stripe_email(portal, customer) == new


def test_a_confirmation_whose_answer_was_lost_is_finished_by_the_same_link(
    sandbox_url: str, tmp_path: Path
) -> None:
    """Stripe set the new address but its answer never came: the page does not claim that
    nothing changed, and the same link finishes the change, telling the address it replaced
    (not the new one, which Stripe already has) with a way back."""
    with (
        lossy_stripe(sandbox_url) as lossy,
        serve_portal(
            tmp_path, lossy.url, stripe_timeout=LOSSY_TIMEOUT, stripe_max_network_retries=0
        ) as portal,
    ):
        old, new = address("old"), address("new")
        customer = portal.customer(email=old)
        ask_for_change(signed_in(portal, old), new)
        token = confirm_token(portal, new)
        lossy.lose.add(f"/customers/{customer}")
        lost = portal.browser().post("/account/email/confirm", {"token": token})
        assert lossy.lost
        assert lost.status_code == 503
        with i18n.use_locale("en"):
            assert "Nothing was changed" not in text_of(lost)
        assert stripe_email(portal, customer) == new  # Stripe made the change
        lossy.lose.clear()
        assert portal.browser().post("/account/email/confirm", {"token": token}).status_code == 200
        assert use_undo(portal, undo_link(portal, old)).status_code == 200
        assert stripe_email(portal, customer) == old
