"""`portal bench --scale`, small (`scale.QUICK`), on PostgreSQL as production runs: every
measurement runs and prints its figures."""

from __future__ import annotations

import pytest

from portal_dev.bench import scale, scale_memory, scale_reminders, scale_webhooks
from tests.functional.bench import test_scale_memory, test_scale_reminders, test_scale_webhooks

pytestmark = [pytest.mark.slow]


def test_every_scale_figure_is_printed_on_postgresql(postgres_database_url: str) -> None:
    figures = scale.run(scale.QUICK, database_url=postgres_database_url, quick=True)
    assert [name for name, _ in figures] == list(scale.QUICK)
    text = scale.markdown(figures, "PostgreSQL")
    for name in scale.QUICK:
        assert f"### {name} (PostgreSQL)" in text
    assert "| overview | 240 | 40 | 5 |" in text
    found = dict(figures)
    burst = found["webhooks"]
    assert isinstance(burst, scale_webhooks.WebhookBurst)
    assert burst.database == "PostgreSQL"
    test_scale_webhooks.check(burst)
    reminders = found["reminders"]
    assert isinstance(reminders, scale_reminders.RemindersFigure)
    test_scale_reminders.check(reminders)
    memory = found["customers"]
    assert isinstance(memory, scale_memory.MemoryFigure)
    test_scale_memory.check(memory)
