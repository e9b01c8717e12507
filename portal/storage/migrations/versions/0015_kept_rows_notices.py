"""On PostgreSQL, a notice to every instance whenever a table whose rows instances keep in
memory changes (the customer's sessions, the change counters, the payments' charges that an
invoice's page shows): `storage.kept` forgets its kept rows on it. SQLite needs none (`PRAGMA data_version` tells every connection of any commit).

Revision ID: 0015
Revises: 0014
Create Date: 2026-12-06
"""

from __future__ import annotations

from alembic import op

revision = "0015"
down_revision = "0014"
branch_labels = None
depends_on = None

# The tables whose rows `storage.database.read_one` keeps by name; the channel is
# `storage.kept.CHANNEL`, the payload empty (a change: forget everything kept).
KEPT_TABLES = ("sessions", "customer_changes", "payments", "payment_charges")


def upgrade() -> None:
    if op.get_bind().dialect.name != "postgresql":
        return
    op.execute(
        """
        CREATE FUNCTION portal_kept_changed() RETURNS trigger LANGUAGE plpgsql AS $$
        BEGIN
            PERFORM pg_notify('portal_kept', '');
            RETURN NULL;
        END
        $$
        """
    )
    for table in KEPT_TABLES:
        op.execute(
            f"CREATE TRIGGER {table}_kept_changed"
            f" AFTER INSERT OR UPDATE OR DELETE OR TRUNCATE ON {table}"
            " FOR EACH STATEMENT EXECUTE FUNCTION portal_kept_changed()"
        )


def downgrade() -> None:
    if op.get_bind().dialect.name != "postgresql":
        return
    for table in KEPT_TABLES:
        op.execute(f"DROP TRIGGER IF EXISTS {table}_kept_changed ON {table}")
    op.execute("DROP FUNCTION IF EXISTS portal_kept_changed()")
