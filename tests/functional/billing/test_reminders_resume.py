"""`portal send-reminders` as a process, against a sandbox whose rate limit is far below the
job's pace: stopped (SIGTERM) halfway and run again, it delivers every reminder exactly once,
counted at the SMTP server, and the 429s it meets are tried again, not failures."""

from __future__ import annotations

import pytest

from portal_dev.bench import scale_reminders

pytestmark = [pytest.mark.slow]


def test_stopped_halfway_then_run_again_every_reminder_once_under_a_tight_rate_limit() -> None:
    figure = scale_reminders.run(size=60, rate_limit=3)
    assert figure.refused > 0  # the limit mattered
    assert 0 < figure.stopped_after < figure.reminders
    assert figure.reminders >= 12  # two per bench customer, and the demo's
    assert (figure.delivered, figure.duplicates, figure.missing) == (figure.reminders, 0, 0)
