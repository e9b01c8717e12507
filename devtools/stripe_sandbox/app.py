"""The sandbox as a Starlette app: Stripe's /v1 API, the hosted pages, and /_sandbox controls.

`create_sandbox_app(SandboxConfig(...))` gives an independent sandbox (its own in-memory state);
the CLI serves one with uvicorn, the tests start one per test module.
"""

from __future__ import annotations

import contextlib
from collections.abc import AsyncIterator

from starlette.applications import Starlette
from starlette.middleware import Middleware
from starlette.routing import BaseRoute, Route

from stripe_sandbox import (
    account_tax_ids,
    cash_balance,
    checkout,
    coupons,
    credit_balance,
    credit_notes,
    customers,
    events,
    ids,
    intents,
    invoices,
    pages,
    payment_methods,
    refunds,
    schema,
    tax_rates,
    webhooks,
)
from stripe_sandbox import control as sandbox_control
from stripe_sandbox.api import Handler, endpoint, unknown_endpoint
from stripe_sandbox.config import SandboxConfig
from stripe_sandbox.origins import OriginGuard
from stripe_sandbox.store import Store

__all__ = ["SandboxConfig", "create_sandbox_app"]

# The Stripe API surface: (method, path, handler). Path parameters name what they identify.
API: tuple[tuple[str, str, Handler], ...] = (
    ("POST", "/v1/customers", customers.create_customer),
    ("GET", "/v1/customers", customers.list_customers),
    ("GET", "/v1/customers/search", customers.search_customers),
    ("GET", "/v1/customers/{customer}", customers.retrieve_customer),
    ("POST", "/v1/customers/{customer}", customers.update_customer),
    ("DELETE", "/v1/customers/{customer}", customers.delete_customer),
    ("POST", "/v1/customers/{customer}/tax_ids", customers.create_tax_id),
    ("GET", "/v1/customers/{customer}/tax_ids", customers.list_tax_ids),
    ("GET", "/v1/customers/{customer}/tax_ids/{tax_id}", customers.retrieve_tax_id),
    ("DELETE", "/v1/customers/{customer}/tax_ids/{tax_id}", customers.delete_tax_id),
    ("POST", "/v1/tax_ids", account_tax_ids.create),
    ("GET", "/v1/tax_ids", account_tax_ids.list_all),
    ("GET", "/v1/tax_ids/{tax_id}", account_tax_ids.retrieve),
    ("DELETE", "/v1/tax_ids/{tax_id}", account_tax_ids.delete),
    ("POST", "/v1/customers/{customer}/funding_instructions",
     cash_balance.create_funding_instructions),
    ("GET", "/v1/customers/{customer}/cash_balance", cash_balance.retrieve_cash_balance),
    ("POST", "/v1/customers/{customer}/cash_balance", cash_balance.update_cash_balance),
    ("GET", "/v1/customers/{customer}/cash_balance_transactions",
     cash_balance.list_transactions),
    ("GET", "/v1/customers/{customer}/cash_balance_transactions/{transaction}",
     cash_balance.retrieve_transaction),
    ("POST", "/v1/test_helpers/customers/{customer}/fund_cash_balance", cash_balance.fund),
    ("POST", "/v1/customers/{customer}/balance_transactions",
     credit_balance.create_transaction),
    ("GET", "/v1/customers/{customer}/balance_transactions", credit_balance.list_transactions),
    ("GET", "/v1/customers/{customer}/balance_transactions/{transaction}",
     credit_balance.retrieve_transaction),
    ("POST", "/v1/customers/{customer}/balance_transactions/{transaction}",
     credit_balance.update_transaction),
    ("GET", "/v1/customers/{customer}/payment_methods",
     payment_methods.list_customer_payment_methods),
    ("GET", "/v1/customers/{customer}/payment_methods/{pm}",
     payment_methods.retrieve_customer_payment_method),
    ("POST", "/v1/payment_methods", payment_methods.create_payment_method),
    ("GET", "/v1/payment_methods", payment_methods.list_payment_methods),
    ("GET", "/v1/payment_methods/{pm}", payment_methods.retrieve_payment_method),
    ("POST", "/v1/payment_methods/{pm}", payment_methods.update_payment_method),
    ("POST", "/v1/payment_methods/{pm}/attach", payment_methods.attach_payment_method),
    ("POST", "/v1/payment_methods/{pm}/detach", payment_methods.detach_payment_method),
    ("POST", "/v1/setup_intents", intents.create_setup_intent),
    ("GET", "/v1/setup_intents", intents.list_setup_intents),
    ("GET", "/v1/setup_intents/{intent}", intents.retrieve_setup_intent),
    ("POST", "/v1/setup_intents/{intent}", intents.update_setup_intent),
    ("POST", "/v1/setup_intents/{intent}/confirm", intents.confirm_setup_intent),
    ("POST", "/v1/setup_intents/{intent}/cancel", intents.cancel_setup_intent),
    ("POST", "/v1/payment_intents", intents.create_payment_intent),
    ("GET", "/v1/payment_intents", intents.list_payment_intents),
    ("GET", "/v1/payment_intents/search", intents.search_payment_intents),
    ("GET", "/v1/payment_intents/{intent}", intents.retrieve_payment_intent),
    ("POST", "/v1/payment_intents/{intent}", intents.update_payment_intent),
    ("POST", "/v1/payment_intents/{intent}/confirm", intents.confirm_payment_intent),
    ("POST", "/v1/payment_intents/{intent}/cancel", intents.cancel_payment_intent),
    ("POST", "/v1/payment_intents/{intent}/apply_customer_balance",
     cash_balance.apply_customer_balance),
    ("GET", "/v1/charges", intents.list_charges),
    ("GET", "/v1/charges/{charge}", intents.retrieve_charge),
    ("POST", "/v1/tax_rates", tax_rates.create_tax_rate),
    ("GET", "/v1/tax_rates", tax_rates.list_tax_rates),
    ("GET", "/v1/tax_rates/{tax_rate}", tax_rates.retrieve_tax_rate),
    ("POST", "/v1/tax_rates/{tax_rate}", tax_rates.update_tax_rate),
    ("POST", "/v1/coupons", coupons.create_coupon),
    ("GET", "/v1/coupons", coupons.list_coupons),
    ("GET", "/v1/coupons/{coupon}", coupons.retrieve_coupon),
    ("POST", "/v1/coupons/{coupon}", coupons.update_coupon),
    ("POST", "/v1/invoiceitems", invoices.create_invoice_item),
    ("GET", "/v1/invoiceitems", invoices.list_invoice_items),
    ("GET", "/v1/invoiceitems/{item}", invoices.retrieve_invoice_item),
    ("POST", "/v1/invoiceitems/{item}", invoices.update_invoice_item),
    ("DELETE", "/v1/invoiceitems/{item}", invoices.delete_invoice_item),
    ("POST", "/v1/invoices", invoices.create_invoice),
    ("GET", "/v1/invoices", invoices.list_invoices),
    ("GET", "/v1/invoices/search", invoices.search_invoices),
    ("GET", "/v1/invoices/{invoice}", invoices.retrieve_invoice),
    ("POST", "/v1/invoices/{invoice}", invoices.update_invoice),
    ("DELETE", "/v1/invoices/{invoice}", invoices.delete_invoice),
    ("GET", "/v1/invoices/{invoice}/lines", invoices.list_lines),
    ("POST", "/v1/invoices/{invoice}/finalize", invoices.finalize_invoice),
    ("POST", "/v1/invoices/{invoice}/pay", invoices.pay_invoice),
    ("POST", "/v1/invoices/{invoice}/void", invoices.void_invoice),
    ("POST", "/v1/invoices/{invoice}/mark_uncollectible", invoices.mark_uncollectible),
    ("POST", "/v1/invoices/{invoice}/attach_payment", invoices.attach_payment),
    ("GET", "/v1/invoice_payments", invoices.list_invoice_payments),
    ("GET", "/v1/invoice_payments/{payment}", invoices.retrieve_invoice_payment),
    ("POST", "/v1/credit_notes", credit_notes.create_credit_note),
    ("GET", "/v1/credit_notes", credit_notes.list_credit_notes),
    ("GET", "/v1/credit_notes/{credit_note}", credit_notes.retrieve_credit_note),
    ("POST", "/v1/checkout/sessions", checkout.create_session),
    ("GET", "/v1/checkout/sessions", checkout.list_sessions),
    ("GET", "/v1/checkout/sessions/{session}", checkout.retrieve_session),
    ("GET", "/v1/checkout/sessions/{session}/line_items", checkout.list_line_items),
    ("POST", "/v1/checkout/sessions/{session}/expire", checkout.expire_session),
    ("POST", "/v1/refunds", refunds.create_refund),
    ("GET", "/v1/refunds", refunds.list_refunds),
    ("GET", "/v1/refunds/{refund}", refunds.retrieve_refund),
    ("GET", "/v1/events", events.list_events),
    ("GET", "/v1/events/{event}", events.retrieve_event),
    ("POST", "/v1/webhook_endpoints", webhooks.create_endpoint),
    ("GET", "/v1/webhook_endpoints", webhooks.list_endpoints),
    ("GET", "/v1/webhook_endpoints/{endpoint}", webhooks.retrieve_endpoint),
    ("POST", "/v1/webhook_endpoints/{endpoint}", webhooks.update_endpoint),
    ("DELETE", "/v1/webhook_endpoints/{endpoint}", webhooks.delete_endpoint),
)  # fmt: skip


def create_sandbox_app(config: SandboxConfig | None = None) -> Starlette:
    config = config or SandboxConfig()
    store = Store(config)
    invoices.register_renderers(store)
    credit_notes.register_renderer(store)
    store.renderers["coupons"] = lambda coupon: coupons.render_coupon(store, coupon)
    store.renderers["deleted_tax_ids"] = account_tax_ids.render_deleted
    dispatcher = webhooks.WebhookDispatcher(store, config.webhook_secret or ids.webhook_secret())

    # Every request's parameters are checked against the installed SDK's definitions.
    validator = schema.build_validator((method, path) for method, path, _ in API)
    handlers = {
        (method, path): schema.guarded(validator, method, path, handler)
        for method, path, handler in API
    }
    routes: list[BaseRoute] = [
        Route(path, endpoint(store, method, path, handler), methods=[method])
        for (method, path), handler in handlers.items()
    ]
    routes.append(
        Route(
            "/v1/{rest:path}",
            unknown_endpoint(store),
            methods=["GET", "POST", "DELETE", "PUT", "PATCH"],
        )
    )
    routes += [
        Route(
            "/c/pay/instructions/{intent}", pages.bank_transfer_instructions(store), methods=["GET"]
        ),
        Route("/c/pay/{session}", pages.checkout_page(store), methods=["GET"]),
        Route("/c/pay/{session}", pages.checkout_submit(store), methods=["POST"]),
        Route("/c/pay/{session}/return", pages.checkout_return(store), methods=["GET"]),
        Route("/3ds/{intent}", pages.authenticate_page(store), methods=["GET"]),
        Route("/3ds/{intent}", pages.authenticate_submit(store), methods=["POST"]),
        Route("/i/{invoice}", pages.hosted_invoice_page(store), methods=["GET"]),
        Route("/invoice/{invoice}/pdf", pages.invoice_pdf_link(store), methods=["GET"]),
        Route("/files/invoices/{invoice}.pdf", pages.invoice_pdf(store), methods=["GET"]),
        Route("/credit_notes/{credit_note}/pdf", credit_notes.pdf_link(store), methods=["GET"]),
        Route(
            "/files/credit_notes/{credit_note}.pdf", credit_notes.pdf_file(store), methods=["GET"]
        ),
        Route("/receipts/{charge}", pages.receipt_page(store), methods=["GET"]),
    ]
    for path, (methods, handler) in sandbox_control.routes(store, dispatcher, handlers).items():
        routes.append(Route(path, handler, methods=methods.split(",")))

    @contextlib.asynccontextmanager
    async def lifespan(app: Starlette) -> AsyncIterator[None]:
        yield
        await dispatcher.close()

    # The guard answers before routing: a page asked for on the wrong origin is never served.
    middleware = [Middleware(OriginGuard, config=config)]
    app = Starlette(routes=routes, middleware=middleware, lifespan=lifespan)
    app.state.sandbox = store
    app.state.webhooks = dispatcher
    return app
