"""Everything the portal knows of Stripe, in one package below the features.

`gateway.StripeGateway` is the one door to Stripe (only this package imports the SDK, a test
checks that); `cache.CachingGateway` keeps a customer's reads; `models` are the typed values both
hand back. This module imports nothing, so that reading `portal.stripe.models` does not load the
SDK (`import stripe` inside the package still finds the SDK: imports here are absolute).
"""
