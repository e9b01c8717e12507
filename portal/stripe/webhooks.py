"""The gateway's webhook section: a delivery verified and reduced to what the portal acts on."""

from __future__ import annotations

import stripe

from portal.stripe.client import Connection
from portal.stripe.convert import event_from_stripe
from portal.stripe.errors import WebhookMalformed, WebhookSignatureInvalid
from portal.stripe.models import WebhookEvent

# Stripe's tolerance for webhook timestamps (stripe.Webhook.DEFAULT_TOLERANCE).
WEBHOOK_TOLERANCE_SECONDS = 300


class Webhooks(Connection):
    """Stripe's signed event deliveries."""

    def verify_webhook(self, payload: bytes, signature: str | None, secret: str) -> WebhookEvent:
        """Check `Stripe-Signature` over the raw body (Stripe's 300 s tolerance) and parse it."""
        try:
            event = self._client.construct_event(
                payload, signature, secret, WEBHOOK_TOLERANCE_SECONDS
            )
        except (stripe.SignatureVerificationError, ValueError) as exc:
            raise WebhookSignatureInvalid(str(exc)) from exc
        except (AttributeError, TypeError, KeyError) as exc:  # signed, but not an object
            raise WebhookMalformed(str(exc)) from exc
        try:
            return event_from_stripe(event)
        except (AttributeError, TypeError, KeyError, ValueError) as exc:
            raise WebhookMalformed(str(exc)) from exc
