"""The tables the portal owns. Migrations in `migrations/versions/` must match this metadata
(a test compares them), so a change here comes with a new migration."""

from __future__ import annotations

from sqlalchemy import Column, Integer, MetaData, String, Table, Text

from portal.storage.types import UTCDateTime

# Constraint names are fixed so that migrations can refer to them on both databases.
metadata = MetaData(
    naming_convention={
        "ix": "ix_%(table_name)s_%(column_0_N_name)s",
        "uq": "uq_%(table_name)s_%(column_0_N_name)s",
        "ck": "ck_%(table_name)s_%(constraint_name)s",
        "fk": "fk_%(table_name)s_%(column_0_name)s_%(referred_table_name)s",
        "pk": "pk_%(table_name)s",
    }
)

# Stripe delivers events at least once and sometimes twice at the same moment; the primary key
# is what makes handling them exactly-once (the insert shares the transaction with the effects).
webhook_events = Table(
    "webhook_events",
    metadata,
    Column("event_id", String(255), primary_key=True),
    Column("type", String(255), nullable=False),
    Column("received_at", UTCDateTime(), nullable=False),
)

# Events acknowledged but not yet handled: each is worked off from here (`billing.inbox`), by
# the request that received it or, once its claim has lapsed, by any instance; the row goes in
# the transaction that inserts its `webhook_events` row. Only the event's typed fields are kept.
webhook_inbox = Table(
    "webhook_inbox",
    metadata,
    Column("event_id", String(255), primary_key=True),
    Column("type", String(255), nullable=False),
    Column("object_type", String(255), nullable=False),
    Column("object_id", String(255), nullable=True),
    Column("customer_id", String(255), nullable=True),
    Column("created", UTCDateTime(), nullable=False),
    Column("received_at", UTCDateTime(), nullable=False),
    # Someone is handling it until then (NULL: nobody); a lapsed claim is anyone's to take.
    Column("claimed_until", UTCDateTime(), nullable=True),
    # Failed tries so far, and when the instances' workers may try again.
    Column("attempts", Integer, nullable=False, server_default="0"),
    Column("next_try_at", UTCDateTime(), nullable=False, index=True),
)

# Every e-mail is written here before it is sent, under a key that names what it is about, so a
# retry after a failure neither loses nor doubles it.
mail_outbox = Table(
    "mail_outbox",
    metadata,
    Column("id", Integer, primary_key=True, autoincrement=True),
    Column("dedupe_key", String(255), nullable=False, unique=True),
    Column("recipient", String(320), nullable=False),
    Column("message", Text, nullable=False),  # the whole RFC 5322 message, ready to send
    Column("created_at", UTCDateTime(), nullable=False),
    Column("attempts", Integer, nullable=False, server_default="0"),
    Column("next_attempt_at", UTCDateTime(), nullable=False, index=True),
    Column("sent_at", UTCDateTime(), nullable=True),
    Column("last_error", Text, nullable=True),
    # After this the message is no use (a sign-in link that has expired): not sent any more.
    Column("expires_at", UTCDateTime(), nullable=True),
)

# A customer's sign-in: the random session id lives only in the browser's cookie; the row is
# found by its hash, so a read of this table cannot be replayed as a cookie.
sessions = Table(
    "sessions",
    metadata,
    Column("id_hash", String(64), primary_key=True),
    Column("email", String(320), nullable=False),
    # The Stripe customers this e-mail address opened (one address may belong to several), as
    # a JSON list of {id, name, locales} read at sign-in; `customer_id` is the one being viewed.
    Column("accounts", Text, nullable=False),
    Column("customer_id", String(255), nullable=False),
    Column("created_at", UTCDateTime(), nullable=False),
    Column("last_seen_at", UTCDateTime(), nullable=False),
    Column("expires_at", UTCDateTime(), nullable=False, index=True),
)

# Sign-in links and codes, stored only as hashes. A row is consumed at most once: the
# consuming UPDATE names `consumed_at IS NULL` in its WHERE clause.
login_tokens = Table(
    "login_tokens",
    metadata,
    Column("id", Integer, primary_key=True, autoincrement=True),
    Column("email", String(320), nullable=False, index=True),  # lower-cased
    Column("link_hash", String(64), nullable=False, unique=True),
    Column("code_hash", String(64), nullable=False),
    # The browser that asked, where the link works without the code; NULL for a link support
    # sent, which needs the code everywhere and never works in `staff_browser_hash`, the
    # browser it was sent from.
    Column("browser_hash", String(64), nullable=True, index=True),
    Column("staff_browser_hash", String(64), nullable=True),
    Column("customer_ids", Text, nullable=False),
    Column("locale", String(8), nullable=False),
    Column("created_at", UTCDateTime(), nullable=False),
    Column("expires_at", UTCDateTime(), nullable=False),
    Column("consumed_at", UTCDateTime(), nullable=True),
    Column("failed_attempts", Integer, nullable=False, server_default="0"),
)

# Fixed-window counters shared by every portal process: one row per key and window.
rate_limits = Table(
    "rate_limits",
    metadata,
    Column("key", String(255), primary_key=True),
    Column("window_start", UTCDateTime(), primary_key=True),
    Column("count", Integer, nullable=False),
)

# One row per payment the customer set out to make: one invoice, or every overdue invoice of one
# currency. It is created when the customer starts it (a pay button's POST) and claimed once
# when "Pay" is pressed
# (a conditional UPDATE on `status`), so a double click, a second tab or a resubmitted form
# goes on to Stripe once.
payments = Table(
    "payments",
    metadata,
    Column("id", String(64), primary_key=True),
    Column("customer_id", String(255), nullable=False, index=True),
    Column("currency", String(3), nullable=False),
    Column("status", String(32), nullable=False),
    Column("payment_method_id", String(255), nullable=True),
    Column("created_at", UTCDateTime(), nullable=False),
    Column("updated_at", UTCDateTime(), nullable=False, index=True),
)

# The charges of a payment, one per invoice, paid in `position` order. Each charge's Stripe
# requests carry idempotency keys derived from (payment id, position), so repeating them after
# an interruption replays Stripe's answer instead of charging again. `amount` and `fingerprint`
# are what the customer saw: the charge goes ahead only while the invoice still matches.
# `sent_at` is when its requests first went to Stripe: Stripe keeps the keys for 24 hours, so an
# interrupted charge is repeated with them only before that (`portal.billing.charging`).
# `checkout_session_id`: the Stripe Checkout Session a charge is paid on when the customer pays
# on Stripe's page (`portal.billing.at_stripe`).
payment_charges = Table(
    "payment_charges",
    metadata,
    Column("payment_id", String(64), primary_key=True),
    Column("position", Integer, primary_key=True),
    Column("invoice_id", String(255), nullable=False, index=True),
    Column("kind", String(32), nullable=False),
    Column("fingerprint", Text, nullable=False),
    Column("amount", Integer, nullable=False),
    Column("status", String(32), nullable=False),
    Column("error_code", String(64), nullable=True),
    Column("payment_intent_id", String(255), nullable=True, index=True),
    Column("updated_at", UTCDateTime(), nullable=False),
    Column("sent_at", UTCDateTime(), nullable=True),
    Column("checkout_session_id", String(255), nullable=True, index=True),
    # The refund its money went back by (`portal.billing.lifecycle`: pending until Stripe says).
    Column("refund_id", String(255), nullable=True, index=True),
    # A PaymentIntent the portal created for it and left unfinished (declined, refused, the
    # bank's confirmation abandoned): canceled at Stripe, then cleared. Attached to its invoice
    # it would block voiding the invoice or marking it uncollectible.
    Column("cancel_intent", String(255), nullable=True, index=True),
    # Paid at Stripe but refused by the invoice while it still owed: tries to attach it again.
    Column("attach_tries", Integer, nullable=False, server_default="0"),
)

# Every move of a charge from one state to another, with why: the payment's own record of what
# happened to the customer's money (`portal.billing.lifecycle`), kept as long as the payment.
payment_history = Table(
    "payment_history",
    metadata,
    Column("id", Integer, primary_key=True, autoincrement=True),
    Column("payment_id", String(64), nullable=False, index=True),
    Column("position", Integer, nullable=False),
    Column("at", UTCDateTime(), nullable=False),
    Column("status_from", String(32), nullable=False),
    Column("status_to", String(32), nullable=False),
    Column("detail", String(255), nullable=True),
)

# At most one charge per invoice in flight, across processes and instances: a charge holds its
# invoice's row from before the invoice is re-read at Stripe until the charge is settled
# (`portal.billing.claims`). The lease lets another payment go ahead after a process stopped
# mid-charge; it is longer than a charge's requests can take.
charge_claims = Table(
    "charge_claims",
    metadata,
    Column("invoice_id", String(255), primary_key=True),
    Column("payment_id", String(64), nullable=False),
    Column("position", Integer, nullable=False),
    Column("claimed_at", UTCDateTime(), nullable=False),
    Column("lease_until", UTCDateTime(), nullable=False),
)

# What Stripe told us changed for a customer (webhooks), as a counter per customer: anything
# the portal keeps about a customer from Stripe is stale once this moves past what it saw.
customer_changes = Table(
    "customer_changes",
    metadata,
    Column("customer_id", String(255), primary_key=True),
    Column("version", Integer, nullable=False),
    Column("changed_at", UTCDateTime(), nullable=False),
)

# A customer's request to change their e-mail address: nothing changes until the link sent to
# the new address is used (once, within 10 minutes). Stored as the token's hash, like sign-in.
email_changes = Table(
    "email_changes",
    metadata,
    Column("token_hash", String(64), primary_key=True),
    Column("customer_id", String(255), nullable=False, index=True),
    Column("new_email", String(320), nullable=False),
    Column("created_at", UTCDateTime(), nullable=False),
    Column("expires_at", UTCDateTime(), nullable=False),
    Column("consumed_at", UTCDateTime(), nullable=True),
    # Once confirmed: the address it replaced, told of the change with a link to undo it.
    Column("old_email", String(320), nullable=True),
    Column("undo_hash", String(64), nullable=True, unique=True, index=True),
    Column("undo_expires_at", UTCDateTime(), nullable=True),
    Column("undone_at", UTCDateTime(), nullable=True),
    # Changes confirmed one after another while the first can still be undone form a chain,
    # named by its first change's token hash; `undone_by` is the undo link that ended this one
    # (its own, or an earlier change's of the chain).
    Column("chain", String(64), nullable=True, index=True),
    Column("undone_by", String(64), nullable=True),
)

# One e-mail change or undo at a time per customer, across instances: each reads Stripe's
# address, sets another and records it, and two interleaved would record what Stripe no
# longer has. The lease frees a customer whose holder stopped midway.
email_change_holds = Table(
    "email_change_holds",
    metadata,
    Column("customer_id", String(255), primary_key=True),
    Column("holder", String(64), nullable=False),
    Column("lease_until", UTCDateTime(), nullable=False),
)

# A support person's sign-in (its own cookie, shorter than a customer's). While they view the
# portal as a customer, `customer_id` names whom, until `impersonation_ends_at`.
staff_sessions = Table(
    "staff_sessions",
    metadata,
    Column("id_hash", String(64), primary_key=True),
    Column("issuer", String(255), nullable=False),
    Column("subject", String(255), nullable=False),
    Column("email", String(320), nullable=False),
    Column("name", String(255), nullable=True),
    # The groups/roles claim at sign-in (JSON list): the staff rule is checked again with it on
    # every request, so narrowing the settings ends sessions that no longer pass.
    Column("groups", Text, nullable=False),
    Column("email_verified", Integer, nullable=False),
    Column("auth_time", UTCDateTime(), nullable=False),  # when the provider last saw a login
    Column("created_at", UTCDateTime(), nullable=False),
    Column("last_seen_at", UTCDateTime(), nullable=False),
    Column("expires_at", UTCDateTime(), nullable=False, index=True),
    Column("customer_id", String(255), nullable=True),
    Column("customer_name", String(255), nullable=True),
    Column("customer_locale", String(8), nullable=True),
    Column("impersonation_ends_at", UTCDateTime(), nullable=True),
)

# A staff sign-in under way at the identity provider: `state` (stored hashed) comes back with
# the code; the nonce and the PKCE verifier stay here, bound to the browser that started it.
staff_logins = Table(
    "staff_logins",
    metadata,
    Column("state_hash", String(64), primary_key=True),
    Column("browser_hash", String(64), nullable=False),
    Column("nonce", String(128), nullable=False),
    Column("code_verifier", String(128), nullable=False),
    Column("then_customer_id", String(255), nullable=True),  # re-authenticated to view as them
    Column("created_at", UTCDateTime(), nullable=False),
    Column("expires_at", UTCDateTime(), nullable=False),
)

# What staff did: append-only (the portal never updates or deletes a row; a test checks the
# code), without tokens, codes or card data.
audit_log = Table(
    "audit_log",
    metadata,
    Column("id", Integer, primary_key=True, autoincrement=True),
    Column("at", UTCDateTime(), nullable=False, index=True),
    Column("staff_issuer", String(255), nullable=False),
    Column("staff_subject", String(255), nullable=False),
    Column("staff_email", String(320), nullable=False, index=True),
    Column("customer_id", String(255), nullable=True, index=True),
    Column("action", String(64), nullable=False),
    Column("target", String(512), nullable=True),
    Column("outcome", String(32), nullable=False),
    Column("client_ip", String(64), nullable=True),
    Column("user_agent", String(512), nullable=True),
)
