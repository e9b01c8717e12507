"""The Checkout Session a charge is being paid on, at Stripe's page.

A charge paid with a method of Stripe's hosted page (iDEAL, bank transfer...) waits while the
customer is there; the session's id finds it again when they come back and when Stripe's
`checkout.session.*` webhooks arrive, hence the index.

Revision ID: 0011
Revises: 0010
Create Date: 2026-12-01
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = "0011"
down_revision = "0010"
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.add_column(
        "payment_charges", sa.Column("checkout_session_id", sa.String(255), nullable=True)
    )
    op.create_index(
        "ix_payment_charges_checkout_session_id", "payment_charges", ["checkout_session_id"]
    )


def downgrade() -> None:
    op.drop_index("ix_payment_charges_checkout_session_id", table_name="payment_charges")
    op.drop_column("payment_charges", "checkout_session_id")
