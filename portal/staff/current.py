"""The staff member on this request, and whom they are viewing the portal as.

A staff session is re-checked against the staff rule on every request (settings may have been
narrowed since sign-in); one that no longer passes ends, impersonation included. Every customer
page viewed while impersonating is written to the audit trail (`view`), and so is every action
the permission check refuses (see `portal.errors`).
"""

from __future__ import annotations

from datetime import UTC, datetime

from starlette.requests import Request

from portal.cookies import read_cookie
from portal.services import services
from portal.staff import audit, sessions
from portal.staff.rules import is_staff
from portal.staff.sessions import StaffMember, StaffSession

# The demo's staff sign-in (portal demo only): no identity provider behind it.
DEMO_ISSUER = "demo"


class ImpersonationOver(Exception):
    """The 30 minutes are up (or the staff session ended): back to the staff page."""


def allowed(request: Request, member: StaffMember) -> bool:
    svc = services(request)
    if member.issuer == DEMO_ISSUER:
        return svc.demo
    return is_staff(member.claims(svc.settings.staff_groups_claim), svc.settings)


async def staff_session(request: Request) -> StaffSession | None:
    cached = request.scope.get("portal.staff", False)
    if cached is not False:
        return cached  # type: ignore[no-any-return]
    svc = services(request)
    raw = read_cookie(request, svc.settings, "staff")
    now = datetime.now(UTC)
    found = await sessions.load(svc.engine, raw, now) if raw else None
    if found is not None and not allowed(request, found.member):
        await audit.record(
            svc.engine,
            request,
            found.member,
            "staff_rule_failed",
            now=now,
            customer_id=found.impersonation.customer_id if found.impersonation else None,
            outcome="refused",
        )
        await sessions.end(svc.engine, raw or "")
        found = None
    request.scope["portal.staff"] = found
    return found


async def end_view(request: Request, staff: StaffSession, outcome: str) -> None:
    """End the staff member's view as a customer, on the record (`outcome` says why)."""
    if staff.impersonation is None:
        return
    svc = services(request)
    await sessions.end_impersonation(svc.engine, staff)
    await audit.record(
        svc.engine,
        request,
        staff.member,
        "impersonation_end",
        now=datetime.now(UTC),
        customer_id=staff.impersonation.customer_id,
        outcome=outcome,
    )


async def impersonating(request: Request) -> StaffSession | None:
    """The staff session viewing as a customer on this request, if any.

    Raises ImpersonationOver when its time is up (ending it, on the record).
    """
    if request.scope.get("portal.impersonation") is not None:
        return request.scope["portal.impersonation"]  # type: ignore[no-any-return]
    staff = await staff_session(request)
    if staff is None or staff.impersonation is None:
        return None
    svc = services(request)
    now = datetime.now(UTC)
    if staff.impersonation.ends_at <= now:
        await end_view(request, staff, "expired")
        raise ImpersonationOver()
    request.scope["portal.impersonation"] = staff
    if request.method in ("GET", "HEAD"):  # actions are recorded with their outcome instead
        await audit.record(
            svc.engine,
            request,
            staff.member,
            "view",
            now=now,
            customer_id=staff.impersonation.customer_id,
            target=request.url.path,
            outcome="allowed",
        )
    return staff
