"""Serving: connections send each answer at once, whatever socket uvicorn listened on."""

from __future__ import annotations

import asyncio
import socket

import pytest

from portal.serving import no_delay

pytestmark = pytest.mark.anyio


async def test_an_accepted_connection_gets_tcp_nodelay_on_a_socket_without_it() -> None:
    # As uvicorn's supervisor binds for `--workers`: no protocol number, so asyncio does not
    # set TCP_NODELAY on what it accepts.
    listener = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
    listener.bind(("127.0.0.1", 0))
    listener.listen()
    listener.setblocking(False)
    accepted: asyncio.Future[asyncio.BaseTransport] = asyncio.get_running_loop().create_future()

    class Keep(asyncio.Protocol):
        def connection_made(self, transport: asyncio.BaseTransport) -> None:
            accepted.set_result(transport)

    server = await asyncio.get_running_loop().create_server(Keep, sock=listener)
    client = socket.create_connection(listener.getsockname())
    try:
        transport = await asyncio.wait_for(accepted, 5)
        sock = transport.get_extra_info("socket")
        assert sock.getsockopt(socket.IPPROTO_TCP, socket.TCP_NODELAY) == 0  # the bug
        no_delay(transport)
        assert sock.getsockopt(socket.IPPROTO_TCP, socket.TCP_NODELAY) != 0
        transport.close()
    finally:
        client.close()
        server.close()
        await server.wait_closed()
