"""`portal bench --scale`: how costs grow with customers, invoices, reminders and webhooks.

Each measurement is a module `scale_<name>` with `run(*, database_url) -> figure` (a figure has
`markdown()`), and starts its own sandbox, portal and mailbox, so that one's data (tens of
thousands of invoices for the reminders, say) does not weigh on another's figures.
"""

from __future__ import annotations

import importlib
from collections.abc import Iterable, Mapping
from typing import Protocol

SCALES = ("invoices", "customers", "reminders", "webhooks")
MODULES = {"invoices": "scale_invoices", "customers": "scale_memory"}  # the rest: scale_<name>


class Figure(Protocol):
    def markdown(self) -> str: ...


# What `quick` runs each at: small, for the test that the whole of it works, not its figures.
QUICK: dict[str, dict[str, int]] = {
    "invoices": {"size": 240, "unpaid": 130, "samples": 2, "latency_ms": 5},
    "customers": {"size": 120, "cache_mb": 1},
    "reminders": {"size": 300},
    "webhooks": {"size": 100},
}


def run(
    names: Iterable[str], *, database_url: str | None = None, quick: bool = False
) -> list[tuple[str, Figure]]:
    """Each measurement of `names`, at its full size, or small (`QUICK`)."""
    found: list[tuple[str, Figure]] = []
    for name in names:
        module = importlib.import_module(f"portal_dev.bench.{MODULES.get(name, f'scale_{name}')}")
        options: Mapping[str, int] = QUICK.get(name, {}) if quick else {}
        found.append((name, module.run(database_url=database_url, **options)))
    return found


def markdown(figures: Iterable[tuple[str, Figure]], storage: str) -> str:
    return "\n\n".join(f"### {name} ({storage})\n\n{figure.markdown()}" for name, figure in figures)
