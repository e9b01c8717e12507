"""Stripe's webhook endpoint: verify, record once, act.

The signature is checked on the raw body before anything else. Each event id is inserted into
`webhook_events` in the same transaction as the event's effects, so an event delivered twice,
even at the same moment to two instances, takes effect once. Events carry a snapshot that may be
stale by the time it arrives (Stripe does not order deliveries); handlers re-read the object
from Stripe before acting on it.
"""

from __future__ import annotations

import logging
from collections.abc import Awaitable, Callable
from datetime import UTC, datetime

from sqlalchemy.ext.asyncio import AsyncConnection
from starlette.requests import Request
from starlette.responses import JSONResponse, Response

from portal.billing.models import WebhookEvent
from portal.services import Services, services
from portal.storage.database import insert_once, transaction
from portal.storage.tables import webhook_events
from portal.stripe_gateway import WebhookSignatureInvalid

log = logging.getLogger(__name__)

# Stripe's events are a few kilobytes; anything far larger is not from Stripe.
MAX_BODY_BYTES = 512 * 1024

Handler = Callable[[Services, AsyncConnection, WebhookEvent], Awaitable[None]]

# Event type -> handler. Types without a handler are acknowledged and ignored, as Stripe
# recommends, so that enabling more events on the endpoint never causes failed deliveries.
HANDLERS: dict[str, Handler] = {}


async def receive(request: Request) -> Response:
    svc = services(request)
    payload = await request.body()
    if len(payload) > MAX_BODY_BYTES:
        return JSONResponse({"error": "payload too large"}, status_code=413)
    try:
        event = svc.gateway.verify_webhook(
            payload, request.headers.get("stripe-signature"), svc.settings.stripe_webhook_secret
        )
    except WebhookSignatureInvalid:
        log.warning("webhook with an invalid signature refused")
        return JSONResponse({"error": "invalid signature"}, status_code=400)
    async with transaction(svc.engine) as conn:
        first = await insert_once(
            conn,
            webhook_events,
            {"event_id": event.id, "type": event.type, "received_at": datetime.now(UTC)},
        )
        handler = HANDLERS.get(event.type)
        if first and handler is not None:
            await handler(svc, conn, event)
    return JSONResponse({"received": True, "duplicate": not first})
