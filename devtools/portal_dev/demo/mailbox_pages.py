"""Pages of the development mailbox, mounted by `portal demo` next to the portal's own routes
(`create_app(..., demo=True, extra_routes=...)`); the portal itself has no such routes. Their
templates (`templates/dev/`) stay with the portal's, whose catalogs translate them and whose
footer links to them in demo mode."""

from __future__ import annotations

from starlette.exceptions import HTTPException
from starlette.requests import Request
from starlette.responses import Response
from starlette.routing import BaseRoute, Route

from portal.templating import render
from portal_dev.mailbox import DevMailbox


def mailbox_routes(box: DevMailbox) -> list[BaseRoute]:
    """`/_dev/mail` (every message, newest first) and `/_dev/mail/{number}` for `box`."""

    async def mailbox(request: Request) -> Response:
        return render(request, "dev/mailbox.html", {"messages": box.messages()})

    async def message(request: Request) -> Response:
        mail = box.get(request.path_params["number"])
        if mail is None:
            raise HTTPException(404)
        return render(request, "dev/message.html", {"mail": mail})

    return [
        Route("/_dev/mail", mailbox, name="dev:mailbox"),
        Route("/_dev/mail/{number:int}", message, name="dev:message"),
    ]
