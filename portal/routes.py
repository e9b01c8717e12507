"""The portal's URL table. Names are namespaced (`area:page`); templates build URLs from them."""

from __future__ import annotations

from starlette.routing import BaseRoute, Route

from portal import branding, health
from portal.account import views as account
from portal.assets import Assets
from portal.auth import views as auth
from portal.billing import methods, paying, webhooks
from portal.billing import views as billing
from portal.staff import views as staff


def routes(*, assets: Assets, demo: bool) -> list[BaseRoute]:
    table: list[BaseRoute] = [
        Route("/", billing.overview, name="billing:overview"),
        Route("/history", billing.history, name="billing:history"),
        Route("/invoices/{invoice_id}", billing.invoice_detail, name="billing:invoice"),
        Route("/invoices/{invoice_id}/pdf", billing.invoice_pdf, name="billing:invoice_pdf"),
        # Starting a payment writes it: a form (POST). The same address opened with GET
        # shows the choice with that form and writes nothing.
        Route("/invoices/{invoice_id}/pay", paying.pay_invoice, name="billing:pay"),
        Route(
            "/invoices/{invoice_id}/pay",
            paying.start_invoice_payment,
            methods=["POST"],
            name="billing:pay_start",
        ),
        Route("/i/{token}", billing.invoice_link, name="billing:invoice_link"),
        Route("/pay-overdue/{currency:str}", paying.pay_overdue, name="billing:pay_overdue"),
        Route(
            "/pay-overdue/{currency:str}",
            paying.start_overdue_payment,
            methods=["POST"],
            name="billing:pay_overdue_start",
        ),
        Route("/payments/{payment_id}", paying.payment_page, name="billing:payment"),
        Route("/payments/{payment_id}", paying.pay, methods=["POST"], name="billing:pay_confirm"),
        Route(
            "/payments/{payment_id}/check",
            paying.check,
            methods=["POST"],
            name="billing:payment_check",
        ),
        Route(
            "/payments/{payment_id}/checkout/{session_id}",
            paying.checkout,
            name="billing:payment_checkout",
        ),
        Route(
            "/payments/{payment_id}/method-added",
            paying.method_added,
            name="billing:payment_method_added",
        ),
        Route(
            "/payments/{payment_id}/authenticate",
            paying.authenticate,
            name="billing:payment_authenticate",
        ),
        Route(
            "/payments/{payment_id}/authenticated",
            paying.authenticated,
            name="billing:payment_authenticated",
        ),
        Route("/payment-methods", methods.payment_methods, name="billing:methods"),
        Route("/payment-methods/add", methods.add, methods=["POST"], name="billing:method_add"),
        Route(
            "/payment-methods/checkout/{session_id}",
            methods.checkout,
            name="billing:method_checkout",
        ),
        Route("/payment-methods/added", methods.added, name="billing:method_added"),
        Route(
            "/payment-methods/default",
            methods.make_default,
            methods=["POST"],
            name="billing:method_default",
        ),
        Route(
            "/payment-methods/remove",
            methods.remove,
            methods=["POST"],
            name="billing:method_remove",
        ),
        Route("/account", account.billing_details, name="account:details"),
        Route("/account", account.save_billing_details, methods=["POST"], name="account:save"),
        Route(
            "/account/email", account.request_email_change, methods=["POST"], name="account:email"
        ),
        Route(
            "/account/email/confirm/{token}",
            account.confirm_email_page,
            name="account:email_confirm",
        ),
        Route(
            "/account/email/confirm",
            account.confirm_email,
            methods=["POST"],
            name="account:email_confirm_post",
        ),
        Route("/account/email/undo/{token}", account.undo_email_page, name="account:email_undo"),
        Route(
            "/account/email/undo",
            account.undo_email,
            methods=["POST"],
            name="account:email_undo_post",
        ),
        Route("/account/tax-ids", account.tax_ids_page, name="account:tax_ids"),
        Route("/account/tax-ids", account.add_tax_id, methods=["POST"], name="account:tax_id_add"),
        Route(
            "/account/tax-ids/{tax_id}/remove",
            account.remove_tax_id_page,
            name="account:tax_id_remove",
        ),
        Route(
            "/account/tax-ids/{tax_id}/remove",
            account.remove_tax_id,
            methods=["POST"],
            name="account:tax_id_remove_post",
        ),
        Route("/sign-in", auth.sign_in_form, methods=["GET"], name="auth:sign_in"),
        Route("/sign-in", auth.request_link, methods=["POST"], name="auth:request"),
        Route("/sign-in/check-email", auth.check_email, name="auth:check_email"),
        Route("/sign-in/code", auth.enter_code, methods=["POST"], name="auth:code"),
        Route("/sign-in/link/{token}", auth.follow_link, name="auth:link"),
        Route("/sign-in/confirm", auth.confirm_page, methods=["GET"], name="auth:confirm"),
        Route("/sign-in/confirm", auth.confirm, methods=["POST"], name="auth:confirm_post"),
        Route("/accounts", auth.accounts, methods=["GET"], name="auth:accounts"),
        Route("/accounts", auth.switch_account, methods=["POST"], name="auth:switch"),
        Route("/sign-out", auth.sign_out, methods=["POST"], name="auth:sign_out"),
        Route("/signed-out", auth.signed_out, name="auth:signed_out"),
        Route("/language", auth.choose_language, methods=["POST"], name="i18n:choose"),
        Route("/staff", staff.home, name="staff:home"),
        Route("/staff/sign-in", staff.sign_in, methods=["POST"], name="staff:sign_in"),
        Route("/staff/callback", staff.callback, name="staff:callback"),
        Route("/staff/sign-out", staff.sign_out, methods=["POST"], name="staff:sign_out"),
        Route("/staff/view-as", staff.view_as, methods=["POST"], name="staff:view_as"),
        Route("/staff/view-as/end", staff.end_viewing, methods=["POST"], name="staff:end"),
        Route(
            "/staff/send-sign-in", staff.send_sign_in, methods=["POST"], name="staff:send_sign_in"
        ),
        Route("/staff/audit", staff.audit_trail, name="staff:audit"),
        Route("/healthz", health.healthz, name="health:live"),
        Route("/readyz", health.readyz, name="health:ready"),
        Route("/stripe/webhook", webhooks.receive, methods=["POST"], name="stripe:webhook"),
        Route("/static/{path:path}", assets.serve, name="static"),
        Route("/brand.css", branding.stylesheet, name="brand:css"),
        Route("/brand/logo", branding.logo, name="brand:logo"),
    ]
    if demo:
        table += [
            # The demo's staff sign-in without an identity provider: never in any other mode.
            Route(
                "/staff/demo-sign-in",
                staff.demo_sign_in,
                methods=["POST"],
                name="staff:demo_sign_in",
            ),
        ]
    return table
