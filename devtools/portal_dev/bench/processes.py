"""The bench's server processes, and what /proc says about them: free ports, a server started
and stopped with its output in a log file, resident memory, CPU time."""

from __future__ import annotations

import os
import random
import socket
import subprocess
import time
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

import httpx


def free_port() -> int:
    return free_ports(1)


def _ephemeral_floor() -> int:
    """Where the ports the kernel gives outgoing connections (and port 0) begin."""
    try:
        return int(Path("/proc/sys/net/ipv4/ip_local_port_range").read_text().split()[0])
    except (OSError, ValueError, IndexError):
        return 32768


def free_ports(count: int) -> int:
    """The first of `count` consecutive ports free now (the sandbox serves its API and its
    pages for 3-D Secure, Checkout and files on four).

    Chosen at random below the kernel's ephemeral range: a server binds its port a while after
    it was chosen, and a port from that range (what binding port 0 gives) can be taken
    meanwhile by any outgoing connection, such as those of the test suite's other processes."""
    top = _ephemeral_floor() - count
    for _ in range(200):
        first = random.randint(10_000, top)  # noqa: S311 (a port, not a secret)
        sockets = []
        try:
            for port in range(first, first + count):
                s = socket.socket()
                sockets.append(s)
                s.bind(("127.0.0.1", port))
            return first
        except OSError:
            continue
        finally:
            for s in sockets:
                s.close()
    raise RuntimeError("no free ports")


@contextmanager
def server(
    argv: list[str],
    env: dict[str, str],
    ready_url: str,
    log: Path,
    headers: dict[str, str] | None = None,
) -> Iterator[subprocess.Popen[bytes]]:
    """A server process whose output goes to `log` (a pipe nobody reads would fill up and
    stall it: every request writes a log line), yielded once `ready_url` answers."""
    out = log.open("wb")
    # The argv is this package's own commands (sys.executable, the portal script), no input.
    process = subprocess.Popen(argv, env=env, stdout=out, stderr=subprocess.STDOUT)  # noqa: S603
    try:
        deadline = time.monotonic() + 60
        while True:
            try:
                if httpx.get(ready_url, headers=headers, timeout=2).status_code < 500:
                    break
            except httpx.TransportError:
                pass
            if process.poll() is not None or time.monotonic() > deadline:
                raise RuntimeError(f"{argv[0]} did not start: {log.read_text()[-2000:]}")
            time.sleep(0.1)
        yield process
    finally:
        process.terminate()
        try:
            process.wait(timeout=25)
        except subprocess.TimeoutExpired:
            process.kill()
            process.wait()
        out.close()


def rss_mb(pid: int) -> float:
    for line in Path(f"/proc/{pid}/status").read_text().splitlines():
        if line.startswith("VmRSS:"):
            return int(line.split()[1]) / 1024
    return 0.0


def cpu_seconds(pid: int) -> float:
    """User + system CPU time of the process so far (all its threads), from /proc/PID/stat."""
    stat = Path(f"/proc/{pid}/stat").read_text()
    # The command name (field 2) is in parentheses and may hold spaces: count after it.
    fields = stat[stat.rindex(")") + 2 :].split()
    utime, stime = int(fields[11]), int(fields[12])  # fields 14 and 15 of proc(5)
    return (utime + stime) / os.sysconf("SC_CLK_TCK")


def workers(pid: int) -> list[int]:
    """The worker processes under a uvicorn supervisor (multiprocessing's spawned children;
    not its resource tracker)."""
    found = []
    for entry in Path("/proc").iterdir():
        if not entry.name.isdigit():
            continue
        try:
            stat = (entry / "stat").read_text()
            cmdline = (entry / "cmdline").read_bytes()
        except OSError:  # gone meanwhile
            continue
        parent = int(stat[stat.rindex(")") + 2 :].split()[1])  # field 4 of proc(5)
        if parent == pid and b"spawn_main" in cmdline:
            found.append(int(entry.name))
    return found
