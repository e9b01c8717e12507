"""Stripe's webhook endpoint: verify, record, handle once (`portal.billing.inbox`).

The signature is checked on the raw body before anything else. The event is recorded before it
is handled, and the answer waits for its handling at most `inbox.ANSWER_WITHIN`: a 200 when it
was handled by then (a 503 when Stripe could not be reached, so that Stripe delivers it again
as well), a 202 when handling goes on after the answer or is left to the worker. What each event type does is in
`portal.billing.events`.
"""

from __future__ import annotations

import asyncio
import logging
from datetime import UTC, datetime

from starlette.requests import Request
from starlette.responses import JSONResponse, Response

from portal.billing import inbox
from portal.services import services
from portal.stripe.errors import WebhookMalformed, WebhookSignatureInvalid

log = logging.getLogger(__name__)


async def receive(request: Request) -> Response:
    svc = services(request)
    payload = await request.body()  # its size is limited by portal.limits
    try:
        event = svc.gateway.verify_webhook(
            payload, request.headers.get("stripe-signature"), svc.settings.stripe_webhook_secret
        )
    except WebhookSignatureInvalid:
        log.warning("webhook with an invalid signature refused")
        return JSONResponse({"error": "invalid signature"}, status_code=400)
    except WebhookMalformed as exc:  # nothing of it is recorded: it is no event to act on
        log.warning("signed webhook whose body is not an event refused: %s", exc)
        return JSONResponse({"error": "not an event"}, status_code=400)
    recorded = await inbox.record(svc, event, datetime.now(UTC))
    if recorded == "duplicate":
        return JSONResponse({"received": True, "duplicate": True})
    if recorded == "queued":  # this process is busy: its worker takes it up as room frees
        inbox.wake(svc.engine)
        return JSONResponse({"received": True, "duplicate": False}, status_code=202)
    handling = inbox.start(svc, event)
    done, _ = await asyncio.wait({handling}, timeout=inbox.ANSWER_WITHIN.total_seconds())
    if not done:
        return JSONResponse({"received": True, "duplicate": False}, status_code=202)
    handled = handling.result()  # Stripe unreachable: raised, answered 503
    return JSONResponse({"received": True, "duplicate": not handled.first})
