"""E-mail changes confirmed in a row form a chain whose first undo link restores the address
before all of them; one change or undo per customer at a time.

Revision ID: 0012
Revises: 0011
Create Date: 2026-12-06
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

from portal.storage.types import UTCDateTime

revision = "0012"
down_revision = "0011"
branch_labels = None
depends_on = None


def upgrade() -> None:
    with op.batch_alter_table("email_changes") as batch:
        batch.add_column(sa.Column("chain", sa.String(64), nullable=True))
        batch.add_column(sa.Column("undone_by", sa.String(64), nullable=True))
        batch.create_index("ix_email_changes_chain", ["chain"])
    op.create_table(
        "email_change_holds",
        sa.Column("customer_id", sa.String(255), primary_key=True),
        sa.Column("holder", sa.String(64), nullable=False),
        sa.Column("lease_until", UTCDateTime(), nullable=False),
    )


def downgrade() -> None:
    op.drop_table("email_change_holds")
    with op.batch_alter_table("email_changes") as batch:
        batch.drop_index("ix_email_changes_chain")
        batch.drop_column("undone_by")
        batch.drop_column("chain")
