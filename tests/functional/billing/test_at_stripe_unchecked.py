"""A payment at Stripe's Checkout page that Stripe will not tell about (its session cannot be
read or ended, the request times out): every page of it says it could not be checked, that a
payment made there is safe, and leads to checking again; never that nothing was charged."""

from __future__ import annotations

import uuid
from collections.abc import Callable, Iterator

import httpx
import pytest
from sqlalchemy import select

from portal import i18n
from portal.storage.tables import payments
from stripe_sandbox.app import SandboxConfig, create_sandbox_app
from tests.functional.billing.billing_support import (
    at_stripe,
    back_from_stripe,
    charged,
    checkout_session_id,
    customer_with_card,
    follow,
    open_pay_page,
    pay_with_ideal,
    signed_in,
)
from tests.functional.billing.test_debits import statuses
from tests.functional.portal_support import Browser, Portal, serve_portal, text_of
from tests.support.servers import serve_in_thread

SESSION_READ = "GET /v1/checkout/sessions/{session}"
SESSION_EXPIRE = "POST /v1/checkout/sessions/{session}/expire"

NOT_REACHED = (
    "We could not reach Stripe to check this payment. If you paid on Stripe's page, your "
    "payment is safe and will be counted on your invoice; nothing will be charged twice. "
    "Please check again in a moment."
)
WENT_WRONG = (
    "Something went wrong while we were checking this payment. If you paid on Stripe's page, "
    "your payment is safe and will be counted on your invoice; nothing will be charged twice. "
    "Please check again in a moment."
)
NOTHING_CHARGED = (
    "Our payment provider cannot be reached right now. Nothing was changed or charged. "
    "Please try again in a few minutes."
)


def _de(text: str) -> str:
    with i18n.use_locale("de"):
        return i18n.gettext(text)


def _to_stripes_page(portal: Portal, amount: int) -> tuple[Browser, str, str, str]:
    """A customer who chose "another way to pay": the browser, the customer, the payment and
    Stripe's page."""
    email = f"unklar-{uuid.uuid4().hex[:8]}@example.de"
    customer = portal.customer(email=email, locale="de")
    invoice = portal.invoice(customer, amount=amount).id
    browser = signed_in(portal, email)
    action = open_pay_page(browser, invoice, "whole")
    checkout = at_stripe(browser, browser.post(action, {"payment_method": "stripe"}))
    return browser, customer, action.rsplit("/", 1)[1], checkout


Step = Callable[[Browser, str, str], httpx.Response]
STEPS: dict[str, Step] = {
    "page": lambda browser, payment, _session: browser.get(f"/payments/{payment}"),
    "check": lambda browser, payment, _session: browser.post(f"/payments/{payment}/check"),
    "another way": lambda browser, payment, _session: browser.post(
        f"/payments/{payment}/another-way"
    ),
    "continue on stripe": lambda browser, payment, session: browser.get(
        f"/payments/{payment}/checkout/{session}"
    ),
    "back from stripe": lambda browser, payment, session: browser.get(
        f"/payments/{payment}/paid-at-stripe?session_id={session}"
    ),
}


def _not_checked(answer: httpx.Response, payment_id: str) -> None:
    assert answer.status_code == 503, answer.text
    text = text_of(answer)
    assert _de(NOT_REACHED) in text
    assert _de(NOTHING_CHARGED) not in text
    assert _de("Nothing was charged") not in text
    assert f'href="/payments/{payment_id}"' in answer.text  # "check again": the payment's page
    assert answer.headers["Retry-After"] == "30"


def _fail(control: httpx.Client, *matches: str) -> None:
    for match in matches:
        control.post("/_sandbox/faults", json={"status": 500, "count": 100, "match": match})


@pytest.mark.parametrize("paid", [True, False], ids=["paid", "not paid"])
@pytest.mark.parametrize("step", list(STEPS))
def test_a_session_stripe_cannot_tell_about_is_never_said_to_have_charged_nothing(
    portal: Portal, stripe_faults: httpx.Client, step: str, paid: bool
) -> None:
    browser, customer, payment_id, checkout = _to_stripes_page(portal, 4100)
    if paid:
        pay_with_ideal(checkout)  # paid; the browser never comes back
    _fail(stripe_faults, SESSION_READ, SESSION_EXPIRE)
    _not_checked(STEPS[step](browser, payment_id, checkout_session_id(checkout)), payment_id)
    stripe_faults.post("/_sandbox/faults/clear")
    # Checking again once Stripe answers: the payment as it is, counted once when paid.
    again = browser.get(f"/payments/{payment_id}")
    assert again.status_code == 200
    if paid:
        assert _de("Your payment is being processed") in text_of(again)
        done = follow(browser, browser.post(f"/payments/{payment_id}/check"))
        assert _de("Thank you for your payment") in text_of(done)
        assert charged(portal, customer) == [4100]
    else:
        assert _de("Finish paying on Stripe's page") in text_of(again)
        assert charged(portal, customer) == []


def test_stripe_refusing_the_session_read_says_the_payment_is_safe_all_the_same(
    portal: Portal, stripe_faults: httpx.Client
) -> None:
    """Not an outage but an error (Stripe refuses the read): not "could not reach", and
    still never "nothing was charged"."""
    browser, customer, payment_id, checkout = _to_stripes_page(portal, 4150)
    pay_with_ideal(checkout)
    stripe_faults.post("/_sandbox/faults", json={"status": 400, "count": 10, "match": SESSION_READ})
    answer = browser.get(f"/payments/{payment_id}")
    assert answer.status_code == 503
    assert _de(WENT_WRONG) in text_of(answer)
    assert _de(NOT_REACHED) not in text_of(answer)
    assert _de(NOTHING_CHARGED) not in text_of(answer)
    assert f'href="/payments/{payment_id}"' in answer.text
    stripe_faults.post("/_sandbox/faults/clear")
    done = follow(browser, browser.post(f"/payments/{payment_id}/check"))
    assert _de("Thank you for your payment") in text_of(done)
    assert charged(portal, customer) == [4150]


def test_another_way_ends_an_unpaid_session_even_when_it_cannot_be_read(
    portal: Portal, stripe_faults: httpx.Client
) -> None:
    """Ending the session at Stripe is the answer that counts: once it has ended unpaid,
    nothing can be paid on it, and the choice is offered again (truly nothing charged)."""
    browser, customer, payment_id, checkout = _to_stripes_page(portal, 4200)
    _fail(stripe_faults, SESSION_READ)
    chosen = follow(browser, browser.post(f"/payments/{payment_id}/another-way"))
    assert chosen.status_code == 200
    assert 'name="payment_method" value="stripe"' in chosen.text
    assert statuses(portal, payment_id) == [("pending", None)]
    stripe_faults.post("/_sandbox/faults/clear")
    session = portal.sdk.v1.checkout.sessions.retrieve(checkout_session_id(checkout))
    assert session.status == "expired"
    assert charged(portal, customer) == []


@pytest.fixture(scope="module")
def own_sandbox() -> Iterator[str]:
    """A sandbox for this module's slow and rate-limited Stripe, disturbing no other test."""
    with serve_in_thread(create_sandbox_app(SandboxConfig())) as url:
        yield url


@pytest.fixture
def own_control(own_sandbox: str) -> Iterator[httpx.Client]:
    control = httpx.Client(base_url=own_sandbox)
    yield control
    control.post("/_sandbox/latency", json={"ms": 0})
    control.post("/_sandbox/rate_limit", json={"per_second": None})
    control.close()


@pytest.fixture(scope="module")
def impatient(own_sandbox: str, tmp_path_factory: pytest.TempPathFactory) -> Iterator[Portal]:
    """A portal that waits half a second for Stripe's answers."""
    with serve_portal(
        tmp_path_factory.mktemp("impatient"), own_sandbox, stripe_timeout=0.5
    ) as found:
        yield found


def test_paid_on_stripes_page_and_stripe_timing_out_says_the_payment_is_safe(
    impatient: Portal, own_control: httpx.Client
) -> None:
    """Issue 22's case: paid at Stripe, not back, and Stripe's answers time out: the page and
    "another way" say it could not be checked, not that nothing was charged; counted once
    Stripe answers again."""
    portal = impatient
    browser, customer, payment_id, checkout = _to_stripes_page(portal, 4300)
    session = checkout_session_id(checkout)
    pay_with_ideal(checkout)
    own_control.post("/_sandbox/latency", json={"ms": 1500})
    for step in ("page", "another way", "check"):
        _not_checked(STEPS[step](browser, payment_id, session), payment_id)
    own_control.post("/_sandbox/latency", json={"ms": 0})
    done = follow(browser, browser.post(f"/payments/{payment_id}/check"))
    assert _de("Thank you for your payment") in text_of(done)
    assert charged(portal, customer) == [4300]


def test_stripe_refusing_the_invoices_fresh_read_leaves_the_payment_as_before(
    impatient: Portal, own_control: httpx.Client
) -> None:
    """Going to Stripe's page reads the invoice twice: for its number, then afresh under the
    invoice's claim. Stripe's rate limit refusing the second: nothing is held, the page says
    nothing was charged (true: no session was made), and the same payment goes to Stripe's
    page after."""
    portal = impatient
    email = f"frisch-{uuid.uuid4().hex[:8]}@example.de"
    customer = portal.customer(email=email, locale="de")
    invoice = portal.invoice(customer, amount=4400).id
    browser = signed_in(portal, email)
    action = open_pay_page(browser, invoice, "whole")
    payment_id = action.rsplit("/", 1)[1]
    own_control.post("/_sandbox/rate_limit", json={"per_second": 1})
    down = browser.post(action, {"payment_method": "stripe"})
    own_control.post("/_sandbox/rate_limit", json={"per_second": None})
    assert down.status_code == 503
    assert _de("Very busy right now") in text_of(down)
    with portal.db.connect() as conn:
        status = conn.execute(select(payments.c.status).where(payments.c.id == payment_id))
        assert status.scalar_one() == "pending"
    assert statuses(portal, payment_id) == [("pending", None)]
    again = at_stripe(browser, browser.post(action, {"payment_method": "stripe"}))
    result = back_from_stripe(browser, pay_with_ideal(again))
    assert _de("Thank you for your payment") in text_of(result)
    assert charged(portal, customer) == [4400]


def test_pages_stripe_cannot_show_after_a_payment_never_say_nothing_was_charged(
    portal: Portal, stripe_faults: httpx.Client
) -> None:
    """A paid payment's page, its invoice and the overview, with Stripe down and nothing kept
    to show (the payment ended what was kept): "this page cannot be shown", not "nothing was
    changed or charged" next to money that was."""
    email, customer, method = customer_with_card(portal)
    invoice = portal.invoice(customer, amount=4200).id
    browser = signed_in(portal, email)
    action = open_pay_page(browser, invoice, "whole")
    paid = follow(browser, browser.post(action, {"payment_method": method}))
    assert _de("Thank you for your payment") in text_of(paid)
    stripe_faults.post("/_sandbox/faults", json={"status": 503, "count": 50})
    for path in (paid.url.path, f"/invoices/{invoice}", "/"):
        page = browser.get(path)
        assert page.status_code == 503, path
        assert _de(
            "Our payment provider cannot be reached right now, so this page cannot be shown. Please try again in a few minutes."
        ) in text_of(page)
        assert _de(NOTHING_CHARGED) not in text_of(page)
    stripe_faults.post("/_sandbox/faults/clear")
    assert charged(portal, customer) == [4200]
