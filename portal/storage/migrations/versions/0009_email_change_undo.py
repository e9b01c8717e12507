"""An e-mail change can be undone from the old address: the address it replaced and the undo
link's hash, valid for a week, are kept with the change.

Revision ID: 0009
Revises: 0008
Create Date: 2026-12-01
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

from portal.storage.types import UTCDateTime

revision = "0009"
down_revision = "0008"
branch_labels = None
depends_on = None


def upgrade() -> None:
    with op.batch_alter_table("email_changes") as batch:
        batch.add_column(sa.Column("old_email", sa.String(320), nullable=True))
        batch.add_column(sa.Column("undo_hash", sa.String(64), nullable=True))
        batch.add_column(sa.Column("undo_expires_at", UTCDateTime(), nullable=True))
        batch.add_column(sa.Column("undone_at", UTCDateTime(), nullable=True))
        batch.create_index("ix_email_changes_undo_hash", ["undo_hash"], unique=True)


def downgrade() -> None:
    with op.batch_alter_table("email_changes") as batch:
        batch.drop_index("ix_email_changes_undo_hash")
        batch.drop_column("undone_at")
        batch.drop_column("undo_expires_at")
        batch.drop_column("undo_hash")
        batch.drop_column("old_email")
