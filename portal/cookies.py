"""The portal's cookies: names, attributes, and the browser id every visitor gets.

Over HTTPS every cookie carries the `__Host-` prefix, which makes browsers insist on Secure,
Path=/ and no Domain, so no other host (a sibling subdomain, say) can set or overwrite it. Plain
HTTP is only allowed on localhost (settings), where the prefix cannot be used.
"""

from __future__ import annotations

import secrets
from typing import Literal

from starlette.requests import HTTPConnection
from starlette.responses import Response

from portal.settings import Settings
from portal.state import request_state

CookieName = Literal["browser", "session", "link", "lang", "invoice", "staff"]

BROWSER_MAX_AGE = 30 * 24 * 3600


def cookie_name(settings: Settings, name: CookieName) -> str:
    return f"__Host-portal_{name}" if settings.is_https else f"portal_{name}"


def set_cookie(
    response: Response, settings: Settings, name: CookieName, value: str, *, max_age: int | None
) -> None:
    response.set_cookie(
        cookie_name(settings, name),
        value,
        max_age=max_age,
        path="/",
        secure=settings.is_https,
        httponly=True,
        samesite="lax",
    )


def delete_cookie(response: Response, settings: Settings, name: CookieName) -> None:
    response.delete_cookie(
        cookie_name(settings, name),
        path="/",
        secure=settings.is_https,
        httponly=True,
        samesite="lax",
    )


def read_cookie(conn: HTTPConnection, settings: Settings, name: CookieName) -> str | None:
    parsed = request_state(conn).cookies
    jar = conn.cookies if parsed is None else parsed  # parsed by portal.middleware, once
    return jar.get(cookie_name(settings, name)) or None


def browser_id(conn: HTTPConnection) -> str:
    """A random id for this browser: what CSRF tokens and sign-in requests are bound to."""
    value = request_state(conn).browser_id
    assert value is not None, "portal.middleware is not installed"
    return value


def new_browser_id() -> str:
    return secrets.token_urlsafe(32)


def is_browser_id(value: str | None) -> bool:
    """Whether a browser cookie's value is one the portal could have given (`new_browser_id`)."""
    return value is not None and 40 <= len(value) <= 64 and value.isascii()


def browser_cookie(settings: Settings, value: str) -> bytes:
    """The `Set-Cookie` header value that gives a browser its id (see `portal.middleware`,
    which gives it before the view runs, so a form on the very first page can already carry
    a CSRF token bound to it)."""
    probe = Response()
    set_cookie(probe, settings, "browser", value, max_age=BROWSER_MAX_AGE)
    return probe.headers["set-cookie"].encode("latin-1")
