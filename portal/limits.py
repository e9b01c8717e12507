"""How much a request may send: a limit on every body, before anything parses it.

Every form the portal has fits in a few kilobytes and Stripe's events in a few hundred; a body
beyond its route's limit is answered 413 (the localized error page) as soon as the declared
length or the bytes received so far pass it, so a client cannot make a process hold megabytes
or parse hundreds of thousands of fields. Starlette raises `HTTPException`s from inside
`receive`, which the exception handlers of `portal.errors` turn into pages.
"""

from __future__ import annotations

from starlette.exceptions import HTTPException
from starlette.types import Message, Receive

# A form (the billing details with every address line is about 1 KB) and Stripe's events.
FORM_BODY_BYTES = 64 * 1024
WEBHOOK_BODY_BYTES = 512 * 1024
# Routes whose bodies are not the portal's own forms.
LARGER_BODIES = {"/stripe/webhook": WEBHOOK_BODY_BYTES}


def body_limit(path: str) -> int:
    return LARGER_BODIES.get(path, FORM_BODY_BYTES)


class BodyTooLarge(HTTPException):
    def __init__(self) -> None:
        super().__init__(413, "request body too large")


def limited(receive: Receive, path: str, declared: bytes | None) -> Receive:
    """`receive` for a request to `path` whose Content-Length is `declared` (None: none said),
    refusing a body over the route's limit: before a byte of it is read when the length says
    so, else as soon as the bytes received pass it. The exception handlers answer."""
    limit = body_limit(path)
    if declared is not None and (not declared.isdigit() or int(declared) > limit):
        return _refusing_receive(receive)
    return _counting_receive(receive, limit)


def _refusing_receive(receive: Receive) -> Receive:
    async def refuse() -> Message:
        raise BodyTooLarge()

    return refuse


def _counting_receive(receive: Receive, limit: int) -> Receive:
    received = 0

    async def counting() -> Message:
        nonlocal received
        message = await receive()
        if message["type"] == "http.request":
            received += len(message.get("body", b""))
            if received > limit:
                raise BodyTooLarge()
        return message

    return counting
