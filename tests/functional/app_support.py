"""Running the real portal app in tests."""

from __future__ import annotations

import asyncio
import contextlib
from collections.abc import Iterator

from starlette.testclient import TestClient

from portal.app import create_app
from portal.mail.devmailbox import DevMailbox
from portal.settings import Settings
from portal.storage import migrate
from portal.storage.database import create_engine


def migrate_database(url: str) -> None:
    async def run() -> None:
        engine = create_engine(url)
        await migrate.upgrade(engine)
        await engine.dispose()

    asyncio.run(run())


@contextlib.contextmanager
def portal_client(settings: Settings, *, mailbox: DevMailbox | None = None) -> Iterator[TestClient]:
    migrate_database(settings.database_url)
    with TestClient(create_app(settings, mailbox=mailbox), base_url=settings.base_url) as client:
        yield client
