"""What paying can go wrong with, in words a customer understands.

Declines are explained from Stripe's decline code only: Stripe's own messages are English and
written for developers. Codes not listed get the general message.
"""

from __future__ import annotations

from portal.billing.charging import DEBIT_FAILED
from portal.billing.payments import CannotPay
from portal.billing.records import ChargeRecord
from portal.formatting import format_money
from portal.i18n import _, current_locale


def decline_message(code: str | None) -> str:
    if code == "insufficient_funds":
        return _(
            "The card has insufficient funds. Please use another payment method or try again later."
        )
    if code in ("expired_card",):
        return _("The card has expired. Please use another payment method.")
    if code in ("incorrect_cvc", "invalid_cvc"):
        return _(
            "The card's security code was not accepted. Please add the card again or use another payment method."
        )
    if code in (
        "authentication_required",
        "invoice_payment_intent_requires_action",
        "payment_intent_authentication_failure",
    ):
        return _(
            "The payment was not confirmed with your bank, so nothing was charged. Please try again or use another payment method."
        )
    if code in ("processing_error", "try_again_later"):
        return _(
            "The payment could not be processed just now. Nothing was charged. Please try again in a few minutes."
        )
    if code == DEBIT_FAILED:
        return _(
            "Your bank returned the direct debit, so nothing was collected. Please use another payment method or contact your bank."
        )
    if code in ("lost_card", "stolen_card", "pickup_card", "restricted_card"):
        return _("The card cannot be used. Please use another payment method.")
    return _(
        "The bank declined the payment without giving a reason. Please use another payment method or contact your bank."
    )


def cannot_pay_message(exc: CannotPay) -> str:
    if exc.reason == "below_minimum":
        locale = current_locale()
        return _(
            "%(amount)s is less than the smallest amount that can be charged (%(minimum)s). Please pay it together with the next payment, or contact us.",
            amount=format_money(exc.amount, exc.currency, locale),
            minimum=format_money(exc.minimum, exc.currency, locale),
        )
    if exc.reason == "not_payable":
        return _("This invoice has nothing left to pay.")
    if exc.reason == "transfer_only":
        return _(
            "This invoice is paid by bank transfer: the account and the reference are on the invoice."
        )
    return _("There is nothing of this kind to pay on this invoice.")


def charge_message(charge: ChargeRecord) -> str | None:
    """Why a charge of a payment was not made, for its line on the payment's page."""
    if charge.status == "failed":
        return decline_message(charge.error_code)
    if charge.status == "changed":
        return _(
            "Not charged: this invoice changed after the payment page was shown (another payment may have arrived)."
        )
    if charge.status == "busy" and charge.error_code == "debit_on_its_way":
        return _(
            "Not charged: a direct debit for this invoice is still being collected by your bank. Once it has gone through or been returned, the invoice shows what is still to pay."
        )
    if charge.status == "busy":
        return _(
            "Not charged: another payment for this invoice was under way at the same moment. Please look at the invoice to see what is still to pay."
        )
    if charge.status == "refused":
        return _(
            "Not charged: our payment provider did not accept this payment with the chosen method. Please choose another payment method."
        )
    if charge.status == "abandoned":
        return _(
            "Not charged: the payment was not confirmed with your bank. You can pay again with the same or another payment method."
        )
    if charge.status == "unattached":
        return _(
            "We have received your payment, but it has not yet been credited to this invoice. We are keeping it for this invoice and crediting it; please do not pay again."
        )
    if charge.status == "refund_pending":
        return _(
            "This invoice no longer needed your payment (it was paid another way or changed while you were paying on Stripe's page), so we are refunding it. The refund is under way; this page shows when it is complete."
        )
    if charge.status == "refund_failed":
        return _(
            "This invoice no longer needed your payment, so we tried to refund it, but the refund did not go through. The money has not been returned yet: please contact us so that we can return it another way."
        )
    if charge.status == "refunded":
        return _(
            "This invoice had already been paid another way while you were paying on Stripe's page, so we have refunded your payment. The refund usually reaches your account within a few business days."
        )
    if charge.status == "refund_due":
        return _(
            "This invoice had already been paid another way while you were paying on Stripe's page. We will refund your payment as soon as it has reached us; there is nothing you need to do."
        )
    if charge.status == "skipped":
        return _("Not charged, because the payment before it did not go through.")
    if charge.status == "lapsed":
        return _(
            "Not charged: this payment was interrupted and could not be finished. Please start it again."
        )
    return None
