"""The webhook endpoint: signature first, each event once, unknown types acknowledged."""

from __future__ import annotations

import hashlib
import hmac
import json
import time
from pathlib import Path
from typing import Any

import pytest
from sqlalchemy import create_engine as create_sync_engine
from sqlalchemy import select

from portal.storage.tables import webhook_events
from tests.conftest import make_settings
from tests.functional.app_support import portal_client
from tests.unit.test_stripe_gateway import EXAMPLES

SECRET = "whsec_test_secret_value"


def signed(
    event: dict[str, Any], secret: str = SECRET, at: int | None = None
) -> tuple[bytes, dict[str, str]]:
    body = json.dumps(event).encode()
    t = at if at is not None else int(time.time())
    sig = hmac.new(secret.encode(), f"{t}.".encode() + body, hashlib.sha256).hexdigest()
    return body, {"Stripe-Signature": f"t={t},v1={sig}", "Content-Type": "application/json"}


def invoice_paid_event(event_id: str = "evt_test_1") -> dict[str, Any]:
    return EXAMPLES["event"] | {
        "id": event_id,
        "type": "invoice.paid",
        "data": {"object": EXAMPLES["invoice"]},
    }


def stored_events(database_url: str) -> list[str]:
    engine = create_sync_engine(database_url.replace("+aiosqlite", ""))
    with engine.connect() as conn:
        rows = conn.execute(select(webhook_events.c.event_id)).scalars().all()
    engine.dispose()
    return list(rows)


def test_signed_event_is_recorded_once_and_a_repeat_is_acknowledged(tmp_path: Path) -> None:
    settings = make_settings(tmp_path)
    body, headers = signed(invoice_paid_event())
    with portal_client(settings) as client:
        first = client.post("/stripe/webhook", content=body, headers=headers)
        again = client.post("/stripe/webhook", content=body, headers=headers)
    assert first.status_code == again.status_code == 200
    assert first.json() == {"received": True, "duplicate": False}
    assert again.json() == {"received": True, "duplicate": True}
    assert stored_events(settings.database_url) == ["evt_test_1"]


@pytest.mark.parametrize(
    "tamper",
    ["wrong-secret", "no-header", "changed-body", "too-old"],
)
def test_bad_signatures_get_400_and_change_nothing(tmp_path: Path, tamper: str) -> None:
    settings = make_settings(tmp_path)
    event = invoice_paid_event()
    if tamper == "wrong-secret":
        body, headers = signed(event, secret="whsec_someone_else")
    elif tamper == "too-old":
        body, headers = signed(event, at=int(time.time()) - 301)
    else:
        body, headers = signed(event)
    if tamper == "no-header":
        headers.pop("Stripe-Signature")
    if tamper == "changed-body":
        body = body.replace(b"invoice.paid", b"invoice.void")
    with portal_client(settings) as client:
        response = client.post("/stripe/webhook", content=body, headers=headers)
    assert response.status_code == 400
    assert stored_events(settings.database_url) == []


def test_unknown_event_types_are_acknowledged(tmp_path: Path) -> None:
    settings = make_settings(tmp_path)
    body, headers = signed(EXAMPLES["event"] | {"id": "evt_plan"})  # plan.created: not ours
    with portal_client(settings) as client:
        response = client.post("/stripe/webhook", content=body, headers=headers)
    assert response.status_code == 200


def test_health_and_readiness(tmp_path: Path) -> None:
    with portal_client(make_settings(tmp_path)) as client:
        assert client.get("/healthz").text == "ok"
        assert client.get("/readyz").json() == {"database": "ok"}
