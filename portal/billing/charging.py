"""Carrying out a payment's charges against Stripe, once each.

`run` goes through a payment's charges in order. A charge still `pending` first claims its
invoice (`portal.billing.claims`: at most one charge per invoice in flight, across processes and
instances), then re-reads the invoice from Stripe, uncached, and goes ahead only while it matches
what the customer saw (its fingerprint) and the amount is no more than what remains, and only
after it has been moved to `processing` by a conditional UPDATE. A charge left `processing` or
`interrupted` (a stopped process, Stripe's answer lost) is repeated with the same idempotency
keys, so Stripe replays its first answer instead of charging again, but only while it still holds
its invoice's claim. The amount is the one planned from Stripe's invoice when the payment was
started, never one from the form.

Stripe keeps idempotency keys for 24 hours; a repeat after that is a new request, which for an
installment would be a second charge (https://docs.stripe.com/api/idempotent_requests). So a
charge is repeated only while its keys are younger than `KEYS_LIVE`; an older one is settled
from Stripe's own records instead (`reconciled`: the invoice's payments and their
PaymentIntents): what went through is recorded, and what did not is ended (`lapsed`), never
silently made again under new keys. The customer can start again; the fingerprint check
guards the amount as for any new payment.

When the bank wants the customer (3-D Secure), the charge waits in `requires_action` and `run`
returns Stripe's page for it; the customer comes back to `resume_after_authentication`. A debit
(SEPA) waits in `submitted` for days; webhooks, the payment's page and the reminders ask Stripe
what became of it (`decided`).
"""

from __future__ import annotations

import asyncio
import logging
from collections.abc import Callable, Iterable, Sequence
from dataclasses import dataclass, replace
from datetime import UTC, datetime, timedelta
from typing import cast

from sqlalchemy.ext.asyncio import AsyncConnection, AsyncEngine

from portal.billing import claims, lifecycle
from portal.billing.payments import still_as_seen
from portal.billing.records import ChargeRecord, ChargeStatus, Payment
from portal.concurrency import at_once
from portal.permissions import Action, Principal, require
from portal.services import Services
from portal.storage.database import transaction
from portal.stripe.cache import CachingGateway
from portal.stripe.errors import InvalidRequest, PaymentDeclined, StripeUnavailable
from portal.stripe.models import InvoicePayment, PaymentIntent

log = logging.getLogger(__name__)

# Stripe's error when `invoices.pay` stopped at 3-D Secure; the invoice's PaymentIntent waits.
REQUIRES_ACTION = "invoice_payment_intent_requires_action"
# The portal's own code for a debit the customer's bank returned after it had been submitted.
DEBIT_FAILED = "debit_failed"
# ... and for a charge not made because a debit on the same invoice is still being collected.
DEBIT_ON_ITS_WAY = "debit_on_its_way"

# Stripe keeps an idempotency key for at least 24 hours after its first use. An hour's margin
# covers the portal's clock being off from Stripe's and the time the repeat itself takes.
KEYS_LIVE = timedelta(hours=23)
# How far apart the portal's and Stripe's clocks may be when Stripe's timestamps are compared
# with a charge's `sent_at`.
CLOCK_SKEW = timedelta(minutes=5)
# How often a payment waiting for another charge on its invoice looks whether it has settled.
CLAIM_POLL = 0.2
# A bank's confirmation (3-D Secure) not given within this is abandoned: Stripe's own pages
# time out long before, and the PaymentIntent the portal made for it is canceled, so that it
# no longer blocks voiding the invoice.
ABANDON_AFTER = timedelta(hours=1)


@dataclass(frozen=True)
class Outcome:
    status: ChargeStatus
    error_code: str | None = None
    payment_intent_id: str | None = None
    action_url: str | None = None
    # A PaymentIntent the portal made for the charge and that will not be paid: to cancel.
    cancel_intent: str | None = None
    refund_id: str | None = None  # the charge's money is being given back by this refund


def from_intent(intent: PaymentIntent) -> Outcome:
    """What a PaymentIntent's state means for the charge it pays."""
    if intent.status == "succeeded":
        return Outcome("succeeded", payment_intent_id=intent.id)
    if intent.status == "processing":  # a SEPA debit: submitted, settles in a few days
        return Outcome("submitted", payment_intent_id=intent.id)
    if intent.status == "requires_action" and intent.action_url:
        return Outcome("requires_action", payment_intent_id=intent.id, action_url=intent.action_url)
    return Outcome("failed", intent.decline_code or intent.status, payment_intent_id=intent.id)


def keys_alive(charge: ChargeRecord, now: datetime) -> bool:
    """Whether Stripe still knows the charge's idempotency keys, so that repeating its
    requests replays their first answers. A charge without a recorded first send counts as
    old: reading Stripe's records is always safe, repeating with forgotten keys is not."""
    return charge.sent_at is not None and now - charge.sent_at < KEYS_LIVE


def by_preference(payments: Iterable[InvoicePayment]) -> list[InvoicePayment]:
    """An invoice's payments that carry a PaymentIntent: the default one (the one
    `invoices.pay` confirms) first, then the newest first."""
    with_intent = [p for p in payments if p.payment_intent_id]
    return sorted(with_intent, key=lambda p: (not p.is_default, -p.created.timestamp()))


async def invoice_intents(
    gateway: CachingGateway, invoice_id: str
) -> list[tuple[InvoicePayment, PaymentIntent]]:
    """The invoice's payments with their PaymentIntents (`by_preference`), read from Stripe."""
    payments = by_preference(await gateway.uncached().list_invoice_payments(invoice_id))
    intents = await at_once(
        *(gateway.uncached().get_payment_intent(cast(str, p.payment_intent_id)) for p in payments)
    )
    return list(zip(payments, intents, strict=True))


async def _find_intent(
    gateway: CachingGateway,
    invoice_id: str,
    wanted: Callable[[InvoicePayment, PaymentIntent], bool],
) -> PaymentIntent | None:
    found = await invoice_intents(gateway, invoice_id)
    return next((intent for payment, intent in found if wanted(payment, intent)), None)


def reconciled(
    charge: ChargeRecord,
    method_id: str,
    found: Sequence[tuple[InvoicePayment, PaymentIntent]],
) -> Outcome:
    """What became of a charge whose idempotency keys Stripe may have forgotten, from the
    invoice's payments and their PaymentIntents (`invoice_intents`).

    The charge's PaymentIntent is one with the charge's payment method and amount. It went
    through if Stripe counted it on the invoice since the charge was first sent; a debit may
    still be on its way (`processing`). An installment's PaymentIntent was created by the
    charge itself, so it is also no older than the charge; the whole invoice is paid through
    its default PaymentIntent, which is older. A PaymentIntent still waiting for a 3-D Secure
    confirmation nobody gave means nothing was charged. Anything else: nothing happened at
    Stripe, and the charge is ended (`lapsed`), not made again.
    """
    # No recorded first send (migration 0007 gave charges under way one): any time counts.
    since = charge.sent_at - CLOCK_SKEW if charge.sent_at else datetime.min.replace(tzinfo=UTC)
    for payment, intent in found:
        if intent.payment_method_id != method_id or intent.amount != charge.amount:
            continue
        if intent.status == "succeeded":
            if (
                payment.status == "paid"
                and payment.paid_at is not None
                and payment.paid_at >= since
            ):
                return Outcome("succeeded", payment_intent_id=intent.id)
            continue
        if charge.kind != "whole" and (intent.created is None or intent.created < since):
            continue
        if intent.status == "processing":
            return Outcome("submitted", payment_intent_id=intent.id)
        if intent.status == "requires_action":
            # Nobody will confirm it now: an installment's own PaymentIntent is canceled.
            left = intent.id if charge.kind != "whole" else None
            return Outcome(
                "failed", REQUIRES_ACTION, payment_intent_id=intent.id, cancel_intent=left
            )
    return Outcome("lapsed")


def decided(charge: ChargeRecord, intent: PaymentIntent) -> Outcome | None:
    """What the bank decided for a charge waiting for it (`records.AT_THE_BANK`), or None
    while it has not. A debit that fails after it was submitted was returned by the bank."""
    outcome = from_intent(intent)
    if outcome.status in (charge.status, "requires_action"):
        return None
    if charge.status == "submitted" and outcome.status == "failed":
        return Outcome("failed", DEBIT_FAILED, payment_intent_id=intent.id)
    return outcome


async def attempt(
    gateway: CachingGateway,
    payment: Payment,
    charge: ChargeRecord,
    method_id: str,
    *,
    return_url: str,
) -> Outcome:
    """Send one charge's requests to Stripe (raises StripeUnavailable when it cannot tell)."""
    key = charge.idempotency_key()
    try:
        if charge.kind == "whole":
            invoice = await gateway.pay_invoice(
                charge.invoice_id, payment_method_id=method_id, idempotency_key=key
            )
            if invoice.status == "paid":
                return Outcome("succeeded")
            # A debit on its way: its PaymentIntent, found among the invoice's payments (the
            # default one first, which `invoices.pay` confirms), is what webhooks and the
            # payment's page ask about later. It may be decided already: they will see.
            debit = await _find_intent(
                gateway, charge.invoice_id, lambda _, i: i.payment_method_id == method_id
            )
            return Outcome("submitted", payment_intent_id=debit.id if debit else None)
        intent = await gateway.pay_part_of_invoice(
            invoice_id=charge.invoice_id,
            customer_id=payment.customer_id,
            currency=payment.currency,
            amount=charge.amount,
            payment_method_id=method_id,
            idempotency_key=key,
            return_url=return_url,
        )
    except PaymentDeclined as exc:
        if exc.code != REQUIRES_ACTION:
            # An installment's PaymentIntent is the portal's, attached and now unpaid; an
            # invoice's own (paying it whole) is Stripe's to keep.
            left = exc.payment_intent_id if charge.kind != "whole" else None
            return Outcome(
                "failed", exc.decline_code or exc.code, exc.payment_intent_id, cancel_intent=left
            )
        # Stripe's error need not name the PaymentIntent waiting for the bank; the invoice's
        # payments always do (https://docs.stripe.com/api/invoice-payment).
        waiting = exc.payment_intent_id or await _waiting_intent(gateway, charge.invoice_id)
        if waiting is None:
            return Outcome("failed", exc.code)
        intent = await gateway.authenticate_payment(
            waiting, return_url=return_url, idempotency_key=f"{key}:authenticate"
        )
    except InvalidRequest as exc:
        log.info("charge %s refused by Stripe at %s: %s", key, exc.step or "pay", exc.code)
        if exc.step == "confirm":
            # The invoice took the PaymentIntent, then Stripe refused to charge it (the method
            # cannot pay it, say): not a changed invoice. Nothing was charged.
            return Outcome(
                "refused", exc.code, exc.payment_intent_id, cancel_intent=exc.payment_intent_id
            )
        # The invoice refused the payment: it was paid, voided or lowered since the customer's
        # page was shown. Nothing was charged; a PaymentIntent made for it is not needed.
        return Outcome("changed", exc.code, cancel_intent=exc.payment_intent_id)
    outcome = from_intent(intent)
    if outcome.status == "failed" and charge.kind != "whole":
        return replace(outcome, cancel_intent=intent.id)
    return outcome


async def _waiting_intent(gateway: CachingGateway, invoice_id: str) -> str | None:
    """The invoice's PaymentIntent that `invoices.pay` left waiting for 3-D Secure."""
    intent = await _find_intent(
        gateway, invoice_id, lambda p, i: p.status == "open" and i.status == "requires_action"
    )
    return intent.id if intent else None


async def run(
    svc: Services,
    who: Principal,
    payment: Payment,
    method_id: str,
    *,
    return_url: str,
) -> str | None:
    """Make the payment's outstanding charges, the caller having claimed it (`processing`).

    Returns the URL of Stripe's authentication page when the bank wants the customer, else
    None with the payment `done`. A failed charge stops the rest: the customer sees what went
    through and chooses again.
    """
    engine = svc.engine
    lasting = claims.lease(svc.settings.stripe_timeout, svc.settings.stripe_max_network_retries)
    for charge in payment.charges:
        if charge.status in lifecycle.UNSETTLED:
            now = datetime.now(UTC)
            if not keys_alive(charge, now) or not await _keep(engine, charge, now, lasting):
                # Stripe may have forgotten the keys, or another payment has charged the
                # invoice since: Stripe's records say what happened, and nothing is sent again.
                found = await invoice_intents(svc.gateway, charge.invoice_id)
                outcome = reconciled(charge, method_id, found)
                log.info("charge %s reconciled from Stripe: %s", charge.idempotency_key(), outcome)
                await record(svc, charge, outcome, detail="read from Stripe's records")
                if outcome.status in ("failed", "lapsed"):
                    break
                continue
            # else repeated with the same keys: Stripe answers as the first time
        elif charge.status != "pending":
            continue  # settled already
        else:
            started = await prepare(svc, who, charge, lasting)
            if started is None:
                continue  # not to be made now (recorded why)
            charge = started
        try:
            outcome = await attempt(svc.gateway, payment, charge, method_id, return_url=return_url)
        except StripeUnavailable:
            # The answer is lost, not the charge: Stripe may have made it. The charge keeps its
            # claim and is repeated with the same keys, or read from Stripe's records.
            await record(svc, charge, Outcome("interrupted"))
            raise
        await record(svc, charge, outcome)
        if outcome.status == "requires_action":
            await lifecycle.waits_for_bank(engine, payment, datetime.now(UTC))
            return outcome.action_url
        if outcome.status in ("failed", "refused"):
            break
    await lifecycle.stop(engine, payment, datetime.now(UTC))
    return None


async def prepare(
    svc: Services, who: Principal, charge: ChargeRecord, lasting: timedelta
) -> ChargeRecord | None:
    """Claim the charge's invoice, re-read it from Stripe (uncached) and start the charge
    (`processing`) if the invoice is still as the customer saw it: the charge as started.
    None: not to be made (the outcome is recorded: another charge under way, or the invoice
    changed)."""
    engine = svc.engine
    if not await _claim(engine, charge, lasting):
        await lifecycle.move_now(engine, charge, "busy", datetime.now(UTC))
        return None
    if await _debit_on_its_way(engine, charge):
        # Stripe leaves the invoice's `amount_remaining` as it was until a debit is collected,
        # days later: charging it again now could make the customer pay twice.
        await lifecycle.move_now(
            engine, charge, "busy", datetime.now(UTC), error_code=DEBIT_ON_ITS_WAY
        )
        return None
    try:
        # Within the claim, so no other charge on the invoice can land between this read
        # and the charge: the invoice as it is now, not as a cache or the page had it.
        invoice = await svc.gateway.uncached().get_invoice(charge.invoice_id)
        require(who, Action.PAY, invoice=invoice)
        if not still_as_seen(invoice, charge.fingerprint, charge.amount):
            await lifecycle.move_now(engine, charge, "changed", datetime.now(UTC))
            return None
        # Not pending any more: the same charge under way elsewhere, holding the same claim.
        now = datetime.now(UTC)
        return await lifecycle.move_now(engine, charge, "processing", now, sent_at=now)
    except BaseException:
        await release(engine, charge)
        raise


async def _debit_on_its_way(engine: AsyncEngine, charge: ChargeRecord) -> bool:
    """Whether another charge's debit on this invoice is still being collected by the bank."""
    waiting = await lifecycle.awaiting_bank(engine, charge.invoice_id)
    return any(
        c.status == "submitted"
        and (c.payment_id, c.position) != (charge.payment_id, charge.position)
        for c in waiting
    )


async def _claim(engine: AsyncEngine, charge: ChargeRecord, lasting: timedelta) -> bool:
    """Take the charge's invoice, waiting up to `claims.WAIT` for a charge under way on it."""
    deadline = datetime.now(UTC) + claims.WAIT
    while True:
        now = datetime.now(UTC)
        async with transaction(engine) as conn:
            if await claims.take(
                conn, charge.invoice_id, charge.payment_id, charge.position, now, lasting=lasting
            ):
                return True
        if now >= deadline:
            return False
        await asyncio.sleep(CLAIM_POLL)


async def _keep(
    engine: AsyncEngine, charge: ChargeRecord, now: datetime, lasting: timedelta
) -> bool:
    async with transaction(engine) as conn:
        return await claims.keep(
            conn, charge.invoice_id, charge.payment_id, charge.position, now, lasting=lasting
        )


async def release(engine: AsyncEngine, charge: ChargeRecord) -> None:
    async with transaction(engine) as conn:
        await claims.release(conn, charge.invoice_id, charge.payment_id, charge.position)


async def settle_action(svc: Services, charge: ChargeRecord) -> Outcome:
    """Read what became of a charge that waited for the customer's bank, and record it."""
    assert charge.payment_intent_id is not None
    outcome = from_intent(await svc.gateway.get_payment_intent(charge.payment_intent_id))
    if outcome.status != "requires_action":
        if outcome.status == "failed" and charge.kind != "whole":
            outcome = replace(outcome, cancel_intent=outcome.payment_intent_id)
        await record(svc, charge, outcome)
    return outcome


async def record(
    svc: Services, charge: ChargeRecord, outcome: Outcome, *, detail: str | None = None
) -> ChargeRecord | None:
    """Record a charge's outcome (from the state it was read in), then cancel at Stripe the
    PaymentIntent it leaves unpaid, if any."""
    moved = await lifecycle.move_now(
        svc.engine, charge, outcome.status, datetime.now(UTC), **values_of(outcome, detail)
    )
    if moved is not None and moved.cancel_intent:
        await cancel_left(svc, moved)
    return moved


def values_of(outcome: Outcome, detail: str | None = None) -> dict[str, object]:
    """An outcome as the values of its charge's move (`lifecycle.move`)."""
    return {
        "error_code": outcome.error_code,
        "payment_intent_id": outcome.payment_intent_id,
        "cancel_intent": outcome.cancel_intent,
        "refund_id": outcome.refund_id,
        "detail": detail,
    }


async def cancel_left(svc: Services, charge: ChargeRecord) -> bool:
    """Cancel the PaymentIntent a charge left unpaid (`cancel_intent`), so that its invoice
    payment is `canceled` and the invoice can be voided or written off again. Stripe
    unreachable: it stays noted, for the next sweep (`tidy`). True once it is canceled (or
    was: a PaymentIntent that cannot be canceled any more is left as Stripe has it)."""
    intent_id = charge.cancel_intent
    assert intent_id is not None
    try:
        await svc.gateway.cancel_payment_intent(
            intent_id, idempotency_key=f"{charge.idempotency_key()}:cancel"
        )
    except StripeUnavailable as exc:
        log.info("PaymentIntent %s not canceled yet: %r", intent_id, exc)
        return False
    except InvalidRequest as exc:
        # Canceled already, or in a state Stripe does not cancel (a failed charge's
        # PaymentIntent never succeeds without a new confirmation): nothing left to do.
        log.warning("PaymentIntent %s not canceled: %s", intent_id, exc.code)
    await lifecycle.intent_canceled(svc.engine, charge)
    if charge.customer_id:
        await svc.gateway.changed(charge.customer_id)
    return True


async def abandon(svc: Services, charge: ChargeRecord) -> Outcome:
    """The bank's confirmation will not come (the customer chose another way, or let it
    lapse, `ABANDON_AFTER`): an installment's PaymentIntent is canceled at Stripe first, so
    that the bank cannot complete it afterwards; one the customer confirmed meanwhile is
    recorded as what it became instead. An invoice's own PaymentIntent (paying it whole) is
    Stripe's: confirming it again with another method is how the customer pays next."""
    assert charge.payment_intent_id is not None
    if charge.kind != "whole":
        try:
            await svc.gateway.cancel_payment_intent(
                charge.payment_intent_id, idempotency_key=f"{charge.idempotency_key()}:cancel"
            )
        except InvalidRequest:
            intent = await svc.gateway.uncached().get_payment_intent(charge.payment_intent_id)
            outcome = from_intent(intent)
            if outcome.status != "requires_action":
                async with transaction(svc.engine) as conn:
                    await lifecycle.settle(
                        conn, charge, outcome.status, datetime.now(UTC), **values_of(outcome)
                    )
                return outcome
    outcome = Outcome("abandoned", REQUIRES_ACTION, payment_intent_id=charge.payment_intent_id)
    async with transaction(svc.engine) as conn:
        await lifecycle.settle(conn, charge, "abandoned", datetime.now(UTC), **values_of(outcome))
    if charge.customer_id:
        await svc.gateway.changed(charge.customer_id)
    return outcome


async def stop(engine: AsyncEngine, payment: Payment) -> None:
    """The payment is over: charges not yet tried (after a failed one) are not made."""
    await lifecycle.stop(engine, payment, datetime.now(UTC))


async def settled_by_bank(
    engine: AsyncEngine, gateway: CachingGateway, invoice_id: str
) -> list[tuple[ChargeRecord, Outcome]]:
    """Charges on this invoice that waited for the customer's bank and are now decided at
    Stripe (the customer confirmed, or failed to, and did not come back to the portal; a
    debit was collected or returned)."""
    waiting = await lifecycle.awaiting_bank(engine, invoice_id)
    return await _decided(gateway, waiting)


async def _decided(
    gateway: CachingGateway, charges: Iterable[ChargeRecord]
) -> list[tuple[ChargeRecord, Outcome]]:
    waiting = [c for c in charges if c.payment_intent_id]
    intents = await at_once(
        *(gateway.uncached().get_payment_intent(cast(str, c.payment_intent_id)) for c in waiting)
    )
    found = [(c, decided(c, intent)) for c, intent in zip(waiting, intents, strict=True)]
    return [(c, outcome) for c, outcome in found if outcome is not None]


async def settle_debits(svc: Services, payment: Payment) -> bool:
    """Ask Stripe about the payment's debits still being collected and record those it
    decided (the payment's page, in case a webhook is late or lost). True if any was.
    Stripe unreachable or rate-limiting: the page shows the debit as on its way, as it was."""
    try:
        settled = await _decided(
            svc.gateway, (c for c in payment.charges if c.status == "submitted")
        )
    except StripeUnavailable as exc:
        log.info("debits of payment %s not asked about: %r", payment.id, exc)
        return False
    async with transaction(svc.engine) as conn:
        for charge, outcome in settled:
            await record_settled(conn, charge, outcome, datetime.now(UTC))
    return bool(settled)


async def still_collecting(
    engine: AsyncEngine, gateway: CachingGateway, invoice_ids: Iterable[str]
) -> set[str]:
    """Of these invoices, those with a debit Stripe is still collecting (their reminders
    wait: the customer has paid, the bank has not answered yet). Debits Stripe has decided
    meanwhile are recorded on the way."""
    debits = await lifecycle.collecting(engine, invoice_ids)
    settled = await _decided(gateway, debits)
    async with transaction(engine) as conn:
        for charge, outcome in settled:
            await record_settled(conn, charge, outcome, datetime.now(UTC))
    done = {(c.payment_id, c.position) for c, _ in settled}
    return {
        c.invoice_id
        for c in debits
        if c.payment_intent_id and (c.payment_id, c.position) not in done
    }


async def record_settled(
    conn: AsyncConnection, charge: ChargeRecord, outcome: Outcome, now: datetime
) -> None:
    """Record a charge the bank (or Stripe's page) decided without the customer coming back:
    the payment ends there (`lifecycle.settle`). Only from the state the charge was read in:
    of two callers, one records. A PaymentIntent it leaves is canceled by the next sweep."""
    await lifecycle.settle(conn, charge, outcome.status, now, **values_of(outcome))
