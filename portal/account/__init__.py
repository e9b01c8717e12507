"""The customer's own details: billing address, tax IDs, e-mail address."""
