"""A message the mail server can never carry (an address with letters beyond ASCII before the @,
a server without SMTPUTF8) is tried once, kept with its reason, logged as an error and never
tried again; on SQLite and PostgreSQL."""

from __future__ import annotations

import logging
from datetime import UTC, datetime, timedelta
from email.message import EmailMessage

import pytest
from sqlalchemy import select

from portal.mail import outbox
from portal.mail import smtp as smtp_module
from portal.mail.messages import mailbox, prepare
from portal.settings import parse_smtp_url
from portal.storage import migrate
from portal.storage.database import create_engine, transaction
from portal.storage.tables import mail_outbox
from portal_dev.mailbox import DevMailbox, DevMailServer
from tests.support.servers import free_port

pytestmark = pytest.mark.anyio


@pytest.fixture(autouse=True)
def nothing_seen_of_servers(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(smtp_module, "_SMTPUTF8_SEEN", {})


def _message(to: str) -> EmailMessage:
    message = EmailMessage()
    message["From"] = "billing@example.com"
    message["To"] = mailbox("", to)
    message["Subject"] = "Ihre Rechnung"
    message.set_content("Guten Tag\n")
    return message


async def test_an_e_mail_the_server_cannot_carry_is_given_up_at_once(
    database_url: str, monkeypatch: pytest.MonkeyPatch, caplog: pytest.LogCaptureFixture
) -> None:
    monkeypatch.setattr(outbox, "RETRY_DELAYS", (timedelta(0),) * 4)  # any retry due at once
    engine = create_engine(database_url)
    box = DevMailbox(echo=None)
    server = DevMailServer(box, free_port())  # no SMTPUTF8
    server.start()
    smtp = parse_smtp_url(f"smtp://127.0.0.1:{server.port}?tls=none")
    try:
        await migrate.upgrade(engine)
        async with transaction(engine) as conn:
            for key, to in (("reminder:1", "jürgen@example.de"), ("reminder:2", "karl@bücher.de")):
                await outbox.enqueue(conn, key=key, message=_message(to), now=datetime.now(UTC))
        with caplog.at_level(logging.WARNING, logger="portal.mail.outbox"):
            first = await outbox.send_due(engine, smtp)
            again = await outbox.send_due(engine, smtp)
        assert (first.sent, first.failed) == (1, 1)
        assert (again.sent, again.failed) == (0, 0)  # not tried again
        assert [m.recipients for m in box.messages()] == [("karl@xn--bcher-kva.de",)]
        async with engine.connect() as conn:
            row = (
                await conn.execute(
                    select(mail_outbox).where(mail_outbox.c.dedupe_key == "reminder:1")
                )
            ).one()
        assert row.sent_at is None
        assert row.attempts == outbox.GIVE_UP_AFTER
        assert row.last_error.startswith("undeliverable:")
        assert "SMTPUTF8" in row.last_error
        assert row.recipient == "jürgen@example.de"
        (record,) = [r for r in caplog.records if r.levelno >= logging.WARNING]
        assert record.levelno == logging.ERROR
        assert "given up" in record.getMessage()
    finally:
        server.stop()
        await engine.dispose()


async def test_an_e_mail_sent_as_soon_as_stored_is_given_up_the_same_way(
    database_url: str,
) -> None:
    engine = create_engine(database_url)
    box = DevMailbox(echo=None)
    server = DevMailServer(box, free_port())
    server.start()
    smtp = parse_smtp_url(f"smtp://127.0.0.1:{server.port}?tls=none")
    try:
        await migrate.upgrade(engine)
        expires = datetime.now(UTC) + timedelta(minutes=10)
        sent = await outbox.deliver(
            engine,
            smtp,
            key="sign-in:1",
            message=prepare(_message("jürgen@example.de")),
            expires_at=expires,
        )
        assert sent is False
        assert (await outbox.send_due(engine, smtp)).failed == 0
        async with engine.connect() as conn:
            row = (await conn.execute(select(mail_outbox))).one()
        assert (row.attempts, row.sent_at) == (outbox.GIVE_UP_AFTER, None)
        assert row.last_error.startswith("undeliverable:")
        assert box.messages() == []
    finally:
        server.stop()
        await engine.dispose()
