"""The bench sees the portal: with a few milliseconds of CPU added to every request of the
portal (portal_dev/bench/serve.py), its ratio to the same-size floor drops, and its CPU per view
grows by what was added. Normal and slowed portal are measured in the same alternating rounds
against the same floor, so a busy machine moves all three alike."""

from __future__ import annotations

import statistics
from pathlib import Path

import pytest

from portal_dev.bench import bare, runner
from portal_dev.bench.report import Measured
from portal_dev.bench.wrk import Wrk

pytestmark = [pytest.mark.slow, pytest.mark.usefixtures("needs_wrk")]

BURN_MS = 5.0  # about twice the portal's own CPU per overview today; ten times the floor's


def _ratio(side: list[Measured], floor: list[Measured]) -> float:
    return statistics.median(s.rps / f.rps for s, f in zip(side, floor, strict=True))


def test_the_ratio_to_the_floor_drops_when_the_portal_gets_slower(tmp_path: Path) -> None:
    with runner.stack(log_dir=tmp_path) as found, runner.signed_in_client(found) as client:
        shape = bare.shape_of(client.get("/").text)
        headers = runner.portal_headers(found, client)
        with (
            runner.floor(found, {"overview": bare.matching(shape)}) as floor,
            runner.slowed_portal(found, burn_ms=BURN_MS) as slowed,
            Wrk() as wrk,
        ):
            targets = [
                runner.Target(
                    "portal", f"{found.portal_url}/", headers, found.portal_pid, shape.size
                ),
                runner.Target("floor", f"{floor.url}/overview", {}, floor.pid, shape.size),
                runner.Target("slowed", f"{slowed.url}/", headers, slowed.pid, shape.size),
            ]
            # Two-second rounds: a busy machine (the suite's other processes) can stall a
            # target for a second.
            measured = runner.alternate(wrk, targets, rounds=3, seconds=2)
    normal = _ratio(measured["portal"], measured["floor"])
    slower = _ratio(measured["slowed"], measured["floor"])
    cpu = {name: statistics.median(m.cpu_ms for m in side) for name, side in measured.items()}
    print(f"\nportal / floor {normal:.3f}, slowed / floor {slower:.3f}, CPU per view {cpu}")
    assert slower < 0.7 * normal
    assert cpu["slowed"] - cpu["portal"] >= 0.8 * BURN_MS
