"""Stripe's real shapes of the flows, through the official SDK and plain HTTP: the invoice PDF
behind a redirect, 3-D Secure and Checkout on origins of their own, automatic payment methods,
idempotency keys in flight and after 24 hours, the Search API's lag, and rate limits."""

from __future__ import annotations

import concurrent.futures
import time
from collections.abc import Iterator

import httpx
import pytest
import stripe
from stripe.params import PaymentIntentCreateParams

from stripe_sandbox.app import SandboxConfig
from tests.functional.sandbox.sandbox_helpers import (
    API_KEY,
    FAST_RETRIES,
    Sandbox,
    customer_with_card,
    new_customer,
    open_invoice,
    sdk_client,
)
from tests.support.servers import SandboxUrls, serve_sandbox

RETURN_URL = "https://shop.example/back"
SEARCH_DELAY_S = 30.0


@pytest.fixture(scope="module")
def urls() -> Iterator[SandboxUrls]:
    with serve_sandbox(SandboxConfig(webhook_retry_delays=FAST_RETRIES)) as found:
        yield found


@pytest.fixture(scope="module")
def sandbox(urls: SandboxUrls) -> Iterator[Sandbox]:
    with sdk_client(urls.api) as client:
        yield Sandbox(urls.api, client)


@pytest.fixture
def client(sandbox: Sandbox) -> stripe.StripeClient:
    return sandbox.client


def _creations(sandbox: Sandbox) -> int:
    by_endpoint = sandbox.control("GET", "stats").json()["by_endpoint"]
    return int(by_endpoint.get("POST /v1/customers", 0))


def _wait_for_arrival(sandbox: Sandbox, before: int) -> None:
    """Until the sandbox has counted one more customer creation: the first request holds its
    key from then on (counting and claiming happen in one step)."""
    deadline = time.monotonic() + 10
    while _creations(sandbox) <= before:
        assert time.monotonic() < deadline, "the first request never arrived"
        time.sleep(0.01)


def _post(url: str, data: dict[str, str], key: str) -> httpx.Response:
    headers = {"Authorization": f"Bearer {API_KEY}", "Idempotency-Key": key}
    return httpx.post(url, data=data, headers=headers, timeout=30)


# -- the invoice PDF ---------------------------------------------------------------------------


def test_invoice_pdf_redirects_to_the_file_on_the_files_origin(
    client: stripe.StripeClient, urls: SandboxUrls
) -> None:
    invoice = open_invoice(client, new_customer(client).id, amount=4321)
    assert invoice.invoice_pdf is not None
    assert invoice.invoice_pdf.startswith(f"{urls.api}/invoice/")
    first = httpx.get(invoice.invoice_pdf)
    assert first.status_code == 302
    location = first.headers["location"]
    assert location.startswith(f"{urls.files}/files/")
    followed = httpx.get(invoice.invoice_pdf, follow_redirects=True)
    assert followed.status_code == 200
    assert followed.headers["content-type"] == "application/pdf"
    assert followed.content.startswith(b"%PDF")
    # The file itself is not on the API's origin.
    assert httpx.get(location.replace(urls.files, urls.api)).status_code == 404


def test_a_draft_has_no_pdf_to_redirect_to(client: stripe.StripeClient, urls: SandboxUrls) -> None:
    customer = new_customer(client)
    draft = client.v1.invoices.create(
        {"customer": customer.id, "collection_method": "send_invoice", "days_until_due": 14}
    )
    assert draft.invoice_pdf is None
    assert httpx.get(f"{urls.api}/invoice/{draft.id}/pdf").status_code == 404


# -- separate origins --------------------------------------------------------------------------


def test_3d_secure_lives_on_its_own_origin(client: stripe.StripeClient, urls: SandboxUrls) -> None:
    customer, pm = customer_with_card(client, "pm_card_threeDSecure2Required")
    pi = client.v1.payment_intents.create(
        {"amount": 4200, "currency": "eur", "customer": customer.id, "payment_method": pm.id,
         "confirm": True, "return_url": RETURN_URL}
    )  # fmt: skip
    assert pi.status == "requires_action"
    assert pi.next_action is not None
    assert pi.next_action.redirect_to_url is not None
    url = pi.next_action.redirect_to_url.url
    assert url is not None
    assert url == f"{urls.hooks}/3ds/{pi.id}"
    assert httpx.get(url).status_code == 200
    for wrong in (urls.api, urls.checkout, urls.files):
        assert httpx.get(url.replace(urls.hooks, wrong)).status_code == 404, wrong
        assert httpx.post(url.replace(urls.hooks, wrong), data={}).status_code == 404, wrong
    done = httpx.post(url, data={"outcome": "complete"})
    assert done.status_code == 303
    assert done.headers["location"].startswith(f"{RETURN_URL}?payment_intent={pi.id}")
    assert client.v1.payment_intents.retrieve(pi.id).status == "succeeded"


def test_checkout_lives_on_its_own_origin(client: stripe.StripeClient, urls: SandboxUrls) -> None:
    customer = new_customer(client)
    session = client.v1.checkout.sessions.create(
        {"mode": "setup", "customer": customer.id, "currency": "eur",
         "success_url": "https://shop.example/done?s={CHECKOUT_SESSION_ID}",
         "cancel_url": "https://shop.example/cancel"}
    )  # fmt: skip
    assert session.url == f"{urls.checkout}/c/pay/{session.id}"
    assert httpx.get(session.url).status_code == 200
    assert httpx.get(session.url.replace(urls.checkout, urls.api)).status_code == 404
    assert httpx.get(session.url.replace(urls.checkout, urls.hooks)).status_code == 404


def test_the_other_origins_do_not_serve_the_api(urls: SandboxUrls) -> None:
    auth = (API_KEY, "")
    assert httpx.get(f"{urls.api}/v1/customers", auth=auth).status_code == 200
    for other in (urls.hooks, urls.checkout, urls.files):
        assert httpx.get(f"{other}/v1/customers", auth=auth).status_code == 404, other
        assert httpx.get(f"{other}/_sandbox/healthz").status_code == 404, other


def test_one_origin_for_everything_without_surface_urls() -> None:
    """Without hooks/checkout/files URLs the sandbox stays on one origin, as before."""
    from stripe_sandbox.app import create_sandbox_app
    from tests.support.servers import serve_in_thread

    with serve_in_thread(create_sandbox_app(SandboxConfig())) as url, sdk_client(url) as sdk:
        customer, pm = customer_with_card(sdk, "pm_card_threeDSecure2Required")
        pi = sdk.v1.payment_intents.create(
            {"amount": 4200, "currency": "eur", "customer": customer.id,
             "payment_method": pm.id, "confirm": True, "return_url": RETURN_URL}
        )  # fmt: skip
        assert pi.next_action is not None
        assert pi.next_action.redirect_to_url is not None
        assert pi.next_action.redirect_to_url.url == f"{url}/3ds/{pi.id}"
        assert httpx.get(f"{url}/3ds/{pi.id}").status_code == 200


# -- automatic payment methods -----------------------------------------------------------------


def test_intents_default_to_automatic_payment_methods(client: stripe.StripeClient) -> None:
    euros = client.v1.payment_intents.create({"amount": 1000, "currency": "eur"})
    assert euros.automatic_payment_methods is not None
    assert euros.automatic_payment_methods.enabled is True
    assert euros.automatic_payment_methods.allow_redirects == "always"
    assert euros.payment_method_types == ["card", "sepa_debit", "ideal"]
    dollars = client.v1.payment_intents.create({"amount": 1000, "currency": "usd"})
    assert dollars.payment_method_types == ["card"]
    never = client.v1.payment_intents.create(
        {"amount": 1000, "currency": "eur",
         "automatic_payment_methods": {"enabled": True, "allow_redirects": "never"}}
    )  # fmt: skip
    assert never.automatic_payment_methods is not None
    assert never.automatic_payment_methods.allow_redirects == "never"
    assert never.payment_method_types == ["card", "sepa_debit"]  # iDEAL redirects
    setup = client.v1.setup_intents.create({"customer": new_customer(client).id})
    assert setup.automatic_payment_methods is not None
    assert setup.automatic_payment_methods.enabled is True
    assert setup.payment_method_types == ["card", "sepa_debit"]


def test_allowed_payment_method_types_narrow_the_automatic_ones(
    client: stripe.StripeClient,
) -> None:
    cards = client.v1.payment_intents.create(
        {"amount": 1000, "currency": "eur", "allowed_payment_method_types": ["card"]}
    )
    assert cards.payment_method_types == ["card"]


def test_confirming_without_return_url_is_refused(client: stripe.StripeClient) -> None:
    customer, pm = customer_with_card(client)
    params = {"amount": 1500, "currency": "eur", "customer": customer.id, "payment_method": pm.id}
    pi = client.v1.payment_intents.create(params)  # type: ignore[arg-type]
    with pytest.raises(stripe.InvalidRequestError) as refused:
        client.v1.payment_intents.confirm(pi.id)
    assert refused.value.http_status == 400
    assert "A `return_url` must be specified" in str(refused.value.user_message)
    assert client.v1.payment_intents.retrieve(pi.id).status == "requires_confirmation"
    with pytest.raises(stripe.InvalidRequestError):
        client.v1.payment_intents.create({**params, "confirm": True})  # type: ignore[typeddict-item]
    confirmed = client.v1.payment_intents.confirm(pi.id, {"return_url": RETURN_URL})
    assert confirmed.status == "succeeded"


def test_no_return_url_needed_off_session_or_without_redirects(
    client: stripe.StripeClient,
) -> None:
    customer, pm = customer_with_card(client)
    base: PaymentIntentCreateParams = {
        "amount": 1500,
        "currency": "eur",
        "customer": customer.id,
        "payment_method": pm.id,
        "confirm": True,
    }
    off = client.v1.payment_intents.create({**base, "off_session": True})
    assert off.status == "succeeded"
    never = client.v1.payment_intents.create(
        {**base, "automatic_payment_methods": {"enabled": True, "allow_redirects": "never"}}
    )
    assert never.status == "succeeded"


def test_paying_an_invoice_needs_no_return_url(client: stripe.StripeClient) -> None:
    """`invoices.pay` confirms the invoice's own PaymentIntent, which follows the invoice's
    payment settings rather than automatic payment methods."""
    customer, pm = customer_with_card(client)
    invoice = open_invoice(client, customer.id)
    paid = client.v1.invoices.pay(invoice.id, {"payment_method": pm.id})
    assert paid.status == "paid"
    payments = client.v1.invoice_payments.list({"invoice": invoice.id}).data
    intent_id = payments[0].payment.payment_intent
    assert isinstance(intent_id, str)
    intent = client.v1.payment_intents.retrieve(intent_id)
    assert intent.automatic_payment_methods is None


# -- idempotency -------------------------------------------------------------------------------


def test_a_key_still_in_flight_is_refused_with_409(sandbox: Sandbox) -> None:
    key = f"in-flight-{time.monotonic_ns()}"
    url = f"{sandbox.url}/v1/customers"
    # The latency stands for Stripe's processing time: the first request holds its key for it.
    sandbox.control("POST", "latency", {"ms": 1500})
    with concurrent.futures.ThreadPoolExecutor(max_workers=1) as pool:
        try:
            before = _creations(sandbox)
            pending = pool.submit(_post, url, {"name": "A"}, key)
            _wait_for_arrival(sandbox, before)
            started = time.monotonic()
            second = _post(url, {"name": "A"}, key)
            # Answered at once, not after waiting for the first request.
            assert time.monotonic() - started < 1.0
            first = pending.result()
        finally:
            sandbox.control("POST", "latency", {"ms": 0})
    assert second.status_code == 409
    assert first.status_code == 200
    error = second.json()["error"]
    assert error["code"] == "idempotency_key_in_use"
    assert error["type"] == "invalid_request_error"
    assert key in error["message"]
    replay = _post(url, {"name": "A"}, key)
    assert replay.headers["idempotent-replayed"] == "true"
    assert replay.json()["id"] == first.json()["id"]


def test_the_sdk_raises_api_error_for_a_key_in_flight(sandbox: Sandbox) -> None:
    """stripe-python maps 409 to APIError (and retries it when network retries are on)."""
    key = f"sdk-in-flight-{time.monotonic_ns()}"
    sandbox.control("POST", "latency", {"ms": 1500})
    with concurrent.futures.ThreadPoolExecutor(max_workers=1) as pool:
        try:
            before = _creations(sandbox)
            first = pool.submit(_post, f"{sandbox.url}/v1/customers", {"name": "B"}, key)
            _wait_for_arrival(sandbox, before)
            with pytest.raises(stripe.APIError) as caught:
                sandbox.client.v1.customers.create({"name": "B"}, {"idempotency_key": key})
            assert first.result().status_code == 200
        finally:
            sandbox.control("POST", "latency", {"ms": 0})
    assert caught.value.http_status == 409
    assert caught.value.error is not None
    assert caught.value.error.code == "idempotency_key_in_use"


def test_keys_expire_after_24_hours_on_the_sandbox_clock(sandbox: Sandbox) -> None:
    key = f"day-{time.monotonic_ns()}"
    url = f"{sandbox.url}/v1/customers"
    first = _post(url, {"name": "Tag"}, key)
    assert first.status_code == 200
    try:
        sandbox.control("POST", "clock", {"advance": 24 * 3600 - 60})
        before = _post(url, {"name": "Tag"}, key)
        assert before.headers.get("idempotent-replayed") == "true"
        assert before.json()["id"] == first.json()["id"]
        sandbox.control("POST", "clock", {"advance": 120})
        after = _post(url, {"name": "Tag"}, key)
        assert after.status_code == 200
        assert "idempotent-replayed" not in after.headers
        assert after.json()["id"] != first.json()["id"]
        # The key now belongs to the new request.
        again = _post(url, {"name": "Tag"}, key)
        assert again.json()["id"] == after.json()["id"]
    finally:
        sandbox.control("POST", "clock", {"reset": True})


# -- search's lag ------------------------------------------------------------------------------


@pytest.fixture(scope="module")
def lagging() -> Iterator[Sandbox]:
    config = SandboxConfig(search_delay_s=SEARCH_DELAY_S)
    with serve_sandbox(config) as found, sdk_client(found.api) as sdk:
        yield Sandbox(found.api, sdk)


def _found(sandbox: Sandbox, query: str) -> list[str]:
    return [c.id for c in sandbox.client.v1.customers.search({"query": query}).data]


def test_search_finds_new_and_changed_objects_only_after_the_delay(lagging: Sandbox) -> None:
    client = lagging.client
    tag = f"lag{time.monotonic_ns()}"
    customer = client.v1.customers.create({"name": "Lena", "metadata": {"tag": tag}})
    query = f"metadata['tag']:'{tag}'"
    try:
        assert _found(lagging, query) == []  # not indexed yet
        assert client.v1.customers.retrieve(customer.id).name == "Lena"  # reads are current
        lagging.control("POST", "clock", {"advance": SEARCH_DELAY_S + 1})
        assert _found(lagging, query) == [customer.id]
        client.v1.customers.update(customer.id, {"name": "Lenka"})
        assert _found(lagging, f"name:'Lenka' AND {query}") == []
        assert _found(lagging, f"name:'Lena' AND {query}") == [customer.id]  # the old state
        lagging.control("POST", "clock", {"advance": SEARCH_DELAY_S + 1})
        assert _found(lagging, f"name:'Lenka' AND {query}") == [customer.id]
        assert _found(lagging, f"name:'Lena' AND {query}") == []
    finally:
        lagging.control("POST", "clock", {"reset": True})


def test_lists_do_not_lag(lagging: Sandbox) -> None:
    email = f"list-{time.monotonic_ns()}@example.com"
    created = lagging.client.v1.customers.create({"email": email})
    listed = lagging.client.v1.customers.list({"email": email}).data
    assert [c.id for c in listed] == [created.id]


# -- rate limits -------------------------------------------------------------------------------


def test_rate_limit_answers_429_through_the_sdk(sandbox: Sandbox) -> None:
    client = sandbox.client  # max_network_retries=0: the SDK would not retry a 429 anyway
    sandbox.control("POST", "rate_limit", {"per_second": 3})
    try:
        for _ in range(3):
            client.v1.customers.list({"limit": 1})
        with pytest.raises(stripe.RateLimitError) as limited:
            client.v1.customers.list({"limit": 1})
        assert limited.value.http_status == 429
        assert limited.value.error is not None
        assert limited.value.error.code == "rate_limit"
        assert limited.value.error.type == "invalid_request_error"
        headers = limited.value.headers or {}
        assert headers.get("Stripe-Rate-Limited-Reason") == "global-rate"
        assert headers.get("Request-Id", "").startswith("req_")
        time.sleep(1.05)  # the window has passed
        assert isinstance(client.v1.customers.list({"limit": 1}).data, list)
    finally:
        sandbox.control("POST", "rate_limit", {"per_second": None})
    for _ in range(10):
        client.v1.customers.list({"limit": 1})


def test_search_has_its_own_rate_limit(sandbox: Sandbox) -> None:
    client = sandbox.client
    state = sandbox.control(
        "POST", "rate_limit", {"per_second": 100, "search_per_second": 2}
    ).json()
    assert state == {"per_second": 100.0, "search_per_second": 2.0}
    try:
        for _ in range(2):
            client.v1.customers.search({"query": "name:'x'"})
        with pytest.raises(stripe.RateLimitError) as limited:
            client.v1.customers.search({"query": "name:'x'"})
        assert (limited.value.headers or {}).get("Stripe-Rate-Limited-Reason") == "endpoint-rate"
        assert isinstance(client.v1.customers.list({"limit": 1}).data, list)  # lists still answer
    finally:
        sandbox.control("POST", "rate_limit", {"per_second": None, "search_per_second": 20})


def test_rate_limit_from_the_config() -> None:
    with serve_sandbox(SandboxConfig(rate_limit=2)) as found, sdk_client(found.api) as sdk:
        sdk.v1.customers.list()
        sdk.v1.customers.list()
        with pytest.raises(stripe.RateLimitError):
            sdk.v1.customers.list()
        assert httpx.get(f"{found.api}/_sandbox/rate_limit").json()["per_second"] == 2.0
