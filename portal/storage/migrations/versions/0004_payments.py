"""Payments of one or more charges; customer change counters.

A payment may now cover several invoices ("pay all overdue"), so the single-invoice
`payment_attempts` become a `payments` row with one `payment_charges` row each.

Revision ID: 0004
Revises: 0003
Create Date: 2026-11-22
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

from portal.storage.types import UTCDateTime

revision = "0004"
down_revision = "0003"
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table(
        "payments",
        sa.Column("id", sa.String(64), nullable=False),
        sa.Column("customer_id", sa.String(255), nullable=False),
        sa.Column("currency", sa.String(3), nullable=False),
        sa.Column("status", sa.String(32), nullable=False),
        sa.Column("payment_method_id", sa.String(255), nullable=True),
        sa.Column("created_at", UTCDateTime(), nullable=False),
        sa.Column("updated_at", UTCDateTime(), nullable=False),
        sa.PrimaryKeyConstraint("id", name="pk_payments"),
    )
    op.create_index("ix_payments_customer_id", "payments", ["customer_id"])
    op.create_index("ix_payments_updated_at", "payments", ["updated_at"])
    op.create_table(
        "payment_charges",
        sa.Column("payment_id", sa.String(64), nullable=False),
        sa.Column("position", sa.Integer(), nullable=False),
        sa.Column("invoice_id", sa.String(255), nullable=False),
        sa.Column("kind", sa.String(32), nullable=False),
        sa.Column("fingerprint", sa.Text(), nullable=False),
        sa.Column("amount", sa.Integer(), nullable=False),
        sa.Column("status", sa.String(32), nullable=False),
        sa.Column("error_code", sa.String(64), nullable=True),
        sa.Column("payment_intent_id", sa.String(255), nullable=True),
        sa.Column("updated_at", UTCDateTime(), nullable=False),
        sa.PrimaryKeyConstraint("payment_id", "position", name="pk_payment_charges"),
    )
    op.create_index("ix_payment_charges_invoice_id", "payment_charges", ["invoice_id"])
    # Attempts already made keep their record (and their result pages) as one-charge payments.
    op.execute(
        "INSERT INTO payments (id, customer_id, currency, status, payment_method_id, created_at,"
        " updated_at) SELECT id, customer_id, currency, CASE WHEN status IN ('pending',"
        " 'processing') THEN status ELSE 'done' END, payment_method_id, created_at, updated_at"
        " FROM payment_attempts"
    )
    op.execute(
        "INSERT INTO payment_charges (payment_id, position, invoice_id, kind, fingerprint,"
        " amount, status, error_code, updated_at) SELECT id, 0, invoice_id, kind, fingerprint,"
        " amount, status, error_code, updated_at FROM payment_attempts"
    )
    op.drop_index("ix_payment_attempts_customer_id", table_name="payment_attempts")
    op.drop_table("payment_attempts")
    op.create_table(
        "customer_changes",
        sa.Column("customer_id", sa.String(255), nullable=False),
        sa.Column("version", sa.Integer(), nullable=False),
        sa.Column("changed_at", UTCDateTime(), nullable=False),
        sa.PrimaryKeyConstraint("customer_id", name="pk_customer_changes"),
    )


def downgrade() -> None:
    op.drop_table("customer_changes")
    op.create_table(
        "payment_attempts",
        sa.Column("id", sa.String(64), nullable=False),
        sa.Column("customer_id", sa.String(255), nullable=False),
        sa.Column("invoice_id", sa.String(255), nullable=False),
        sa.Column("kind", sa.String(32), nullable=False),
        sa.Column("fingerprint", sa.Text(), nullable=False),
        sa.Column("currency", sa.String(3), nullable=False),
        sa.Column("amount", sa.Integer(), nullable=False),
        sa.Column("status", sa.String(32), nullable=False),
        sa.Column("payment_method_id", sa.String(255), nullable=True),
        sa.Column("error_code", sa.String(64), nullable=True),
        sa.Column("created_at", UTCDateTime(), nullable=False),
        sa.Column("updated_at", UTCDateTime(), nullable=False),
        sa.PrimaryKeyConstraint("id", name="pk_payment_attempts"),
    )
    op.create_index("ix_payment_attempts_customer_id", "payment_attempts", ["customer_id"])
    op.drop_index("ix_payment_charges_invoice_id", table_name="payment_charges")
    op.drop_table("payment_charges")
    op.drop_index("ix_payments_updated_at", table_name="payments")
    op.drop_index("ix_payments_customer_id", table_name="payments")
    op.drop_table("payments")
