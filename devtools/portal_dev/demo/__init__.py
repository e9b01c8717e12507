"""Demo mode: the sandbox, demo data, the portal and a development mailbox together."""
