"""Support staff: single sign-on, customer search, read-only "view as customer", the audit trail."""
