"""Alembic environment: runs on the connection `portal.storage.migrate` hands over."""

from __future__ import annotations

from alembic import context

from portal.storage.tables import metadata

connection = context.config.attributes["connection"]
context.configure(
    connection=connection,
    target_metadata=metadata,
    # SQLite can alter tables only by copying them; batch mode does that for us.
    render_as_batch=True,
    compare_type=True,
)
with context.begin_transaction():
    context.run_migrations()
