"""A sign-in link support sends is bound to no browser (`browser_hash` NULL: the code from the
e-mail is needed wherever it is opened) and never signs in in the browser that sent it
(`staff_browser_hash`).

Revision ID: 0013
Revises: 0012
Create Date: 2026-12-02
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = "0013"
down_revision = "0012"
branch_labels = None
depends_on = None


def upgrade() -> None:
    with op.batch_alter_table("login_tokens") as batch:
        batch.alter_column("browser_hash", existing_type=sa.String(64), nullable=True)
        batch.add_column(sa.Column("staff_browser_hash", sa.String(64), nullable=True))


def downgrade() -> None:
    # Links support sent have no browser to be bound to: they end (they last 10 minutes).
    op.execute("DELETE FROM login_tokens WHERE browser_hash IS NULL")
    with op.batch_alter_table("login_tokens") as batch:
        batch.drop_column("staff_browser_hash")
        batch.alter_column("browser_hash", existing_type=sa.String(64), nullable=False)
