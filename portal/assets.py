"""Static files under content-hashed names, cached by browsers for a year.

`css/portal.css` is served as `/static/css/portal.<hash>.css`; a changed file gets a new name,
so a long cache lifetime never serves a stale stylesheet. Templates ask `static_url(...)`.
"""

from __future__ import annotations

import hashlib
from pathlib import Path

from starlette.exceptions import HTTPException
from starlette.requests import Request
from starlette.responses import FileResponse, Response

from portal.resources import STATIC

IMMUTABLE = "public, max-age=31536000, immutable"


def _hashed(path: Path, root: Path) -> str:
    digest = hashlib.sha256(path.read_bytes()).hexdigest()[:12]
    relative = path.relative_to(root).as_posix()
    stem, dot, suffix = relative.rpartition(".")
    return f"{stem}.{digest}.{suffix}" if dot else f"{relative}.{digest}"


class Assets:
    def __init__(self, root: Path = STATIC) -> None:
        self.root = root
        files = [p for p in root.rglob("*") if p.is_file() and not p.name.startswith(".")]
        self.names = {p.relative_to(root).as_posix(): _hashed(p, root) for p in files}
        self.files = {hashed: root / logical for logical, hashed in self.names.items()}

    def url_path(self, logical: str) -> str:
        return f"/static/{self.names[logical]}"

    async def serve(self, request: Request) -> Response:
        path = self.files.get(request.path_params["path"])
        if path is None:
            raise HTTPException(404)
        return FileResponse(path, headers={"cache-control": IMMUTABLE})
