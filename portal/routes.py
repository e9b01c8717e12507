"""The portal's URL table. Names are namespaced (`area:page`); templates build URLs from them.

Each row also says what the route needs (`portal.routing`): who is asking (`Access`), the
permission it asks (`Action`) and, for every POST, the CSRF token. The safety tests read this
table (tests/unit/test_routes.py).
"""

from __future__ import annotations

from starlette.routing import BaseRoute

from portal import branding, health
from portal.account import email_views
from portal.account import views as account
from portal.assets import Assets
from portal.auth import views as auth
from portal.billing import accounts, methods, paying, webhooks
from portal.billing import views as billing
from portal.permissions import Action
from portal.principals import Access
from portal.routing import route
from portal.staff import views as staff

PUBLIC, BROWSER, STAFF = Access.PUBLIC, Access.BROWSER, Access.STAFF
CUSTOMER, INVOICE = Access.CUSTOMER, Access.INVOICE
# The payment pages act as on the page of the payment's invoice (an invoice link reaches them).
OF_PAYMENT = paying.invoice_of_payment


def routes(*, assets: Assets, demo: bool) -> list[BaseRoute]:
    # One row per route, to be read as a table.
    # fmt: off
    table: list[BaseRoute] = [
        # --- invoices ---
        route("/", billing.overview, name="billing:overview", access=CUSTOMER, action=Action.VIEW_ACCOUNT),
        route("/history", billing.history, name="billing:history", access=CUSTOMER, action=Action.VIEW_ACCOUNT),
        route("/invoices/{invoice_id}", billing.invoice_detail, name="billing:invoice", access=INVOICE, action=Action.VIEW_INVOICE),
        route("/invoices/{invoice_id}/pdf", billing.invoice_pdf, name="billing:invoice_pdf", access=INVOICE, action=Action.DOWNLOAD_PDF),
        route("/invoices/{invoice_id}/credit-notes/{credit_note_id}/pdf", billing.credit_note_pdf, name="billing:credit_note_pdf", access=INVOICE, action=Action.DOWNLOAD_PDF),
        # An e-mailed invoice link: keeps its token in a cookie and moves on to the invoice.
        route("/i/{token}", billing.invoice_link, name="billing:invoice_link", access=PUBLIC),
        # --- paying: starting a payment writes it, so it is a form (POST); the same address
        # opened with GET shows the choice with that form and writes nothing ---
        route("/invoices/{invoice_id}/pay", paying.pay_invoice, name="billing:pay", access=INVOICE, action=Action.PAY),
        route("/invoices/{invoice_id}/pay", paying.start_invoice_payment, name="billing:pay_start", method="POST", access=INVOICE, action=Action.PAY),
        route("/pay-overdue/{currency:str}", paying.pay_overdue, name="billing:pay_overdue", access=CUSTOMER, action=Action.PAY),
        route("/pay-overdue/{currency:str}", paying.start_overdue_payment, name="billing:pay_overdue_start", method="POST", access=CUSTOMER, action=Action.PAY),
        route("/payments/{payment_id}", paying.payment_page, name="billing:payment", action=Action.VIEW_INVOICE, access=INVOICE, invoice=OF_PAYMENT),
        route("/payments/{payment_id}", paying.pay, name="billing:pay_confirm", method="POST", action=Action.PAY, access=INVOICE, invoice=OF_PAYMENT),
        route("/payments/{payment_id}/check", paying.check, name="billing:payment_check", method="POST", action=Action.PAY, access=INVOICE, invoice=OF_PAYMENT),
        route("/payments/{payment_id}/checkout/{session_id}", paying.checkout, name="billing:payment_checkout", action=Action.PAY, access=INVOICE, invoice=OF_PAYMENT),
        route("/payments/{payment_id}/method-added", paying.method_added, name="billing:payment_method_added", action=Action.PAY, access=INVOICE, invoice=OF_PAYMENT),
        route("/payments/{payment_id}/paid-at-stripe", paying.paid_at_stripe, name="billing:payment_paid_at_stripe", action=Action.PAY, access=INVOICE, invoice=OF_PAYMENT),
        route("/payments/{payment_id}/another-way", paying.another_way, name="billing:payment_another_way", method="POST", action=Action.PAY, access=INVOICE, invoice=OF_PAYMENT),
        route("/payments/{payment_id}/authenticate", paying.authenticate, name="billing:payment_authenticate", action=Action.PAY, access=INVOICE, invoice=OF_PAYMENT),
        route("/payments/{payment_id}/authenticated", paying.authenticated, name="billing:payment_authenticated", action=Action.PAY, access=INVOICE, invoice=OF_PAYMENT),
        # --- one sign-in, several accounts ---
        route("/accounts", accounts.accounts, name="billing:accounts", access=CUSTOMER, action=Action.VIEW_ACCOUNT),
        route("/accounts", accounts.switch_account, name="billing:switch", method="POST", access=CUSTOMER, action=Action.SWITCH_ACCOUNT),
        # --- payment methods ---
        route("/payment-methods", methods.payment_methods, name="billing:methods", access=CUSTOMER, action=Action.VIEW_ACCOUNT),
        route("/payment-methods/add", methods.add, name="billing:method_add", method="POST", access=CUSTOMER, action=Action.MANAGE_PAYMENT_METHODS),
        route("/payment-methods/checkout/{session_id}", methods.checkout, name="billing:method_checkout", access=CUSTOMER, action=Action.MANAGE_PAYMENT_METHODS),
        route("/payment-methods/added", methods.added, name="billing:method_added", access=CUSTOMER, action=Action.MANAGE_PAYMENT_METHODS),
        route("/payment-methods/default", methods.make_default, name="billing:method_default", method="POST", access=CUSTOMER, action=Action.MANAGE_PAYMENT_METHODS),
        route("/payment-methods/remove", methods.remove, name="billing:method_remove", method="POST", access=CUSTOMER, action=Action.MANAGE_PAYMENT_METHODS),
        # --- billing details ---
        route("/account", account.billing_details, name="account:details", access=CUSTOMER, action=Action.VIEW_ACCOUNT),
        route("/account", account.save_billing_details, name="account:save", method="POST", access=CUSTOMER, action=Action.EDIT_BILLING_DETAILS),
        route("/account/email", email_views.request_email_change, name="account:email", method="POST", access=CUSTOMER, action=Action.EDIT_BILLING_DETAILS),
        # The e-mail change's links carry their own proof (sent to the new or the old address).
        route("/account/email/confirm/{token}", email_views.confirm_email_page, name="account:email_confirm", access=PUBLIC),
        route("/account/email/confirm", email_views.confirm_email, name="account:email_confirm_post", method="POST", access=PUBLIC),
        route("/account/email/undo/{token}", email_views.undo_email_page, name="account:email_undo", access=PUBLIC),
        route("/account/email/undo", email_views.undo_email, name="account:email_undo_post", method="POST", access=PUBLIC),
        route("/account/tax-ids", account.tax_ids_page, name="account:tax_ids", access=CUSTOMER, action=Action.VIEW_ACCOUNT),
        route("/account/tax-ids", account.add_tax_id, name="account:tax_id_add", method="POST", access=CUSTOMER, action=Action.EDIT_BILLING_DETAILS),
        route("/account/tax-ids/{tax_id}/remove", account.remove_tax_id_page, name="account:tax_id_remove", access=CUSTOMER, action=Action.EDIT_BILLING_DETAILS),
        route("/account/tax-ids/{tax_id}/remove", account.remove_tax_id, name="account:tax_id_remove_post", method="POST", access=CUSTOMER, action=Action.EDIT_BILLING_DETAILS),
        # The language switcher: for anyone; a signed-in customer's choice goes to Stripe too.
        route("/language", account.choose_language, name="i18n:choose", method="POST", access=BROWSER),
        # --- signing in: a customer signing in ends a staff view in the same browser ---
        route("/sign-in", auth.sign_in_form, name="auth:sign_in", access=BROWSER),
        route("/sign-in", auth.request_link, name="auth:request", method="POST", access=PUBLIC),
        route("/sign-in/check-email", auth.check_email, name="auth:check_email", access=PUBLIC),
        route("/sign-in/code", auth.enter_code, name="auth:code", method="POST", access=BROWSER),
        route("/sign-in/link/{token}", auth.follow_link, name="auth:link", access=PUBLIC),
        route("/sign-in/confirm", auth.confirm_page, name="auth:confirm", access=PUBLIC),
        route("/sign-in/confirm", auth.confirm, name="auth:confirm_post", method="POST", access=BROWSER),
        route("/sign-out", auth.sign_out, name="auth:sign_out", method="POST", access=PUBLIC),
        route("/signed-out", auth.signed_out, name="auth:signed_out", access=PUBLIC),
        # --- staff: governed by the staff session, not by a customer's permissions ---
        route("/staff", staff.home, name="staff:home", access=STAFF),
        route("/staff/sign-in", staff.sign_in, name="staff:sign_in", method="POST", access=PUBLIC),
        route("/staff/callback", staff.callback, name="staff:callback", access=PUBLIC),
        route("/staff/sign-out", staff.sign_out, name="staff:sign_out", method="POST", access=STAFF),
        route("/staff/view-as", staff.view_as, name="staff:view_as", method="POST", access=STAFF),
        route("/staff/view-as/end", staff.end_viewing, name="staff:end", method="POST", access=STAFF),
        route("/staff/send-sign-in", staff.send_sign_in, name="staff:send_sign_in", method="POST", access=STAFF),
        route("/staff/audit", staff.audit_trail, name="staff:audit", access=STAFF),
        # --- machines ---
        route("/healthz", health.healthz, name="health:live", access=PUBLIC),
        route("/readyz", health.readyz, name="health:ready", access=PUBLIC),
        # Signed by Stripe (checked by the view), not a browser's form: no CSRF token.
        route("/stripe/webhook", webhooks.receive, name="stripe:webhook", method="POST", access=PUBLIC, csrf=False),
        route("/static/{path:path}", assets.serve, name="static", access=PUBLIC),
        route("/brand.css", branding.stylesheet, name="brand:css", access=PUBLIC),
        route("/brand/logo", branding.logo, name="brand:logo", access=PUBLIC),
    ]
    # fmt: on
    if demo:
        # The demo's staff sign-in without an identity provider: never in any other mode.
        table.append(
            route(
                "/staff/demo-sign-in",
                staff.demo_sign_in,
                name="staff:demo_sign_in",
                method="POST",
                access=PUBLIC,
            )
        )
    return table
