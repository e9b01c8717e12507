"""E-mail: building messages, sending them over SMTP, and the demo's development mailbox."""
