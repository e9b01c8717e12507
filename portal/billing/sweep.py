"""Payments no request came back to, finished in the background.

A customer who closes the browser at the bank's confirmation, a webhook Stripe could not
deliver, a cancel Stripe could not be reached for: each instance looks now and then
(`TIDY_EVERY`) for such payments and takes each one step further, through the same functions
the pages and webhooks use (`charging`, `placing`), so two instances at once repeat each
other's reads, never their effects.
"""

from __future__ import annotations

import asyncio
import logging
from datetime import UTC, datetime, timedelta

from portal.billing import charging, lifecycle, placing
from portal.services import Services
from portal.stripe.errors import GatewayError

log = logging.getLogger(__name__)

TIDY_EVERY = timedelta(minutes=10)


async def tidy_periodically(svc: Services) -> None:
    """`tidy` every `TIDY_EVERY` until cancelled; a failure is logged and tried again."""
    while True:
        await asyncio.sleep(TIDY_EVERY.total_seconds())
        try:
            await tidy(svc, datetime.now(UTC))
        except Exception:
            log.exception("tidying payments failed; trying again later")


async def tidy(svc: Services, now: datetime) -> None:
    """What no request may be there to finish (every instance runs it now and then; each
    step is conditional, so two at once repeat each other's reads, not their effects):
    PaymentIntents left to cancel, bank confirmations abandoned past `charging.ABANDON_AFTER`, money
    still to attach or give back, refunds still pending (their webhooks may be lost)."""
    for charge in await lifecycle.intents_to_cancel(svc.engine):
        await charging.cancel_left(svc, charge)
    for charge in await lifecycle.waiting_for_bank_since(svc.engine, now - charging.ABANDON_AFTER):
        if charge.kind != "whole" and charge.payment_intent_id:
            try:
                await charging.abandon(svc, charge)
            except GatewayError as exc:
                log.info("charge %s not abandoned yet: %r", charge.idempotency_key(), exc)
    await placing.tidy(svc)
