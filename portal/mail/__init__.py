"""E-mail: building messages, sending them over SMTP, and the outbox that retries them."""
