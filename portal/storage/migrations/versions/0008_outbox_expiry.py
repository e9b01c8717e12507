"""E-mails that are useless after a moment: a sign-in e-mail's link and code expire after ten
minutes, so a send that failed is retried only until then and then dropped, never delivered
late with a dead link.

Revision ID: 0008
Revises: 0007
Create Date: 2026-12-01
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

from portal.storage.types import UTCDateTime

revision = "0008"
down_revision = "0007"
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.add_column("mail_outbox", sa.Column("expires_at", UTCDateTime(), nullable=True))


def downgrade() -> None:
    op.drop_column("mail_outbox", "expires_at")
