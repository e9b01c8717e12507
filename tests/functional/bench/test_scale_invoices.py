"""`portal bench --scale invoices` (small): the Stripe calls of a first view stay flat as a
customer's invoices grow, and grow by one per further 100 unpaid invoices."""

from __future__ import annotations

import pytest

from portal_dev.bench import scale_invoices

pytestmark = [pytest.mark.slow]


def test_first_views_cost_the_same_calls_however_many_invoices() -> None:
    found = scale_invoices.run(size=240, unpaid=130, samples=2, latency_ms=5)
    views = {(view.name, view.invoices): view for view in found.views}
    assert set(views) == {
        ("overview", 240),
        ("history, page 2", 240),
        ("history, page 10", 240),
        ("overview", 130),
    }
    # Open, written off, the history's first page, the balances, the drafts: as for a handful
    # of invoices.
    assert views["overview", 240].calls == 5
    assert views["history, page 2", 240].calls == 1
    assert views["history, page 10", 240].calls == 1
    # 130 open invoices: Stripe lists 100, the rest is one call more.
    assert views["overview", 130].calls == 6
    assert all(view.p50_ms > 0 for view in found.views)
    assert "| overview | 240 | 40 | 5 |" in found.markdown()
