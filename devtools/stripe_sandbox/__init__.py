"""A local, stateful stand-in for the part of Stripe's REST API the portal uses.

No network path reaches Stripe from where the portal is developed and tested, so the sandbox
speaks Stripe's wire format well enough that the official `stripe` SDK works against it
unchanged. See docs/sandbox.md for what it covers and where it knowingly differs from Stripe.
It imports nothing of the portal (tests/test_devtools.py), so it can serve any Stripe client.
"""
