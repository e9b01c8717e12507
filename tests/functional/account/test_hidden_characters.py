"""Control and format characters (NUL, the right-to-left override) are refused next to their
field in every form, the input kept, and nothing reaches Stripe or the database."""

from __future__ import annotations

import pytest

from portal import i18n
from portal.text import hidden_characters_message
from tests.functional.account.test_billing_details import VALID, customer_signed_in, error_of
from tests.functional.portal_support import Portal


def _message(locale: str) -> str:
    with i18n.use_locale(locale):
        return hidden_characters_message()


@pytest.mark.parametrize("hidden", ["\x00", "\u202e", "\u2066"])
def test_billing_details_with_hidden_characters_reach_nothing(portal: Portal, hidden: str) -> None:
    customer, browser = customer_signed_in(portal, locale="hr")
    answer = browser.post("/account", VALID | {"name": f"Acme{hidden}HbmG"})
    assert answer.status_code == 400
    error = error_of(answer.text, "name")
    assert error is not None
    assert error == _message("hr")
    assert f'value="{VALID["city"]}"' in answer.text  # the rest of the input is kept
    assert portal.sdk.v1.customers.retrieve(customer).address is None


@pytest.mark.parametrize("hidden", ["\x00", "\u202e"])
def test_a_sign_in_address_with_hidden_characters_is_explained(portal: Portal, hidden: str) -> None:
    browser = portal.browser(**{"Accept-Language": "es"})
    browser.get("/sign-in")
    answer = browser.post("/sign-in", {"email": f"ana{hidden}@example.es"})
    assert answer.status_code == 400
    assert _message("es") in answer.text
    assert not [m for m in portal.mailbox.messages() if any("ana" in r for r in m.recipients)]


def test_a_new_e_mail_address_with_a_nul_is_explained(portal: Portal) -> None:
    _customer, browser = customer_signed_in(portal, locale="de")
    answer = browser.post("/account/email", {"email": "neu\x00@example.de"})
    assert answer.status_code == 400
    assert _message("de") in answer.text
