"""`portal bench --scale`'s memory figure at small size: every customer's pages are viewed, the
process's memory is sampled, and the caches stay within a tiny byte budget."""

from __future__ import annotations

import pytest

from portal_dev.bench import scale_memory

pytestmark = [pytest.mark.slow]

MB = 1024 * 1024


def test_the_caches_stay_within_their_byte_budget_as_customers_come() -> None:
    found = scale_memory.run(size=200, cache_mb=1)
    assert found.customers == 200
    assert found.at_rest_mb > 0
    assert found.after_mb > 0
    assert found.after_pause_mb > 0
    caches = {c.name: c for c in found.caches}
    assert set(caches) == {"stripe", "pages", "rows"}
    # PORTAL_CACHE_MB=1 shared as its help says: half, three eighths, an eighth.
    assert 0 < caches["stripe"].bytes <= MB // 2
    assert 0 < caches["pages"].bytes <= MB * 3 // 8
    assert caches["rows"].bytes <= MB // 8
    # 200 customers' reads and pages do not fit: the budget, not the count, held them back.
    assert caches["stripe"].entries < 200
    assert caches["pages"].entries < 200
    assert "| Cache | Entries | Estimated KB |" in found.markdown()
