"""Staff search: hidden characters are refused next to the field instead of searched for (a NUL
would reach the audit trail, which PostgreSQL refuses); the totals are the customer's own."""

from __future__ import annotations

import re
import uuid

from sqlalchemy import select

from portal import i18n
from portal.storage.tables import audit_log
from portal.text import hidden_characters_message
from tests.functional.billing.billing_support import signed_in
from tests.functional.staff.staff_support import StaffSetup


def test_a_search_with_a_nul_is_explained_and_not_recorded(staff: StaffSetup) -> None:
    browser = staff.sign_in()
    with staff.portal.db.connect() as conn:
        before = len(conn.execute(select(audit_log.c.id)).all())
    page = browser.get("/staff", params={"q": "kunde\x00@example.de"})
    assert page.status_code == 200
    with i18n.use_locale("en"):
        assert hidden_characters_message() in page.text
    assert 'aria-invalid="true"' in page.text
    with staff.portal.db.connect() as conn:
        searches = conn.execute(
            select(audit_log.c.action).where(audit_log.c.action == "search")
        ).all()
        after = len(conn.execute(select(audit_log.c.id)).all())
    assert after - before <= 1  # at most the page view, never a search
    assert not searches


def test_support_sees_the_total_the_customer_sees(staff: StaffSetup) -> None:
    # A written-off (uncollectible) invoice is still payable and counts for both.
    portal = staff.portal
    email = f"kunde-{uuid.uuid4().hex[:8]}@example.de"
    customer = portal.customer(email=email)
    portal.invoice(customer, amount=10000)
    written_off = portal.invoice(customer, amount=2550)
    portal.sdk.v1.invoices.mark_uncollectible(written_off.id)
    browser = staff.sign_in()
    page = browser.get("/staff", params={"q": email})
    assert re.search(r"125[.,]50", page.text), "support's total leaves out the written-off invoice"
    own = signed_in(portal, email).get("/")
    assert re.search(r"125[.,]50", own.text)
