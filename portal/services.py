"""What every request can use, built once per process by the app's lifespan."""

from __future__ import annotations

from dataclasses import dataclass

from jinja2 import Environment
from sqlalchemy.ext.asyncio import AsyncEngine
from starlette.requests import Request

from portal.settings import Settings
from portal.stripe.cache import CachingGateway


@dataclass(frozen=True)
class Services:
    settings: Settings
    engine: AsyncEngine
    gateway: CachingGateway
    templates: Environment
    # `portal demo`'s mode (see `portal.app.create_app`); never set in production.
    demo: bool = False


def services(request: Request) -> Services:
    found = request.state.services
    assert isinstance(found, Services)
    return found
