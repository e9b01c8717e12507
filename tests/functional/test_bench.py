"""`portal bench` runs end to end (short), and its deterministic targets hold: a repeat view
within the cache's life costs no Stripe call."""

from __future__ import annotations

import pytest

from portal_dev.bench import runner


@pytest.mark.slow
def test_the_benchmark_runs_and_repeat_views_cost_no_stripe_call() -> None:
    result = runner.run(latency_ms=20, samples=3, seconds=2)
    assert set(result.calls) == {"overview", "invoice page", "payment methods", "billing details"}
    for page, (first, repeat) in result.calls.items():
        assert first >= 1, page
        assert repeat == 0, page
    table = result.table()
    assert "portal / bare" in table
    assert "Resident memory" in table
    assert result.rss_mb > 0
