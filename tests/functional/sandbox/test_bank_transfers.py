"""Bank transfers through the official SDK: a customer's virtual account (funding instructions),
invoices paid by bank transfer (`customer_balance`), the cash balance and its transactions,
Stripe's `fund_cash_balance` test helper and how the money it brings is reconciled."""

from __future__ import annotations

from collections.abc import Iterator
from typing import Any

import httpx
import pytest
import stripe
from stdnum import iban as iban_number

from stripe_sandbox.app import SandboxConfig
from tests.functional.sandbox.sandbox_helpers import (
    FAST_RETRIES,
    Sandbox,
    new_customer,
    open_invoice,
    sdk_client,
)
from tests.support.servers import serve_sandbox

EUR_TRANSFER: Any = {
    "payment_method_types": ["customer_balance"],
    "payment_method_options": {
        "customer_balance": {
            "funding_type": "bank_transfer",
            "bank_transfer": {"type": "eu_bank_transfer", "eu_bank_transfer": {"country": "DE"}},
        }
    },
}


def _instructions(client: stripe.StripeClient, country: str, customer_id: str) -> Any:
    return client.v1.customers.funding_instructions.create(
        customer_id,
        {"funding_type": "bank_transfer", "currency": "eur",
         "bank_transfer": {"type": "eu_bank_transfer", "eu_bank_transfer": {"country": country}}},
    )  # fmt: skip


def _bank_invoice(
    client: stripe.StripeClient, customer_id: str, amount: int = 10000, **fields: Any
) -> stripe.Invoice:
    return open_invoice(client, customer_id, amount, payment_settings=EUR_TRANSFER, **fields)


def _intent_of(client: stripe.StripeClient, invoice_id: str) -> stripe.PaymentIntent:
    (payment,) = client.v1.invoice_payments.list({"invoice": invoice_id}).data
    intent_id = payment.payment.payment_intent
    assert isinstance(intent_id, str)
    return client.v1.payment_intents.retrieve(intent_id)


def _fund(
    client: stripe.StripeClient, customer_id: str, amount: int, reference: str | None = None
) -> stripe.CustomerCashBalanceTransaction:
    params: Any = {"amount": amount, "currency": "eur"}
    if reference is not None:
        params["reference"] = reference
    return client.v1.test_helpers.customers.fund_cash_balance(customer_id, params)


def _events_since(client: stripe.StripeClient, event_id: str) -> list[str]:
    """Types of the events after `event_id`, oldest first."""
    listed = client.v1.events.list({"ending_before": event_id, "limit": 100}).data
    return [event.type for event in reversed(listed)]


def _last_event(client: stripe.StripeClient) -> str:
    return client.v1.events.list({"limit": 1}).data[0].id


def _available(client: stripe.StripeClient, customer_id: str) -> dict[str, int]:
    balance = client.v1.customers.cash_balance.retrieve(customer_id)
    return balance.available.to_dict() if balance.available is not None else {}


# -- funding instructions ----------------------------------------------------------------------


@pytest.mark.parametrize("country", ["BE", "DE", "ES", "FR", "IE", "NL"])
def test_virtual_ibans_are_valid_and_the_same_on_every_call(
    stripe_client: stripe.StripeClient, country: str
) -> None:
    customer = new_customer(stripe_client)
    first = _instructions(stripe_client, country, customer.id)
    again = _instructions(stripe_client, country, customer.id)
    other = _instructions(stripe_client, country, new_customer(stripe_client).id)
    assert first.funding_type == "bank_transfer"
    assert first.currency == "eur"
    assert first.bank_transfer.type == "eu_bank_transfer"
    assert first.bank_transfer.country == country
    (address,) = first.bank_transfer.financial_addresses
    assert address.type == "iban"
    assert address.supported_networks == ["sepa"]
    assert address.iban is not None
    assert address.iban.country == country
    assert address.iban.account_holder_name == "Sandbox Billing Ltd"
    # Valid in full, national check digits included (python-stdnum), as an EPC QR code needs.
    assert iban_number.validate(address.iban.iban) == address.iban.iban
    assert address.iban.iban.startswith(country)
    assert len(address.iban.bic) == 8
    assert again.bank_transfer.financial_addresses[0].iban.iban == address.iban.iban
    assert other.bank_transfer.financial_addresses[0].iban.iban != address.iban.iban


def test_dollars_come_by_aba_and_swift(stripe_client: stripe.StripeClient) -> None:
    customer = new_customer(stripe_client)
    found = stripe_client.v1.customers.funding_instructions.create(
        customer.id,
        {"funding_type": "bank_transfer", "currency": "usd",
         "bank_transfer": {"type": "us_bank_transfer"}},
    )  # fmt: skip
    assert [a.type for a in found.bank_transfer.financial_addresses] == ["aba", "swift"]
    aba = found.bank_transfer.financial_addresses[0].aba
    assert aba is not None
    assert aba.routing_number == "110000000"


@pytest.mark.parametrize(
    ("params", "param"),
    [
        ({"currency": "usd", "bank_transfer": {"type": "eu_bank_transfer",
          "eu_bank_transfer": {"country": "DE"}}}, "bank_transfer[type]"),
        ({"currency": "eur", "bank_transfer": {"type": "eu_bank_transfer"}},
         "bank_transfer[eu_bank_transfer][country]"),
        ({"currency": "eur", "bank_transfer": {"type": "eu_bank_transfer",
          "eu_bank_transfer": {"country": "IT"}}}, "bank_transfer[eu_bank_transfer][country]"),
        # A German account takes no GBP transfers (those are for accounts in the UK).
        ({"currency": "gbp", "bank_transfer": {"type": "gb_bank_transfer"}},
         "bank_transfer[type]"),
        ({"currency": "eur", "bank_transfer": {"type": "eu_bank_transfer",
          "eu_bank_transfer": {"country": "DE"}, "requested_address_types": ["sort_code"]}},
         "bank_transfer[requested_address_types]"),
    ],
)  # fmt: skip
def test_funding_instructions_refuse_what_stripe_refuses(
    stripe_client: stripe.StripeClient, params: Any, param: str
) -> None:
    customer = new_customer(stripe_client)
    with pytest.raises(stripe.InvalidRequestError) as refused:
        stripe_client.v1.customers.funding_instructions.create(
            customer.id, {"funding_type": "bank_transfer", **params}
        )
    assert refused.value.http_status == 400
    assert refused.value.param == param


def test_an_unknown_nested_parameter_is_refused(stripe_client: stripe.StripeClient) -> None:
    customer = new_customer(stripe_client)
    params: Any = {
        "funding_type": "bank_transfer",
        "currency": "eur",
        "bank_transfer": {"type": "eu_bank_transfer", "eu_bank_transfer": {"country": "DE",
                                                                           "colour": "blue"}},
    }  # fmt: skip
    with pytest.raises(stripe.InvalidRequestError) as refused:
        stripe_client.v1.customers.funding_instructions.create(customer.id, params)
    assert refused.value.code == "parameter_unknown"
    assert refused.value.param == "bank_transfer[eu_bank_transfer][colour]"


# -- invoices paid by bank transfer ------------------------------------------------------------


def test_a_finalized_invoice_shows_the_transfer_on_its_payment_intent(
    sandbox: Sandbox,
) -> None:
    client = sandbox.client
    customer = new_customer(client)
    invoice = _bank_invoice(client, customer.id, amount=12345)
    assert invoice.payment_settings.payment_method_types == ["customer_balance"]
    options = invoice.payment_settings.payment_method_options
    assert options is not None
    assert options.customer_balance is not None
    assert options.customer_balance.funding_type == "bank_transfer"
    assert options.customer_balance.bank_transfer is not None
    assert options.customer_balance.bank_transfer.type == "eu_bank_transfer"
    intent = _intent_of(client, invoice.id)
    assert intent.status == "requires_action"
    assert intent.payment_method_types == ["customer_balance"]
    assert intent.next_action is not None
    assert intent.next_action.type == "display_bank_transfer_instructions"
    shown = intent.next_action.display_bank_transfer_instructions
    assert shown is not None
    assert shown.amount_remaining == 12345
    assert shown.currency == "eur"
    assert shown.type == "eu_bank_transfer"
    assert shown.reference == invoice.number
    assert shown.financial_addresses is not None
    iban = shown.financial_addresses[0].iban
    assert iban is not None
    # The customer's one account for DE, the same as the funding instructions give.
    assert (
        iban.iban
        == _instructions(client, "DE", customer.id).bank_transfer.financial_addresses[0].iban.iban
    )
    assert shown.hosted_instructions_url is not None
    page = httpx.get(shown.hosted_instructions_url)
    assert page.status_code == 200
    assert iban.iban in page.text
    assert str(invoice.number) in page.text
    assert invoice.hosted_invoice_url is not None
    hosted = httpx.get(invoice.hosted_invoice_url)
    assert iban.iban in hosted.text
    assert "Pay by bank transfer" in hosted.text
    pm = intent.payment_method
    assert isinstance(pm, str)
    assert client.v1.payment_methods.retrieve(pm).type == "customer_balance"


@pytest.mark.parametrize(
    ("currency", "settings"),
    [
        ("usd", EUR_TRANSFER),  # EUR transfers take euros only
        ("gbp", {"payment_method_types": ["customer_balance"]}),  # no GBP for a German account
    ],
)
def test_an_invoice_refuses_a_transfer_its_currency_cannot_take(
    stripe_client: stripe.StripeClient, currency: str, settings: Any
) -> None:
    customer = new_customer(stripe_client)
    with pytest.raises(stripe.InvalidRequestError) as refused:
        stripe_client.v1.invoices.create(
            {"customer": customer.id, "currency": currency, "collection_method": "send_invoice",
             "days_until_due": 14, "payment_settings": settings}
        )  # fmt: skip
    assert refused.value.param == (
        "payment_settings[payment_method_options][customer_balance][bank_transfer][type]"
    )


def test_the_currency_picks_the_transfer_type_when_none_is_given(
    stripe_client: stripe.StripeClient,
) -> None:
    customer = new_customer(stripe_client)
    invoice = open_invoice(
        stripe_client, customer.id, payment_settings={"payment_method_types": ["customer_balance"]}
    )
    shown = _intent_of(stripe_client, invoice.id).next_action
    assert shown is not None
    assert shown.display_bank_transfer_instructions is not None
    assert shown.display_bank_transfer_instructions.type == "eu_bank_transfer"
    address = shown.display_bank_transfer_instructions.financial_addresses
    assert address is not None
    assert address[0].iban is not None
    assert address[0].iban.country == "DE"  # the account's country


def test_an_invoice_is_paid_only_when_all_it_owes_has_arrived(sandbox: Sandbox) -> None:
    client = sandbox.client
    customer = new_customer(client)
    invoice = _bank_invoice(client, customer.id, amount=10000)
    mark = _last_event(client)
    funded = _fund(client, customer.id, 4000, reference=invoice.number)
    assert funded.type == "funded"
    assert funded.net_amount == 4000
    assert funded.ending_balance == 4000
    assert funded.funded is not None
    assert funded.funded.bank_transfer.type == "eu_bank_transfer"
    assert funded.funded.bank_transfer.reference == invoice.number
    # Not partly funded: the money waits in the cash balance.
    waiting = client.v1.invoices.retrieve(invoice.id)
    assert (waiting.status, waiting.amount_paid, waiting.amount_remaining) == ("open", 0, 10000)
    shown = _intent_of(client, invoice.id).next_action
    assert shown is not None
    assert shown.display_bank_transfer_instructions is not None
    assert shown.display_bank_transfer_instructions.amount_remaining == 10000
    assert _available(client, customer.id) == {"eur": 4000}
    assert _events_since(client, mark) == [
        "customer_cash_balance_transaction.created",
        "cash_balance.funds_available",
    ]

    mark = _last_event(client)
    _fund(client, customer.id, 6000)
    paid = client.v1.invoices.retrieve(invoice.id)
    assert (paid.status, paid.amount_paid, paid.amount_remaining) == ("paid", 10000, 0)
    assert paid.amount_overpaid == 0
    intent = _intent_of(client, invoice.id)
    assert (intent.status, intent.amount_received, intent.next_action) == ("succeeded", 10000, None)
    assert _available(client, customer.id) == {"eur": 0}
    assert _events_since(client, mark) == [
        "customer_cash_balance_transaction.created",  # funded
        "customer_cash_balance_transaction.created",  # applied_to_payment
        "charge.succeeded",
        "payment_intent.succeeded",
        "invoice_payment.paid",
        "invoice.paid",
        "invoice.payment_succeeded",
    ]
    txns = client.v1.customers.cash_balance_transactions.list(customer.id).data
    assert [(t.type, t.net_amount, t.ending_balance) for t in txns] == [
        ("applied_to_payment", -10000, 0),
        ("funded", 6000, 10000),
        ("funded", 4000, 4000),
    ]
    applied = txns[0].applied_to_payment
    assert applied is not None
    assert applied.payment_intent == intent.id
    again = client.v1.customers.cash_balance_transactions.retrieve(customer.id, txns[0].id)
    assert again.id == txns[0].id


def test_what_is_sent_beyond_the_invoice_stays_in_the_cash_balance(sandbox: Sandbox) -> None:
    client = sandbox.client
    customer = new_customer(client)
    invoice = _bank_invoice(client, customer.id, amount=10000)
    mark = _last_event(client)
    _fund(client, customer.id, 15000, reference=f"Payment for {invoice.number}")
    assert client.v1.invoices.retrieve(invoice.id).status == "paid"
    assert _available(client, customer.id) == {"eur": 5000}
    events = _events_since(client, mark)
    assert events[-1] == "cash_balance.funds_available"
    assert events.index("payment_intent.succeeded") < events.index("invoice.paid")


def test_the_reference_picks_the_invoice_before_the_oldest(
    stripe_client: stripe.StripeClient,
) -> None:
    customer = new_customer(stripe_client)
    older = _bank_invoice(stripe_client, customer.id, amount=10000)
    newer = _bank_invoice(stripe_client, customer.id, amount=10000)
    _fund(stripe_client, customer.id, 10000, reference=f"invoice {str(newer.number).lower()}")
    assert stripe_client.v1.invoices.retrieve(newer.id).status == "paid"
    assert stripe_client.v1.invoices.retrieve(older.id).status == "open"


def test_without_a_reference_the_exact_amount_then_the_oldest(
    stripe_client: stripe.StripeClient,
) -> None:
    customer = new_customer(stripe_client)
    first = _bank_invoice(stripe_client, customer.id, amount=5000)
    second = _bank_invoice(stripe_client, customer.id, amount=7000)
    third = _bank_invoice(stripe_client, customer.id, amount=3000)
    _fund(stripe_client, customer.id, 7000)  # exactly the second
    assert [stripe_client.v1.invoices.retrieve(i.id).status for i in (first, second, third)] == [
        "open", "paid", "open",
    ]  # fmt: skip
    _fund(stripe_client, customer.id, 6000)  # no group owes 6000: the oldest it can pay whole
    assert stripe_client.v1.invoices.retrieve(first.id).status == "paid"
    assert stripe_client.v1.invoices.retrieve(third.id).status == "open"
    assert _available(stripe_client, customer.id) == {"eur": 1000}


def test_money_already_there_pays_a_new_invoice_at_once(stripe_client: stripe.StripeClient) -> None:
    customer = new_customer(stripe_client)
    _fund(stripe_client, customer.id, 20000)
    invoice = _bank_invoice(stripe_client, customer.id, amount=12000)
    assert stripe_client.v1.invoices.retrieve(invoice.id).status == "paid"
    assert _available(stripe_client, customer.id) == {"eur": 8000}


def test_manual_reconciliation_waits_for_apply_customer_balance(
    stripe_client: stripe.StripeClient,
) -> None:
    customer = new_customer(stripe_client)
    balance = stripe_client.v1.customers.cash_balance.update(
        customer.id, {"settings": {"reconciliation_mode": "manual"}}
    )
    assert balance.settings.reconciliation_mode == "manual"
    assert balance.settings.using_merchant_default is False
    invoice = _bank_invoice(stripe_client, customer.id, amount=5000)
    _fund(stripe_client, customer.id, 3000, reference=invoice.number)
    _fund(stripe_client, customer.id, 3000, reference=invoice.number)
    assert stripe_client.v1.invoices.retrieve(invoice.id).status == "open"
    intent = _intent_of(stripe_client, invoice.id)
    applied = stripe_client.v1.payment_intents.apply_customer_balance(intent.id, {"amount": 100})
    # An invoice's PaymentIntent takes all it asks, whatever `amount` says.
    assert applied.status == "succeeded"
    assert applied.amount_received == 5000
    assert stripe_client.v1.invoices.retrieve(invoice.id).status == "paid"
    assert _available(stripe_client, customer.id) == {"eur": 1000}
    back = stripe_client.v1.customers.cash_balance.update(
        customer.id, {"settings": {"reconciliation_mode": "merchant_default"}}
    )
    assert back.settings.reconciliation_mode == "automatic"
    assert back.settings.using_merchant_default is True


def test_apply_customer_balance_refuses_more_than_there_is(
    stripe_client: stripe.StripeClient,
) -> None:
    customer = new_customer(
        stripe_client, cash_balance={"settings": {"reconciliation_mode": "manual"}}
    )
    invoice = _bank_invoice(stripe_client, customer.id, amount=5000)
    _fund(stripe_client, customer.id, 1000)
    with pytest.raises(stripe.InvalidRequestError) as refused:
        stripe_client.v1.payment_intents.apply_customer_balance(
            _intent_of(stripe_client, invoice.id).id
        )
    assert refused.value.http_status == 400
    assert stripe_client.v1.invoices.retrieve(invoice.id).status == "open"


def test_the_cash_balance_is_expandable_on_the_customer(stripe_client: stripe.StripeClient) -> None:
    customer = new_customer(stripe_client)
    assert "cash_balance" not in stripe_client.v1.customers.retrieve(customer.id).to_dict()
    assert _available(stripe_client, customer.id) == {}
    _fund(stripe_client, customer.id, 2500)
    expanded = stripe_client.v1.customers.retrieve(customer.id, {"expand": ["cash_balance"]})
    assert expanded.cash_balance is not None
    assert expanded.cash_balance.available is not None
    assert expanded.cash_balance.available.to_dict() == {"eur": 2500}
    assert expanded.cash_balance.settings.reconciliation_mode == "automatic"


def test_a_customer_with_a_cash_balance_cannot_be_deleted(
    stripe_client: stripe.StripeClient,
) -> None:
    customer = new_customer(stripe_client)
    _instructions(stripe_client, "DE", customer.id)
    with pytest.raises(stripe.InvalidRequestError):
        stripe_client.v1.customers.delete(customer.id)
    assert "deleted" not in stripe_client.v1.customers.retrieve(customer.id).to_dict()


def test_a_bank_transfer_payment_is_not_refunded(stripe_client: stripe.StripeClient) -> None:
    customer = new_customer(stripe_client)
    invoice = _bank_invoice(stripe_client, customer.id, amount=5000)
    _fund(stripe_client, customer.id, 5000)
    with pytest.raises(stripe.InvalidRequestError) as refused:
        stripe_client.v1.refunds.create(
            {"payment_intent": _intent_of(stripe_client, invoice.id).id}
        )
    assert "does not refund bank transfers" in str(refused.value.user_message)


def test_funding_needs_a_currency_the_account_takes_by_transfer(
    stripe_client: stripe.StripeClient,
) -> None:
    customer = new_customer(stripe_client)
    with pytest.raises(stripe.InvalidRequestError) as refused:
        stripe_client.v1.test_helpers.customers.fund_cash_balance(
            customer.id, {"amount": 1000, "currency": "gbp"}
        )
    assert refused.value.param == "currency"


# -- accounts in the UK ------------------------------------------------------------------------


@pytest.fixture(scope="module")
def british() -> Iterator[stripe.StripeClient]:
    config = SandboxConfig(webhook_retry_delays=FAST_RETRIES, account_country="GB")
    with serve_sandbox(config) as urls, sdk_client(urls.api) as client:
        yield client


def test_a_british_account_takes_pounds_by_sort_code(british: stripe.StripeClient) -> None:
    customer = new_customer(british)
    invoice = open_invoice(
        british, customer.id, 4000, currency="gbp",
        payment_settings={"payment_method_types": ["customer_balance"]},
    )  # fmt: skip
    shown = _intent_of(british, invoice.id).next_action
    assert shown is not None
    assert shown.display_bank_transfer_instructions is not None
    (address,) = shown.display_bank_transfer_instructions.financial_addresses or []
    assert address.type == "sort_code"
    assert address.sort_code is not None
    assert len(address.sort_code.account_number) == 8
    british.v1.test_helpers.customers.fund_cash_balance(
        customer.id, {"amount": 4000, "currency": "gbp"}
    )
    assert british.v1.invoices.retrieve(invoice.id).status == "paid"
