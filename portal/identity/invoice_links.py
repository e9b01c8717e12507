"""Signed invoice links: one invoice of one customer, opened from an e-mail without signing in.

The link carries the invoice and customer ids, signed with the portal's secret under a purpose of
its own (so no other signed value of the portal can pass for one) and timestamped. It stays good
while the invoice is to be paid, for 30 days after it was paid or voided (the page then says so
and offers the PDF), and never longer than 18 months. Nothing about it is stored: revoking every
link at once means changing PORTAL_SECRET_KEY.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from typing import Any, Literal

from itsdangerous import BadSignature, SignatureExpired, TimestampSigner, URLSafeTimedSerializer

from portal.signing import Purpose, serializer
from portal.stripe.models import Invoice

MAX_AGE = timedelta(days=548)  # 18 months
AFTER_SETTLED = timedelta(days=30)


@dataclass(frozen=True)
class InvoiceLink:
    invoice_id: str
    customer_id: str
    locale: str | None = None  # the language of the e-mail the link came in


class BadLink(Exception):
    def __init__(self, reason: Literal["invalid", "expired"]) -> None:
        super().__init__(reason)
        self.reason = reason


class _Signer(TimestampSigner):
    """Signs and checks at a given time, so that tests and back-dated links need no patched
    clock."""

    def __init__(self, *args: Any, now: datetime | None = None, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self._now = now

    def get_timestamp(self) -> int:
        return int((self._now or datetime.now(UTC)).timestamp())


def _serializer(secret: str, now: datetime | None) -> URLSafeTimedSerializer:
    return serializer(secret, Purpose.INVOICE_LINK, signer=_Signer, signer_kwargs={"now": now})


def make(
    secret: str,
    invoice_id: str,
    customer_id: str,
    *,
    locale: str | None = None,
    now: datetime | None = None,
) -> str:
    data = {"i": invoice_id, "c": customer_id}
    if locale:
        data["l"] = locale
    return str(_serializer(secret, now).dumps(data))


def read(secret: str, token: str, *, now: datetime | None = None) -> InvoiceLink:
    """The invoice a link names; BadLink when it was tampered with or is older than 18 months."""
    try:
        data = _serializer(secret, now).loads(token, max_age=int(MAX_AGE.total_seconds()))
    except SignatureExpired as exc:
        raise BadLink("expired") from exc
    except BadSignature as exc:
        raise BadLink("invalid") from exc
    if not (
        isinstance(data, dict) and isinstance(data.get("i"), str) and isinstance(data.get("c"), str)
    ):
        raise BadLink("invalid")
    locale = data.get("l")
    return InvoiceLink(data["i"], data["c"], locale if isinstance(locale, str) else None)


def settled_at(invoice: Invoice) -> datetime | None:
    """When the invoice stopped needing payment (paid or voided), if it has."""
    if invoice.status == "paid":
        return invoice.paid_at or invoice.finalized_at or invoice.created
    if invoice.status == "void":
        return invoice.voided_at or invoice.finalized_at or invoice.created
    return None


def still_open(invoice: Invoice, now: datetime) -> bool:
    """A link to this invoice still shows it (to be paid, or settled less than 30 days ago)."""
    settled = settled_at(invoice)
    return settled is None or now - settled <= AFTER_SETTLED
