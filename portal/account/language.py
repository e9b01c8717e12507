"""The customer's language, kept in Stripe too: Stripe writes its own e-mails and invoice PDFs in
the first of the customer's `preferred_locales`."""

from __future__ import annotations

import logging

from portal.permissions import Action, Principal, can
from portal.stripe.cache import CachingGateway
from portal.stripe.errors import GatewayError

log = logging.getLogger(__name__)


def preferred_first(chosen: str, current: tuple[str, ...]) -> list[str]:
    """`chosen` first, the customer's other languages after it in their order."""
    return [chosen, *(locale for locale in current if locale.split("-")[0] != chosen)]


async def remember(gateway: CachingGateway, who: Principal, chosen: str) -> bool:
    """Write the choice to the Stripe customer; False when that was not possible.

    The switcher still changes the portal's language when Stripe cannot be reached: what the
    customer reads now matters more than the language of Stripe's next e-mail.
    """
    if not can(who, Action.SET_STRIPE_LANGUAGE):
        return False
    try:
        customer = await gateway.get_customer(who.customer_id)
        if customer.preferred_locales[:1] != (chosen,):
            await gateway.set_preferred_locales(
                who.customer_id, preferred_first(chosen, customer.preferred_locales)
            )
    except GatewayError as exc:
        log.warning("preferred language not written to Stripe: %r", exc)
        return False
    return True
