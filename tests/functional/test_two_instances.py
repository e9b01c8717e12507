"""Two `portal serve` processes on one PostgreSQL database, as behind a load balancer: they share
sign-in tokens, sessions, rate limits, webhook ids and the change counters of the cache."""

from __future__ import annotations

import asyncio
import concurrent.futures
import contextlib
import os
import re
import subprocess
import sys
import time
import uuid
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from pathlib import Path

import asyncpg
import httpx
import pytest
import stripe
from sqlalchemy.engine import make_url

from portal.settings import STRIPE_INVOICE_API_VERSION
from portal.storage import kept
from portal_dev.mailbox import DevMailbox, DevMailServer
from tests.conftest import SANDBOX_KEY
from tests.functional.app_support import migrate_database
from tests.functional.billing.test_webhooks import SECRET, event, signed
from tests.support.servers import free_port

PORTAL = Path(sys.executable).with_name("portal")
LINK = re.compile(r"http://127\.0\.0\.1:\d+(/sign-in/link/[A-Za-z0-9_-]+)")
CSRF = re.compile(r'name="csrf_token" value="([0-9a-f]+)"')
CONFIRM = re.compile(r"http://127\.0\.0\.1:\d+(/account/email/confirm/[A-Za-z0-9_-]+)")

pytestmark = pytest.mark.parametrize("database_url", ["postgresql"], indirect=True)


@dataclass
class Pair:
    a: str
    b: str
    base_url: str
    mailbox: DevMailbox
    sdk: stripe.StripeClient
    database_url: str
    pids: tuple[int, int]


@contextlib.contextmanager
def two_instances(database_url: str, sandbox_url: str, data_dir: Path) -> Iterator[Pair]:
    migrate_database(database_url)
    mailbox = DevMailbox(echo=None)
    mail = DevMailServer(mailbox, free_port())
    mail.start()
    ports = [free_port(), free_port()]
    base_url = f"http://127.0.0.1:{ports[0]}"  # one public address for both, as behind Fly's proxy
    env = {k: v for k, v in os.environ.items() if not k.startswith("PORTAL_")} | {
        "PORTAL_BASE_URL": base_url,
        "PORTAL_SECRET_KEY": "two-instances-" + "x" * 40,
        "PORTAL_STRIPE_API_KEY": SANDBOX_KEY,
        "PORTAL_STRIPE_API_BASE": sandbox_url,
        "PORTAL_STRIPE_WEBHOOK_SECRET": SECRET,
        "PORTAL_STRIPE_MAX_NETWORK_RETRIES": "0",
        "PORTAL_SMTP_URL": f"smtp://127.0.0.1:{mail.port}?tls=none",
        "PORTAL_MAIL_FROM": "Billing <billing@example.com>",
        "PORTAL_DATABASE_URL": database_url,
        "PORTAL_DATA_DIR": str(data_dir),
        "PORTAL_LOG_FORMAT": "text",
    }
    processes = [
        subprocess.Popen(
            [str(PORTAL), "serve", "--port", str(port)],
            env=env,
            stdout=subprocess.DEVNULL,
            stderr=subprocess.PIPE,
        )
        for port in ports
    ]
    try:
        urls = [f"http://127.0.0.1:{port}" for port in ports]
        deadline = time.monotonic() + 30
        for url in urls:
            while True:
                try:
                    if httpx.get(f"{url}/healthz", headers=public(base_url)).status_code == 200:
                        break
                except httpx.TransportError:
                    pass
                if time.monotonic() > deadline:
                    raise AssertionError(f"{url} did not start")
                time.sleep(0.1)
        yield Pair(
            urls[0],
            urls[1],
            base_url,
            mailbox,
            stripe.StripeClient(SANDBOX_KEY, base_addresses={"api": sandbox_url}),
            database_url,
            (processes[0].pid, processes[1].pid),
        )
    finally:
        for process in processes:
            process.terminate()
        for process in processes:
            try:
                process.wait(timeout=10)
            except subprocess.TimeoutExpired:
                process.kill()
            assert process.stderr is not None
            errors = process.stderr.read().decode()
            process.stderr.close()
            assert "Traceback" not in errors, errors
        mail.stop()


def public(base_url: str) -> dict[str, str]:
    """Requests to either instance carry the public host name, as a load balancer passes it."""
    return {"host": base_url.removeprefix("http://")}


def browser_for(pair: Pair) -> httpx.Client:
    return httpx.Client(headers=public(pair.base_url))


@pytest.fixture
def pair(database_url: str, sandbox_url: str, tmp_path: Path) -> Iterator[Pair]:
    with two_instances(database_url, sandbox_url, tmp_path) as found:
        yield found


def post(client: httpx.Client, url: str, data: dict[str, str], pair: Pair) -> httpx.Response:
    page = client.get(url)
    csrf = CSRF.search(page.text)
    assert csrf, page.text
    return client.post(
        url, data={"csrf_token": csrf.group(1), **data}, headers={"origin": pair.base_url}
    )


def customer(pair: Pair) -> str:
    email = f"zwei-{uuid.uuid4().hex[:8]}@example.de"
    pair.sdk.v1.customers.create({"email": email, "name": "Zwei Instanzen GmbH"})
    return email


def link_for(pair: Pair, email: str) -> str:
    deadline = time.monotonic() + 10
    while time.monotonic() < deadline:
        for mail in pair.mailbox.messages():
            if email in mail.recipients:
                found = LINK.search(mail.part("text/plain") or "")
                assert found
                return found.group(1)
        time.sleep(0.05)
    raise AssertionError("no sign-in e-mail")


def test_a_link_requested_through_one_is_confirmed_through_the_other(pair: Pair) -> None:
    email = customer(pair)
    with browser_for(pair) as browser:
        assert post(browser, f"{pair.a}/sign-in", {"email": email}, pair).status_code == 303
        link = link_for(pair, email)
        browser.get(f"{pair.b}{link}")
        done = post(browser, f"{pair.b}/sign-in/confirm", {}, pair)
        assert done.status_code == 303
        assert browser.get(f"{pair.a}/").status_code == 200  # the session is shared too


def test_the_same_link_confirmed_on_both_at_once_signs_in_once(pair: Pair) -> None:
    email = customer(pair)
    with browser_for(pair) as browser:
        post(browser, f"{pair.a}/sign-in", {"email": email}, pair)
        link = link_for(pair, email)
        browser.get(f"{pair.a}{link}")
        page = browser.get(f"{pair.a}/sign-in/confirm")
        csrf = CSRF.search(page.text)
        assert csrf

        def confirm(url: str) -> httpx.Response:
            return browser.post(
                f"{url}/sign-in/confirm",
                data={"csrf_token": csrf.group(1)},
                headers={"origin": pair.base_url},
            )

        with concurrent.futures.ThreadPoolExecutor(2) as pool:
            answers = list(pool.map(confirm, [pair.a, pair.b]))
    signed_in = [a for a in answers if a.status_code == 303 and a.headers["location"].endswith("/")]
    assert len(signed_in) == 1, [(a.status_code, a.headers.get("location")) for a in answers]


def test_rate_limits_are_counted_across_both(pair: Pair) -> None:
    email = customer(pair)
    with browser_for(pair) as browser:
        statuses = [
            post(browser, f"{url}/sign-in", {"email": email}, pair).status_code
            for url in (pair.a, pair.b, pair.a, pair.b, pair.a, pair.b)
        ]
    assert statuses == [303] * 5 + [429]  # five sign-in e-mails per address and hour, in all


def test_a_webhook_received_by_one_is_seen_by_the_others_next_page(pair: Pair) -> None:
    email = customer(pair)
    with browser_for(pair) as browser:
        post(browser, f"{pair.a}/sign-in", {"email": email}, pair)
        browser.get(f"{pair.a}{link_for(pair, email)}")
        post(browser, f"{pair.a}/sign-in/confirm", {}, pair)
        assert 'value="Zwei Instanzen GmbH"' in browser.get(f"{pair.b}/account").text  # cached
        (found,) = pair.sdk.v1.customers.list({"email": email}).data
        pair.sdk.v1.customers.update(found.id, {"name": "Umbenannt AG"})
        assert 'value="Zwei Instanzen GmbH"' in browser.get(f"{pair.b}/account").text
        body, headers = signed(event("customer.updated", {"id": found.id, "object": "customer"}))
        webhook = httpx.post(
            f"{pair.a}/stripe/webhook", content=body, headers=headers | public(pair.base_url)
        )
        assert webhook.json()["received"]
        within_a_second(lambda: 'value="Umbenannt AG"' in browser.get(f"{pair.b}/account").text)


# -- what one instance changes, the other serves within a second --------------------------------


def within_a_second(seen: Callable[[], bool]) -> None:
    """`seen()` comes true within a second (PostgreSQL's notice to the other instance's
    listener: `portal.storage.kept`)."""
    start = time.monotonic()
    while not seen():
        assert time.monotonic() - start < 1.0, "still served as it was after a second"
        time.sleep(0.02)


def sign_in(pair: Pair, browser: httpx.Client, url: str, email: str) -> None:
    before = len([m for m in pair.mailbox.messages() if email in m.recipients])
    post(browser, f"{url}/sign-in", {"email": email}, pair)
    deadline = time.monotonic() + 10
    while len([m for m in pair.mailbox.messages() if email in m.recipients]) == before:
        assert time.monotonic() < deadline, "no sign-in e-mail"
        time.sleep(0.05)
    browser.get(f"{url}{link_for(pair, email)}")
    assert post(browser, f"{url}/sign-in/confirm", {}, pair).status_code == 303


def signed_in_on(browser: httpx.Client, url: str) -> bool:
    return browser.get(f"{url}/").status_code == 200


def test_signing_out_on_one_is_served_by_the_other_within_a_second(pair: Pair) -> None:
    """The session's cookie, kept by a second client (as a thief would): once the session is
    ended on A, B refuses it too."""
    email = customer(pair)
    with browser_for(pair) as browser, browser_for(pair) as thief:
        sign_in(pair, browser, pair.a, email)
        thief.cookies = httpx.Cookies(browser.cookies)
        assert signed_in_on(thief, pair.b)
        post(browser, f"{pair.a}/sign-out", {}, pair)
        within_a_second(lambda: not signed_in_on(thief, pair.b))


def test_an_email_change_on_one_ends_the_old_addresss_sessions_on_the_other(pair: Pair) -> None:
    email = customer(pair)
    new = f"neu-{uuid.uuid4().hex[:8]}@example.de"
    with browser_for(pair) as changing, browser_for(pair) as other, browser_for(pair) as phone:
        sign_in(pair, changing, pair.a, email)
        sign_in(pair, other, pair.b, email)
        assert signed_in_on(other, pair.b)
        assert post(changing, f"{pair.a}/account/email", {"email": new}, pair).status_code == 200
        deadline = time.monotonic() + 10
        confirm = None
        while confirm is None:
            assert time.monotonic() < deadline, "no confirmation e-mail"
            for mail in pair.mailbox.messages():
                if new in mail.recipients:
                    confirm = CONFIRM.search(mail.part("text/plain") or "")
            time.sleep(0.05)
        page = phone.get(f"{pair.a}{confirm.group(1)}")
        token = re.search(r'name="token" value="([^"]+)"', page.text)
        assert token
        done = post(phone, f"{pair.a}/account/email/confirm", {"token": token.group(1)}, pair)
        assert done.status_code == 200
        within_a_second(lambda: not signed_in_on(other, pair.b))


def test_a_payment_on_one_is_served_by_the_other_within_a_second(pair: Pair) -> None:
    email = customer(pair)
    (found,) = pair.sdk.v1.customers.list({"email": email}).data
    pm = pair.sdk.v1.payment_methods.attach("pm_card_visa", {"customer": found.id}).id
    invoice = pair.sdk.v1.invoices.create(
        {"customer": found.id, "collection_method": "send_invoice", "days_until_due": 14,
         "currency": "eur"}
    )  # fmt: skip
    assert invoice.id
    pair.sdk.v1.invoice_items.create(
        {"customer": found.id, "invoice": invoice.id, "amount": 4200, "currency": "eur"}
    )
    pair.sdk.v1.invoices.finalize_invoice(invoice.id)
    with browser_for(pair) as browser:
        sign_in(pair, browser, pair.a, email)
        to_pay = f'action="/invoices/{invoice.id}/pay"'
        assert to_pay in browser.get(f"{pair.b}/").text  # B keeps its page
        started = post(
            browser, f"{pair.a}/invoices/{invoice.id}/pay?what=whole", {"what": "whole"}, pair
        )
        path = started.headers["location"].removeprefix(pair.base_url)
        assert post(browser, f"{pair.a}{path}", {"payment_method": pm}, pair).status_code == 303
        within_a_second(lambda: to_pay not in browser.get(f"{pair.b}/").text)


async def cut_listener(database_url: str, pid: int) -> None:
    """End the listening connection of the instance running as `pid`, from the server's side."""
    url = make_url(database_url).set(drivername="postgresql")
    conn = await asyncpg.connect(url.render_as_string(hide_password=False))
    try:
        ended = await conn.fetchval(
            "SELECT count(pg_terminate_backend(pid)) FROM pg_stat_activity"
            " WHERE application_name = $1",
            kept.application_name(pid),
        )
        assert ended == 1
    finally:
        await conn.close()


def test_a_lost_listening_connection_makes_the_other_read_again(pair: Pair) -> None:
    """B's listening connection is cut while its rows are kept, and A's change lands at the same
    moment: B must not serve what it kept (it reads the database until it hears again)."""
    email = customer(pair)
    with browser_for(pair) as browser, browser_for(pair) as thief:
        sign_in(pair, browser, pair.a, email)
        thief.cookies = httpx.Cookies(browser.cookies)
        assert signed_in_on(thief, pair.b)
        asyncio.run(cut_listener(pair.database_url, pair.pids[1]))
        post(browser, f"{pair.a}/sign-out", {}, pair)
        within_a_second(lambda: not signed_in_on(thief, pair.b))


def test_one_invoice_paid_on_both_at_once_is_charged_once(pair: Pair, sandbox_url: str) -> None:
    """Two pages on one invoice, one on each instance, pressed at the same moment with Stripe
    slow: the claim in the shared database lets one charge through; Stripe's records agree."""
    email = customer(pair)
    (found,) = pair.sdk.v1.customers.list({"email": email}).data
    pm = pair.sdk.v1.payment_methods.attach("pm_card_visa", {"customer": found.id}).id
    preview = stripe.StripeClient(
        SANDBOX_KEY, base_addresses={"api": sandbox_url}, stripe_version=STRIPE_INVOICE_API_VERSION
    )
    now = int(time.time())
    invoice = preview.v1.invoices.create(
        {
            "customer": found.id,
            "collection_method": "send_invoice",
            "currency": "eur",
            "amounts_due": [  # type: ignore[typeddict-unknown-key]
                {"amount": 10000, "due_date": now + 5 * 86400},
                {"amount": 10000, "due_date": now + 35 * 86400},
            ],
        }
    )
    assert invoice.id
    preview.v1.invoice_items.create(
        {"customer": found.id, "invoice": invoice.id, "amount": 20000, "currency": "eur"}
    )
    preview.v1.invoices.finalize_invoice(invoice.id)
    control = httpx.Client(base_url=sandbox_url)
    with browser_for(pair) as browser:
        post(browser, f"{pair.a}/sign-in", {"email": email}, pair)
        browser.get(f"{pair.a}{link_for(pair, email)}")
        post(browser, f"{pair.a}/sign-in/confirm", {}, pair)
        pages = [
            post(
                browser,
                f"{url}/invoices/{invoice.id}/pay?what=next_installment",
                {"what": "next_installment"},
                pair,
            )
            .headers["location"]
            .removeprefix(pair.base_url)
            for url in (pair.a, pair.b)
        ]
        assert all(p.startswith("/payments/") for p in pages), pages
        page = browser.get(f"{pair.a}{pages[0]}")
        csrf = CSRF.search(page.text)
        assert csrf

        def press(url_and_page: tuple[str, str]) -> httpx.Response:
            url, path = url_and_page
            return browser.post(
                f"{url}{path}",
                data={"csrf_token": csrf.group(1), "payment_method": pm},
                headers={"origin": pair.base_url},
            )

        control.post("/_sandbox/latency", json={"ms": 300}).raise_for_status()
        try:
            with concurrent.futures.ThreadPoolExecutor(2) as pool:
                answers = list(pool.map(press, zip((pair.a, pair.b), pages, strict=True)))
        finally:
            control.post("/_sandbox/latency", json={"ms": 0})
            control.close()
        assert [a.status_code for a in answers] == [303, 303]
    intents = pair.sdk.v1.payment_intents.list({"customer": found.id, "limit": 100}).data
    assert sorted(i.amount for i in intents if i.status == "succeeded") == [10000]
    paid = pair.sdk.v1.invoice_payments.list({"invoice": invoice.id, "limit": 100}).data
    assert sum(p.amount_paid or 0 for p in paid if p.status == "paid") == 10000
    assert preview.v1.invoices.retrieve(invoice.id).amount_remaining == 10000
