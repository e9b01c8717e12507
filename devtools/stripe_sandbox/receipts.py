"""Whether Stripe e-mails a receipt for a successful charge, and to whom.

Stripe's rules, each with its source:
- A PaymentIntent's `receipt_email` gets a receipt "regardless of your email settings" in live
  mode (the SDK's `PaymentIntentCreateParams.receipt_email`).
- Otherwise the customer's e-mail gets one when the account's "Successful payments" setting is
  on (https://docs.stripe.com/receipts). For an invoice, the customer must have had an e-mail
  when the invoice was finalized, and a charge must have been made (support.stripe.com, "Why did
  Stripe not send an email receipt for my successfully paid Invoice?"): the invoice's frozen
  `customer_email`.
- Test mode: "Test payments created using your test API keys don't automatically send receipts
  unless the associated email belongs to you or to another user with a verified email and
  access to the testing environment" (https://docs.stripe.com/receipts?payment-ui=checkout).
  The sandbox is test mode only; `SandboxConfig.team_emails` are those users' addresses.

A charge whose receipt was sent shows `receipt_email` (where it went) and `receipt_number`;
`receipt_number` stays null otherwise ("null until a receipt has been sent", SDK `Charge`). A
`receipt_email` given on the PaymentIntent shows on its charges either way, as asked for.
"""

from __future__ import annotations

from stripe_sandbox import ids
from stripe_sandbox.store import JSON, Store


def _invoice_of(store: Store, pi: JSON) -> JSON | None:
    invoice_id = store.secret(pi["id"]).get("invoice")
    if invoice_id is None:
        invoice_id = next(
            (
                payment["invoice"]
                for payment in store.values("invoice_payments")
                if payment["payment"].get("payment_intent") == pi["id"]
            ),
            None,
        )
    return store.get("invoices", invoice_id) if invoice_id else None


def recipient(store: Store, pi: JSON) -> str | None:
    """Where Stripe would send the receipt in live mode (None: no receipt)."""
    if pi.get("receipt_email"):
        return str(pi["receipt_email"])
    if not store.account_settings.email_successful_payments:
        return None
    invoice = _invoice_of(store, pi)
    if invoice is not None:
        return invoice.get("customer_email") or None
    customer = store.get("customers", pi["customer"]) if pi.get("customer") else None
    return (customer or {}).get("email") or None


def send_for(store: Store, pi: JSON, charge: JSON) -> None:
    """Called as a charge succeeds: records the receipt on it (and on its invoice) if sent."""
    address = recipient(store, pi)
    team = {email.casefold() for email in store.account_settings.team_emails}
    if address is None or address.casefold() not in team:
        return
    number = ids.receipt_number()
    charge["receipt_email"] = address
    charge["receipt_number"] = number
    invoice = _invoice_of(store, pi)
    if invoice is not None:
        invoice["receipt_number"] = number
