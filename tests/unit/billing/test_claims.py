from __future__ import annotations

from datetime import timedelta

from portal.billing.claims import lease


def test_the_lease_outlasts_every_request_a_charge_makes() -> None:
    # Four requests, each tried three times for up to 10 s, with the SDK's backoff between.
    assert lease(10, 2) >= timedelta(seconds=4 * (3 * 10 + 2 * 2))
    assert lease(10, 2) <= timedelta(minutes=5)  # a stopped process frees the invoice soon


def test_a_longer_timeout_or_more_retries_lengthen_the_lease() -> None:
    assert lease(30, 2) > lease(10, 2)
    assert lease(10, 4) > lease(10, 2)
    assert lease(1, 0) >= timedelta(seconds=4)
