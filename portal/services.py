"""What every request can use, built once per process by the app's lifespan."""

from __future__ import annotations

from dataclasses import dataclass, field

from jinja2 import Environment
from sqlalchemy.ext.asyncio import AsyncEngine
from starlette.requests import Request
from starlette.routing import Router

from portal.pages import KeptPages
from portal.settings import Settings
from portal.stripe.cache import CachingGateway


@dataclass(frozen=True)
class Services:
    settings: Settings
    engine: AsyncEngine
    gateway: CachingGateway
    templates: Environment
    # The URL table (`portal.routes`), for absolute links without a request (e-mails, commands).
    router: Router
    # `portal demo`'s mode (see `portal.app.create_app`); never set in production.
    demo: bool = False
    # Repeat views' pages with what they were made from (`portal.pages`).
    pages: KeptPages = field(default_factory=KeptPages)

    def link(self, name: str, /, **params: str) -> str:
        """The absolute address of the route `name`, for e-mails and for Stripe to send the
        customer back to: always from PORTAL_BASE_URL, never from a request's Host header."""
        return self.settings.base_url + str(self.router.url_path_for(name, **params))


def services(request: Request) -> Services:
    # The lifespan's state, as `request.state.services` reads it, without the wrapper object.
    found = request.scope["state"]["services"]
    assert isinstance(found, Services)
    return found
