"""Whether an ID token shows the new sign-in the portal asked the provider for."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

import pytest

from portal.staff.oidc import CLOCK_SKEW, signed_in_anew

ASKED = datetime(2026, 12, 1, 9, 0, tzinfo=UTC)
NOW = ASKED + timedelta(minutes=2)  # the person took two minutes at the provider's login


def _anew(auth_time: object, max_age: int = 0) -> bool:
    return signed_in_anew({"auth_time": auth_time}, asked_at=ASKED, now=NOW, max_age=max_age)


def test_a_sign_in_after_the_request_is_new() -> None:
    assert _anew(int(ASKED.timestamp()) + 90)


def test_a_sign_in_just_within_the_clock_skew_before_the_request_is_new() -> None:
    assert _anew(int(ASKED.timestamp()) - CLOCK_SKEW)


def test_a_sign_in_beyond_the_clock_skew_before_the_request_is_not() -> None:
    assert not _anew(int(ASKED.timestamp()) - CLOCK_SKEW - 1)


def test_max_age_allows_that_much_more() -> None:
    earlier = int(ASKED.timestamp()) - CLOCK_SKEW - 300
    assert _anew(earlier, max_age=300)
    assert not _anew(earlier - 1, max_age=300)


def test_a_sign_in_later_than_now_beyond_the_clock_skew_is_not() -> None:
    assert _anew(int(NOW.timestamp()) + CLOCK_SKEW)
    assert not _anew(int(NOW.timestamp()) + CLOCK_SKEW + 1)


@pytest.mark.parametrize("value", [None, "1764579600", True])
def test_without_a_numeric_auth_time_nothing_shows_a_new_sign_in(value: object) -> None:
    assert not _anew(value)


def test_a_token_without_the_claim_is_not_new() -> None:
    assert not signed_in_anew({}, asked_at=ASKED, now=NOW, max_age=0)
