"""Payment methods, PaymentIntents and SetupIntents: test cards, declines, 3-D Secure through the
hosted page, minimum amounts, SEPA debits."""

from __future__ import annotations

import httpx
import pytest
import stripe

from tests.functional.sandbox.sandbox_helpers import Sandbox, customer_with_card, new_customer


@pytest.mark.parametrize(
    ("token", "code", "decline_code"),
    [
        ("pm_card_chargeDeclined", "card_declined", "generic_decline"),
        ("pm_card_chargeDeclinedInsufficientFunds", "card_declined", "insufficient_funds"),
        ("pm_card_chargeDeclinedExpiredCard", "expired_card", "expired_card"),
        ("pm_card_chargeCustomerFail", "card_declined", "generic_decline"),
    ],
)
def test_declined_cards_fail_with_their_decline_codes(
    stripe_client: stripe.StripeClient, token: str, code: str, decline_code: str
) -> None:
    customer, pm = customer_with_card(stripe_client, token)
    with pytest.raises(stripe.CardError) as caught:
        stripe_client.v1.payment_intents.create(
            {"amount": 2000, "currency": "eur", "customer": customer.id,
             "payment_method": pm.id, "confirm": True, "off_session": True}
        )  # fmt: skip
    error = caught.value.error
    assert error is not None
    assert caught.value.http_status == 402
    assert error.code == code
    assert error.decline_code == decline_code
    assert error.payment_intent is not None
    pi = stripe_client.v1.payment_intents.retrieve(error.payment_intent.id)
    assert pi.status == "requires_payment_method"
    assert pi.last_payment_error is not None
    assert pi.last_payment_error.decline_code == decline_code
    assert pi.latest_charge is not None
    charge = stripe_client.v1.charges.retrieve(str(pi.latest_charge))
    assert charge.status == "failed"
    assert charge.failure_code == code


def test_card_made_expired_by_update_is_declined(stripe_client: stripe.StripeClient) -> None:
    customer, pm = customer_with_card(stripe_client)
    stripe_client.v1.payment_methods.update(pm.id, {"card": {"exp_month": 1, "exp_year": 2020}})
    with pytest.raises(stripe.CardError) as caught:
        stripe_client.v1.payment_intents.create(
            {"amount": 2000, "currency": "eur", "customer": customer.id,
             "payment_method": pm.id, "confirm": True, "off_session": True}
        )  # fmt: skip
    assert caught.value.code == "expired_card"


def test_three_d_secure_is_completed_on_the_hosted_page(stripe_client: stripe.StripeClient) -> None:
    customer, pm = customer_with_card(stripe_client, "pm_card_authenticationRequired")
    pi = stripe_client.v1.payment_intents.create(
        {"amount": 4200, "currency": "eur", "customer": customer.id, "payment_method": pm.id,
         "confirm": True, "return_url": "https://portal.example/return?x=1"}
    )  # fmt: skip
    assert pi.status == "requires_action"
    assert pi.next_action is not None
    assert pi.next_action.type == "redirect_to_url"
    redirect = pi.next_action.redirect_to_url
    assert redirect is not None
    assert redirect.return_url == "https://portal.example/return?x=1"
    assert redirect.url is not None
    page = httpx.get(redirect.url)
    assert page.status_code == 200
    assert "Complete authentication" in page.text
    done = httpx.post(redirect.url, data={"outcome": "complete"})
    assert done.status_code == 303
    assert done.headers["location"].startswith("https://portal.example/return?x=1&payment_intent=")
    assert "redirect_status=succeeded" in done.headers["location"]
    assert stripe_client.v1.payment_intents.retrieve(pi.id).status == "succeeded"


def test_failed_authentication_leaves_the_intent_needing_a_method(
    stripe_client: stripe.StripeClient,
) -> None:
    customer, pm = customer_with_card(stripe_client, "pm_card_threeDSecure2Required")
    pi = stripe_client.v1.payment_intents.create(
        {"amount": 4200, "currency": "eur", "customer": customer.id, "payment_method": pm.id,
         "confirm": True,
         "automatic_payment_methods": {"enabled": True, "allow_redirects": "never"}}
    )  # fmt: skip
    assert pi.next_action is not None
    assert pi.next_action.redirect_to_url is not None
    url = pi.next_action.redirect_to_url.url
    assert url is not None
    page = httpx.post(url, data={"outcome": "fail"})
    assert page.status_code == 200
    failed = stripe_client.v1.payment_intents.retrieve(pi.id)
    assert failed.status == "requires_payment_method"
    assert failed.last_payment_error is not None
    assert failed.last_payment_error.code == "payment_intent_authentication_failure"


def test_off_session_payment_on_a_3ds_card_needs_authentication(
    stripe_client: stripe.StripeClient,
) -> None:
    customer, pm = customer_with_card(stripe_client, "pm_card_authenticationRequired")
    with pytest.raises(stripe.CardError) as caught:
        stripe_client.v1.payment_intents.create(
            {"amount": 4200, "currency": "eur", "customer": customer.id,
             "payment_method": pm.id, "confirm": True, "off_session": True}
        )  # fmt: skip
    assert caught.value.code == "authentication_required"


def test_card_set_up_for_off_session_needs_no_more_authentication(
    stripe_client: stripe.StripeClient,
) -> None:
    customer = new_customer(stripe_client)
    seti = stripe_client.v1.setup_intents.create(
        {"customer": customer.id, "payment_method": "pm_card_authenticationRequiredOnSetup",
         "confirm": True, "usage": "off_session"}
    )  # fmt: skip
    assert seti.status == "requires_action"
    assert seti.next_action is not None
    assert seti.next_action.redirect_to_url is not None
    url = seti.next_action.redirect_to_url.url
    assert url is not None
    httpx.post(url, data={"outcome": "complete"})
    seti = stripe_client.v1.setup_intents.retrieve(seti.id)
    assert seti.status == "succeeded"
    pm_id = str(seti.payment_method)
    assert stripe_client.v1.payment_methods.retrieve(pm_id).customer == customer.id
    pi = stripe_client.v1.payment_intents.create(
        {"amount": 1500, "currency": "eur", "customer": customer.id, "payment_method": pm_id,
         "confirm": True, "off_session": True}
    )  # fmt: skip
    assert pi.status == "succeeded"


def test_declining_card_cannot_be_saved_with_a_setup_intent(
    stripe_client: stripe.StripeClient,
) -> None:
    customer = new_customer(stripe_client)
    with pytest.raises(stripe.CardError) as caught:
        stripe_client.v1.setup_intents.create(
            {"customer": customer.id, "payment_method": "pm_card_chargeDeclined", "confirm": True}
        )
    assert caught.value.error is not None
    assert caught.value.error.setup_intent is not None
    assert stripe_client.v1.customers.payment_methods.list(customer.id).data == []


@pytest.mark.parametrize(
    ("amount", "currency", "ok"),
    [(49, "eur", False), (50, "eur", True), (199, "pln", False), (200, "pln", True),
     (49, "jpy", False), (50, "jpy", True), (17499, "huf", False)],
)  # fmt: skip
def test_minimum_charge_amounts_per_currency(
    stripe_client: stripe.StripeClient, amount: int, currency: str, ok: bool
) -> None:
    params = {"amount": amount, "currency": currency, "payment_method": "pm_card_visa",
              "confirm": True, "return_url": "https://shop.example/back"}  # fmt: skip
    if ok:
        assert stripe_client.v1.payment_intents.create(params).status == "succeeded"  # type: ignore[arg-type]
        return
    with pytest.raises(stripe.InvalidRequestError) as caught:
        stripe_client.v1.payment_intents.create(params)  # type: ignore[arg-type]
    assert caught.value.code == "amount_too_small"


def test_sepa_debit_goes_processing_then_succeeds(sandbox: Sandbox) -> None:
    client = sandbox.client
    customer = new_customer(client)
    pm = client.v1.payment_methods.create(
        {"type": "sepa_debit", "sepa_debit": {"iban": "DE89370400440532013000"},
         "billing_details": {"name": "Jan Kowalski", "email": "jan@example.com"}}
    )  # fmt: skip
    assert pm.sepa_debit is not None
    assert pm.sepa_debit.last4 == "3000"
    assert pm.sepa_debit.country == "DE"
    client.v1.payment_methods.attach(pm.id, {"customer": customer.id})
    pi = client.v1.payment_intents.create(
        {"amount": 5000, "currency": "eur", "customer": customer.id, "payment_method": pm.id,
         "allowed_payment_method_types": ["sepa_debit"], "confirm": True, "off_session": True}
    )  # fmt: skip
    assert pi.status == "processing"
    assert client.v1.payment_intents.retrieve(pi.id).status == "succeeded"
    events = [e.type for e in client.v1.events.list({"limit": 5}).data]
    assert events.index("payment_intent.succeeded") < events.index("payment_intent.processing")


def test_failing_iban_ends_in_payment_failed(stripe_client: stripe.StripeClient) -> None:
    customer = new_customer(stripe_client)
    pi = stripe_client.v1.payment_intents.create(
        {"amount": 5000, "currency": "eur", "customer": customer.id,
         "allowed_payment_method_types": ["sepa_debit"],
         "automatic_payment_methods": {"enabled": True, "allow_redirects": "never"}}
    )  # fmt: skip
    pm = stripe_client.v1.payment_methods.create(
        {"type": "sepa_debit", "sepa_debit": {"iban": "AT861904300235473202"},
         "billing_details": {"name": "Jan", "email": "jan@example.com"}}
    )  # fmt: skip
    confirmed = stripe_client.v1.payment_intents.confirm(pi.id, {"payment_method": pm.id})
    assert confirmed.status == "processing"
    assert stripe_client.v1.payment_intents.retrieve(pi.id).status == "requires_payment_method"


def test_invalid_iban_is_refused(stripe_client: stripe.StripeClient) -> None:
    with pytest.raises(stripe.InvalidRequestError) as caught:
        stripe_client.v1.payment_methods.create(
            {"type": "sepa_debit", "sepa_debit": {"iban": "DE00123"},
             "billing_details": {"name": "Jan", "email": "jan@example.com"}}
        )  # fmt: skip
    assert caught.value.code == "invalid_bank_account_iban"


def test_attach_detach_and_list_payment_methods(stripe_client: stripe.StripeClient) -> None:
    customer = new_customer(stripe_client)
    visa = stripe_client.v1.payment_methods.attach("pm_card_visa", {"customer": customer.id})
    token = stripe_client.v1.payment_methods.create({"type": "card", "card": {"token": "tok_amex"}})
    assert token.card is not None
    assert token.card.brand == "amex"
    stripe_client.v1.payment_methods.attach(token.id, {"customer": customer.id})
    listed = stripe_client.v1.customers.payment_methods.list(customer.id, {"type": "card"})
    assert [pm.id for pm in listed.data] == [token.id, visa.id]
    detached = stripe_client.v1.payment_methods.detach(visa.id)
    assert detached.customer is None
    remaining = stripe_client.v1.payment_methods.list({"customer": customer.id, "type": "card"})
    assert [pm.id for pm in remaining.data] == [token.id]
    with pytest.raises(stripe.InvalidRequestError):
        stripe_client.v1.payment_methods.attach(visa.id, {"customer": customer.id})


def test_cancel_payment_intent(stripe_client: stripe.StripeClient) -> None:
    pi = stripe_client.v1.payment_intents.create({"amount": 1000, "currency": "usd"})
    canceled = stripe_client.v1.payment_intents.cancel(
        pi.id, {"cancellation_reason": "requested_by_customer"}
    )
    assert canceled.status == "canceled"
    with pytest.raises(stripe.InvalidRequestError) as caught:
        stripe_client.v1.payment_intents.confirm(pi.id, {"payment_method": "pm_card_visa"})
    assert caught.value.code == "payment_intent_unexpected_state"
