"""Running one or more ASGI apps with uvicorn in one event loop, stopping all on Ctrl-C.

uvicorn's `Server` installs its own signal handlers per server, which does not compose when
several run in one loop (the demo runs the portal and the sandbox together); here the loop owns
SIGINT/SIGTERM and asks every server to finish its in-flight requests and stop.
"""

from __future__ import annotations

import asyncio
import contextlib
import signal
import socket
from collections.abc import Awaitable, Callable, Generator, Sequence
from typing import Any

import uvicorn
from uvicorn.protocols.http.h11_impl import H11Protocol


def no_delay(transport: asyncio.BaseTransport) -> None:
    """Send each answer at once (TCP_NODELAY) on the connection's socket.

    asyncio sets it only on sockets whose protocol number is TCP; with `--workers N` uvicorn's
    supervisor binds the listening socket without one (Kludex/uvicorn#3149), so the accepted
    connections keep Nagle's algorithm, and an answer on a kept-alive connection waits for the
    client's delayed ACK: about 40 ms on Linux, for every page after the first.
    """
    sock = transport.get_extra_info("socket")
    if sock is not None and sock.family in (socket.AF_INET, socket.AF_INET6):
        sock.setsockopt(socket.IPPROTO_TCP, socket.TCP_NODELAY, 1)


class NoDelayH11Protocol(H11Protocol):
    """uvicorn's h11 protocol on connections that send at once (`no_delay`): the Dockerfile's
    `--http portal.serving:NoDelayH11Protocol`."""

    # Typed as uvicorn's own method is, which asyncio's BaseProtocol types more widely.
    def connection_made(self, transport: asyncio.Transport) -> None:  # type: ignore[override]
        no_delay(transport)
        super().connection_made(transport)


class Server(uvicorn.Server):
    @contextlib.contextmanager
    def capture_signals(self) -> Generator[None, None, None]:
        yield  # signals are handled by `run_servers`


def server(
    app: Any, host: str, port: int, *, access_log: bool = True, lifespan: bool = True
) -> Server:
    # log_config=None: logging is set up once by `portal.logs.configure`, not again per server
    # (uvicorn's own set-up would add its handlers and print every line twice).
    # lifespan=False: one app served on several ports starts and stops only once.
    return Server(
        uvicorn.Config(
            app,
            host=host,
            port=port,
            lifespan="on" if lifespan else "off",
            access_log=access_log,
            log_config=None,
            # The client's address is portal.clientip's business (PORTAL_CLIENT_IP_HEADER).
            proxy_headers=False,
        )
    )


def servers_on_ports(
    app: Any, host: str, ports: Sequence[int], *, access_log: bool = True
) -> list[Server]:
    """One app (one state) answering on several ports; its lifespan runs on the first."""
    return [
        server(app, host, port, access_log=access_log, lifespan=index == 0)
        for index, port in enumerate(ports)
    ]


async def wait_started(servers: Sequence[Server], tasks: Sequence[asyncio.Task[None]]) -> None:
    while not all(s.started for s in servers):
        for task in tasks:
            if task.done():
                task.result()  # re-raises why it stopped (e.g. the port is taken)
                raise SystemExit(1)
        await asyncio.sleep(0.02)


async def _unless_stopped(work: Awaitable[None], stopping: asyncio.Event) -> None:
    """Run `work` until it ends or `stopping` is set, whichever comes first."""
    doing = asyncio.ensure_future(work)
    waiting = asyncio.create_task(stopping.wait())
    await asyncio.wait({doing, waiting}, return_when=asyncio.FIRST_COMPLETED)
    waiting.cancel()
    if stopping.is_set():
        # Stopped: the work is called off, and a failure of its own is the stop's doing
        # (the servers it talks to may close before it notices).
        doing.cancel()
        with contextlib.suppress(Exception, asyncio.CancelledError):
            await doing
        return
    doing.result()  # its failure, if any, goes on


async def run_servers(
    servers: Sequence[Server], after_start: Callable[[], Awaitable[None]] | None = None
) -> None:
    """Serve until Ctrl-C or SIGTERM; `after_start` runs once every server listens (and is
    called off, quietly, when the signal comes while it runs: the demo's seeding)."""
    loop = asyncio.get_running_loop()
    stopping = asyncio.Event()

    def stop() -> None:
        stopping.set()
        for s in servers:
            if s.should_exit:  # a second Ctrl-C: do not wait for open connections
                s.force_exit = True
            s.should_exit = True

    for sig in (signal.SIGINT, signal.SIGTERM):
        loop.add_signal_handler(sig, stop)
    tasks = [asyncio.create_task(s.serve()) for s in servers]
    try:
        await wait_started(servers, tasks)
        if after_start is not None:
            await _unless_stopped(after_start(), stopping)
        await asyncio.gather(*tasks)
    finally:
        stop()
        await asyncio.gather(*tasks, return_exceptions=True)
        for sig in (signal.SIGINT, signal.SIGTERM):
            loop.remove_signal_handler(sig)
