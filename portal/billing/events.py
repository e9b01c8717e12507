"""What the portal does with each Stripe event it subscribes to.

Events arrive late, twice and out of order, so the snapshot an event carries may already be
outdated: every handler re-reads the object from Stripe and acts on that. A handler may make
idempotent changes at Stripe; the database changes it returns are applied in the same
transaction as the row that marks the event processed, so they happen once.

Every event also records that the customer's data at Stripe changed (`customer_changes`): what
the portal keeps of it, on any instance, is stale from then on.
"""

from __future__ import annotations

from collections.abc import Awaitable, Callable
from dataclasses import dataclass, field
from datetime import datetime

from sqlalchemy.ext.asyncio import AsyncConnection

from portal.billing import at_stripe, charging, lifecycle, mailing, notices, placing
from portal.billing import invoices as rules
from portal.billing.records import ChargeRecord
from portal.concurrency import at_once
from portal.identity import customer_sessions
from portal.mail import outbox
from portal.services import Services
from portal.stripe.models import CheckoutSession, Invoice, WebhookEvent

Effect = Callable[[AsyncConnection, datetime], Awaitable[None]]


@dataclass(frozen=True)
class Reaction:
    customer_id: str | None  # whose data at Stripe changed
    effects: list[Effect] = field(default_factory=list)
    mail: bool = False  # an effect queued an e-mail: send the outbox after the commit


# (services, the event, the id of its object) -> what to record
Handler = Callable[[Services, WebhookEvent, str], Awaitable[Reaction]]


async def on_invoice(svc: Services, event: WebhookEvent, invoice_id: str) -> Reaction:
    """Paid, failed, waiting for the customer, finalized, voided, written off: a 3-D Secure
    confirmation the customer finished at their bank without coming back is recorded, and so
    is a debit the bank collected or returned."""
    invoice = await svc.gateway.uncached().get_invoice(invoice_id)
    settled = await charging.settled_by_bank(svc.engine, svc.gateway, invoice.id)
    effects = [_record(c, o) for c, o in settled]
    # Money the invoice refused while it owed it: the invoice changed, so try again.
    for charge in await lifecycle.unattached_on(svc.engine, invoice.id):
        await placing.attach_again(svc, charge)
    mail = event.type == "invoice.finalized" and await _invoice_ready(svc, invoice, effects)
    return Reaction(invoice.customer_id, effects, mail=mail)


def _record(charge: ChargeRecord, outcome: charging.Outcome) -> Effect:
    async def effect(conn: AsyncConnection, now: datetime) -> None:
        await charging.record_settled(conn, charge, outcome, now)

    return effect


async def on_payment_intent(svc: Services, event: WebhookEvent, intent_id: str) -> Reaction:
    """Succeeded or failed: a debit (SEPA) collected or returned days after it was submitted,
    or a 3-D Secure confirmation finished, is recorded on the charge it pays. An installment's
    PaymentIntent is the portal's own, and Stripe need not say so on the invoice."""
    intent = await svc.gateway.uncached().get_payment_intent(intent_id)
    effects = []
    for charge in await lifecycle.paid_by(svc.engine, intent.id):
        if charge.status in ("unattached", "refund_due", "awaiting_payment"):
            # Paid on Stripe's page, not on its invoice: placed now that it has arrived
            # (each move conditional, so a second delivery finds nothing to do).
            await placing.when_arrived(svc, charge, intent)
            continue
        outcome = charging.decided(charge, intent)
        if outcome is not None:
            effects.append(_record(charge, outcome))
    return Reaction(event.customer_id, effects)


async def on_refund(svc: Services, event: WebhookEvent, refund_id: str) -> Reaction:
    """A refund the portal made succeeded, failed or was canceled: recorded on its charge."""
    refund = await svc.gateway.uncached().get_refund(refund_id)
    for charge in await lifecycle.refunded_by(svc.engine, refund.id):
        await placing.refund_moved(svc, charge, refund)
    return Reaction(event.customer_id)


async def _invoice_ready(svc: Services, invoice: Invoice, effects: list[Effect]) -> bool:
    """The "invoice ready" e-mail, when the deployment sends them, for invoices the customer
    pays themselves (Stripe charges the others) that still need paying as re-read now."""
    if not (
        svc.settings.invoice_emails
        and invoice.collection_method == "send_invoice"
        and rules.needs_payment(invoice)
    ):
        return False
    customer, transfer = await at_once(
        svc.gateway.uncached().get_customer(invoice.customer_id),
        mailing.awaited_transfer(svc, invoice),
    )
    notice = notices.invoice_ready(invoice)
    message = mailing.compose(svc, invoice, customer, notice, transfer)
    if message is None:
        return False

    async def enqueue(conn: AsyncConnection, now: datetime) -> None:
        await outbox.enqueue(conn, key=notice.key, message=message, now=now)

    effects.append(enqueue)
    return True


async def on_invoice_payment(svc: Services, event: WebhookEvent, payment_id: str) -> Reaction:
    payment = await svc.gateway.uncached().get_invoice_payment(payment_id)
    return await on_invoice(svc, event, payment.invoice_id)


async def on_checkout_completed(svc: Services, event: WebhookEvent, session_id: str) -> Reaction:
    """A method added at Checkout becomes the default when the customer has none, also when
    the customer closed the page before coming back to the portal. A payment made on Checkout
    is counted on its invoice (`at_stripe`), also when the customer did not come back."""
    session = await svc.gateway.uncached().get_checkout_session(session_id)
    if session.mode == "payment":
        return await _paid_at_stripe(svc, session)
    if session.mode != "setup" or session.status != "complete" or session.customer_id is None:
        return Reaction(session.customer_id)
    customer = await svc.gateway.uncached().get_customer(session.customer_id)
    if customer.default_payment_method_id is None and session.payment_method_id:
        await svc.gateway.uncached().set_default_payment_method(
            customer.id, session.payment_method_id
        )
    return Reaction(customer.id)


async def on_async_payment(svc: Services, event: WebhookEvent, session_id: str) -> Reaction:
    """The money of a payment made on Stripe's page that the customer was still to send (a
    bank transfer, a voucher) arrived, or will not: recorded on its charge."""
    session = await svc.gateway.uncached().get_checkout_session(session_id)
    if session.payment_intent is not None:
        for charge in await lifecycle.paid_by(svc.engine, session.payment_intent.id):
            if charge.status in ("unattached", "refund_due", "awaiting_payment"):
                await placing.when_arrived(svc, charge, session.payment_intent)
    return Reaction(session.customer_id)


async def on_checkout_expired(svc: Services, event: WebhookEvent, session_id: str) -> Reaction:
    """Nobody paid on the session before it expired: its charge can be paid another way."""
    return await _paid_at_stripe(svc, await svc.gateway.uncached().get_checkout_session(session_id))


async def _paid_at_stripe(svc: Services, session: CheckoutSession) -> Reaction:
    """Settle the charge being paid on this session, if one still is. Its changes are made
    here rather than as the event's effects: each is a conditional UPDATE from `at_stripe`
    (and Stripe's requests carry the charge's keys), so a second delivery finds nothing."""
    charge = await lifecycle.on_checkout_session(svc.engine, session.id)
    if charge is not None:
        await at_stripe.settle_session(svc, charge, session)
    return Reaction(session.customer_id)


async def on_payment_method(svc: Services, event: WebhookEvent, method_id: str) -> Reaction:
    method = await svc.gateway.uncached().get_payment_method(method_id)
    # Detached, it no longer names a customer; the event's previous state does.
    return Reaction(method.customer_id or event.customer_id)


async def on_customer(svc: Services, event: WebhookEvent, customer_id: str) -> Reaction:
    """Sessions signed in under an address the customer no longer has end, whoever changed it
    (the company in Stripe's Dashboard, say): that address's holder may no longer be theirs."""
    customer = await svc.gateway.uncached().get_customer(customer_id)
    email = customer.email

    async def end_other_sessions(conn: AsyncConnection, now: datetime) -> None:
        await customer_sessions.end_for_customer(conn, customer.id, unless_email=email or "")

    return Reaction(customer.id, [end_other_sessions])


async def on_cash_balance_transaction(
    svc: Services, event: WebhookEvent, transaction_id: str
) -> Reaction:
    """A bank transfer arrived in the customer's cash balance, or was applied to a payment:
    what the pages show of their balance and of their invoices' transfers is stale."""
    if event.customer_id is None:
        return Reaction(None)
    await svc.gateway.uncached().get_balances(event.customer_id)  # still there
    return Reaction(event.customer_id)


async def on_tax_id(svc: Services, event: WebhookEvent, tax_id: str) -> Reaction:
    if event.customer_id is None:  # a tax ID of an account, not of a customer
        return Reaction(None)
    await svc.gateway.uncached().get_tax_id(
        event.customer_id, tax_id
    )  # still there (else: NotFound)
    return Reaction(event.customer_id)


# Event type -> handler. Types without one are acknowledged and ignored, as Stripe recommends,
# so that enabling more events on the endpoint never causes failed deliveries.
HANDLERS: dict[str, Handler] = {
    "checkout.session.completed": on_checkout_completed,
    "checkout.session.expired": on_checkout_expired,
    "checkout.session.async_payment_succeeded": on_async_payment,
    "checkout.session.async_payment_failed": on_async_payment,
    "invoice.paid": on_invoice,
    "invoice.payment_failed": on_invoice,
    "invoice.payment_action_required": on_invoice,
    "invoice.finalized": on_invoice,
    "invoice.voided": on_invoice,
    "invoice.marked_uncollectible": on_invoice,
    "invoice_payment.paid": on_invoice_payment,
    "payment_intent.succeeded": on_payment_intent,
    "payment_intent.payment_failed": on_payment_intent,
    "refund.updated": on_refund,
    "refund.failed": on_refund,
    "payment_method.attached": on_payment_method,
    "payment_method.detached": on_payment_method,
    "customer.updated": on_customer,
    "customer_cash_balance_transaction.created": on_cash_balance_transaction,
    "customer.tax_id.created": on_tax_id,
    "customer.tax_id.updated": on_tax_id,
    "customer.tax_id.deleted": on_tax_id,
}
