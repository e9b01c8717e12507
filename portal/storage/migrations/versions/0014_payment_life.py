"""A payment's life followed to its end: the refund a charge's money went back by
(`refund_id`), a PaymentIntent the portal started and must cancel (`cancel_intent`), how often
a payment the invoice refused has been attached again (`attach_tries`), and each charge's moves
(`payment_history`).

Revision ID: 0014
Revises: 0013
Create Date: 2026-12-06
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

from portal.storage.types import UTCDateTime

revision = "0014"
down_revision = "0013"
branch_labels = None
depends_on = None


def upgrade() -> None:
    with op.batch_alter_table("payment_charges") as batch:
        batch.add_column(sa.Column("refund_id", sa.String(255), nullable=True))
        batch.add_column(sa.Column("cancel_intent", sa.String(255), nullable=True))
        batch.add_column(
            sa.Column("attach_tries", sa.Integer(), nullable=False, server_default="0")
        )
        batch.create_index("ix_payment_charges_refund_id", ["refund_id"])
        batch.create_index("ix_payment_charges_cancel_intent", ["cancel_intent"])
    op.create_table(
        "payment_history",
        sa.Column("id", sa.Integer(), primary_key=True, autoincrement=True),
        sa.Column("payment_id", sa.String(64), nullable=False, index=True),
        sa.Column("position", sa.Integer(), nullable=False),
        sa.Column("at", UTCDateTime(), nullable=False),
        sa.Column("status_from", sa.String(32), nullable=False),
        sa.Column("status_to", sa.String(32), nullable=False),
        sa.Column("detail", sa.String(255), nullable=True),
    )


def downgrade() -> None:
    op.drop_table("payment_history")
    with op.batch_alter_table("payment_charges") as batch:
        batch.drop_index("ix_payment_charges_cancel_intent")
        batch.drop_index("ix_payment_charges_refund_id")
        batch.drop_column("attach_tries")
        batch.drop_column("cancel_intent")
        batch.drop_column("refund_id")
