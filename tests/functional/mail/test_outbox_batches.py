"""The outbox worked through by a batch job: past one round's batch, stopping between two
messages when asked, and telling which keys it holds already."""

from __future__ import annotations

from datetime import UTC, datetime
from email.message import EmailMessage

import pytest

from portal.mail import outbox
from portal.settings import parse_smtp_url
from portal.storage import migrate
from portal.storage.database import create_engine, transaction
from portal_dev.mailbox import DevMailbox, DevMailServer
from tests.support.servers import free_port


def _message(n: int) -> EmailMessage:
    message = EmailMessage()
    message["To"] = f"kunde{n}@example.de"
    message["From"] = "billing@example.com"
    message["Subject"] = "Erinnerung"
    message.set_content("…")
    return message


@pytest.mark.anyio
async def test_all_due_is_sent_past_one_batch_and_a_stop_ends_between_messages(
    database_url: str, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setattr(outbox, "BATCH", 3)
    engine = create_engine(database_url)
    mailbox = DevMailbox(echo=None)
    server = DevMailServer(mailbox, free_port())
    server.start()
    try:
        await migrate.upgrade(engine)
        async with transaction(engine) as conn:
            for n in range(8):
                await outbox.enqueue(
                    conn, key=f"batch:{n}", message=_message(n), now=datetime.now(UTC)
                )
            assert await outbox.stored(conn, ["batch:1", "batch:7", "batch:99"]) == {
                "batch:1",
                "batch:7",
            }
        smtp = parse_smtp_url(f"smtp://127.0.0.1:{server.port}?tls=none")
        report = await outbox.send_all_due(engine, smtp, stop=lambda: len(mailbox.messages()) >= 4)
        assert (report.sent, len(mailbox.messages())) == (4, 4)
        report = await outbox.send_all_due(engine, smtp)  # the next run: the other four
        assert (report.sent, len(mailbox.messages())) == (4, 8)
        assert sorted(m.recipients[0] for m in mailbox.messages()) == [
            f"kunde{n}@example.de" for n in range(8)
        ]
    finally:
        server.stop()
        await engine.dispose()
