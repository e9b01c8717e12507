"""The portal made slower on purpose, to show that the bench sees it: the app of `portal serve`
(settings from PORTAL_*, as `portal.asgi` builds it), served the same way in one process, with
a fixed amount of CPU burnt on the event loop before every HTTP request. The test of the
bench runs it beside `portal serve` and expects the ratio to the floor to drop.

`python -m portal_dev.bench.serve --port 8001 --burn-ms 5`"""

from __future__ import annotations

import argparse
import asyncio
import time

from starlette.types import ASGIApp, Receive, Scope, Send


class BurnCpu:
    """Pure ASGI middleware: `seconds` of this thread's CPU time per HTTP request, spent where
    the portal spends its own (on the event loop, blocking it), so the portal is as if its
    code were that much slower."""

    def __init__(self, app: ASGIApp, seconds: float) -> None:
        self.app = app
        self.seconds = seconds

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] == "http":
            burn(self.seconds)
        await self.app(scope, receive, send)


def burn(seconds: float) -> None:
    # Thread CPU time, not wall time: being descheduled on a busy machine does not count.
    end = time.thread_time() + seconds
    while time.thread_time() < end:
        pass


def main(argv: list[str] | None = None) -> None:
    parser = argparse.ArgumentParser(prog="python -m portal_dev.bench.serve")
    parser.add_argument("--host", default="127.0.0.1")
    parser.add_argument("--port", type=int, required=True)
    parser.add_argument("--burn-ms", type=float, default=0.0, help="CPU per request")
    args = parser.parse_args(argv)

    from portal.asgi import application
    from portal.serving import run_servers, server

    app = BurnCpu(application(), args.burn_ms / 1000)
    asyncio.run(run_servers([server(app, args.host, args.port, access_log=False)]))


if __name__ == "__main__":
    main()
