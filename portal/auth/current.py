"""Who is signed in on this request."""

from __future__ import annotations

from datetime import UTC, datetime

from starlette.requests import Request

from portal import i18n
from portal.auth import sessions
from portal.auth.sessions import CustomerSession
from portal.cookies import read_cookie
from portal.permissions import Principal
from portal.services import services


class SignInRequired(Exception):
    """No live session: the visitor is sent to the sign-in page (and back afterwards)."""


async def customer_session(request: Request) -> CustomerSession | None:
    cached = request.scope.get("portal.session", False)
    if cached is not False:
        return cached  # type: ignore[no-any-return]
    svc = services(request)
    raw = read_cookie(request, svc.settings, "session")
    session = await sessions.load(svc.engine, raw, datetime.now(UTC)) if raw else None
    request.scope["portal.session"] = session
    return session


async def principal(request: Request) -> Principal:
    session = await customer_session(request)
    if session is None:
        raise SignInRequired()
    # Language: the visitor's explicit choice, else the customer's own in Stripe, else the
    # browser's (already applied by LocaleMiddleware).
    if not request.scope.get("portal.locale_chosen"):
        preferred = i18n.first_supported(session.account.locales)
        if preferred:
            i18n.set_locale(preferred)
    return Principal(
        customer_id=session.customer_id, customer_ids=session.customer_ids, email=session.email
    )
