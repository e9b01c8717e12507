"""Card brands as people know them: Stripe's brand values, the brands' names and logos.

Stripe spells a card's brand two ways: `card.brand` (`amex`, `diners`, `eftpos_au`, ...) and
`card.display_brand` (`american_express`, `diners_club`, `eftpos_australia`, ...; on a
co-branded card, the customer's choice), and the gateway keeps the second when there is one
(`convert.payment_method_from_stripe`), so both are known here. The values are listed in the
SDK's `PaymentMethod.Card` (tests/unit/stripe/test_brands.py reads them from there). Names are
the brands' own, not translated; a brand not known here has no name, and the page says "Card"
in the reader's language. Logos are paths under `static/` for `static_url(...)`.
"""

from __future__ import annotations

from dataclasses import dataclass


@dataclass(frozen=True)
class Brand:
    name: str
    logo: str


GENERIC_LOGO = "brands/card.svg"

BRANDS: dict[str, Brand] = {
    "amex": Brand("American Express", "brands/amex.svg"),
    "cartes_bancaires": Brand("Cartes Bancaires", "brands/cartes_bancaires.svg"),
    "diners": Brand("Diners Club", "brands/diners.svg"),
    "discover": Brand("Discover", "brands/discover.svg"),
    "eftpos_au": Brand("eftpos Australia", GENERIC_LOGO),
    "interac": Brand("Interac", GENERIC_LOGO),
    "jcb": Brand("JCB", "brands/jcb.svg"),
    "link": Brand("Link", GENERIC_LOGO),
    "mastercard": Brand("Mastercard", "brands/mastercard.svg"),
    "unionpay": Brand("UnionPay", "brands/unionpay.svg"),
    "visa": Brand("Visa", "brands/visa.svg"),
}

# `display_brand`'s spellings of the same brands.
DISPLAY_SPELLINGS = {
    "american_express": "amex",
    "diners_club": "diners",
    "eftpos_australia": "eftpos_au",
    "union_pay": "unionpay",
}


def _brand(value: str | None) -> Brand | None:
    if not value:
        return None
    return BRANDS.get(DISPLAY_SPELLINGS.get(value, value))


def brand_name(value: str | None) -> str | None:
    """The brand's own name (`mastercard`: "Mastercard"); None for a brand not known here."""
    found = _brand(value)
    return found.name if found is not None else None


# Payment methods other than cards and SEPA debits, by Stripe's `type`, that people pay with
# on Stripe's Checkout page: their own names, not translated (a bank transfer, which has no
# brand, is named by the page in the reader's language).
METHOD_NAMES = {
    "bancontact": "Bancontact",
    "blik": "BLIK",
    "eps": "EPS",
    "ideal": "iDEAL",
    "klarna": "Klarna",
    "link": "Link",
    "p24": "Przelewy24",
    "paypal": "PayPal",
    "revolut_pay": "Revolut Pay",
    "twint": "TWINT",
}


def method_name(value: str | None) -> str | None:
    """A payment method type's own name (`ideal`: "iDEAL"); None for one not known here."""
    return METHOD_NAMES.get(value or "")


def brand_logo(value: str | None) -> str:
    """The brand's logo under `static/`; the generic card for a brand without one."""
    found = _brand(value)
    return found.logo if found is not None else GENERIC_LOGO
