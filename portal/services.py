"""What every request can use, built once per process by the app's lifespan."""

from __future__ import annotations

from dataclasses import dataclass

from jinja2 import Environment
from sqlalchemy.ext.asyncio import AsyncEngine
from starlette.requests import Request

from portal.mail.devmailbox import DevMailbox
from portal.settings import Settings
from portal.stripe_gateway import StripeGateway


@dataclass(frozen=True)
class Services:
    settings: Settings
    engine: AsyncEngine
    gateway: StripeGateway
    templates: Environment
    # Only `portal demo` passes a mailbox; its pages exist only then.
    mailbox: DevMailbox | None = None


def services(request: Request) -> Services:
    found = request.state.services
    assert isinstance(found, Services)
    return found
