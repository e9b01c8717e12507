"""Scheduled finalization's rules (`automatically_finalizes_at`), without a server."""

from __future__ import annotations

import datetime

import pytest

from stripe_sandbox import scheduled
from stripe_sandbox.errors import StripeError

NOW = int(datetime.datetime(2026, 3, 10, 9, 30, tzinfo=datetime.UTC).timestamp())
DAY = 86400


def _at(*when: int) -> int:
    return int(datetime.datetime(*when, tzinfo=datetime.UTC).timestamp())


def test_five_calendar_years_on() -> None:
    assert scheduled.latest_allowed(NOW) == _at(2031, 3, 10, 9, 30)
    # 29 February has no match five years on: the day before March.
    assert scheduled.latest_allowed(_at(2028, 2, 29, 12)) == _at(2033, 2, 28, 12)


@pytest.mark.parametrize(
    ("requested", "auto_advance", "current", "expected"),
    [
        (NOW + DAY, True, None, NOW + DAY),
        (NOW + DAY, True, NOW + 9 * DAY, NOW + DAY),
        (_at(2031, 3, 10, 9, 30), True, None, _at(2031, 3, 10, 9, 30)),
        (None, True, None, NOW + 3600),  # Stripe's default grace period
        (None, True, NOW + 9 * DAY, NOW + 9 * DAY),
        (None, False, NOW + 9 * DAY, None),  # auto_advance off unschedules
        (None, False, None, None),
    ],
)
def test_what_a_draft_reads(
    requested: int | None, auto_advance: bool, current: int | None, expected: int | None
) -> None:
    assert scheduled.finalizes_at(requested, auto_advance, current, NOW) == expected


@pytest.mark.parametrize(
    ("requested", "auto_advance", "words"),
    [
        (NOW + DAY, False, "auto_advance"),
        (NOW, True, "future"),
        (NOW - 1, True, "future"),
        (_at(2031, 3, 10, 9, 30) + 1, True, "5 years"),
    ],
)
def test_refused(requested: int, auto_advance: bool, words: str) -> None:
    with pytest.raises(StripeError) as caught:
        scheduled.finalizes_at(requested, auto_advance, None, NOW)
    assert caught.value.param == scheduled.PARAM
    assert words in caught.value.message
