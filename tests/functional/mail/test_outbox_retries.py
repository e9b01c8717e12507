"""SMTP down when a customer asks for a sign-in e-mail: the running portal sends it once the
server is back, within the link's lifetime; an e-mail whose link has expired is never sent and
is forgotten. On SQLite and PostgreSQL where storage decides."""

from __future__ import annotations

import time
import uuid
from collections.abc import Iterator
from datetime import UTC, datetime, timedelta
from email.message import EmailMessage
from pathlib import Path

import pytest
from sqlalchemy import func, select

from portal import housekeeping
from portal.mail import outbox
from portal.settings import parse_smtp_url
from portal.storage import migrate
from portal.storage.database import create_engine, transaction
from portal.storage.tables import mail_outbox
from portal_dev.mailbox import DevMailbox, DevMailServer
from tests.functional.portal_support import Portal, link_in, serve_portal
from tests.support.servers import free_port


@pytest.fixture
def smtp_port() -> int:
    return free_port()


@pytest.fixture
def portal_with_smtp_down(
    sandbox_url: str, tmp_path: Path, smtp_port: int, monkeypatch: pytest.MonkeyPatch
) -> Iterator[Portal]:
    # The running portal's sender, sped up: a round every 0.2 s, retries after half a second
    # (in production every 30 s, after 1 and 5 minutes: both inside a link's 10 minutes).
    monkeypatch.setattr(outbox, "SEND_EVERY", timedelta(seconds=0.2))
    monkeypatch.setattr(outbox, "RETRY_DELAYS", (timedelta(seconds=0.5),) * 4)
    smtp = parse_smtp_url(f"smtp://127.0.0.1:{smtp_port}?tls=none&timeout=2")
    with serve_portal(tmp_path, sandbox_url, smtp=smtp) as found:
        yield found


def test_a_sign_in_e_mail_is_sent_once_smtp_is_back(
    portal_with_smtp_down: Portal, smtp_port: int
) -> None:
    portal = portal_with_smtp_down
    email = f"kunde-{uuid.uuid4().hex[:8]}@example.de"
    portal.customer(email=email)
    browser = portal.browser()
    assert browser.request_link(email).status_code == 303
    deadline = time.monotonic() + 10
    while time.monotonic() < deadline:  # the first try, after the answer, fails
        with portal.db.connect() as conn:
            error = conn.execute(select(mail_outbox.c.last_error)).scalar()
        if error:
            break
        time.sleep(0.05)
    assert error, "the first send should have failed"

    mailbox = DevMailbox(echo=None)
    server = DevMailServer(mailbox, smtp_port)
    server.start()
    try:
        deadline = time.monotonic() + 10
        while time.monotonic() < deadline and not mailbox.messages():
            time.sleep(0.05)
        received = mailbox.messages()
        assert [list(m.recipients) for m in received] == [[email]]
        link = link_in(received[0])
        assert browser.get(link.removeprefix(portal.url)).status_code == 303  # still valid
    finally:
        server.stop()


def _message(to: str) -> EmailMessage:
    message = EmailMessage()
    message["To"] = to
    message["From"] = "billing@example.com"
    message["Subject"] = "Ihr Anmeldelink"
    message.set_content("…")
    return message


@pytest.mark.anyio
async def test_an_expired_e_mail_is_not_sent_and_is_forgotten(database_url: str) -> None:
    engine = create_engine(database_url)
    mailbox = DevMailbox(echo=None)
    server = DevMailServer(mailbox, free_port())
    server.start()
    try:
        await migrate.upgrade(engine)
        now = datetime.now(UTC)
        async with transaction(engine) as conn:
            await outbox.enqueue(
                conn,
                key="sign-in:1",
                message=_message("spaet@example.de"),
                now=now - timedelta(minutes=11),
                expires_at=now - timedelta(minutes=1),
            )
            await outbox.enqueue(
                conn,
                key="sign-in:2",
                message=_message("puenktlich@example.de"),
                now=now,
                expires_at=now + timedelta(minutes=10),
            )
        smtp = parse_smtp_url(f"smtp://127.0.0.1:{server.port}?tls=none")
        report = await outbox.send_due(engine, smtp)
        assert (report.sent, report.failed) == (1, 0)
        assert [list(m.recipients) for m in mailbox.messages()] == [["puenktlich@example.de"]]
        await housekeeping.purge(engine, datetime.now(UTC))
        async with engine.connect() as conn:
            keys = (await conn.execute(select(mail_outbox.c.dedupe_key))).scalars().all()
            assert keys == ["sign-in:2"]  # the sent one stays, the dead one is gone
            assert (
                await conn.execute(select(func.count()).select_from(mail_outbox))
            ).scalar_one() == 1
    finally:
        server.stop()
        await engine.dispose()
