"""The undo rule of e-mail change chains (`email_change.undo_plan`), without a server: the owner's
first link wins over anything an intruder's later link can do."""

from __future__ import annotations

from dataclasses import replace
from datetime import UTC, datetime, timedelta

from portal.account.email_change import ConfirmedChange, Refused, Undoable, undo_plan

NOW = datetime(2026, 12, 6, 12, 0, tzinfo=UTC)
LATER = NOW + timedelta(days=3)


def change(n: int, old: str, new: str) -> ConfirmedChange:
    return ConfirmedChange(
        token_hash=f"change-{n}",
        customer_id="cus_1",
        old_email=old,
        new_email=new,
        undo_hash=f"undo-{n}",
        undo_expires_at=NOW + timedelta(days=7),
        undone_by=None,
        chain="change-1",
    )


OWNER, FIRST, SECOND = "sanne@example.nl", "attacker1@example.com", "attacker2@example.com"
C1, C2 = change(1, OWNER, FIRST), change(2, FIRST, SECOND)


def voided(c: ConfirmedChange, by: ConfirmedChange) -> ConfirmedChange:
    return replace(c, undone_by=by.undo_hash)


def test_the_first_link_restores_the_owners_address_and_voids_every_later_change() -> None:
    plan = undo_plan(C1, [C1, C2], SECOND, NOW)
    assert plan == Undoable(
        customer_id="cus_1",
        old_email=OWNER,
        new_email=FIRST,
        current_email=SECOND,
        undo_hash="undo-1",
        voids=("change-1", "change-2"),
    )


def test_a_later_link_voided_by_the_first_is_refused_and_the_owner_told() -> None:
    chain = [voided(C1, C1), voided(C2, C1)]
    plan = undo_plan(chain[1], chain, OWNER, NOW)
    assert plan == Refused("voided", "cus_1", FIRST, OWNER, "undo-2")
    assert plan.tell


def test_a_later_link_used_first_restores_only_its_own_change() -> None:
    plan = undo_plan(C2, [C1, C2], SECOND, NOW)
    assert isinstance(plan, Undoable)
    assert (plan.old_email, plan.voids) == (FIRST, ("change-2",))


def test_the_first_link_still_works_after_a_later_one_was_used() -> None:
    chain = [C1, voided(C2, C2)]
    plan = undo_plan(C1, chain, FIRST, LATER)
    assert isinstance(plan, Undoable)
    assert (plan.old_email, plan.current_email, plan.voids) == (OWNER, FIRST, ("change-1",))


def test_a_link_is_refused_once_the_address_was_changed_elsewhere() -> None:
    plan = undo_plan(C1, [C1], "company-set@example.nl", NOW)
    assert plan == Refused("moved", "cus_1", OWNER, "company-set@example.nl", "undo-1")
    assert plan.tell


def test_an_earlier_link_no_longer_works_when_its_address_was_not_the_last() -> None:
    """C1 put FIRST; C2 moved on to SECOND; Stripe has FIRST again although C2 stands (the
    Dashboard, say): that is not where the chain put it, so nothing is done."""
    plan = undo_plan(C1, [C1, C2], FIRST, NOW)
    assert isinstance(plan, Refused)
    assert plan.reason == "moved"


def test_an_undo_that_stopped_after_setting_stripe_is_recorded_on_the_next_try() -> None:
    plan = undo_plan(C1, [C1, C2], OWNER, NOW)
    assert isinstance(plan, Undoable)
    assert plan.voids == ("change-1", "change-2")


def test_a_used_link_is_refused_without_telling_anyone() -> None:
    chain = [voided(C1, C1)]
    plan = undo_plan(chain[0], chain, OWNER, NOW)
    assert plan == Refused("used", "cus_1")
    assert not plan.tell


def test_an_expired_link_is_refused_without_telling_anyone() -> None:
    plan = undo_plan(C1, [C1], FIRST, NOW + timedelta(days=8))
    assert plan == Refused("expired", "cus_1")
    assert not plan.tell


def test_an_unknown_link_is_refused() -> None:
    assert undo_plan(None, [], None, NOW) == Refused("unknown")


def test_addresses_compare_without_case() -> None:
    plan = undo_plan(C1, [C1], FIRST.upper(), NOW)
    assert isinstance(plan, Undoable)
