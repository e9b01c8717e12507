"""`portal bench --scale`'s memory figure at small size: every customer's pages are viewed, the
process's memory is sampled, and the caches stay within a tiny byte budget."""

from __future__ import annotations

import pytest

from portal_dev.bench import scale_memory

pytestmark = [pytest.mark.slow]

MB = 1024 * 1024


SIZE = 120


def test_the_caches_stay_within_their_byte_budget_as_customers_come() -> None:
    check(scale_memory.run(size=SIZE, cache_mb=1))


def check(found: scale_memory.MemoryFigure) -> None:
    assert found.customers == SIZE
    assert found.at_rest_mb > 0
    assert found.after_mb > 0
    assert found.after_pause_mb > 0
    caches = {c.name: c for c in found.caches}
    assert set(caches) == {"stripe", "pages", "rows"}
    # PORTAL_CACHE_MB=1 shared as its help says: half, three eighths, an eighth.
    assert 0 < caches["stripe"].bytes <= MB // 2
    assert 0 < caches["pages"].bytes <= MB * 3 // 8
    assert caches["rows"].bytes <= MB // 8
    # The customers' reads and pages do not fit: the budget, not the count, held them back.
    assert caches["stripe"].entries < SIZE
    assert caches["pages"].entries < SIZE
    assert "| Cache | Entries | Estimated KB |" in found.markdown()
