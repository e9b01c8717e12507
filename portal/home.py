"""The portal's front page."""

from __future__ import annotations

from starlette.requests import Request
from starlette.responses import Response

from portal.templating import render


async def index(request: Request) -> Response:
    return render(request, "pages/index.html")
