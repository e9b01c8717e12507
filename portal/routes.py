"""The portal's URL table. Names are namespaced (`area:page`); templates build URLs from them."""

from __future__ import annotations

from starlette.routing import BaseRoute, Mount, Route
from starlette.staticfiles import StaticFiles

from portal import health, home
from portal.billing import webhooks
from portal.mail import views as mail_views
from portal.resources import STATIC


def routes(*, demo: bool) -> list[BaseRoute]:
    table: list[BaseRoute] = [
        Route("/", home.index, name="home:index"),
        Route("/healthz", health.healthz, name="health:live"),
        Route("/readyz", health.readyz, name="health:ready"),
        Route("/stripe/webhook", webhooks.receive, methods=["POST"], name="stripe:webhook"),
        Mount("/static", StaticFiles(directory=STATIC), name="static"),
    ]
    if demo:
        table += [
            Route("/_dev/mail", mail_views.mailbox, name="dev:mailbox"),
            Route("/_dev/mail/{number:int}", mail_views.message, name="dev:message"),
        ]
    return table
