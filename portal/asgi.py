"""The ASGI application for process managers (`uvicorn --factory portal.asgi:application
--workers N`), as the Dockerfile runs it: settings from the PORTAL_* environment, logs as
configured. `portal serve` is the same app in one process, with friendlier start-up checks."""

from __future__ import annotations

import os
import sys

from starlette.applications import Starlette

from portal import logs
from portal.app import create_app
from portal.settings import SettingsError, load_settings


def application() -> Starlette:
    try:
        settings = load_settings(os.environ)
    except SettingsError as exc:
        for line in exc.problems:
            print(f"portal: {line}", file=sys.stderr)
        raise SystemExit(2) from exc
    logs.configure(json_lines=settings.log_format == "json")
    return create_app(settings)
