"""Scheduled finalization: when a draft with automatic advancement is finalized, on the sandbox
clock (`automatically_finalizes_at`); `invoices` does the finalizing and charging when it comes.

Stripe's rules (docs.stripe.com/invoicing/scheduled-finalization, the SDK's invoice params and
`Invoice.automatically_finalizes_at`): a time needs `auto_advance`, lies in the future and at
most five years ahead; a draft given `auto_advance` without one finalizes after the account's
grace period, an hour unless changed in the Dashboard
(docs.stripe.com/billing/subscriptions/usage-based/configure-grace-period); turning
`auto_advance` off unschedules it; the field is null on anything but a draft. The refusals'
wording is the sandbox's: Stripe does not document its own.
"""

from __future__ import annotations

import datetime
from collections.abc import Callable

from stripe_sandbox.errors import StripeError, invalid_request
from stripe_sandbox.store import JSON, Store

PARAM = "automatically_finalizes_at"
GRACE_PERIOD_S = 60 * 60
YEARS_AHEAD = 5


def latest_allowed(now: int) -> int:
    """The same moment five calendar years on (28 February for a 29th)."""
    start = datetime.datetime.fromtimestamp(now, datetime.UTC)
    try:
        later = start.replace(year=start.year + YEARS_AHEAD)
    except ValueError:
        later = start.replace(year=start.year + YEARS_AHEAD, day=28)
    return int(later.timestamp())


def refusal(requested: int, auto_advance: bool, now: int) -> StripeError | None:
    """Why `automatically_finalizes_at=requested` is refused on a draft (None: accepted)."""
    if not auto_advance:
        return invalid_request(
            "You can only set `automatically_finalizes_at` on invoices with `auto_advance` "
            "set to true.",
            param=PARAM,
        )
    if requested <= now:
        return invalid_request("`automatically_finalizes_at` must be in the future.", param=PARAM)
    if requested > latest_allowed(now):
        return invalid_request(
            f"`automatically_finalizes_at` can be at most {YEARS_AHEAD} years in the future.",
            param=PARAM,
        )
    return None


def finalizes_at(
    requested: int | None, auto_advance: bool, current: int | None, now: int
) -> int | None:
    """A draft's `automatically_finalizes_at` after a create or update that sent `requested`
    (None: not sent) and leaves `auto_advance`; raises Stripe's refusal."""
    if requested is not None:
        error = refusal(requested, auto_advance, now)
        if error is not None:
            raise error
        return requested
    if not auto_advance:
        return None
    return current if current is not None else now + GRACE_PERIOD_S


def _key(invoice_id: str) -> str:
    return f"finalize:{invoice_id}"


def follow(store: Store, invoice: JSON, advance: Callable[[Store, str], None]) -> None:
    """Keep the store's timed work in step with the invoice: `advance(store, invoice_id)` at its
    `automatically_finalizes_at` while it is a draft that has one, nothing otherwise."""
    moment = invoice[PARAM] if invoice["status"] == "draft" else None
    if moment is None:
        forget(store, invoice["id"])
        return
    invoice_id = invoice["id"]
    store.at(_key(invoice_id), moment, lambda: advance(store, invoice_id))


def forget(store: Store, invoice_id: str) -> None:
    """The invoice was finalized or deleted: nothing is due for it any more."""
    store.cancel_at(_key(invoice_id))
