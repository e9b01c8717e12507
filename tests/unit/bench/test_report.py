"""The bench's table (portal_dev/bench/report.py): Markdown to paste into the README, under the
machine it was measured on, with the median ratio to the floor and its spread."""

from __future__ import annotations

import dataclasses
from datetime import date

from portal_dev.bench.report import Comparison, Machine, Measured, Result, Workers
from portal_dev.bench.wrk import Round


def _round(rps: float, p50_ms: float = 10.0) -> Round:
    return Round(int(rps * 3), 3.0, int(rps * 3) * 10_000, 0, 0, p50_ms, 2 * p50_ms)


def _side(*rps: float, cpu_ms: float = 1.0) -> list[Measured]:
    return [Measured(_round(r), cpu_ms) for r in rps]


def _result(workers: Workers | None = None) -> Result:
    overview = Comparison(
        9_348,
        9_350,
        11,
        4,
        _side(400, 420, 380, cpu_ms=2.7),
        _side(4_000, 4_000, 4_000, cpu_ms=0.25),
    )
    invoice = Comparison(5_175, 5_175, 5, 1, _side(450), _side(5_000))
    return Result(
        machine=Machine("Example CPU", 2, "3.11.7", "4.1.0", date(2026, 12, 1)),
        latency_ms=80,
        rounds=3,
        seconds=3,
        threads=2,
        connections=50,
        calls={"overview": (3, 0), "invoice page": (2, 0)},
        first=[100.0, 98.0, 102.0],
        repeat=[5.0, 6.0, 7.0],
        pages={"overview": overview, "invoice page": invoice},
        workers=workers,
        rss_mb=116.4,
    )


def test_the_ratio_is_the_median_of_the_rounds_with_their_range() -> None:
    table = _result().table()
    assert "| Overview: portal / floor, median (min-max)" in table
    assert "0.10 (0.10-0.10)" in table
    overview = _result().pages["overview"]
    assert overview.ratios == [0.1, 0.105, 0.095]
    assert overview.ratio == 0.1
    assert "| 2.70 / 0.25 ms" in table


def test_the_table_names_the_machine_and_is_markdown_with_aligned_columns() -> None:
    text = _result().table()
    head, table = text.split("\n\n")
    assert head.startswith(
        "Measured 2026-12-01 on Example CPU, 2 cores, Python 3.11.7, the portal on SQLite;"
        " wrk 4.1.0"
    )
    lines = table.splitlines()
    assert [cell.strip() for cell in lines[0].split("|")] == ["", "measure", "value", "target", ""]
    assert set(lines[1]) == {"|", "-"}
    assert len({len(line) for line in lines}) == 1  # padded: readable in a terminal too
    assert "9,348 / 9,350 bytes (11 rows, 4 forms)" in table
    assert "5,175 / 5,175 bytes (5 rows, 1 form)" in table
    assert "| 1.25 " in table  # first view p50 / one round trip
    assert "| <= 1.3 " in table
    assert "| >= 0.8 " in table
    assert "| < 100 MB " in table
    assert "| 116 MB " in table


def test_the_workers_line_and_the_note_on_lost_tcp_nodelay() -> None:
    workers = Workers(2, _round(536, 44), _round(1_068, 44), [112.0, 114.0], nagle=True)
    text = _result(workers).table()
    assert (
        "| Overview, 2 workers (Dockerfile), portal / floor | 536 / 1,068 req/s (p50 44 / 44 ms)"
        in text
    )
    assert "| 112 / 114 MB" in text
    assert "TCP_NODELAY" in text
    quiet = _result(Workers(2, _round(536), _round(1_068), [112.0, 114.0], nagle=False)).table()
    assert "TCP_NODELAY" not in quiet


def test_the_table_says_which_database_the_portal_ran_on() -> None:
    on_postgres = dataclasses.replace(_result(), storage="PostgreSQL")
    assert ", the portal on PostgreSQL;" in on_postgres.table().split("\n\n")[0]


def test_the_first_view_is_set_beside_its_stripe_calls_alone() -> None:
    table = dataclasses.replace(_result(), alone=[90.0, 92.0, 88.0]).table()
    assert "| Overview first view: its Stripe calls alone, p50 (bare client) | 90 ms" in table
    assert "| Overview first view p50 / its Stripe calls alone" in table
    assert "| 1.11 " in table  # 100 ms / 90 ms
    assert "| <= 1.1 " in table
    assert "Stripe calls alone" not in _result().table()
