"""Pages of the development mailbox (`portal demo` only; the routes do not exist otherwise)."""

from __future__ import annotations

from starlette.exceptions import HTTPException
from starlette.requests import Request
from starlette.responses import Response

from portal.services import services
from portal.templating import render


async def mailbox(request: Request) -> Response:
    box = services(request).mailbox
    assert box is not None
    return render(request, "dev/mailbox.html", {"messages": box.messages()})


async def message(request: Request) -> Response:
    box = services(request).mailbox
    assert box is not None
    mail = box.get(request.path_params["number"])
    if mail is None:
        raise HTTPException(404)
    return render(request, "dev/message.html", {"mail": mail})
