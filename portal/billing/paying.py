"""Paying an invoice with a saved payment method: choose, confirm, see the outcome.

The pay page plans the charge from Stripe's invoice and records an attempt; pressing "Pay" claims
that attempt once, re-reads the invoice, checks that its balance is what the customer saw, plans
the charge again from it, and charges with the attempt's idempotency key. A double click, a
second tab or a resubmitted form therefore never charges twice (see `portal.billing.attempts`).
"""

from __future__ import annotations

import asyncio
from datetime import UTC, datetime

from sqlalchemy.ext.asyncio import AsyncEngine
from starlette.requests import Request
from starlette.responses import RedirectResponse, Response

from portal.auth.current import principal
from portal.billing import attempts
from portal.billing.messages import cannot_pay_message, decline_message
from portal.billing.models import PaymentMethod
from portal.billing.payments import KINDS, CannotPay, fingerprint, plan_charge
from portal.billing.views import own_invoice
from portal.csrf import verified_form
from portal.i18n import _
from portal.permissions import Action, NotFound, require
from portal.services import services
from portal.storage.database import transaction
from portal.stripe_gateway import PaymentDeclined, StripeUnavailable
from portal.templating import render


def usable(method: PaymentMethod, now: datetime) -> bool:
    """Cards past their expiry month cannot be charged; other methods do not expire."""
    if method.exp_year is None or method.exp_month is None:
        return True
    return (method.exp_year, method.exp_month) >= (now.year, now.month)


async def pay_page(request: Request) -> Response:
    who = await principal(request)
    kind = request.query_params.get("what", "whole")
    if kind not in KINDS:
        raise NotFound(kind)
    gateway = services(request).gateway
    invoice, methods, customer = await asyncio.gather(
        own_invoice(request, Action.PAY, who=who),
        gateway.list_payment_methods(who.customer_id),
        gateway.get_customer(who.customer_id),
    )
    now = datetime.now(UTC)
    try:
        charge = plan_charge(invoice, kind, now)
    except CannotPay as exc:
        return render(
            request,
            "pages/cannot_pay.html",
            {"invoice": invoice, "message": cannot_pay_message(exc)},
            status=409,
        )
    async with transaction(services(request).engine) as conn:
        attempt_id = await attempts.create(conn, charge, fingerprint(invoice), now)
    return render(
        request,
        "pages/pay.html",
        {
            "invoice": invoice,
            "charge": charge,
            "attempt_id": attempt_id,
            "methods": [(m, usable(m, now)) for m in methods],
            "default_id": customer.default_payment_method_id,
        },
    )


async def confirm_payment(request: Request) -> Response:
    form = await verified_form(request)
    who = await principal(request)
    require(who, Action.PAY)
    svc = services(request)
    attempt_id = request.path_params["attempt_id"]
    method_id = str(form.get("payment_method", ""))
    result_url = request.url_for("billing:payment", attempt_id=attempt_id)
    now = datetime.now(UTC)
    async with transaction(svc.engine) as conn:
        attempt = await attempts.get(conn, attempt_id, who.customer_id)
        if attempt is None:
            raise NotFound(attempt_id)
        claimed = await attempts.claim(conn, attempt_id, who.customer_id, method_id, now)
    if not claimed:  # a double click or a resubmitted form: the first one is on it
        return RedirectResponse(result_url, status_code=303)

    async def finish(
        status: attempts.Status, *, amount: int | None = None, error_code: str | None = None
    ) -> Response:
        async with transaction(svc.engine) as conn:
            await attempts.finish(
                conn, attempt_id, status, datetime.now(UTC), amount=amount, error_code=error_code
            )
        return RedirectResponse(result_url, status_code=303)

    try:
        invoice, methods = await asyncio.gather(
            svc.gateway.get_invoice(attempt.invoice_id),
            svc.gateway.list_payment_methods(who.customer_id),
        )
    except StripeUnavailable:
        await _release(svc.engine, attempt_id)
        raise
    require(who, Action.PAY, invoice=invoice)
    if not any(m.id == method_id and usable(m, now) for m in methods):
        return await finish("failed", error_code="unknown_method")
    if fingerprint(invoice) != attempt.fingerprint:
        return await finish("changed")
    try:
        charge = plan_charge(invoice, attempt.kind, now)
    except CannotPay as exc:
        return await finish("failed", error_code=exc.reason)
    try:
        if charge.settles_invoice:
            await svc.gateway.pay_invoice(
                invoice.id, payment_method_id=method_id, idempotency_key=attempt.idempotency_key()
            )
        else:
            intent = await svc.gateway.pay_part_of_invoice(
                invoice,
                amount=charge.amount,
                payment_method_id=method_id,
                idempotency_key=attempt.idempotency_key(),
            )
            if intent.status not in ("succeeded", "processing"):
                return await finish("failed", error_code=intent.decline_code or intent.status)
    except PaymentDeclined as exc:
        return await finish("failed", error_code=exc.decline_code or exc.code)
    except StripeUnavailable:
        # Whether Stripe charged is unknown: the attempt goes back to pending, and pressing
        # "Pay" again repeats the same idempotent requests, which charge at most once.
        await _release(svc.engine, attempt_id)
        raise
    return await finish("succeeded", amount=charge.amount)


async def _release(engine: AsyncEngine, attempt_id: str) -> None:
    async with transaction(engine) as conn:
        await attempts.release(conn, attempt_id, datetime.now(UTC))


async def payment_result(request: Request) -> Response:
    who = await principal(request)
    svc = services(request)
    async with svc.engine.connect() as conn:
        attempt = await attempts.get(conn, request.path_params["attempt_id"], who.customer_id)
    if attempt is None:
        raise NotFound("attempt")
    invoice = await svc.gateway.get_invoice(attempt.invoice_id)
    require(who, Action.VIEW_INVOICE, invoice=invoice)
    message = decline_message(attempt.error_code) if attempt.status == "failed" else None
    if attempt.status == "failed" and attempt.error_code in (
        "below_minimum",
        "not_payable",
        "no_plan",
        "nothing_due",
    ):
        message = _(
            "This payment is no longer possible: the invoice has changed. Nothing was charged."
        )
    if attempt.error_code == "unknown_method":
        message = _("Please choose one of your saved payment methods.")
    return render(
        request,
        "pages/payment_result.html",
        {"attempt": attempt, "invoice": invoice, "message": message},
    )
