"""Fixtures for the sandbox's functional tests: a real sandbox server, the official SDK pointed at
it, and a tiny webhook receiver that records what it is sent."""

from __future__ import annotations

from collections.abc import Iterator

import pytest
import stripe
from starlette.applications import Starlette
from starlette.requests import Request
from starlette.responses import Response
from starlette.routing import Route

from stripe_sandbox.app import SandboxConfig
from tests.functional.sandbox.sandbox_helpers import FAST_RETRIES, Receiver, Sandbox, sdk_client
from tests.support.servers import serve_in_thread, serve_sandbox


@pytest.fixture(scope="module")
def sandbox() -> Iterator[Sandbox]:
    # 3-D Secure, Checkout and files on origins of their own, as at Stripe.
    config = SandboxConfig(webhook_retry_delays=FAST_RETRIES)
    with serve_sandbox(config) as urls, sdk_client(urls.api) as client:
        yield Sandbox(urls.api, client)


@pytest.fixture
def stripe_client(sandbox: Sandbox) -> stripe.StripeClient:
    return sandbox.client


@pytest.fixture
def receiver() -> Iterator[Receiver]:
    state = Receiver()

    async def hook(request: Request) -> Response:
        body = await request.body()
        with state.lock:
            state.attempts += 1
            if state.attempts <= state.fail_first:
                return Response("not now", 500)
            state.deliveries.append((body, dict(request.headers)))
        return Response("ok")

    app = Starlette(routes=[Route("/hook", hook, methods=["POST"])])
    with serve_in_thread(app) as url:
        state.url = f"{url}/hook"
        yield state
