"""The bench's send-reminders figure at a small size: a run stopped halfway and a second run
deliver every reminder exactly once, and the figures add up."""

from __future__ import annotations

import pytest

from portal_dev.bench import scale_reminders

pytestmark = [pytest.mark.slow]


def test_a_run_stopped_halfway_and_a_second_run_deliver_each_reminder_once() -> None:
    check(scale_reminders.run(size=300))


def check(figure: scale_reminders.RemindersFigure) -> None:
    assert figure.invoices == 300
    assert figure.reminders >= 2 * figure.customers  # a fifth of the bench's, and the demo's
    assert 0 < figure.stopped_after < figure.reminders
    assert (figure.delivered, figure.duplicates, figure.missing) == (figure.reminders, 0, 0)
    # One read per page of open invoices (customers expanded), none per customer.
    assert "GET /v1/customers/{customer}" not in figure.stripe_calls
    assert figure.stripe_calls["GET /v1/invoices"] >= 2
    # Funding instructions once per customer who may pay by transfer, not per invoice.
    funding = figure.stripe_calls.get("POST /v1/customers/{customer}/funding_instructions", 0)
    assert 0 < funding <= figure.customers // 10 + 5
    assert figure.peak_rss_mb > 0
    assert "duplicates / missing | 0 / 0" in figure.markdown()
