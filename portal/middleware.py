"""The one ASGI layer around the route table: what every request gets before and after its view.

In order, outermost first:

1. the client's address, from the proxy's header (`portal.clientip`), before anything reads
   it (the log line, the limits, the audit trail);
2. the request id, returned as `X-Request-Id`, and the request's log line once it is answered
   (`portal.logs`);
3. the language and formats, from the language cookie and the browser (`portal.i18n`), so
   that even a refused Host is answered in the visitor's language;
4. the Host check (`portal.security.wrong_host`); every answer from here on gets the security
   headers and is marked `no-store` unless the view chose otherwise (static files do), so a
   signed-in page never lingers in a shared computer's cache or the back-forward cache;
5. the browser id cookie (`portal.cookies`), given before the view runs so that a form on the
   very first page can already carry a CSRF token bound to it;
6. an unexpected exception becomes the localized 500 page (`portal.errors.server_error`), with
   the same headers as every other page (Starlette sends a handler for `Exception` to its
   outermost middleware, outside this one);
7. a body over its route's limit is refused (`portal.limits`) inside the error pages' reach;
8. the request's own record of stale Stripe data and change counters (`portal.stripe.cache`).

Each rule lives in its concern's module; this layer applies them in one pass, reading the
request's headers once and wrapping `send` once. As eight middleware layers, each reading the
headers again and wrapping `send` in turn, they had cost about a quarter of a repeat view's CPU
(the bench's profile).
"""

from __future__ import annotations

import time

from starlette.requests import Request, cookie_parser
from starlette.types import ASGIApp, Message, Receive, Scope, Send

from portal import i18n, limits, logs, security
from portal.clientip import client_address
from portal.cookies import browser_cookie, cookie_name, is_browser_id, new_browser_id
from portal.errors import server_error
from portal.settings import Settings
from portal.state import state_of
from portal.stripe import cache


class PortalMiddleware:
    def __init__(self, app: ASGIApp, settings: Settings) -> None:
        self.app = app
        self.settings = settings
        self.host = security.served_host(settings).encode("latin-1")
        self.headers = security.security_headers(settings)
        header = settings.client_ip_header.lower() if settings.client_ip_header else None
        self.client_header_name = header
        self.client_header = header.encode("latin-1") if header else None
        self.lang_cookie = cookie_name(settings, "lang")
        self.browser_cookie = cookie_name(settings, "browser")

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return
        started = time.perf_counter()
        # The headers, read once: the first Host and Cookie (as Starlette's own `Request`
        # reads them), the last of the others (a proxy's own comes after the client's).
        host = cookie_header = accept_language = declared = forwarded = None
        request_id = proxy_request_id = None
        for key, value in scope["headers"]:
            if key == b"host":
                host = value if host is None else host
            elif key == b"cookie":
                cookie_header = value if cookie_header is None else cookie_header
            elif key == b"accept-language":
                accept_language = value
            elif key == b"content-length":
                declared = value
            elif key == b"fly-request-id":
                proxy_request_id = value
            elif key == b"x-request-id":
                request_id = value
            if key == self.client_header:
                forwarded = value

        if forwarded is not None and self.client_header_name is not None:
            address = client_address(self.client_header_name, forwarded.decode("latin-1"))
            if address is not None:
                _host, port = scope.get("client") or (None, 0)
                scope = {**scope, "client": (address, port)}

        rid = logs.request_id_for(proxy_request_id or request_id)
        rid_token = logs.bind_request_id(rid)
        cookies = cookie_parser(cookie_header.decode("latin-1")) if cookie_header else {}
        i18n.use_request_locale(
            cookies.get(self.lang_cookie) or None,
            accept_language.decode("latin-1") if accept_language is not None else None,
        )
        record = cache.start_request()

        status = 500
        answering = False
        new_browser: str | None = None

        async def sending(message: Message) -> None:
            nonlocal status, answering
            if message["type"] == "http.response.start":
                status, answering = message["status"], True
                headers = list(message.get("headers", ()))
                present = {key.lower() for key, _value in headers}  # a view's own choice stands
                headers.extend(h for h in self.headers if h[0] not in present)
                if b"cache-control" not in present:
                    headers.append((b"cache-control", b"no-store"))
                if new_browser is not None:
                    headers.append((b"set-cookie", browser_cookie(self.settings, new_browser)))
                headers.append((b"x-request-id", rid.encode("latin-1")))
                message = {**message, "headers": headers}
            await send(message)

        try:
            seen_host = (host or b"").lower()
            if seen_host != self.host:
                refusal = security.wrong_host(self.settings, scope, seen_host.decode("latin-1"))
                await refusal(scope, receive, sending)
                return
            state = state_of(scope)
            state.cookies = cookies
            existing = cookies.get(self.browser_cookie)
            if is_browser_id(existing):
                state.browser_id = existing
            else:
                new_browser = state.browser_id = new_browser_id()
            receive = limits.limited(receive, scope["path"], declared)
            try:
                await self.app(scope, receive, sending)
            except Exception as exc:
                if answering:
                    raise  # too late for a page; the server closes the connection
                page = await server_error(Request(scope, receive), exc)
                await page(scope, receive, sending)
        finally:
            cache.end_request(record)
            logs.log_request(scope["method"], scope["path"], status, started)
            logs.unbind_request_id(rid_token)
