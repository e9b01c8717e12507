"""Who counts as staff, from the identity provider's claims and the deployment's settings.

Checked at every sign-in and again on every staff request's session (the settings may have
changed since): a verified e-mail address in an allowed domain, or membership of an allowed
group or role. Unverified addresses never count: anyone can type any address at some providers.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from portal.settings import Settings


def is_staff(claims: Mapping[str, Any], settings: Settings) -> bool:
    email = str(claims.get("email") or "").lower()
    domain = email.rpartition("@")[2]
    if (
        settings.staff_email_domains
        and claims.get("email_verified") is True
        and domain in settings.staff_email_domains
    ):
        return True
    groups = claims.get(settings.staff_groups_claim) or ()
    if isinstance(groups, str):
        groups = (groups,)
    return bool(settings.staff_groups) and any(
        str(g).lower() in settings.staff_groups for g in groups
    )
