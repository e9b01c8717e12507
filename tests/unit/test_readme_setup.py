"""The README's Stripe set-up lists what the code uses: the key's permissions from the table
`portal doctor` checks, the webhook events from the handler table. Neither can drift."""

from __future__ import annotations

import re
from pathlib import Path

from portal.billing.events import HANDLERS
from portal.stripe.permissions import readme_table

README = (Path(__file__).resolve().parents[2] / "README.md").read_text()


def _between(name: str) -> str:
    found = re.search(rf"<!-- {name}: [^>]*-->\n(.*?)\n<!-- /{name} -->", README, re.S)
    assert found, f"README has no {name} block"
    return found.group(1)


def test_the_readme_lists_the_permissions_doctor_checks() -> None:
    assert _between("permissions") == readme_table()


def test_the_readme_lists_every_event_the_portal_handles() -> None:
    assert re.findall(r"`([a-z_.]+)`", _between("events")) == sorted(HANDLERS)
