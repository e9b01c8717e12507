"""`portal send-reminders` as a process, against a sandbox whose rate limit is far below the
job's pace: stopped (SIGTERM) halfway and run again, it delivers every reminder exactly once,
counted at the SMTP server, and the 429s it meets are tried again, not failures. Stripe
failing halfway loses nothing the pages before it queued."""

from __future__ import annotations

import asyncio
import uuid

import pytest

from portal.app import open_services
from portal.billing.mailing import send_reminders
from portal.stripe.errors import StripeUnavailable
from portal.stripe.models import OpenInvoice, Page
from portal_dev.bench import scale_reminders
from tests.functional.portal_support import Portal


@pytest.mark.slow
def test_stopped_halfway_then_run_again_every_reminder_once_under_a_tight_rate_limit() -> None:
    figure = scale_reminders.run(size=60, rate_limit=3)
    assert figure.refused > 0  # the limit mattered
    assert 0 < figure.stopped_after < figure.reminders
    assert figure.reminders >= 12  # two per bench customer, and the demo's
    assert (figure.delivered, figure.duplicates, figure.missing) == (figure.reminders, 0, 0)


def test_stripe_failing_halfway_keeps_and_sends_what_the_pages_before_queued(
    portal: Portal,
) -> None:
    later = f"spaeter-{uuid.uuid4().hex[:8]}@example.de"
    portal.invoice(portal.customer(email=later), days_until_due=3)  # on the second page
    emails = [f"seite-{uuid.uuid4().hex[:8]}@example.de" for _ in range(2)]
    for email in emails:  # the newest open invoices: the first page
        portal.invoice(portal.customer(email=email), days_until_due=3)
    pages = 0

    async def go() -> None:
        async with open_services(portal.settings) as svc:
            read = svc.gateway.open_invoices

            async def first_page_then_down(
                starting_after: str | None = None, *, limit: int = 100
            ) -> Page[OpenInvoice]:
                nonlocal pages
                pages += 1
                if pages > 1:
                    raise StripeUnavailable("Stripe is down")
                return await read(starting_after, limit=2)

            vars(svc.gateway)["open_invoices"] = first_page_then_down
            await send_reminders(svc)

    with pytest.raises(StripeUnavailable):
        asyncio.run(go())
    assert pages == 2
    for email in emails:
        assert len([m for m in portal.mailbox.messages() if email in m.recipients]) == 1
    assert not [m for m in portal.mailbox.messages() if later in m.recipients]
