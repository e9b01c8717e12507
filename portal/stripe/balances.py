"""The gateway's balances section: money of the customer's that Stripe holds, and where the
customer sends a bank transfer.

A customer who pays by bank transfer has a virtual bank account of their own at Stripe
(funding instructions: the same account for every invoice and PaymentIntent of theirs, per
Stripe's funding instructions guide). Money that arrives there waits in their cash balance
until it pays an invoice in full; what an invoice was paid beyond its amount goes to their
credit balance (`Customer.balance`), which Stripe takes off their next invoice.
"""

from __future__ import annotations

from urllib.parse import quote

import stripe

from portal.stripe.client import Connection
from portal.stripe.convert import balances_from_stripe, funding_from_stripe, plain
from portal.stripe.errors import stripe_errors
from portal.stripe.models import Balances, BankTransferInstructions


class CustomerBalances(Connection):
    """Credit and cash balances, and the customer's account for bank transfers."""

    async def get_balances(self, customer_id: str) -> Balances:
        """The customer's credit balance (per currency) and cash balance, in one read."""
        data = await self._get(
            f"/v1/customers/{quote(customer_id, safe='')}",
            # With the default payment method: what the overview says upcoming invoices are
            # charged to, in the same read.
            expand=[
                "cash_balance",
                "invoice_credit_balance",
                "invoice_settings.default_payment_method",
            ],
        )
        return balances_from_stripe(data)

    async def funding_instructions(
        self,
        customer_id: str,
        *,
        currency: str,
        transfer_type: str,
        country: str | None,
        reference: str | None,
        amount: int,
    ) -> BankTransferInstructions:
        """Where the customer transfers money in `currency` (their virtual account, created on
        the first call and the same on every call after), to pay `amount` with `reference`."""
        bank_transfer: stripe.params.CustomerCreateFundingInstructionsParamsBankTransfer = {
            "type": transfer_type
        }
        if transfer_type == "eu_bank_transfer" and country:
            bank_transfer["eu_bank_transfer"] = {"country": country}
        async with stripe_errors():
            data = await self._client.v1.customers.funding_instructions.create_async(
                customer_id,
                {
                    "bank_transfer": bank_transfer,
                    "currency": currency,
                    "funding_type": "bank_transfer",
                },
            )
        return funding_from_stripe(plain(data), reference=reference, amount=amount)
