"""The order saved payment methods are shown in: the one invoices are paid with comes first."""

from __future__ import annotations

from portal.stripe.models import PaymentMethod


def default_first(methods: list[PaymentMethod], default_id: str | None) -> list[PaymentMethod]:
    """The customer's default method, then the others in Stripe's order (newest first).

    A default that is not among the methods (removed meanwhile, or none) changes nothing.
    """
    return sorted(methods, key=lambda m: m.id != default_id)  # sorted() is stable
