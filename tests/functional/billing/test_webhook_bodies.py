"""Correctly signed webhooks whose bodies are not events: refused as the client's mistake (400),
not a 500 with a traceback, and nothing recorded."""

from __future__ import annotations

import hashlib
import hmac
import logging
import time

import httpx
import pytest
from sqlalchemy import func, select

from portal.storage.tables import webhook_events
from tests.functional.billing.test_webhooks import SECRET
from tests.functional.portal_support import Portal
from tests.unit.stripe.test_webhooks import MALFORMED


def _signed_raw(body: bytes) -> dict[str, str]:
    t = int(time.time())
    sig = hmac.new(SECRET.encode(), f"{t}.".encode() + body, hashlib.sha256).hexdigest()
    return {"Stripe-Signature": f"t={t},v1={sig}", "Content-Type": "application/json"}


def _recorded(portal: Portal) -> int:
    with portal.db.connect() as conn:
        return int(conn.execute(select(func.count()).select_from(webhook_events)).scalar_one())


@pytest.mark.parametrize(
    "body",
    [
        b"[]",
        b'[{"id": "evt_1", "type": "customer.updated"}]',
        b'{"id": "evt_no_data", "object": "event", "type": "customer.updated", "created": 1}',
        b'{"id": "evt_bad_data", "object": "event", "type": "customer.updated", "data": 7}',
        b'{"id": "evt_no_obj", "object": "event", "type": "customer.updated", "data": {}}',
        b'"an event"',
        b"17",
        b"null",
    ],
)
def test_a_signed_body_that_is_not_an_event_is_refused(
    portal: Portal, body: bytes, caplog: pytest.LogCaptureFixture
) -> None:
    before = _recorded(portal)
    caplog.set_level(logging.INFO)
    response = httpx.post(f"{portal.url}/stripe/webhook", content=body, headers=_signed_raw(body))
    assert response.status_code == 400, response.text
    assert [r for r in caplog.records if r.levelno >= logging.ERROR] == []
    assert _recorded(portal) == before


@pytest.mark.parametrize("case", MALFORMED, ids=[name for name, _body in MALFORMED])
def test_a_signed_body_of_the_wrong_shape_depth_or_range_is_refused(
    portal: Portal, case: tuple[str, bytes], caplog: pytest.LogCaptureFixture
) -> None:
    _name, body = case
    before = _recorded(portal)
    caplog.set_level(logging.INFO)
    response = httpx.post(f"{portal.url}/stripe/webhook", content=body, headers=_signed_raw(body))
    assert response.status_code == 400, response.text
    assert response.json() == {"error": "not an event"}
    assert [r for r in caplog.records if r.levelno >= logging.ERROR] == []
    assert _recorded(portal) == before
