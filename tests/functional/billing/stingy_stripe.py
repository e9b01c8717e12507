"""A proxy in front of the sandbox that answers as Stripe may where the sandbox is kinder.

The sandbox's `invoice_payment_intent_requires_action` error carries the invoice's
PaymentIntent; Stripe's need not (its documentation sends integrations to the invoice's
payments instead). The proxy passes every request through, Host header included, so the URLs
the sandbox hands out (its 3-D Secure page) lead back through the proxy, and takes
`payment_intent` out of that one error.
"""

from __future__ import annotations

import contextlib
import json
from collections.abc import Iterator
from dataclasses import dataclass, field

import httpx
from starlette.applications import Starlette
from starlette.requests import Request
from starlette.responses import Response
from starlette.routing import Route

from tests.support.servers import serve_in_thread

# Hop-by-hop or recomputed headers, not copied from one side to the other.
_SKIPPED = {"content-length", "content-encoding", "transfer-encoding", "connection"}


@dataclass
class Stingy:
    url: str
    stripped: list[str] = field(default_factory=list)  # the errors it took a PaymentIntent out of


@contextlib.contextmanager
def stingy_stripe(upstream: str) -> Iterator[Stingy]:
    stingy = Stingy("")

    async def forward(request: Request) -> Response:
        headers = [(k, v) for k, v in request.headers.items() if k.lower() not in _SKIPPED]
        async with httpx.AsyncClient(base_url=upstream, timeout=30) as client:
            answer = await client.request(
                request.method,
                request.url.path,
                params=request.query_params,
                content=await request.body(),
                headers=headers,
            )
        content = answer.content
        if answer.status_code == 402:
            body = json.loads(content)
            error = body.get("error", {})
            if error.get("code") == "invoice_payment_intent_requires_action":
                if error.pop("payment_intent", None) is not None:
                    stingy.stripped.append(request.url.path)
                content = json.dumps(body).encode()
        kept = {k: v for k, v in answer.headers.items() if k.lower() not in _SKIPPED}
        return Response(content, answer.status_code, kept)

    methods = ["GET", "POST", "DELETE"]
    app = Starlette(routes=[Route("/{path:path}", forward, methods=methods)])
    with serve_in_thread(app) as url:
        stingy.url = url
        yield stingy
