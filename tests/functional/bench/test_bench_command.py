"""`portal bench` runs end to end (short), and its deterministic targets hold: a repeat view
within the cache's life costs no Stripe call; the floor is as large as the portal's page; the
table names the machine and has every line."""

from __future__ import annotations

import pytest

from portal_dev.bench import runner

pytestmark = [pytest.mark.slow, pytest.mark.usefixtures("needs_wrk")]


def test_the_benchmark_runs_and_repeat_views_cost_no_stripe_call() -> None:
    result = runner.run(latency_ms=20, samples=3, rounds=1, seconds=2)  # see test_slower_portal
    assert set(result.calls) == {"overview", "invoice page", "payment methods", "billing details"}
    for page, (first, repeat) in result.calls.items():
        assert first >= 1, page
        assert repeat == 0, page
    assert set(result.pages) == {"overview", "invoice page"}
    for page, compared in result.pages.items():
        assert compared.rows >= 1, page
        assert abs(compared.floor_size - compared.portal_size) <= 0.1 * compared.portal_size, page
        assert compared.portal[0].rps > 0, page
        assert compared.floor[0].rps > 0, page
        assert compared.portal[0].cpu_ms > 0, page
    assert result.workers is not None
    assert len(result.workers.rss_mb) == result.workers.count
    assert result.workers.portal.requests > 0
    assert result.rss_mb > 0
    table = result.table()
    for line in ("Overview: portal / floor", "Invoice page: portal / floor", "CPU per view"):
        assert line in table
    assert "Resident memory" in table
    assert "cores, Python" in table


def test_the_benchmark_measures_production_shape_on_postgresql(
    postgres_database_url: str,
) -> None:
    result = runner.run(
        latency_ms=20,
        samples=3,
        rounds=1,
        seconds=2,
        with_workers=False,
        database_url=postgres_database_url,
    )
    assert result.storage == "PostgreSQL"
    assert "the portal on PostgreSQL" in result.table()
    for page, (first, repeat) in result.calls.items():
        assert first >= 1, page
        assert repeat == 0, page
    assert len(result.alone) == 3
    assert "| Overview first view p50 / its Stripe calls alone" in result.table()
