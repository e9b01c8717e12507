"""When each charge's requests were first sent to Stripe; charges found by their PaymentIntent.

Stripe keeps an idempotency key for 24 hours: a charge left interrupted may be repeated with its
keys only while they are younger than that, so the time they were first sent is recorded.
Charges already under way get their payment's creation time, which is earlier than their
first request: they count as older, never as younger, than they are. Webhooks about a
PaymentIntent find the charge it pays by `payment_intent_id`, hence the index.

Revision ID: 0007
Revises: 0006
Create Date: 2026-12-01
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

from portal.storage.types import UTCDateTime

revision = "0007"
down_revision = "0006"
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.add_column("payment_charges", sa.Column("sent_at", UTCDateTime(), nullable=True))
    op.execute(
        "UPDATE payment_charges SET sent_at = (SELECT payments.created_at FROM payments"
        " WHERE payments.id = payment_charges.payment_id) WHERE status <> 'pending'"
    )
    op.create_index(
        "ix_payment_charges_payment_intent_id", "payment_charges", ["payment_intent_id"]
    )


def downgrade() -> None:
    op.drop_index("ix_payment_charges_payment_intent_id", table_name="payment_charges")
    op.drop_column("payment_charges", "sent_at")
