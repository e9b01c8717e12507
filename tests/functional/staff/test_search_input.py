"""Staff search refuses hidden characters next to the field instead of searching with them
(a NUL would reach the audit trail, which PostgreSQL refuses)."""

from __future__ import annotations

from sqlalchemy import select

from portal import i18n
from portal.storage.tables import audit_log
from portal.text import hidden_characters_message
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
