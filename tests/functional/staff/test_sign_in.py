"""Staff sign-in against a real OpenID Connect provider (oidc-provider on loopback)."""

from __future__ import annotations

import time

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
