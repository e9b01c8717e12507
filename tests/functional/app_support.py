"""Running the real portal app in tests."""

from __future__ import annotations

import asyncio
import contextlib
from collections.abc import Iterator

from starlette.testclient import TestClient

from portal.app import create_app
from portal.settings import Settings
from portal.storage import migrate
from portal.storage.database import create_engine
from portal_dev.demo.runner import create_demo_app
from portal_dev.mailbox import DevMailbox


def migrate_database(url: str) -> None:
    async def run() -> None:
        engine = create_engine(url)
        await migrate.upgrade(engine)
        await engine.dispose()

    asyncio.run(run())


@contextlib.contextmanager
def portal_client(settings: Settings, *, mailbox: DevMailbox | None = None) -> Iterator[TestClient]:
    """The portal for `settings`; with a `mailbox`, as `portal demo` runs it (demo mode)."""
    migrate_database(settings.database_url)
    app = create_app(settings) if mailbox is None else create_demo_app(settings, mailbox)
    with TestClient(app, base_url=settings.base_url) as client:
        yield client
