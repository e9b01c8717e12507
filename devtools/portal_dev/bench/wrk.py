"""The load generator: `wrk` (a C HTTP benchmarking tool, Debian's package `wrk`), run as a
process of its own beside the servers, so that the client is not what limits a fast page (the
Python client of load.py tops out near 340 requests/s on two cores).

One call is one round: `wrk -t THREADS -c CONNECTIONS -d SECONDS` with the request's headers
(the session cookie, the Host); a Lua `done` hook prints the round's summary as one JSON line,
read here. Status codes of 400 and above and socket errors are counted by wrk; a redirect (to
the sign-in page, say) is not, so the caller checks the bytes per response as well."""

from __future__ import annotations

import json
import shutil
import subprocess
import tempfile
from collections.abc import Mapping
from dataclasses import dataclass
from pathlib import Path

INSTALL_HINT = (
    "bench needs wrk, a C HTTP load generator, on PATH: `apt-get install wrk` on "
    "Debian or Ubuntu, `brew install wrk` on macOS"
)
MARKER = "wrk-json "

# `done` runs once per round after the threads stop, so it costs the measurement nothing (a
# `response` hook would run in Lua for every answer).
DONE_SCRIPT = """
done = function(summary, latency, requests)
  local e = summary.errors
  io.write(string.format(
    '\\n%s{"requests": %d, "duration_us": %d, "bytes": %d, "connect": %d, "read": %d, '
    .. '"write": %d, "status": %d, "timeout": %d, "p50_us": %d, "p99_us": %d}\\n',
    "MARKER", summary.requests, summary.duration, summary.bytes, e.connect, e.read, e.write,
    e.status, e.timeout, latency:percentile(50), latency:percentile(99)))
end
""".replace("MARKER", MARKER)


class WrkMissing(RuntimeError):
    def __init__(self) -> None:
        super().__init__(INSTALL_HINT)


@dataclass(frozen=True)
class Round:
    """One wrk run's summary."""

    requests: int
    seconds: float
    bytes: int
    socket_errors: int  # connect, read, write, timeout
    status_errors: int  # answers with a status of 400 or above
    p50_ms: float
    p99_ms: float

    @property
    def rps(self) -> float:
        return self.requests / self.seconds if self.seconds else 0.0

    @property
    def bytes_per_response(self) -> float:
        return self.bytes / self.requests if self.requests else 0.0


def find() -> str:
    found = shutil.which("wrk")
    if found is None:
        raise WrkMissing
    return found


def version() -> str:
    """E.g. "4.1.0-3+b2" (wrk prints its version on the first line of its usage)."""
    # The argv is wrk's path and a fixed flag; wrk exits 1 after printing its usage.
    done = subprocess.run([find(), "--version"], capture_output=True, text=True, check=False)  # noqa: S603
    words = (done.stdout or done.stderr).split()
    return words[1].removeprefix("debian/") if len(words) > 1 else "?"


def parse(output: str) -> Round:
    for line in output.splitlines():
        if line.startswith(MARKER):
            data = json.loads(line.removeprefix(MARKER))
            return Round(
                requests=int(data["requests"]),
                seconds=int(data["duration_us"]) / 1e6,
                bytes=int(data["bytes"]),
                socket_errors=sum(int(data[k]) for k in ("connect", "read", "write", "timeout")),
                status_errors=int(data["status"]),
                p50_ms=int(data["p50_us"]) / 1000,
                p99_ms=int(data["p99_us"]) / 1000,
            )
    raise RuntimeError(f"wrk printed no summary: {output[-2000:]}")


class Wrk:
    """wrk with its summary script, for several rounds."""

    def __init__(self, *, threads: int = 2, connections: int = 50) -> None:
        self.path = find()
        self.threads = threads
        self.connections = connections
        self._dir = tempfile.TemporaryDirectory(prefix="portal-bench-wrk-")
        self.script = Path(self._dir.name) / "summary.lua"
        self.script.write_text(DONE_SCRIPT)

    def close(self) -> None:
        self._dir.cleanup()

    def __enter__(self) -> Wrk:
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()

    def argv(self, url: str, seconds: float, headers: Mapping[str, str]) -> list[str]:
        argv = [self.path, "-t", str(self.threads), "-c", str(self.connections)]
        argv += ["-d", f"{max(1, round(seconds))}s", "--timeout", "10s", "-s", str(self.script)]
        for name, value in headers.items():
            argv += ["-H", f"{name}: {value}"]
        return [*argv, url]

    def run(self, url: str, seconds: float, headers: Mapping[str, str]) -> Round:
        argv = self.argv(url, seconds, headers)
        # The argv is wrk's path, numbers and the bench's own URL and headers.
        limit = seconds + 60
        done = subprocess.run(argv, capture_output=True, text=True, check=False, timeout=limit)  # noqa: S603
        if done.returncode != 0:
            raise RuntimeError(f"wrk failed ({done.returncode}): {done.stderr or done.stdout}")
        return parse(done.stdout)
