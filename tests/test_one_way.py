"""One way each, checked over the product's source: absolute links come from PORTAL_BASE_URL
through `Services.link`, e-mails are written by `portal.mail.messages.compose` and queued in
the outbox, forms are checked into `portal.forms.Checked`, reads made at the same time go
through `portal.concurrency.at_once`."""

from __future__ import annotations

import re
from pathlib import Path

PORTAL = Path(__file__).resolve().parents[1] / "portal"


def _sources() -> dict[str, str]:
    return {
        str(p.relative_to(PORTAL)): p.read_text()
        for p in PORTAL.rglob("*.py")
        if "migrations" not in p.parts
    }


def test_absolute_links_are_built_in_one_place() -> None:
    # The Host check's redirect to the canonical address and the CSRF origin check read the
    # base URL for what it is, not to build a link.
    # `portal doctor` compares Stripe's webhook endpoint with the route's address.
    allowed = {"services.py", "settings.py", "security.py", "csrf.py", "doctor.py"}
    building = {
        name
        for name, text in _sources().items()
        if re.search(r"base_url\s*\+|\{[^}]*base_url[^}]*\}", text) or "url_path_for" in text
    }
    assert building - allowed - {"templating.py"} == set()


def test_emails_are_written_one_way() -> None:
    users = {
        name
        for name, text in _sources().items()
        if re.search(r"messages\.(render|build)\(", text) or "EmailMessage()" in text
    }
    assert users <= {"mail/messages.py"}


def test_queued_messages_come_from_compose() -> None:
    composing = {n for n, text in _sources().items() if "messages.compose(" in text}
    assert composing == {"auth/views.py", "account/email_views.py", "billing/mailing.py"}


def test_forms_are_checked_into_one_result_type() -> None:
    checks = {
        "account/addresses.py": "def validate(form: AddressForm) -> Checked[",
        "account/tax_ids.py": "def validate(country: str, kind: str, typed: str) -> Checked[",
        "forms.py": 'def clean_email(raw: str, field: str = "email") -> Checked[',
    }
    sources = _sources()
    for name, signature in checks.items():
        assert signature in sources[name], name


def test_reads_at_the_same_time_go_through_at_once() -> None:
    # `portal.concurrency.at_once` gives what the cache has without tasks; the servers'
    # tasks (serving.py) are not reads.
    gathering = {name for name, text in _sources().items() if "asyncio.gather(" in text}
    assert gathering == {"concurrency.py", "serving.py"}
