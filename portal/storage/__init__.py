"""The portal's own storage: SQLAlchemy Core tables on SQLite (default) or PostgreSQL.

Stripe is the record of customers, invoices and payments; the database holds only what the
portal itself owns (sign-in tokens, sessions, rate limits, processed webhook ids, the e-mail
outbox, the audit trail). Schema changes go through Alembic migrations in `migrations/`.
"""
