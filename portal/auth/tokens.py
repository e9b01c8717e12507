"""Sign-in links and codes: issued, stored as hashes, redeemed at most once.

A link carries 256 random bits; a code is 8 characters from a 31-letter alphabet (about 40 bits)
and is only ever tried against one token, which locks after `MAX_CODE_ATTEMPTS` wrong tries.
Links are stored as SHA-256 (they are unguessable, so a plain hash suffices); codes are short, so
they are stored as an HMAC under the secret key, which a copy of the database alone cannot
brute-force. Redemption is one UPDATE that names `consumed_at IS NULL`: of two concurrent
confirmations exactly one changes the row, and only that one signs in.

A link works without its code in the browser that asked for it. A link support sent is bound
to no browser (the code is needed wherever it is opened) and never works in support's browser:
the one it was sent from, or any with a staff sign-in, so that opening the customer's e-mail
there (a shared mailbox) never makes support the customer.
"""

from __future__ import annotations

import json
import secrets
from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Any, Literal

from sqlalchemy import Row, delete, select, update
from sqlalchemy.ext.asyncio import AsyncConnection, AsyncEngine

from portal.signing import Purpose, digest, mac, same
from portal.storage.database import transaction
from portal.storage.tables import login_tokens

TTL = timedelta(minutes=10)
MAX_CODE_ATTEMPTS = 5
CODE_ALPHABET = "ABCDEFGHJKLMNPQRSTUVWXYZ23456789"  # no 0/O, 1/I: read off a phone, typed on a PC
CODE_LENGTH = 8

Refusal = Literal[
    "invalid", "expired", "used", "locked", "wrong_code", "needs_code", "staff_browser"
]


@dataclass(frozen=True)
class IssuedToken:
    id: int
    link_token: str
    code: str
    expires_at: datetime


@dataclass(frozen=True)
class Redemption:
    """The outcome of a redemption: `email` and `customer_ids` when it succeeded (and the
    customers of a link refused in support's browser, for the record)."""

    refusal: Refusal | None
    email: str = ""
    customer_ids: tuple[str, ...] = ()
    locale: str = "en"
    attempts_left: int = 0

    @property
    def ok(self) -> bool:
        return self.refusal is None


def normalize_code(code: str) -> str:
    return "".join(ch for ch in code.upper() if ch.isalnum())


def format_code(code: str) -> str:
    """`ABCD2345` as `ABCD-2345`, easier to read aloud and type."""
    return f"{code[:4]}-{code[4:]}"


def _code_hash(secret: str, link_hash: str, code: str) -> str:
    # Bound to its link: the same code typed for another sign-in request is wrong.
    return mac(secret, Purpose.SIGN_IN_CODE, f"{link_hash}:{normalize_code(code)}")


async def issue(
    conn: AsyncConnection,
    *,
    secret: str,
    email: str,
    customer_ids: tuple[str, ...],
    browser_id: str,
    locale: str,
    now: datetime,
    sent_by_staff: bool = False,
) -> IssuedToken:
    """A new link and code for `email`; every earlier one still open for it stops working.

    The link is bound to `browser_id`, the browser that asked; one support sent
    (`sent_by_staff`) to none, and `browser_id`, the sending browser, is refused."""
    email = email.lower()
    await conn.execute(
        update(login_tokens)
        .where(login_tokens.c.email == email, login_tokens.c.consumed_at.is_(None))
        .values(consumed_at=now)
    )
    link_token = secrets.token_urlsafe(32)
    code = "".join(secrets.choice(CODE_ALPHABET) for _ in range(CODE_LENGTH))
    link_hash = digest(link_token)
    result = await conn.execute(
        login_tokens.insert()
        .values(
            email=email,
            link_hash=link_hash,
            code_hash=_code_hash(secret, link_hash, code),
            browser_hash=None if sent_by_staff else digest(browser_id),
            staff_browser_hash=digest(browser_id) if sent_by_staff else None,
            customer_ids=json.dumps(list(customer_ids)),
            locale=locale,
            created_at=now,
            expires_at=now + TTL,
        )
        .returning(login_tokens.c.id)
    )
    return IssuedToken(result.scalar_one(), link_token, code, now + TTL)


async def redeem_link(
    conn: AsyncConnection,
    *,
    secret: str,
    link_token: str,
    browser_id: str,
    in_staff_browser: bool,
    code: str | None,
    now: datetime,
) -> Redemption:
    """Redeem a link: in the browser that asked for it as is, in any other only with the code,
    in support's never (`in_staff_browser`: this browser has a staff sign-in)."""
    row = await _by_link(conn, link_token)
    if row is None:
        return Redemption("invalid")
    if _support_browser(row, browser_id, in_staff_browser):
        return Redemption(
            _refusal(row, now) or "staff_browser",
            customer_ids=tuple(json.loads(row.customer_ids)),
        )
    same_browser = _bound_to(row, browser_id)
    if not same_browser and code is None:
        refused = _refusal(row, now)
        return Redemption(refused or "needs_code", attempts_left=_left(row.failed_attempts))
    return await _redeem(conn, row, secret=secret, code=None if same_browser else code, now=now)


async def redeem_code(
    conn: AsyncConnection, *, secret: str, browser_id: str, code: str, now: datetime
) -> Redemption:
    """Redeem the code typed into the browser that asked for it (its newest request counts)."""
    row = (
        await conn.execute(
            select(login_tokens)
            .where(login_tokens.c.browser_hash == digest(browser_id))
            .order_by(login_tokens.c.id.desc())
            .limit(1)
        )
    ).one_or_none()
    if row is None:
        return Redemption("invalid")
    return await _redeem(conn, row, secret=secret, code=code, now=now)


def _bound_to(row: Row[Any], browser_id: str) -> bool:
    """Whether the link was asked for in this browser (one support sent is bound to none)."""
    return row.browser_hash is not None and same(row.browser_hash, digest(browser_id))


def _support_browser(row: Row[Any], browser_id: str, in_staff_browser: bool) -> bool:
    """Whether this is a link support sent, opened in support's browser: the one that sent it,
    or one with a staff sign-in."""
    if row.staff_browser_hash is None:
        return False
    return in_staff_browser or same(row.staff_browser_hash, digest(browser_id))


def _left(failed: int) -> int:
    return max(0, MAX_CODE_ATTEMPTS - failed)


def _refusal(row: Row[Any], now: datetime) -> Refusal | None:
    if row.consumed_at is not None:
        return "used"
    if row.failed_attempts >= MAX_CODE_ATTEMPTS:
        return "locked"
    if row.expires_at <= now:
        return "expired"
    return None


async def _redeem(
    conn: AsyncConnection, row: Row[Any], *, secret: str, code: str | None, now: datetime
) -> Redemption:
    refused = _refusal(row, now)
    if refused:
        return Redemption(refused)
    token_id = row.id
    if code is not None:
        expected = _code_hash(secret, row.link_hash, code)
        if not same(expected, row.code_hash):
            # Counted and locked in one conditional update: tries sent at the same moment all
            # read the row before any of them counted, and the database alone orders them.
            failed = (
                await conn.execute(
                    update(login_tokens)
                    .where(
                        login_tokens.c.id == token_id,
                        login_tokens.c.failed_attempts < MAX_CODE_ATTEMPTS,
                    )
                    .values(failed_attempts=login_tokens.c.failed_attempts + 1)
                    .returning(login_tokens.c.failed_attempts)
                )
            ).scalar_one_or_none()
            if failed is None:  # another try took the last attempt meanwhile
                return Redemption("locked", attempts_left=0)
            left = _left(failed)
            return Redemption("wrong_code" if left else "locked", attempts_left=left)
    consumed = await conn.execute(
        update(login_tokens)
        .where(
            login_tokens.c.id == token_id,
            login_tokens.c.consumed_at.is_(None),
            login_tokens.c.expires_at > now,
            login_tokens.c.failed_attempts < MAX_CODE_ATTEMPTS,
        )
        .values(consumed_at=now)
    )
    if consumed.rowcount != 1:
        return Redemption("used")
    return Redemption(
        None,
        email=row.email,
        customer_ids=tuple(json.loads(row.customer_ids)),
        locale=row.locale,
    )


async def _by_link(conn: AsyncConnection, link_token: str) -> Row[Any] | None:
    found = await conn.execute(
        select(login_tokens).where(login_tokens.c.link_hash == digest(link_token))
    )
    return found.one_or_none()


async def peek_link(
    conn: AsyncConnection,
    *,
    link_token: str,
    browser_id: str,
    in_staff_browser: bool,
    now: datetime,
) -> Redemption:
    """What redeeming this link would meet, without redeeming it (for the confirmation page)."""
    row = await _by_link(conn, link_token)
    if row is None:
        return Redemption("invalid")
    refused = _refusal(row, now)
    if refused:
        return Redemption(refused)
    if _support_browser(row, browser_id, in_staff_browser):
        return Redemption("staff_browser", customer_ids=tuple(json.loads(row.customer_ids)))
    if not _bound_to(row, browser_id):
        return Redemption("needs_code", email=row.email, attempts_left=_left(row.failed_attempts))
    return Redemption(None, email=row.email)


@dataclass(frozen=True)
class SignInRequest:
    email: str
    expires_at: datetime
    consumed: bool


async def latest_request(conn: AsyncConnection, *, browser_id: str) -> SignInRequest | None:
    """The newest sign-in request made from this browser, if any."""
    row = (
        await conn.execute(
            select(login_tokens.c.email, login_tokens.c.expires_at, login_tokens.c.consumed_at)
            .where(login_tokens.c.browser_hash == digest(browser_id))
            .order_by(login_tokens.c.id.desc())
            .limit(1)
        )
    ).one_or_none()
    if row is None:
        return None
    return SignInRequest(row.email, row.expires_at, row.consumed_at is not None)


# Spent and expired tokens are kept a day: "this link has expired" beats "unknown link" for a
# customer who opens yesterday's e-mail.
KEPT_AFTER_EXPIRY = timedelta(days=1)


async def purge(engine: AsyncEngine, now: datetime) -> None:
    async with transaction(engine) as conn:
        await conn.execute(
            delete(login_tokens).where(login_tokens.c.expires_at < now - KEPT_AFTER_EXPIRY)
        )
