"""A payment's life: its states, the moves allowed between them, and the transactions that
make them.

A payment (what the customer set out to pay) has charges, one per invoice. Everything that
changes the state of either goes through this module: the pages (`paying`), the charging itself
(`charging`, `at_stripe`), Stripe's webhooks (`events`) and the commands. Each move is one
conditional UPDATE from the state its caller read, allowed only if `PAYMENT_MOVES` or
`CHARGE_MOVES` lists it: of two callers racing, one moves and the other learns it did not, and
a move the table does not list is a programming error (`RefusedMove`), never a silent write.
Every charge's move is written to `payment_history` in the same transaction, with why: the
payment's own record of what became of the customer's money.

The states, as the customer's money sees them (the README's "Paying" section has the same
table):

- nothing charged, the customer choosing: `pending`; off adding a method at Stripe, the
  payment `awaiting_method`;
- being charged: `processing`; cut off before Stripe's answer came: `interrupted` (repeated
  with the same idempotency keys, or read from Stripe's records);
- waiting for the customer: `requires_action` (3-D Secure); for Stripe's page: `at_stripe`;
  for the money they send by transfer or voucher, on the invoice already: `awaiting_payment`;
- waiting for the bank: `submitted` (a debit, days);
- through: `succeeded`;
- not charged: `failed` (declined, or a debit returned), `refused` (Stripe refused the request),
  `changed` (the invoice changed since the page), `busy` (another charge on the invoice),
  `skipped` (an earlier charge failed), `lapsed` (cut off past Stripe's keys, nothing at
  Stripe), `abandoned` (the bank's confirmation never given; the PaymentIntent canceled);
- money that arrived but does not belong on the invoice any more: `unattached` (refused by an
  invoice that still owes it: kept, attached again), `refund_due` (to be given back once it
  arrives), `refund_pending`, `refunded` (Stripe says the refund succeeded), `refund_failed`
  (it failed or was canceled: the money is still with the company, which must return it).
"""

from __future__ import annotations

import logging
from collections.abc import Iterable, Sequence
from dataclasses import replace
from datetime import datetime, timedelta
from typing import get_args

from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncConnection, AsyncEngine

from portal.billing import claims, records
from portal.billing.payments import Charge
from portal.billing.records import ChargeRecord, ChargeStatus, Payment, PaymentStatus
from portal.storage.database import transaction
from portal.storage.tables import payment_charges, payment_history

log = logging.getLogger(__name__)

PAYMENT_STATUSES: tuple[PaymentStatus, ...] = get_args(PaymentStatus)
CHARGE_STATUSES: tuple[ChargeStatus, ...] = get_args(ChargeStatus)

# Nothing charged yet: the customer chooses how to pay (or is adding a method to pay with).
CHOOSING: tuple[PaymentStatus, ...] = ("pending", "awaiting_method")

PAYMENT_MOVES: dict[PaymentStatus, frozenset[PaymentStatus]] = {
    "pending": frozenset({"awaiting_method", "at_stripe", "processing", "done"}),
    # Back from Stripe without a method: the customer chooses again, the same ways.
    "awaiting_method": frozenset({"awaiting_method", "at_stripe", "processing", "done"}),
    "at_stripe": frozenset({"pending", "done"}),
    # Back to `pending`: Stripe could not be reached before anything was sent.
    "processing": frozenset({"pending", "requires_action", "done"}),
    "requires_action": frozenset({"processing", "done"}),
    "done": frozenset(),
}

# What a charge's requests can come to, sent now or repeated after an interruption.
_ANSWERED: frozenset[ChargeStatus] = frozenset(
    {"succeeded", "submitted", "requires_action", "failed", "refused", "changed", "lapsed"}
)
# Where money that reached Stripe but cannot stay on its invoice goes.
_GIVEN_BACK: frozenset[ChargeStatus] = frozenset({"refund_due", "refund_pending", "refunded"})
_REFUND: frozenset[ChargeStatus] = frozenset({"refund_pending", "refunded", "refund_failed"})
# What money paid on Stripe's page can become: counted on its invoice, kept while the invoice
# refuses it, or given back.
_SETTLED_THERE: frozenset[ChargeStatus] = frozenset(
    {"succeeded", "submitted", "awaiting_payment", "unattached"}
)
_PAID_THERE = _SETTLED_THERE | _GIVEN_BACK | _REFUND

CHARGE_MOVES: dict[ChargeStatus, frozenset[ChargeStatus]] = {
    "pending": frozenset({"processing", "busy", "changed", "skipped"}),
    # Back to `pending`: Stripe's page could not be opened (nothing there to pay).
    "processing": _ANSWERED | {"interrupted", "at_stripe", "pending"},
    "interrupted": _ANSWERED | {"interrupted"},
    "requires_action": frozenset({"succeeded", "submitted", "failed", "abandoned"}),
    "submitted": frozenset({"succeeded", "failed"}),
    "at_stripe": _PAID_THERE | {"pending"},
    # Attached at last, or given back once the invoice no longer owes it; `failed`: a payment
    # still on its way when the invoice refused it never arrived.
    "unattached": _PAID_THERE | {"failed"},
    # On the invoice, waiting for the customer's transfer or voucher: paid, or never (the
    # voucher expired, the PaymentIntent canceled).
    "awaiting_payment": frozenset({"succeeded", "submitted", "failed"}),
    "refund_due": _REFUND | {"failed"},
    "refund_pending": frozenset({"refunded", "refund_failed"}),
    # Stripe may fail a refund after it succeeded (the bank returns it): it says so then.
    "refunded": frozenset({"refund_failed"}),
    "refund_failed": frozenset(),
    "succeeded": frozenset(),
    "failed": frozenset(),
    "refused": frozenset(),
    "changed": frozenset(),
    "busy": frozenset(),
    "skipped": frozenset(),
    "lapsed": frozenset(),
    "abandoned": frozenset(),
}

# Its outcome is not known yet: Stripe's answer did not come.
UNSETTLED: tuple[ChargeStatus, ...] = ("processing", "interrupted")
# While a charge is in one of these it keeps its invoice's claim (`portal.billing.claims`):
# its outcome is not known yet, or the customer's bank may still complete it.
HOLDS_CLAIM: tuple[ChargeStatus, ...] = ("pending", *UNSETTLED, "requires_action", "at_stripe")
# Waiting for the customer's bank: a 3-D Secure confirmation, or a debit being collected.
AT_THE_BANK: tuple[ChargeStatus, ...] = ("requires_action", "submitted")
# Money of the customer's that Stripe holds for the company and the portal still has to place:
# on the invoice (`unattached`) or back with the customer (`refund_due`, `refund_pending`);
# and money the customer is still to send (`awaiting_payment`), followed until it arrives.
MONEY_TO_PLACE: tuple[ChargeStatus, ...] = (
    "unattached",
    "refund_due",
    "refund_pending",
    "awaiting_payment",
)

# A charge "processing" for longer than this was left behind by a stopped process.
STALE_AFTER = timedelta(minutes=2)


class RefusedMove(Exception):
    """A move the tables do not allow: a mistake in the code, never a state to record."""

    def __init__(self, kind: str, before: str, after: str) -> None:
        super().__init__(f"{kind} cannot move from {before!r} to {after!r}")
        self.before = before
        self.after = after


def may_move(before: ChargeStatus, after: ChargeStatus) -> bool:
    return after in CHARGE_MOVES[before]


def may_move_payment(before: PaymentStatus, after: PaymentStatus) -> bool:
    return after in PAYMENT_MOVES[before]


def payment_sources(after: PaymentStatus) -> tuple[PaymentStatus, ...]:
    """The payment states from which `after` may be reached."""
    return tuple(s for s in PAYMENT_STATUSES if after in PAYMENT_MOVES[s])


# -- reading ---------------------------------------------------------------------------------


async def find(engine: AsyncEngine, payment_id: str, customer_id: str) -> Payment | None:
    async with engine.connect() as conn:
        return await records.get(conn, payment_id, customer_id)


async def invoices_of(engine: AsyncEngine, payment_id: str) -> list[str]:
    async with engine.connect() as conn:
        return await records.invoices_of(conn, payment_id)


async def history(engine: AsyncEngine, payment_id: str) -> list[tuple[int, str, str, str | None]]:
    """The payment's charges' moves, oldest first: (position, from, to, why)."""
    async with engine.connect() as conn:
        rows = await conn.execute(
            select(payment_history)
            .where(payment_history.c.payment_id == payment_id)
            .order_by(payment_history.c.id)
        )
        return [(r.position, r.status_from, r.status_to, r.detail) for r in rows]


# -- the payment ------------------------------------------------------------------------------


async def start(
    engine: AsyncEngine,
    customer_id: str,
    currency: str,
    charges: Sequence[tuple[Charge, str]],
    now: datetime,
) -> str:
    """A new payment of `charges` (each with its invoice's fingerprint), `pending`."""
    async with transaction(engine) as conn:
        return await records.create(conn, customer_id, currency, charges, now)


async def claim(
    engine: AsyncEngine,
    payment: Payment,
    *,
    before: Iterable[PaymentStatus],
    after: PaymentStatus,
    now: datetime,
    payment_method_id: str | None = None,
) -> bool:
    """Move the payment from one of `before` to `after`; True for exactly one caller."""
    sources = tuple(before)
    for source in sources:
        if not may_move_payment(source, after):
            raise RefusedMove("a payment", source, after)
    async with transaction(engine) as conn:
        return await records.claim(
            conn,
            payment,
            before=sources,
            after=after,
            now=now,
            payment_method_id=payment_method_id,
        )


async def take_over(engine: AsyncEngine, payment: Payment, now: datetime) -> bool:
    """Go on with a payment whose work stopped (as read): True for exactly one caller."""
    async with transaction(engine) as conn:
        return await records.take_over(conn, payment, now)


async def waits_for_bank(engine: AsyncEngine, payment: Payment, now: datetime) -> None:
    """A charge waits for the customer's bank: so does the payment."""
    async with transaction(engine) as conn:
        await records.claim(conn, payment, before=("processing",), after="requires_action", now=now)


async def end(conn: AsyncConnection, payment_id: str, now: datetime) -> None:
    """The payment is over: its charges not yet tried are not made (`skipped`)."""
    waiting = await conn.execute(
        select(payment_charges).where(
            payment_charges.c.payment_id == payment_id, payment_charges.c.status == "pending"
        )
    )
    for row in waiting.all():
        await move(conn, records.charge_from_row(row), "skipped", now, detail="payment ended")
    await records.set_status(conn, payment_id, "done", now, only_from=payment_sources("done"))


async def stop(engine: AsyncEngine, payment: Payment, now: datetime) -> None:
    async with transaction(engine) as conn:
        await end(conn, payment.id, now)


# -- a charge ---------------------------------------------------------------------------------


async def move(
    conn: AsyncConnection,
    charge: ChargeRecord,
    to: ChargeStatus,
    now: datetime,
    *,
    error_code: str | None = None,
    payment_intent_id: str | None = None,
    sent_at: datetime | None = None,
    checkout_session_id: str | None = None,
    refund_id: str | None = None,
    cancel_intent: str | None = None,
    detail: str | None = None,
) -> ChargeRecord | None:
    """Move the charge from the state it was read in (`charge.status`) to `to`, with its
    history; the charge as it is now, or None when it had moved meanwhile (another caller
    did). A charge that ends for good gives its invoice's claim back."""
    if not may_move(charge.status, to):
        raise RefusedMove("a charge", charge.status, to)
    moved = await records.update_charge(
        conn,
        charge,
        to,
        now,
        error_code=error_code,
        payment_intent_id=payment_intent_id,
        sent_at=sent_at,
        checkout_session_id=checkout_session_id,
        refund_id=refund_id,
        cancel_intent=cancel_intent,
    )
    if not moved:
        return None
    if to not in HOLDS_CLAIM:
        await claims.release(conn, charge.invoice_id, charge.payment_id, charge.position)
    why = detail or error_code or refund_id or payment_intent_id
    await conn.execute(
        payment_history.insert().values(
            payment_id=charge.payment_id,
            position=charge.position,
            at=now,
            status_from=charge.status,
            status_to=to,
            detail=(why or "")[:255] or None,
        )
    )
    log.info(
        "payment %s charge %s: %s -> %s%s",
        charge.payment_id,
        charge.position,
        charge.status,
        to,
        f" ({why})" if why else "",
    )
    return replace(
        charge,
        status=to,
        error_code=error_code,
        payment_intent_id=payment_intent_id or charge.payment_intent_id,
        updated_at=now,
        sent_at=sent_at or charge.sent_at,
        checkout_session_id=checkout_session_id or charge.checkout_session_id,
        refund_id=refund_id or charge.refund_id,
        cancel_intent=cancel_intent,
    )


async def move_now(
    engine: AsyncEngine, charge: ChargeRecord, to: ChargeStatus, now: datetime, **values: object
) -> ChargeRecord | None:
    """`move`, in a transaction of its own."""
    async with transaction(engine) as conn:
        return await move(conn, charge, to, now, **values)  # type: ignore[arg-type]


async def settle(
    conn: AsyncConnection,
    charge: ChargeRecord,
    to: ChargeStatus,
    now: datetime,
    **values: object,
) -> ChargeRecord | None:
    """A charge decided without the customer present (the bank, Stripe's page, a webhook, a
    refund): the payment ends there, since charging further invoices while the customer is
    away would surprise them."""
    moved = await move(conn, charge, to, now, **values)  # type: ignore[arg-type]
    if moved is not None:
        await end(conn, charge.payment_id, now)
    return moved


async def back_to_choosing(
    engine: AsyncEngine, charge: ChargeRecord, now: datetime, *, detail: str
) -> bool:
    """Nothing was paid on Stripe's page (the session expired, the customer chose another
    way, or it could not be opened): the charge and its payment are as before "Pay", the
    invoice free for others. True for exactly one caller."""
    async with transaction(engine) as conn:
        if await move(conn, charge, "pending", now, detail=detail) is None:
            return False
        await claims.release(conn, charge.invoice_id, charge.payment_id, charge.position)
        await records.set_status(conn, charge.payment_id, "pending", now, only_from=("at_stripe",))
        return True


async def intent_canceled(engine: AsyncEngine, charge: ChargeRecord) -> None:
    """The PaymentIntent the charge left has been canceled at Stripe."""
    async with transaction(engine) as conn:
        await records.clear_cancel_intent(conn, charge)


async def tried_attach(engine: AsyncEngine, charge: ChargeRecord) -> int:
    """Count one more try to attach the charge's payment (`unattached`); the new count."""
    async with transaction(engine) as conn:
        return await records.count_attach_try(conn, charge)


# -- finding charges by what they wait for --------------------------------------------------------


async def awaiting_bank(engine: AsyncEngine, invoice_id: str) -> list[ChargeRecord]:
    async with engine.connect() as conn:
        return await records.with_status(conn, AT_THE_BANK, invoice_id=invoice_id)


async def collecting(engine: AsyncEngine, invoice_ids: Iterable[str]) -> list[ChargeRecord]:
    """Debits still being collected (`submitted`) on any of these invoices."""
    ids = tuple(invoice_ids)
    if not ids:
        return []
    async with engine.connect() as conn:
        return await records.with_status(conn, ("submitted",), invoice_ids=ids)


async def paid_by(engine: AsyncEngine, payment_intent_id: str) -> list[ChargeRecord]:
    """The charges a PaymentIntent pays that still wait for the bank, or for its money to be
    placed (attached, or given back)."""
    async with engine.connect() as conn:
        return await records.with_status(
            conn,
            (*AT_THE_BANK, "unattached", "refund_due", "awaiting_payment"),
            payment_intent_id=payment_intent_id,
        )


async def refunded_by(engine: AsyncEngine, refund_id: str) -> list[ChargeRecord]:
    """The charges this refund gives back, while Stripe may still say it failed."""
    async with engine.connect() as conn:
        return await records.with_status(conn, ("refund_pending", "refunded"), refund_id=refund_id)


async def on_checkout_session(engine: AsyncEngine, session_id: str) -> ChargeRecord | None:
    """The charge being paid on this Checkout Session, if it still is."""
    async with engine.connect() as conn:
        found = await records.with_status(conn, ("at_stripe",), checkout_session_id=session_id)
    return found[0] if found else None


async def unattached_on(engine: AsyncEngine, invoice_id: str) -> list[ChargeRecord]:
    async with engine.connect() as conn:
        return await records.with_status(conn, ("unattached",), invoice_id=invoice_id)


async def placing_on(engine: AsyncEngine, invoice_id: str, customer_id: str) -> list[ChargeRecord]:
    """The customer's money for this invoice that is not (or no longer) on it: kept for it,
    being given back, or whose refund failed (for the invoice's page)."""
    found = await records.on_invoice(engine, invoice_id, (*MONEY_TO_PLACE, "refund_failed"))
    return [c for c in found if c.customer_id == customer_id]


async def intents_to_cancel(engine: AsyncEngine, *, limit: int = 100) -> list[ChargeRecord]:
    """Charges that left a PaymentIntent to cancel (a cancel that could not be sent)."""
    async with engine.connect() as conn:
        return await records.left_intents(conn, limit=limit)


async def waiting_for_bank_since(
    engine: AsyncEngine, before: datetime, *, limit: int = 100
) -> list[ChargeRecord]:
    """Charges waiting for a 3-D Secure confirmation since before `before`."""
    async with engine.connect() as conn:
        return await records.with_status(
            conn, ("requires_action",), updated_before=before, limit=limit
        )


async def money_to_place(engine: AsyncEngine, *, limit: int = 100) -> list[ChargeRecord]:
    """Charges whose money is still to be attached or given back (`MONEY_TO_PLACE`)."""
    async with engine.connect() as conn:
        return await records.with_status(conn, MONEY_TO_PLACE, limit=limit)
