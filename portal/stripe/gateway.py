"""The only door to Stripe: `StripeGateway`, one class made of the sections by resource.

Every Stripe call the portal makes goes through it. It hands back the portal's typed values
(`portal.stripe.models`) and turns Stripe's exceptions into the few `GatewayError`s of
`portal.stripe.errors`, each with one meaning the views can act on. No module outside
`portal.stripe` imports the SDK (a test checks that). Each section is a mixin over the shared
`Connection` (`client.py`), in a module of its own; the pages use it through the per-customer
cache (`cache.py`), which wraps it.
"""

from __future__ import annotations

from portal.stripe.balances import CustomerBalances
from portal.stripe.checkout import Checkout
from portal.stripe.customers import Customers
from portal.stripe.diagnostics import Diagnostics
from portal.stripe.invoices import Invoices
from portal.stripe.methods import PaymentMethods
from portal.stripe.payments import Payments
from portal.stripe.pdfs import InvoicePdfs
from portal.stripe.tax_ids import TaxIds
from portal.stripe.webhooks import Webhooks


class StripeGateway(
    Customers,
    CustomerBalances,
    TaxIds,
    Invoices,
    InvoicePdfs,
    PaymentMethods,
    Checkout,
    Payments,
    Webhooks,
    Diagnostics,
):
    """Async access to the Stripe account behind the portal."""
