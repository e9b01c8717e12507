"""The portal's cookies: names, attributes, and the browser id every visitor gets.

Over HTTPS every cookie carries the `__Host-` prefix, which makes browsers insist on Secure,
Path=/ and no Domain, so no other host (a sibling subdomain, say) can set or overwrite it. Plain
HTTP is only allowed on localhost (settings), where the prefix cannot be used.
"""

from __future__ import annotations

import secrets
from http.cookies import SimpleCookie
from typing import Literal

from starlette.datastructures import MutableHeaders
from starlette.requests import HTTPConnection
from starlette.responses import Response
from starlette.types import ASGIApp, Message, Receive, Scope, Send

from portal.settings import Settings
from portal.state import request_state, state_of

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
    return conn.cookies.get(cookie_name(settings, name)) or None


def browser_id(conn: HTTPConnection) -> str:
    """A random id for this browser: what CSRF tokens and sign-in requests are bound to."""
    value = request_state(conn).browser_id
    assert value is not None, "BrowserIdMiddleware is not installed"
    return value


class BrowserIdMiddleware:
    """Gives every browser a random id cookie, before the view runs (so a form on the very
    first page can already carry a CSRF token bound to it)."""

    def __init__(self, app: ASGIApp, settings: Settings) -> None:
        self.app = app
        self.settings = settings
        self.name = cookie_name(settings, "browser")

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return
        existing = _cookie_from_scope(scope, self.name)
        if existing is not None and 40 <= len(existing) <= 64 and existing.isascii():
            state_of(scope).browser_id = existing
            await self.app(scope, receive, send)
            return
        browser = state_of(scope).browser_id = secrets.token_urlsafe(32)

        async def send_with_cookie(message: Message) -> None:
            if message["type"] == "http.response.start":
                headers = MutableHeaders(scope=message)
                probe = Response()
                set_cookie(
                    probe,
                    self.settings,
                    "browser",
                    browser,
                    max_age=BROWSER_MAX_AGE,
                )
                headers.append("set-cookie", probe.headers["set-cookie"])
            await send(message)

        await self.app(scope, receive, send_with_cookie)


def _cookie_from_scope(scope: Scope, name: str) -> str | None:
    for key, value in scope["headers"]:
        if key == b"cookie":
            jar: SimpleCookie = SimpleCookie()
            try:
                jar.load(value.decode("latin-1"))
            except Exception:  # a malformed Cookie header is treated as no cookie
                return None
            if name in jar:
                return jar[name].value
    return None
