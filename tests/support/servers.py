"""Real HTTP servers on loopback for tests: an ASGI app served by uvicorn in a thread, and the
Stripe sandbox with its surfaces (API, 3-D Secure, Checkout, files) on origins of their own."""

from __future__ import annotations

import contextlib
import dataclasses
import socket
import threading
import time
from collections.abc import Iterator
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any

import uvicorn

from portal_dev.bench import processes

if TYPE_CHECKING:
    from stripe_sandbox.config import SandboxConfig


# Ports chosen as the bench chooses them: below the kernel's ephemeral range.
free_port, free_ports = processes.free_port, processes.free_ports


@contextlib.contextmanager
def serve_in_thread(app: Any, port: int | None = None) -> Iterator[str]:
    """Serve `app` on 127.0.0.1 until the block ends; yields its base URL."""
    port = port or free_port()
    with _serving(app, port=port):
        yield f"http://127.0.0.1:{port}"


@dataclass(frozen=True)
class SandboxUrls:
    """Where one sandbox answers: its API, and the origins standing for hooks.stripe.com
    (3-D Secure), checkout.stripe.com and files.stripe.com."""

    api: str
    hooks: str
    checkout: str
    files: str


@contextlib.contextmanager
def serve_sandbox(config: SandboxConfig | None = None) -> Iterator[SandboxUrls]:
    """One sandbox (one in-memory store) on four loopback ports, each surface refused on the
    others' origins, as at Stripe; `config`'s own surface URLs are replaced."""
    # Imported here: the unit tests use this module without loading the sandbox.
    from stripe_sandbox.app import SandboxConfig, create_sandbox_app

    # Bound before the app is made, so the URLs it hands out are the ports it listens on.
    sockets = [_bound_socket() for _ in range(4)]
    api, hooks, checkout, files = (f"http://127.0.0.1:{s.getsockname()[1]}" for s in sockets)
    urls = SandboxUrls(api=api, hooks=hooks, checkout=checkout, files=files)
    config = dataclasses.replace(
        config or SandboxConfig(), hooks_url=hooks, checkout_url=checkout, files_url=files
    )
    try:
        with _serving(create_sandbox_app(config), sockets=sockets):
            yield urls
    finally:
        for sock in sockets:
            sock.close()


def _bound_socket() -> socket.socket:
    sock = socket.socket()
    sock.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
    sock.bind(("127.0.0.1", 0))
    return sock


@contextlib.contextmanager
def _serving(
    app: Any, *, port: int = 0, sockets: list[socket.socket] | None = None
) -> Iterator[None]:
    config = uvicorn.Config(
        app,
        host="127.0.0.1",
        port=port,
        log_level="warning",
        lifespan="on",
        proxy_headers=False,
        # Longer than any pause of a test: a client that sends on a kept connection just as
        # the server closes it for idling gets no answer (RemoteDisconnected), and the tests'
        # own SDK client does not retry.
        timeout_keep_alive=600,
    )
    server = uvicorn.Server(config)
    thread = threading.Thread(target=server.run, kwargs={"sockets": sockets}, daemon=True)
    thread.start()
    deadline = time.monotonic() + 10
    while not server.started:
        if not thread.is_alive() or time.monotonic() > deadline:
            raise RuntimeError("test server did not start")
        time.sleep(0.01)
    try:
        yield
    finally:
        server.should_exit = True
        thread.join(timeout=10)
