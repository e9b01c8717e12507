"""The audit trail: what staff did, when, as whom, from where. Append-only: this module only
inserts and reads (a test checks that nothing in the portal updates or deletes these rows).

Nothing secret goes in: no tokens, codes, cookies or card data; targets are ids and paths.
"""

from __future__ import annotations

import csv
import io
from collections.abc import Sequence
from dataclasses import dataclass
from datetime import datetime

from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncEngine
from starlette.requests import Request

from portal.i18n import _
from portal.identity.staff_sessions import StaffMember
from portal.storage.database import transaction
from portal.storage.tables import audit_log

Outcome = str  # "ok", "allowed", "refused", "expired", "signed_out", "customer_signed_in"


def action_label(code: str) -> str:
    """The audit page's words for an action (the CSV keeps the codes, for tools)."""
    labels = {
        "staff_sign_in": _("Staff sign-in"),
        "staff_sign_out": _("Staff sign-out"),
        "staff_rule_failed": _("No longer staff"),
        "search": _("Customer search"),
        "impersonation_start": _("Customer view started"),
        "impersonation_end": _("Customer view ended"),
        "view": _("Page viewed"),
        "choose_language": _("Language switched"),
        "send_sign_in_email": _("Sign-in e-mail sent"),
        "reauthentication": _("New sign-in to view as a customer"),
        "customer_link_in_staff_browser": _("Customer's sign-in link opened in support's browser"),
        "audit_read": _("Audit trail read"),
        "pay": _("Payment"),
        "manage_payment_methods": _("Payment method change"),
        "edit_billing_details": _("Billing details change"),
        "set_stripe_language": _("Language change in Stripe"),
    }
    return labels.get(code, code)


def outcome_label(code: str) -> str:
    labels = {
        "ok": _("Done"),
        "allowed": _("Allowed"),
        "refused": _("Refused"),
        "expired": _("Time was up"),
        "signed_out": _("Staff signed out"),
        "customer_signed_in": _("A customer signed in in that browser"),
    }
    return labels.get(code, code)


@dataclass(frozen=True)
class Entry:
    at: datetime
    staff_email: str
    staff_issuer: str
    staff_subject: str
    customer_id: str | None
    action: str
    target: str | None
    outcome: str
    client_ip: str | None
    user_agent: str | None


def client_ip(request: Request) -> str | None:
    return request.client.host if request.client else None


async def record(
    engine: AsyncEngine,
    request: Request,
    member: StaffMember,
    action: str,
    *,
    now: datetime,
    customer_id: str | None = None,
    target: str | None = None,
    outcome: Outcome = "ok",
) -> None:
    async with transaction(engine) as conn:
        await conn.execute(
            audit_log.insert().values(
                at=now,
                staff_issuer=member.issuer,
                staff_subject=member.subject,
                staff_email=member.email,
                customer_id=customer_id,
                action=action,
                target=(target or "")[:512] or None,
                outcome=outcome,
                client_ip=client_ip(request),
                user_agent=(request.headers.get("user-agent") or "")[:512] or None,
            )
        )


async def entries(
    engine: AsyncEngine,
    *,
    staff_email: str | None = None,
    customer_id: str | None = None,
    actions: Sequence[str] | None = None,
    since: datetime | None = None,
    until: datetime | None = None,
    limit: int = 500,
) -> list[Entry]:
    """Newest first."""
    query = select(audit_log).order_by(audit_log.c.at.desc(), audit_log.c.id.desc()).limit(limit)
    if staff_email:
        query = query.where(audit_log.c.staff_email == staff_email.lower())
    if customer_id:
        query = query.where(audit_log.c.customer_id == customer_id)
    if actions:
        query = query.where(audit_log.c.action.in_(tuple(actions)))
    if since:
        query = query.where(audit_log.c.at >= since)
    if until:
        query = query.where(audit_log.c.at < until)
    async with engine.connect() as conn:
        rows = (await conn.execute(query)).all()
    return [
        Entry(
            r.at,
            r.staff_email,
            r.staff_issuer,
            r.staff_subject,
            r.customer_id,
            r.action,
            r.target,
            r.outcome,
            r.client_ip,
            r.user_agent,
        )
        for r in rows
    ]


CSV_COLUMNS = (
    "at",
    "staff_email",
    "staff_issuer",
    "staff_subject",
    "customer_id",
    "action",
    "target",
    "outcome",
    "client_ip",
    "user_agent",
)


def as_csv(found: Sequence[Entry]) -> str:
    out = io.StringIO()
    writer = csv.writer(out)
    writer.writerow(CSV_COLUMNS)
    for e in found:
        row = [getattr(e, c) for c in CSV_COLUMNS]
        row[0] = e.at.isoformat()
        # A cell starting with = + - @ is a formula in spreadsheets: neutralize it.
        writer.writerow(
            [f"'{v}" if isinstance(v, str) and v[:1] in ("=", "+", "-", "@") else v for v in row]
        )
    return out.getvalue()
