"""Stripe's test cards and test IBANs, and what each one does when charged.

Names and numbers follow https://docs.stripe.com/testing: `pm_card_visa` / `tok_visa` is
4242 4242 4242 4242 and succeeds, `pm_card_chargeDeclinedInsufficientFunds` is …9995 and is
declined with `insufficient_funds`, `pm_card_authenticationRequired` (…3184) asks for 3-D Secure on
every payment, `pm_card_authenticationRequiredOnSetup` (…3155) only until it has been set up for
off-session use, and so on. Refunds of most cards succeed at once; `pm_card_pendingRefund` (…7726)
refunds `pending`, then `succeeded`; `pm_card_refundFail` (…5126) refunds `succeeded`, then
`failed` ("Simulate an asynchronous refund" on that page).
"""

from __future__ import annotations

import hashlib
from dataclasses import dataclass
from typing import Literal

Outcome = Literal["succeed", "decline", "authenticate", "authenticate_unless_setup"]
# What a refund of a payment does: succeed at once, stay `pending` before it succeeds, or show
# `succeeded` before it fails.
RefundOutcome = Literal["succeed", "pending", "fail_later"]


@dataclass(frozen=True)
class Decline:
    code: str
    decline_code: str
    message: str
    param: str | None = None


GENERIC = Decline("card_declined", "generic_decline", "Your card was declined.")
INSUFFICIENT = Decline("card_declined", "insufficient_funds", "Your card has insufficient funds.")
EXPIRED = Decline("expired_card", "expired_card", "Your card has expired.", "exp_month")
INCORRECT_CVC = Decline(
    "incorrect_cvc", "incorrect_cvc", "Your card's security code is incorrect.", "cvc"
)
PROCESSING = Decline(
    "processing_error",
    "processing_error",
    "An error occurred while processing your card. Try again in a little bit.",
)
LOST = Decline("card_declined", "lost_card", "Your card was declined.")
STOLEN = Decline("card_declined", "stolen_card", "Your card was declined.")
FRAUDULENT = Decline("card_declined", "fraudulent", "Your card was declined.")
VELOCITY = Decline(
    "card_declined",
    "card_velocity_exceeded",
    "Your card was declined for making repeated attempts too frequently or exceeding its "
    "amount limit.",
)


@dataclass(frozen=True)
class CardProfile:
    number: str
    brand: str
    funding: str = "credit"
    country: str = "US"
    outcome: Outcome = "succeed"
    decline: Decline | None = None
    # The decline comes only after an otherwise successful authentication (…3178).
    decline_after_authentication: bool = False
    # Whether saving the card (a SetupIntent) is declined too; …0341 saves fine, then declines.
    decline_on_setup: bool = True
    refund: RefundOutcome = "succeed"

    @property
    def last4(self) -> str:
        return self.number[-4:]

    @property
    def fingerprint(self) -> str:
        return fingerprint(self.number)

    @property
    def display_brand(self) -> str:
        return {"amex": "american_express"}.get(self.brand, self.brand)


def _declining(number: str, decline: Decline, on_setup: bool = True) -> CardProfile:
    return CardProfile(
        number, "visa", outcome="decline", decline=decline, decline_on_setup=on_setup
    )


# Keyed by the name after `pm_card_` / `tok_`.
CARDS: dict[str, CardProfile] = {
    "visa": CardProfile("4242424242424242", "visa"),
    "visa_debit": CardProfile("4000056655665556", "visa", funding="debit"),
    "mastercard": CardProfile("5555555555554444", "mastercard"),
    "mastercard_debit": CardProfile("5200828282828210", "mastercard", funding="debit"),
    "mastercard_prepaid": CardProfile("5105105105105100", "mastercard", funding="prepaid"),
    "amex": CardProfile("378282246310005", "amex"),
    "discover": CardProfile("6011111111111117", "discover"),
    "diners": CardProfile("3056930009020004", "diners"),
    "jcb": CardProfile("3566002020360505", "jcb", country="JP"),
    "unionpay": CardProfile("6200000000000005", "unionpay", country="CN"),
    "at": CardProfile("4000000400000008", "visa", country="AT"),
    "de": CardProfile("4000002760000016", "visa", country="DE"),
    "fr": CardProfile("4000002500000003", "visa", country="FR"),
    "pl": CardProfile("4000006160000005", "visa", country="PL"),
    "hr": CardProfile("4000001910000009", "visa", country="HR"),
    "gb": CardProfile("4000008260000000", "visa", country="GB"),
    "chargeDeclined": _declining("4000000000000002", GENERIC),
    "chargeCustomerFail": _declining("4000000000000341", GENERIC, on_setup=False),
    "chargeDeclinedInsufficientFunds": _declining("4000000000009995", INSUFFICIENT),
    "chargeDeclinedLostCard": _declining("4000000000009987", LOST),
    "chargeDeclinedStolenCard": _declining("4000000000009979", STOLEN),
    "chargeDeclinedExpiredCard": _declining("4000000000000069", EXPIRED),
    "chargeDeclinedIncorrectCvc": _declining("4000000000000127", INCORRECT_CVC),
    "chargeDeclinedProcessingError": _declining("4000000000000119", PROCESSING),
    "chargeDeclinedFraudulent": _declining("4100000000000019", FRAUDULENT),
    "visa_chargeDeclinedVelocityLimitExceeded": _declining("4000000000006975", VELOCITY),
    "pendingRefund": CardProfile("4000000000007726", "visa", refund="pending"),
    "refundFail": CardProfile("4000000000005126", "visa", refund="fail_later"),
    "authenticationRequired": CardProfile("4000002760003184", "visa", outcome="authenticate"),
    "threeDSecure2Required": CardProfile("4000000000003220", "visa", outcome="authenticate"),
    "threeDSecureRequired": CardProfile("4000000000003063", "visa", outcome="authenticate"),
    "authenticationRequiredOnSetup": CardProfile(
        "4000002500003155", "visa", outcome="authenticate_unless_setup"
    ),
    "authenticationRequiredChargeDeclinedInsufficientFunds": CardProfile(
        "4000008260003178",
        "visa",
        outcome="authenticate",
        decline=INSUFFICIENT,
        decline_after_authentication=True,
        decline_on_setup=False,
    ),
}

CARDS_BY_NUMBER: dict[str, CardProfile] = {card.number: card for card in CARDS.values()}


def card_for_token(token: str) -> CardProfile | None:
    """`pm_card_visa`, `tok_visa` or `tok_visa_debit` -> the test card, else None."""
    for prefix in ("pm_card_", "tok_"):
        if token.startswith(prefix):
            return CARDS.get(token[len(prefix) :])
    return None


def fingerprint(secret: str) -> str:
    digest = hashlib.sha256(f"sandbox-fingerprint:{secret}".encode()).hexdigest()
    return "".join(ch for ch in digest if ch.isalnum())[:16]


# --- SEPA Direct Debit ------------------------------------------------------------------------

SepaOutcome = Literal["succeed", "fail"]

# Stripe's test IBANs: the first of each country succeeds after `processing`, the second fails.
IBANS: dict[str, SepaOutcome] = {
    "AT611904300234573201": "succeed",
    "AT861904300235473202": "fail",
    "BE62510007547061": "succeed",
    "BE68539007547034": "fail",
    "DE89370400440532013000": "succeed",
    "DE62370400440532013001": "fail",
    "ES0700120345030000067890": "succeed",
    "ES9121000418450200051332": "fail",
    "FR1420041010050500013M02606": "succeed",
    "FR3020041010050500013M02609": "fail",
    "IT40S0542811101000000123456": "succeed",
    "IT60X0542811101000000123456": "fail",
    "NL39RABO0300065264": "succeed",
    "NL91ABNA0417164300": "fail",
    "PL61109010140000071219812874": "succeed",
    "PL27114020040000300201355387": "fail",
}

# A SEPA Direct Debit refund is a credit transfer to the customer's bank: `pending` until it
# arrives (no test IBAN makes it fail).
SEPA_REFUND: RefundOutcome = "pending"

SEPA_FAILURE = Decline(
    "insufficient_funds",
    "insufficient_funds",
    "The customer's account has insufficient funds to cover this payment.",
)


def normalize_iban(iban: str) -> str:
    return "".join(iban.split()).upper()


def iban_is_valid(iban: str) -> bool:
    """ISO 13616 check: country code, check digits and the mod-97 checksum."""
    text = normalize_iban(iban)
    if len(text) < 15 or len(text) > 34 or not text[:2].isalpha() or not text[2:4].isdigit():
        return False
    if not text.isalnum():
        return False
    rearranged = text[4:] + text[:4]
    digits = "".join(str(int(ch, 36)) for ch in rearranged)
    return int(digits) % 97 == 1


def iban_outcome(iban: str) -> SepaOutcome:
    """Known test IBANs do what Stripe documents; any other valid IBAN succeeds."""
    return IBANS.get(normalize_iban(iban), "succeed")
