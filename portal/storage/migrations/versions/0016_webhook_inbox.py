"""Webhook events acknowledged before they are handled (`webhook_inbox`): a burst is answered
at once and worked off after the answer, and an event whose handling a stopped process left
unfinished is taken up by the next.

Revision ID: 0016
Revises: 0015
Create Date: 2026-12-06
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

from portal.storage.types import UTCDateTime

revision = "0016"
down_revision = "0015"
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table(
        "webhook_inbox",
        sa.Column("event_id", sa.String(255), nullable=False),
        sa.Column("type", sa.String(255), nullable=False),
        sa.Column("object_type", sa.String(255), nullable=False),
        sa.Column("object_id", sa.String(255), nullable=True),
        sa.Column("customer_id", sa.String(255), nullable=True),
        sa.Column("created", UTCDateTime(), nullable=False),
        sa.Column("received_at", UTCDateTime(), nullable=False),
        sa.Column("claimed_until", UTCDateTime(), nullable=True),
        sa.Column("attempts", sa.Integer(), nullable=False, server_default="0"),
        sa.Column("next_try_at", UTCDateTime(), nullable=False),
        sa.PrimaryKeyConstraint("event_id", name="pk_webhook_inbox"),
    )
    op.create_index("ix_webhook_inbox_next_try_at", "webhook_inbox", ["next_try_at"])


def downgrade() -> None:
    op.drop_index("ix_webhook_inbox_next_try_at", table_name="webhook_inbox")
    op.drop_table("webhook_inbox")
