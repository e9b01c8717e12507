"""Load: 60 seconds of 100 concurrent clients on the overview and an invoice page, from a
separate process, against `portal serve` with its default settings. No 5xx, no error in the
portal's log; the p99 is printed (pytest -s, or the CI log)."""

from __future__ import annotations

import re
from pathlib import Path

import pytest

from portal_dev.bench import runner

SECONDS = 60


@pytest.mark.slow
def test_sixty_seconds_of_a_hundred_clients(tmp_path: Path) -> None:
    with runner.stack(log_dir=tmp_path) as found, runner.signed_in_client(found) as client:
        overview = client.get("/")
        invoice = re.search(r'href="[^"]*(/invoices/in_[A-Za-z0-9]+)"', overview.text)
        assert invoice
        cookies = [f"{k}={v}" for k, v in client.cookies.items()]
        urls = [f"{found.portal_url}/", f"{found.portal_url}{invoice.group(1)}"]
        result = runner.load(urls, cookies, SECONDS, concurrency=100)
        log = found.portal_log.read_text()
    print(f"\nload: {result}")
    statuses = {int(k): v for k, v in result["statuses"].items()}  # type: ignore[attr-defined]
    assert set(statuses) == {200}, statuses
    assert result["errors"] == 0
    assert int(result["requests"]) > SECONDS * 20  # type: ignore[call-overload]
    assert "ERROR" not in log
    assert "Traceback" not in log
