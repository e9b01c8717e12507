"""What the bench reads of its server processes (portal_dev/bench/processes.py): CPU time and
resident memory from /proc."""

from __future__ import annotations

import os
import time

from portal_dev.bench import processes


def test_cpu_time_counts_what_the_process_spent() -> None:
    before = processes.cpu_seconds(os.getpid())
    end = time.process_time() + 0.2
    while time.process_time() < end:
        pass
    spent = processes.cpu_seconds(os.getpid()) - before
    assert 0.15 <= spent <= 1.0


def test_resident_memory_is_read_in_megabytes() -> None:
    assert 5 < processes.rss_mb(os.getpid()) < 2_000


def test_a_process_without_uvicorn_workers_has_none() -> None:
    assert processes.workers(os.getpid()) == []
