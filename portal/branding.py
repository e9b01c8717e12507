"""The deployment's brand: its accent colour as a stylesheet and its logo.

The colour comes as a tiny stylesheet rather than an inline style because the CSP allows no
inline styles.
"""

from __future__ import annotations

from starlette.exceptions import HTTPException
from starlette.requests import Request
from starlette.responses import FileResponse, Response

from portal.services import services

CACHE = "public, max-age=3600"


async def stylesheet(request: Request) -> Response:
    color = services(request).settings.brand_color
    return Response(
        f":root {{ --accent: {color}; }}\n",
        media_type="text/css",
        headers={"cache-control": CACHE},
    )


async def logo(request: Request) -> Response:
    path = services(request).settings.logo_file
    if path is None:
        raise HTTPException(404)
    return FileResponse(path, headers={"cache-control": CACHE})
