"""At most one charge per invoice in flight: a row per invoice, held by the charge under way.

Revision ID: 0010
Revises: 0009
Create Date: 2026-12-01
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

from portal.storage.types import UTCDateTime

revision = "0010"
down_revision = "0009"
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table(
        "charge_claims",
        sa.Column("invoice_id", sa.String(255), nullable=False),
        sa.Column("payment_id", sa.String(64), nullable=False),
        sa.Column("position", sa.Integer(), nullable=False),
        sa.Column("claimed_at", UTCDateTime(), nullable=False),
        sa.Column("lease_until", UTCDateTime(), nullable=False),
        sa.PrimaryKeyConstraint("invoice_id", name="pk_charge_claims"),
    )


def downgrade() -> None:
    op.drop_table("charge_claims")
