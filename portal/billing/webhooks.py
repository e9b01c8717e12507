"""Stripe's webhook endpoint: verify, record once, act.

The signature is checked on the raw body before anything else. Each event id is inserted into
`webhook_events` in the same transaction as the event's effects, so an event delivered twice,
even at the same moment to two instances, takes effect once. What each event type does is in
`portal.billing.events`: handlers re-read the object from Stripe before the transaction (no
database lock is held while Stripe answers) and return the effects the transaction applies.
"""

from __future__ import annotations

import logging
from datetime import UTC, datetime

from sqlalchemy import select
from starlette.background import BackgroundTask
from starlette.requests import Request
from starlette.responses import JSONResponse, Response

from portal.billing.events import HANDLERS, Reaction
from portal.mail import outbox
from portal.services import Services, services
from portal.storage.database import insert_once, transaction
from portal.storage.tables import webhook_events
from portal.stripe import changes
from portal.stripe.errors import NotFound as StripeNotFound
from portal.stripe.errors import WebhookMalformed, WebhookSignatureInvalid
from portal.stripe.models import WebhookEvent

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
    if await _seen(svc, event.id):  # a redelivery: no need to ask Stripe again
        return JSONResponse({"received": True, "duplicate": True})
    reaction = await _react(svc, event)
    now = datetime.now(UTC)
    async with transaction(svc.engine) as conn:
        first = await insert_once(
            conn, webhook_events, {"event_id": event.id, "type": event.type, "received_at": now}
        )
        if first and reaction is not None:
            for effect in reaction.effects:
                await effect(conn, now)
            if reaction.customer_id:
                await changes.bump(conn, reaction.customer_id, now)
    response = JSONResponse({"received": True, "duplicate": not first})
    if first and reaction is not None and reaction.mail:
        response.background = BackgroundTask(outbox.send_due, svc.engine, svc.settings.smtp)
    return response


async def _seen(svc: Services, event_id: str) -> bool:
    async with svc.engine.connect() as conn:
        found = await conn.execute(
            select(webhook_events.c.event_id).where(webhook_events.c.event_id == event_id)
        )
        return found.first() is not None


async def _react(svc: Services, event: WebhookEvent) -> Reaction | None:
    handler = HANDLERS.get(event.type)
    if handler is None or event.object_id is None:
        return None
    try:
        return await handler(svc, event, event.object_id)
    except StripeNotFound:
        # Deleted since (a customer, a tax ID): nothing of it left to act on. Stripe being
        # unreachable, on the other hand, propagates: the 503 makes Stripe deliver again.
        log.info("webhook %s: its %s is gone at Stripe", event.type, event.object_type)
        return Reaction(event.customer_id)
