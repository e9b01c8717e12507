"""What `portal bench` found, and the table it prints: Markdown, so that it can be pasted into
the README as it is, under a line naming the machine it was measured on."""

from __future__ import annotations

import os
import platform
import statistics
from dataclasses import dataclass, field
from datetime import date
from pathlib import Path

from portal_dev.bench.wrk import Round

# The targets (issue 16), printed beside the values.
FIRST_VIEW_TARGET = 1.3  # first-view p50 / one Stripe round trip (injected), at most
# First-view p50 / its Stripe calls sent alone (`alone`: the sandbox's own time counted as
# Stripe's, as any real round trip counts Stripe's), at most.
ALONE_TARGET = 1.1
RATIO_TARGET = 0.8  # repeat view / same-size floor, at least
MEMORY_TARGET_MB = 100  # resident memory per process, below
NAGLE_NOTE = (
    "With --workers {count}, uvicorn's supervisor binds the socket without IPPROTO_TCP, so asyncio"
    " leaves TCP_NODELAY off on its connections: an answer on a kept-alive connection can wait"
    " for the client's delayed ACK (about 40 ms on Linux; Kludex/uvicorn#3149)."
)


@dataclass(frozen=True)
class Machine:
    cpu: str
    cores: int
    python: str
    wrk: str
    day: date

    @classmethod
    def here(cls, wrk_version: str) -> Machine:
        return cls(
            _cpu_model(), os.cpu_count() or 1, platform.python_version(), wrk_version, date.today()
        )


def _cpu_model() -> str:
    try:
        for line in Path("/proc/cpuinfo").read_text().splitlines():
            if line.startswith("model name"):
                return line.split(":", 1)[1].strip()
    except OSError:
        pass
    return platform.processor() or platform.machine()


@dataclass(frozen=True)
class Measured:
    """One round against one server: wrk's summary, and the server process's CPU time per
    request completed in it."""

    round: Round
    cpu_ms: float

    @property
    def rps(self) -> float:
        return self.round.rps


@dataclass(frozen=True)
class Comparison:
    """A page of the portal and its floor, measured alternately, round by round."""

    portal_size: int
    floor_size: int
    rows: int
    forms: int
    portal: list[Measured]
    floor: list[Measured]

    @property
    def ratios(self) -> list[float]:
        return [
            p.rps / f.rps if f.rps else 0.0 for p, f in zip(self.portal, self.floor, strict=True)
        ]

    @property
    def ratio(self) -> float:
        return statistics.median(self.ratios)

    @staticmethod
    def median_rps(side: list[Measured]) -> float:
        return statistics.median(m.rps for m in side)

    @staticmethod
    def median_cpu_ms(side: list[Measured]) -> float:
        return statistics.median(m.cpu_ms for m in side)


@dataclass(frozen=True)
class Workers:
    """The portal as the Dockerfile runs it (uvicorn, its --workers), and the floor with as
    many workers, one round each."""

    count: int
    portal: Round
    floor: Round
    rss_mb: list[float]  # each worker's, after the round
    nagle: bool  # uvicorn's supervisor leaves TCP_NODELAY off on the workers' connections


@dataclass(frozen=True)
class Result:
    machine: Machine
    latency_ms: int
    rounds: int
    seconds: float
    threads: int
    connections: int
    calls: dict[str, tuple[int, int]]  # page -> (first view, repeat view)
    first: list[float]  # overview, ms
    repeat: list[float]  # overview, ms
    pages: dict[str, Comparison]  # "overview", "invoice page"
    workers: Workers | None
    rss_mb: float  # the one-process portal's, after the rounds
    storage: str = "SQLite"  # the portal's database: "SQLite" or "PostgreSQL"
    alone: list[float] = field(default_factory=list)  # each first view's calls, Stripe alone, ms

    def table(self) -> str:
        m = self.machine
        head = (
            f"Measured {m.day.isoformat()} on {m.cpu}, {m.cores} cores, Python {m.python}, "
            f"the portal on {self.storage}; "
            f"wrk {m.wrk} ({self.threads} threads, {self.connections} connections), "
            f"{self.rounds} rounds of {self.seconds:g} s per side, portal and floor alternately."
        )
        text = head + "\n\n" + markdown(self.rows())
        if self.workers is not None and self.workers.nagle:
            text += "\n\n" + NAGLE_NOTE.format(count=self.workers.count)
        return text

    def rows(self) -> list[tuple[str, str, str]]:
        trip = self.latency_ms
        f50, f95 = statistics.median(self.first), _p95(self.first)
        r50, r95 = statistics.median(self.repeat), _p95(self.repeat)
        rows = [
            ("Stripe round trip (injected)", f"{trip} ms", ""),
            *(
                (f"Stripe calls, {page}", f"first {c[0]} at once, repeat {c[1]}", "repeat 0")
                for page, c in self.calls.items()
            ),
            ("Overview first view p50 / p95", f"{f50:.0f} / {f95:.0f} ms", ""),
            (
                "Overview first view p50 / one round trip",
                f"{f50 / trip:.2f}",
                f"<= {FIRST_VIEW_TARGET}",
            ),
            ("Overview repeat view p50 / p95, one client", f"{r50:.1f} / {r95:.1f} ms", ""),
        ]
        if self.alone:
            alone = statistics.median(self.alone)
            rows[-1:-1] = [
                (
                    "Overview first view: its Stripe calls alone, p50 (bare client)",
                    f"{alone:.0f} ms",
                    "",
                ),
                (
                    "Overview first view p50 / its Stripe calls alone",
                    f"{f50 / alone:.2f}",
                    f"<= {ALONE_TARGET}",
                ),
            ]
        for name, c in self.pages.items():
            title = name[0].upper() + name[1:]
            lo, hi = min(c.ratios), max(c.ratios)
            rows += [
                (
                    f"{title}: size, portal / floor",
                    f"{c.portal_size:,} / {c.floor_size:,} bytes"
                    f" ({_count(c.rows, 'row')}, {_count(c.forms, 'form')})",
                    "",
                ),
                (
                    f"{title}: repeat view, portal / floor",
                    f"{c.median_rps(c.portal):,.0f} / {c.median_rps(c.floor):,.0f} req/s",
                    "",
                ),
                (
                    f"{title}: portal / floor, median (min-max)",
                    f"{c.ratio:.2f} ({lo:.2f}-{hi:.2f})",
                    f">= {RATIO_TARGET}",
                ),
                (
                    f"{title}: CPU per view, portal / floor",
                    f"{c.median_cpu_ms(c.portal):.2f} / {c.median_cpu_ms(c.floor):.2f} ms",
                    "",
                ),
            ]
        if self.workers is not None:
            w = self.workers
            rows += [
                (
                    f"Overview, {w.count} workers (Dockerfile), portal / floor",
                    f"{w.portal.rps:,.0f} / {w.floor.rps:,.0f} req/s"
                    f" (p50 {w.portal.p50_ms:.0f} / {w.floor.p50_ms:.0f} ms)",
                    "",
                ),
                (
                    f"Resident memory, each of {w.count} workers",
                    " / ".join(f"{mb:.0f}" for mb in w.rss_mb) + " MB",
                    f"< {MEMORY_TARGET_MB} MB",
                ),
            ]
        rows.append(
            ("Resident memory, portal process", f"{self.rss_mb:.0f} MB", f"< {MEMORY_TARGET_MB} MB")
        )
        return rows


def _count(n: int, noun: str) -> str:
    return f"{n} {noun}" if n == 1 else f"{n} {noun}s"


def _p95(values: list[float]) -> float:
    return statistics.quantiles(values, n=20)[18] if len(values) > 1 else values[0]


def markdown(rows: list[tuple[str, str, str]]) -> str:
    """A Markdown table with its columns padded, readable in a terminal too."""
    header = ("measure", "value", "target")
    widths = [max(len(r[i]) for r in [header, *rows]) for i in range(3)]

    def line(cells: tuple[str, str, str]) -> str:
        return "| " + " | ".join(c.ljust(w) for c, w in zip(cells, widths, strict=True)) + " |"

    rule = "|" + "|".join("-" * (w + 2) for w in widths) + "|"
    return "\n".join([line(header), rule, *(line(r) for r in rows)])
