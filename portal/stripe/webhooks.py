"""The gateway's webhook section: a delivery verified and reduced to what the portal acts on.

A correctly signed body is still refused unless it is an event of the shape Stripe sends
(`event_from_body`): the signing secret may have leaked, or a test tool sent it, and nothing in
it may reach a handler or the database as anything but the event's few typed fields.
"""

from __future__ import annotations

import json
import re
from collections.abc import Mapping
from datetime import UTC, datetime
from typing import Any

import stripe

from portal.stripe.client import Connection
from portal.stripe.errors import WebhookMalformed, WebhookSignatureInvalid
from portal.stripe.models import WebhookEvent

# Stripe's tolerance for webhook timestamps (stripe.Webhook.DEFAULT_TOLERANCE).
WEBHOOK_TOLERANCE_SECONDS = 300
# Stripe's ids and event types: printable ASCII without spaces, within the 255 characters of
# the columns that keep them (`webhook_events`, `customer_changes`).
_NAME = re.compile(r"[!-~]{1,255}")
# The last second a `datetime` holds (9999-12-31T23:59:59Z).
_LATEST = 253_402_300_799


class Webhooks(Connection):
    """Stripe's signed event deliveries."""

    def verify_webhook(self, payload: bytes, signature: str | None, secret: str) -> WebhookEvent:
        """Check `Stripe-Signature` over the raw body (Stripe's 300 s tolerance) and read it."""
        try:
            stripe.WebhookSignature.verify_header(
                payload, signature, secret, WEBHOOK_TOLERANCE_SECONDS
            )
        except (stripe.SignatureVerificationError, ValueError) as exc:  # ValueError: not UTF-8
            raise WebhookSignatureInvalid(str(exc)) from exc
        try:
            return event_from_body(payload)
        except ValueError as exc:
            raise WebhookMalformed(str(exc)) from exc


def event_from_body(payload: bytes) -> WebhookEvent:
    """The event a verified body holds, or ValueError saying what is wrong with it.

    Well-formed means: a JSON object (nested no deeper than Python's stack allows) with
    `object` "event"; an `id` and a `type` that are names (`_NAME`); an integer `created` a
    date can hold; a boolean `livemode`; `data.object` an object whose `object` is a string
    and whose `id` and `customer` (an id, or the customer expanded) are names where present;
    `data.previous_attributes`, where present, an object whose `customer` is one too.
    """
    try:
        event = json.loads(payload)
    except RecursionError as exc:
        raise ValueError("nested deeper than an event is") from exc
    if not isinstance(event, dict) or event.get("object") != "event":
        raise ValueError("not an event")
    data = event.get("data")
    if not isinstance(data, dict) or not isinstance(obj := data.get("object"), dict):
        raise ValueError("an event's data.object is an object")
    before = data.get("previous_attributes")
    if before is None:
        before = {}
    elif not isinstance(before, dict):
        raise ValueError("an event's data.previous_attributes is an object")
    created = event.get("created")
    # bool is an int too; a float (1e300) is no time Stripe sends.
    if type(created) is not int or not 0 <= created <= _LATEST:
        raise ValueError("an event's created is a time in seconds")
    if not isinstance(event.get("livemode"), bool):
        raise ValueError("an event's livemode is true or false")
    object_type = obj.get("object", "")
    if not isinstance(object_type, str):
        raise ValueError("an event's object names its type")
    object_id = _name(obj.get("id"), "data.object.id")
    if object_type == "customer":
        customer = object_id
    else:
        customer = _reference(obj.get("customer"), "data.object.customer")
    if customer is None:  # a detached payment method names its customer only as it was
        customer = _reference(before.get("customer"), "data.previous_attributes.customer")
    event_id, event_type = _name(event.get("id"), "id"), _name(event.get("type"), "type")
    if event_id is None or event_type is None:
        raise ValueError("an event has an id and a type")
    return WebhookEvent(
        id=event_id,
        type=event_type,
        object_type=object_type,
        object_id=object_id,
        customer_id=customer,
        created=datetime.fromtimestamp(created, UTC),
    )


def _name(value: Any, field: str) -> str | None:
    if value is None:
        return None
    if not isinstance(value, str) or not _NAME.fullmatch(value):
        raise ValueError(f"an event's {field} is an id")
    return value


def _reference(value: Any, field: str) -> str | None:
    """An expandable field: an id, or the object expanded (its `id`)."""
    if isinstance(value, Mapping):
        value = value.get("id")
        if value is None:
            raise ValueError(f"an event's expanded {field} has an id")
    return _name(value, field)
