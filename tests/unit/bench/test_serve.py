"""The portal made slower on purpose (portal_dev/bench/serve.py): a fixed amount of CPU per HTTP
request, nothing else changed."""

from __future__ import annotations

import contextlib
import time
from collections.abc import AsyncIterator

import pytest
from starlette.applications import Starlette
from starlette.requests import Request
from starlette.responses import PlainTextResponse
from starlette.routing import Route
from starlette.testclient import TestClient

from portal_dev.bench.serve import BurnCpu


async def hello(request: Request) -> PlainTextResponse:
    return PlainTextResponse("hello")


@pytest.mark.parametrize("burn_ms", [0, 20])
def test_each_request_costs_the_burnt_cpu_and_answers_the_same(burn_ms: int) -> None:
    started_up = []

    @contextlib.asynccontextmanager
    async def lifespan(app: Starlette) -> AsyncIterator[None]:
        started_up.append(True)
        yield

    app = Starlette(routes=[Route("/", hello)], lifespan=lifespan)
    with TestClient(BurnCpu(app, burn_ms / 1000)) as client:
        before = time.process_time()
        answers = [client.get("/") for _ in range(5)]
        spent = time.process_time() - before
    assert started_up == [True]  # the lifespan goes through
    assert [a.text for a in answers] == ["hello"] * 5
    assert spent >= 5 * burn_ms / 1000
