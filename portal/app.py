"""The application factory: `create_app(settings)` builds the whole portal as data."""

from __future__ import annotations

import asyncio
import contextlib
import logging
from collections.abc import AsyncIterator, Sequence
from contextlib import asynccontextmanager

from starlette.applications import Starlette
from starlette.middleware import Middleware
from starlette.routing import BaseRoute, Router

from portal import housekeeping
from portal.assets import Assets
from portal.billing import inbox, sweep
from portal.errors import HANDLERS
from portal.lru import MB
from portal.mail import outbox
from portal.middleware import PortalMiddleware
from portal.pages import KeptPages
from portal.routes import routes
from portal.services import Services
from portal.settings import Settings
from portal.storage.database import create_engine, dispose, kept_rows, listen
from portal.stripe.cache import CachingGateway
from portal.stripe.gateway import StripeGateway
from portal.templating import create_environment

log = logging.getLogger(__name__)


def cache_figures(svc: Services) -> dict[str, tuple[int, int]]:
    """Each cache bounded by PORTAL_CACHE_MB: its entries and their estimated bytes."""
    return {
        "stripe": svc.gateway.kept(),
        "pages": svc.pages.kept(),
        "rows": kept_rows(svc.engine),
    }


@asynccontextmanager
async def open_services(
    settings: Settings,
    *,
    assets: Assets | None = None,
    demo: bool = False,
    table: Sequence[BaseRoute] | None = None,
) -> AsyncIterator[Services]:
    """What views and commands work with: the database, Stripe, the templates."""
    # PORTAL_CACHE_MB shared as its help text says: half for Stripe's data, three eighths for
    # pages, an eighth for database rows.
    budget = settings.cache_mb * MB
    engine = create_engine(settings.database_url, kept_budget=budget // 8)
    gateway = CachingGateway(
        StripeGateway(
            api_key=settings.stripe_api_key,
            api_base=settings.stripe_api_base,
            timeout=settings.stripe_timeout,
            max_network_retries=settings.stripe_max_network_retries,
            max_concurrent_requests=settings.stripe_max_concurrent_requests,
            invoice_api_version=settings.stripe_invoice_api_version,
        ),
        engine=engine,
        ttl=settings.stripe_cache_seconds,
        budget=budget // 2,
    )
    try:
        yield Services(
            settings=settings,
            engine=engine,
            gateway=gateway,
            templates=create_environment(assets or Assets()),
            # The app's own table where there is an app; commands build theirs.
            router=Router(list(table or routes(assets=assets or Assets(), demo=demo))),
            demo=demo,
            pages=KeptPages(budget * 3 // 8),
        )
    finally:
        await gateway.aclose()
        await dispose(engine)


def create_app(
    settings: Settings, *, demo: bool = False, extra_routes: Sequence[BaseRoute] = ()
) -> Starlette:
    """The portal for `settings`.

    `demo` is `portal demo`'s mode (devtools' `portal_dev.demo.runner`): the staff sign-in
    without an identity provider, and a footer link to the development mailbox, whose pages
    (`dev:mailbox`, `dev:message`) the demo brings in `extra_routes`. Nothing else sets it.
    """
    assets = Assets()
    table = routes(assets=assets, demo=demo)

    @asynccontextmanager
    async def lifespan(app: Starlette) -> AsyncIterator[dict[str, Services]]:
        async with open_services(settings, assets=assets, demo=demo, table=table) as svc:
            # Every instance purges; the work is idempotent (see portal.housekeeping).
            purging = asyncio.create_task(housekeeping.run_periodically(svc.engine))
            # E-mails whose first send failed (SMTP down) go out once it is back, from here.
            sending = asyncio.create_task(outbox.send_periodically(svc.engine, settings.smtp))
            # Payments no request came back to: PaymentIntents to cancel, money to place.
            tidying = asyncio.create_task(sweep.tidy_periodically(svc))
            # Webhook events whose handling failed or was left unfinished by a stopped process.
            handling = asyncio.create_task(inbox.work_off(svc))
            tasks = [purging, sending, tidying, handling]
            # On PostgreSQL, hearing of other instances' changes lets this one keep the rows
            # every request reads (sessions, change counters) between requests.
            listener = listen(svc.engine)
            if listener is not None:
                tasks.append(asyncio.create_task(listener.run()))
            try:
                yield {"services": svc}
            finally:
                for task in tasks:
                    task.cancel()
                    with contextlib.suppress(asyncio.CancelledError):
                        await task
                # What the caches held, for whoever sizes PORTAL_CACHE_MB (and the bench).
                figures = " ".join(
                    f"{name}={entries}/{size}"
                    for name, (entries, size) in cache_figures(svc).items()
                )
                log.info("caches at shutdown (entries/bytes): %s", figures)

    return Starlette(
        routes=[*table, *extra_routes],
        # The client's address, the request id and log line, the language, the Host check and
        # security headers, the browser id, the 500 page, body limits: one layer, in that order.
        middleware=[Middleware(PortalMiddleware, settings=settings)],
        exception_handlers=dict(HANDLERS),
        lifespan=lifespan,
    )
