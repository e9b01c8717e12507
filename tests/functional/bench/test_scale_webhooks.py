"""The webhook burst at a small size, on SQLite (on PostgreSQL: test_scale.py): every delivery answered 2xx,
every event recorded once and its effect applied once, duplicates included, nothing left."""

from __future__ import annotations

import pytest

from portal_dev.bench import scale_webhooks

pytestmark = [pytest.mark.slow]

SIZE = 100


def check(found: scale_webhooks.WebhookBurst) -> None:
    assert found.events == SIZE
    assert found.duplicates == SIZE // 10
    assert found.at_once == SIZE // 20
    assert found.deliveries == SIZE + found.duplicates
    assert sum(found.statuses.values()) == found.deliveries
    assert all(200 <= status < 300 for status in found.statuses)
    assert found.recorded == found.effects == SIZE
    assert found.left_in_inbox == 0
    # Each event's object re-read from Stripe; a duplicate answered as such asks nothing.
    assert SIZE <= found.stripe_calls <= 2 * SIZE
    assert found.answered_duplicate <= found.duplicates
    assert "Webhook burst on" in found.markdown()


def test_a_burst_on_sqlite_is_handled_once_each() -> None:
    check(scale_webhooks.run(size=SIZE))
