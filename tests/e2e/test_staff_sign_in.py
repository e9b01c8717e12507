"""Staff sign-in in a real browser: the sign-in form's answer is the portal's own page, which
goes on to the identity provider (oidc-provider on loopback, an origin of its own), so the CSP's
`form-action 'self'` holds without naming the provider."""

from __future__ import annotations

import re
from collections.abc import Iterator
from pathlib import Path

import pytest
from playwright.sync_api import expect

from tests.e2e.support import NewPage, assert_no_console_errors, assert_no_violations
from tests.functional.staff.staff_support import StaffSetup, staff_portal


@pytest.fixture
def staff(tmp_path: Path, sandbox_url: str) -> Iterator[StaffSetup]:
    with staff_portal(tmp_path, sandbox_url) as found:
        yield found


def test_staff_sign_in_through_the_company_provider(staff: StaffSetup, new_page: NewPage) -> None:
    page = new_page(locale="en", base_url=staff.portal.url)
    page.goto("/staff")
    page.locator('form[action$="/staff/sign-in"] button').click()
    login = page.locator('input[name="login"]')
    expect(login).to_be_visible()
    assert page.url.startswith(staff.provider.issuer)
    login.fill("anna")
    page.locator('input[name="password"]').fill("any password will do")
    page.locator('button[type="submit"]').first.click()
    search = page.locator('input[name="q"]')
    consent = page.locator('button[type="submit"]')
    expect(search.or_(consent).first).to_be_visible()
    if not search.is_visible():  # the provider asks for consent once
        consent.first.click()
    expect(search).to_be_visible()
    expect(page).to_have_url(re.compile(re.escape(staff.portal.url) + r"/staff"))
    assert_no_console_errors(page)
    # The audit trail, with a long target on record, fits the desktop width.
    page.goto("/staff?q=" + "x" * 150)
    page.goto("/staff/audit")
    expect(page.locator("table.table--audit")).to_be_visible()
    assert page.evaluate("document.documentElement.scrollWidth <= window.innerWidth")
    assert_no_violations(page)
