"""Staff sign-in against a real OpenID Connect provider (oidc-provider on loopback)."""

from __future__ import annotations

import time

import httpx
import pytest

from portal import i18n
from tests.functional.portal_support import text_of
from tests.functional.staff.staff_support import StaffSetup


def test_staff_sign_in_and_out(staff: StaffSetup) -> None:
    browser = staff.sign_in("anna")
    page = browser.get("/staff")
    assert page.status_code == 200
    assert 'name="q"' in page.text  # the customer search
    assert ("staff_sign_in", None, "ok", "anna@example.com") in staff.audit("staff_sign_in")
    browser.post("/staff/sign-out")
    assert 'name="q"' not in browser.get("/staff").text
    assert staff.audit("staff_sign_out")


def test_someone_outside_the_allow_list_is_not_authorized(staff: StaffSetup) -> None:
    browser = staff.portal.browser()
    authorize = staff.start(browser)
    page = browser.get(staff.at_provider(authorize, "mallory"))
    assert page.status_code == 403
    assert "mallory@other.example" in text_of(page)
    assert 'name="q"' not in browser.get("/staff").text
    assert ("staff_sign_in", None, "refused", "mallory@other.example") in staff.audit()


def test_an_id_token_for_another_audience_signs_nobody_in(staff: StaffSetup) -> None:
    browser = staff.portal.browser()
    authorize = staff.start(browser)
    staff.provider.fault(aud="someone-else")
    assert browser.get(staff.at_provider(authorize, "anna")).status_code == 400
    assert 'name="q"' not in browser.get("/staff").text


def test_an_id_token_with_another_nonce_signs_nobody_in(staff: StaffSetup) -> None:
    browser = staff.portal.browser()
    authorize = staff.start(browser)
    staff.provider.fault(nonce="replayed")
    assert browser.get(staff.at_provider(authorize, "anna")).status_code == 400
    assert 'name="q"' not in browser.get("/staff").text


def test_a_callback_in_another_browser_or_twice_signs_nobody_in(staff: StaffSetup) -> None:
    browser = staff.portal.browser()
    authorize = staff.start(browser)
    back = staff.at_provider(authorize, "anna")
    other = staff.portal.browser()
    assert other.get(back).status_code == 400  # login CSRF: not the browser that started it
    assert browser.get(back).status_code == 303  # the one that did
    assert browser.get(back).status_code == 400  # once


def test_the_demo_sign_in_does_not_exist_outside_the_demo(staff: StaffSetup) -> None:
    browser = staff.portal.browser()
    page = browser.get("/staff")
    assert "demo-sign-in" not in page.text
    assert browser.post("/staff/demo-sign-in").status_code in (404, 405)


def test_a_stale_sign_in_is_refreshed_before_viewing_as_a_customer(staff: StaffSetup) -> None:
    customer = staff.portal.customer(name="Frische GmbH")
    staff.provider.fault(auth_time=int(time.time()) - 3600)  # signed in an hour ago
    browser = staff.sign_in("anna")
    # Back to the provider first.
    location = staff.to_provider(browser.post("/staff/view-as", {"customer_id": customer}))
    assert "max_age=0" in location
    assert "prompt=login" in location
    assert (
        not staff.audit("impersonation_start")[-1:]
        or staff.audit("impersonation_start")[-1][1] != customer
    )
    time.sleep(1.1)  # the provider's auth_time is in whole seconds
    viewing = browser.get(staff.at_provider(location, "anna"))
    assert viewing.status_code == 303
    assert staff.audit("impersonation_start")[-1][1] == customer
    assert "Frische GmbH" in text_of(browser.get("/"))


def _refused_as_not_new(staff: StaffSetup, page: httpx.Response, customer: str) -> None:
    assert page.status_code == 403
    with i18n.use_locale("en"):
        assert i18n.gettext("A new sign-in is needed") in text_of(page)
    assert staff.audit("reauthentication")[-1] == (
        "reauthentication",
        customer,
        "refused",
        "anna@example.com",
    )
    assert customer not in [row[1] for row in staff.audit("impersonation_start")]


@pytest.mark.parametrize("auth_time", [-3600, -61, None], ids=["hour", "minute", "none"])
def test_a_new_sign_in_answered_with_an_old_one_opens_no_view(
    staff: StaffSetup, auth_time: int | None
) -> None:
    """Asked for a new sign-in (max_age=0), the provider's ID token says the last one was
    earlier than the request (beyond a minute's clock skew), or does not say when."""
    customer = staff.portal.customer(name="Veraltet GmbH")
    staff.provider.fault(auth_time=int(time.time()) - 3600)
    browser = staff.sign_in("anna")
    location = staff.to_provider(browser.post("/staff/view-as", {"customer_id": customer}))
    asked = int(time.time())
    staff.provider.fault(auth_time=None if auth_time is None else asked + auth_time)
    page = browser.get(staff.at_provider(location, "anna"))
    _refused_as_not_new(staff, page, customer)
    assert browser.get("/").status_code == 303  # no view: the customer pages want a sign-in
    assert 'name="q"' in browser.get("/staff").text  # still signed in as staff, as before


def test_a_provider_ignoring_the_request_for_a_new_sign_in_opens_no_view(
    staff: StaffSetup,
) -> None:
    """A provider that ignores `max_age` and `prompt=login` answers from the session it has:
    a second sign-in there shows no login form and brings the first one's auth_time."""
    customer = staff.portal.customer(name="Nachlässig AG")
    provider = staff.provider
    with httpx.Client() as at_provider:  # the staff member's browser, at the provider
        first = staff.portal.browser()
        back = provider.log_in(at_provider, staff.start(first), "anna")
        assert first.get(back.removeprefix(staff.portal.url)).status_code == 303
        provider.age_sessions(20 * 60)  # that sign-in was 20 minutes ago
        provider.honour_reauthentication(False)
        try:
            browser = staff.portal.browser()
            back = provider.log_in(at_provider, staff.start(browser), "anna")
            assert browser.get(back.removeprefix(staff.portal.url)).status_code == 303
            answer = browser.post("/staff/view-as", {"customer_id": customer})
            location = staff.to_provider(answer)
            assert "max_age=0" in location
            back = provider.log_in(at_provider, location, "anna")
        finally:
            provider.honour_reauthentication(True)
            provider.age_sessions(0)
    _refused_as_not_new(staff, browser.get(back.removeprefix(staff.portal.url)), customer)


def test_staff_sessions_end_after_15_idle_minutes(staff: StaffSetup) -> None:
    from datetime import UTC, datetime, timedelta

    from sqlalchemy import update

    from portal.storage.tables import staff_sessions

    browser = staff.sign_in("anna")
    assert 'name="q"' in browser.get("/staff").text
    with staff.portal.db.begin() as conn:
        conn.execute(
            update(staff_sessions)
            .where(staff_sessions.c.email == "anna@example.com")
            .values(last_seen_at=datetime.now(UTC) - timedelta(minutes=16))
        )
    assert 'name="q"' not in browser.get("/staff").text
