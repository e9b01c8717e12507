"""Which origin serves which part of the sandbox, as Stripe splits them across hosts.

Stripe's API is on api.stripe.com, 3-D Secure on hooks.stripe.com, Checkout on
checkout.stripe.com and files on files.stripe.com. A browser treats each as a foreign origin (CSP
`form-action`, cookies), so a portal that only ever met one origin can pass its tests and fail in
production. With `SandboxConfig.hooks_url` / `checkout_url` / `files_url` set, each surface is
served only on its own origin, and that origin serves nothing else.
"""

from __future__ import annotations

import json
from urllib.parse import urlsplit

from starlette.datastructures import URL
from starlette.types import ASGIApp, Receive, Scope, Send

from stripe_sandbox.config import SandboxConfig

# Path prefix -> surface; every other path (/v1, /_sandbox, hosted invoice pages, the
# invoice_pdf link, receipts) is the API's.
SURFACES = (("/3ds/", "hooks"), ("/c/pay/", "checkout"), ("/files/", "files"))
_DEFAULT_PORTS = {"http": "80", "https": "443"}


def surface_of(path: str) -> str:
    for prefix, surface in SURFACES:
        if path.startswith(prefix):
            return surface
    return "api"


def origin_of(url: str) -> str:
    """`scheme://host[:port]`, lower-case, without the scheme's default port."""
    parts = urlsplit(url)
    scheme = parts.scheme.lower()
    host = (parts.hostname or "").lower()
    port = str(parts.port) if parts.port is not None else ""
    if port and port != _DEFAULT_PORTS.get(scheme):
        return f"{scheme}://{host}:{port}"
    return f"{scheme}://{host}"


class OriginGuard:
    """Refuses (404) a request for one surface that arrives on another surface's origin."""

    def __init__(self, app: ASGIApp, config: SandboxConfig) -> None:
        self.app = app
        api = origin_of(config.public_url) if config.public_url else None
        # A surface configured on the API's own origin is simply part of the API.
        self.origins = {
            name: origin_of(url)
            for name, url in config.surface_urls().items()
            if origin_of(url) != api
        }

    def allows(self, path: str, origin: str) -> bool:
        surface = surface_of(path)
        if surface in self.origins:
            return origin == self.origins[surface]
        return origin not in self.origins.values()

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http" or not self.origins:
            await self.app(scope, receive, send)
            return
        origin = origin_of(str(URL(scope=scope)))
        if self.allows(scope["path"], origin):
            await self.app(scope, receive, send)
            return
        message = f"{scope['path']} is not served on {origin} (this sandbox's origins: " + (
            ", ".join(f"{name} {url}" for name, url in sorted(self.origins.items())) + ")"
        )
        body = json.dumps({"error": {"type": "invalid_request_error", "message": message}})
        await send(
            {
                "type": "http.response.start",
                "status": 404,
                "headers": [(b"content-type", b"application/json")],
            }
        )
        await send({"type": "http.response.body", "body": body.encode()})
