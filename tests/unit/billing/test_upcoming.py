"""Which drafts the overview calls upcoming, in what order, and the method each is charged to;
which of them are announced by e-mail, when, and under what key."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from typing import Any

from portal.billing.upcoming import (
    ChargeNotice,
    Upcoming,
    charge_notice,
    charged_with,
    own_methods_needed,
    scheduled,
    upcoming,
)
from portal.stripe.models import Invoice, PaymentMethod

NOW = datetime(2026, 3, 5, 12, 0, tzinfo=UTC)
DAY = timedelta(days=1)
CARD = PaymentMethod(id="pm_card", type="card", brand="visa", last4="4242")
SEPA = PaymentMethod(id="pm_sepa", type="sepa_debit", last4="3000")


def draft(id: str = "in_1", **fields: Any) -> Invoice:
    """A EUR 50.00 draft to be charged, scheduled for 10 days on, unless told otherwise."""
    values: dict[str, Any] = {
        "id": id,
        "customer_id": "cus_1",
        "number": None,
        "status": "draft",
        "currency": "eur",
        "collection_method": "charge_automatically",
        "created": NOW - DAY,
        "due_date": None,
        "amount_due": 5000,
        "amount_paid": 0,
        "amount_remaining": 5000,
        "subtotal": 5000,
        "tax": 0,
        "total": 5000,
        "auto_advance": True,
        "automatically_finalizes_at": NOW + 10 * DAY,
    }
    values.update(fields)
    return Invoice(**values)


def test_only_drafts_stripe_will_finalize_later_are_upcoming_soonest_first() -> None:
    later = draft("in_later", automatically_finalizes_at=NOW + 20 * DAY)
    sooner = draft("in_sooner", automatically_finalizes_at=NOW + 2 * DAY)
    unscheduled = draft("in_unscheduled", automatically_finalizes_at=None)
    paused = draft("in_paused", auto_advance=False)
    past = draft("in_past", automatically_finalizes_at=NOW - DAY)  # finalization failed
    now_exactly = draft("in_now", automatically_finalizes_at=NOW)
    issued = draft("in_open", status="open")
    found = scheduled([later, unscheduled, sooner, paused, past, now_exactly, issued], NOW)
    assert [invoice.id for invoice in found] == ["in_sooner", "in_later"]


def test_the_same_date_goes_by_creation_then_id() -> None:
    first = draft("in_b", created=NOW - 2 * DAY)
    second = draft("in_a", created=NOW - DAY)
    third = draft("in_c", created=NOW - DAY)
    assert [i.id for i in scheduled([third, second, first], NOW)] == ["in_b", "in_a", "in_c"]


def test_the_invoices_own_method_comes_before_the_customers_default() -> None:
    methods = {SEPA.id: SEPA}
    assert charged_with(draft(), methods, CARD) == CARD
    assert charged_with(draft(default_payment_method_id=SEPA.id), methods, CARD) == SEPA
    assert charged_with(draft(default_payment_method_id=CARD.id), {}, CARD) == CARD
    assert charged_with(draft(), {}, None) is None
    # A method no longer among the customer's: not described rather than wrongly named.
    assert charged_with(draft(default_payment_method_id="pm_gone"), methods, CARD) is None


def test_a_sent_invoice_is_charged_to_nothing() -> None:
    sent = draft(collection_method="send_invoice", due_date=NOW + 40 * DAY)
    assert charged_with(sent, {SEPA.id: SEPA}, CARD) is None


def test_the_customers_methods_are_read_only_for_a_method_other_than_the_default() -> None:
    assert not own_methods_needed([draft(), draft(default_payment_method_id=CARD.id)], CARD)
    assert own_methods_needed([draft(default_payment_method_id=SEPA.id)], CARD)
    assert own_methods_needed([draft(default_payment_method_id=SEPA.id)], None)
    sent = draft(collection_method="send_invoice", default_payment_method_id=SEPA.id)
    assert not own_methods_needed([sent], CARD)


def test_upcoming_pairs_each_scheduled_draft_with_its_date_and_method() -> None:
    at = NOW + 3 * DAY
    found = upcoming(
        [draft(automatically_finalizes_at=at), draft("in_x", auto_advance=False)],
        NOW,
        methods={},
        default=CARD,
    )
    assert found == (
        Upcoming(invoice=draft(automatically_finalizes_at=at), issued_on=at, charged_with=CARD),
    )


LEAD = 5 * DAY


def notice(invoice: Invoice, method: PaymentMethod | None = CARD, **kw: Any) -> ChargeNotice | None:
    return charge_notice(
        invoice, method, kw.get("now", NOW), lead=kw.get("lead", LEAD),
        stripe_announces_debits=kw.get("stripe_announces_debits", True),
    )  # fmt: skip


def test_a_charge_is_announced_once_within_the_lead_time_of_its_date() -> None:
    in_six_days = draft(automatically_finalizes_at=NOW + 6 * DAY)
    assert notice(in_six_days) is None
    found = notice(in_six_days, now=NOW + DAY)
    assert found == ChargeNotice("in_1", 5000, "eur", NOW + 6 * DAY, CARD)
    # A draft scheduled sooner than the lead time is announced at once.
    assert notice(draft(automatically_finalizes_at=NOW + DAY)) is not None


def test_the_key_names_the_amount_and_the_date_so_a_change_is_announced_again() -> None:
    def key(invoice: Invoice, now: datetime = NOW) -> str:
        found = notice(invoice, now=now)
        assert found is not None
        return found.key

    first = key(draft(automatically_finalizes_at=NOW + 3 * DAY))
    same = key(draft(automatically_finalizes_at=NOW + 3 * DAY), NOW + DAY)
    more = key(draft(automatically_finalizes_at=NOW + 3 * DAY, amount_due=6200))
    later = key(draft(automatically_finalizes_at=NOW + 4 * DAY))
    assert first == same
    assert len({first, more, later}) == 3


def test_nothing_is_announced_once_finalized_or_without_a_charge_ahead() -> None:
    soon = NOW + 2 * DAY
    assert notice(draft(status="open", automatically_finalizes_at=soon)) is None
    assert notice(draft(automatically_finalizes_at=soon), now=soon) is None  # its moment came
    assert notice(draft(auto_advance=False, automatically_finalizes_at=soon)) is None
    assert notice(draft(automatically_finalizes_at=None)) is None
    assert notice(draft(collection_method="send_invoice", automatically_finalizes_at=soon)) is None
    assert notice(draft(amount_due=0, automatically_finalizes_at=soon)) is None  # credit covers it
    assert notice(draft(automatically_finalizes_at=soon), lead=timedelta(0)) is None


def test_debits_are_left_to_stripes_notice_while_the_company_keeps_it_on() -> None:
    soon = draft(automatically_finalizes_at=NOW + 2 * DAY)
    assert notice(soon, SEPA) is None
    assert notice(soon, SEPA, stripe_announces_debits=False) is not None
    assert notice(soon, CARD) is not None  # Stripe announces no card charge
    # Without a saved method the e-mail asks for one: Stripe has nothing to announce.
    assert notice(soon, None) == ChargeNotice("in_1", 5000, "eur", NOW + 2 * DAY, None)
