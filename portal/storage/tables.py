"""The tables the portal owns. Migrations in `migrations/versions/` must match this metadata
(a test compares them), so a change here comes with a new migration."""

from __future__ import annotations

from sqlalchemy import Column, Integer, MetaData, String, Table, Text

from portal.storage.types import UTCDateTime

# Constraint names are fixed so that migrations can refer to them on both databases.
metadata = MetaData(
    naming_convention={
        "ix": "ix_%(table_name)s_%(column_0_N_name)s",
        "uq": "uq_%(table_name)s_%(column_0_N_name)s",
        "ck": "ck_%(table_name)s_%(constraint_name)s",
        "fk": "fk_%(table_name)s_%(column_0_name)s_%(referred_table_name)s",
        "pk": "pk_%(table_name)s",
    }
)

# Stripe delivers events at least once and sometimes twice at the same moment; the primary key
# is what makes handling them exactly-once (the insert shares the transaction with the effects).
webhook_events = Table(
    "webhook_events",
    metadata,
    Column("event_id", String(255), primary_key=True),
    Column("type", String(255), nullable=False),
    Column("received_at", UTCDateTime(), nullable=False),
)

# Every e-mail is written here before it is sent, under a key that names what it is about, so a
# retry after a failure neither loses nor doubles it.
mail_outbox = Table(
    "mail_outbox",
    metadata,
    Column("id", Integer, primary_key=True, autoincrement=True),
    Column("dedupe_key", String(255), nullable=False, unique=True),
    Column("recipient", String(320), nullable=False),
    Column("message", Text, nullable=False),  # the whole RFC 5322 message, ready to send
    Column("created_at", UTCDateTime(), nullable=False),
    Column("attempts", Integer, nullable=False, server_default="0"),
    Column("next_attempt_at", UTCDateTime(), nullable=False, index=True),
    Column("sent_at", UTCDateTime(), nullable=True),
    Column("last_error", Text, nullable=True),
)
