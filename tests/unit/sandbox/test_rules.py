"""Small pure rules of the sandbox: money, search queries, tax ID formats, test instruments,
PDF text fallbacks, webhook signatures."""

from __future__ import annotations

import io

import pypdf
import pytest
import stripe

from stripe_sandbox import instruments, money, pdf, search, tax_ids, webhooks
from stripe_sandbox.errors import StripeError


@pytest.mark.parametrize(
    ("amount", "currency", "code"),
    [(49, "eur", "amount_too_small"), (50, "eur", None), (29, "gbp", "amount_too_small"),
     (1499, "czk", "amount_too_small"), (1500, "czk", None), (0, "usd", "parameter_invalid"),
     (1005, "kwd", "parameter_invalid"), (1010, "kwd", None)],
)  # fmt: skip
def test_charge_amount_rules(amount: int, currency: str, code: str | None) -> None:
    error = money.charge_amount_error(amount, currency)
    assert (error.code if error else None) == code


def test_format_amount_respects_currency_exponent() -> None:
    assert money.format_amount(123456, "eur") == "1,234.56 EUR"
    assert money.format_amount(500, "jpy") == "500 JPY"
    assert money.format_amount(1230, "kwd") == "1.230 KWD"
    assert money.format_amount(-5, "usd") == "-0.05 USD"


FIELDS = frozenset({"email", "name", "status", "total"})


def _matches(query: str, obj: dict[str, object]) -> bool:
    return search.parse(query, FIELDS).matches(obj, search.default_getter)


def test_search_query_language() -> None:
    obj = {"email": "Anna@Example.com", "name": "Anna Nowak", "total": 500,
           "metadata": {"plan": "pro"}, "status": "open"}  # fmt: skip
    assert _matches("email:'anna@example.com'", obj)
    assert _matches("name~'nowa'", obj)
    assert _matches("metadata['plan']:'pro' AND total>=500", obj)
    assert _matches("status:'paid' OR status:'open'", obj)
    assert not _matches("-status:'open'", obj)
    assert not _matches("total<500", obj)
    assert _matches('name:"Anna Nowak"', obj)


@pytest.mark.parametrize(
    "query", ["", "email:", "unknown:'x'", "name~'ab'", "a:'1' AND", "email:'a' name:'b'",
              "email:'a' AND name:'b' OR status:'c'", "total:abc"],
)  # fmt: skip
def test_bad_search_queries_are_invalid_requests(query: str) -> None:
    with pytest.raises(StripeError):
        search.parse(query, FIELDS)


@pytest.mark.parametrize(
    ("tax_type", "value", "ok"),
    [("eu_vat", "DE123456789", True), ("eu_vat", "DE12345678", False),
     ("eu_vat", "PL1234567890", True), ("eu_vat", "XX123", False),
     ("eu_vat", "HR12345678901", True), ("gb_vat", "GB123456789", True),
     ("ch_vat", "CHE-123.456.789 MWST", True), ("no_vat", "123456789MVA", True),
     ("es_cif", "A12345678", True), ("hr_oib", "1234567890", False),
     ("us_ein", "12-3456789", True), ("au_abn", "12345678912", True)],
)  # fmt: skip
def test_tax_id_formats(tax_type: str, value: str, ok: bool) -> None:
    assert tax_ids.is_well_formed(tax_type, tax_ids.normalize(tax_type, value)) is ok


def test_tax_id_verification_values_follow_stripe() -> None:
    assert tax_ids.resolved_status("eu_vat", "DE000000000") == "verified"
    assert tax_ids.resolved_status("eu_vat", "DE111111111") == "unverified"
    assert tax_ids.resolved_status("eu_vat", "DE222222222") is None
    assert tax_ids.resolved_status("eu_vat", "DE333333333") == "unavailable"
    assert tax_ids.initial_status("hr_oib") == "unavailable"
    assert tax_ids.country_of("eu_vat", "EL123456789") == "GR"


def test_test_cards_and_ibans() -> None:
    visa = instruments.card_for_token("pm_card_visa")
    assert visa is not None
    assert visa.last4 == "4242"
    assert instruments.card_for_token("tok_visa") is visa
    assert instruments.card_for_token("pm_card_nope") is None
    assert instruments.iban_is_valid("DE89 3704 0044 0532 0130 00")
    assert not instruments.iban_is_valid("DE89370400440532013001")
    assert instruments.iban_outcome("AT861904300235473202") == "fail"
    assert instruments.iban_outcome("DE89370400440532013000") == "succeed"


def test_transliteration_for_core_fonts() -> None:
    assert pdf.transliterate("Łucja Kovačević, Žarko, Müller") == "Lucja Kovacevic, Zarko, Müller"


def _invoice() -> dict[str, object]:
    return {
        "number": "ABC-0001", "status": "open", "effective_at": 1700000000,
        "created": 1700000000, "due_date": 1700864000, "currency": "pln",
        "customer_name": "Łukasz Żółć", "customer_email": "l@example.com",
        "customer_address": {"line1": "Długa 1", "city": "Gdańsk", "postal_code": "80-001",
                             "country": "PL", "line2": None, "state": None},
        "customer_tax_ids": [{"type": "eu_vat", "value": "PL1234567890"}],
        "description": None, "subtotal": 20000, "total": 20000, "total_taxes": [],
        "amount_paid": 5000, "amount_remaining": 15000, "footer": None,
        "amounts_due": [{"amount": 5000, "amount_paid": 5000, "due_date": 1700000000,
                         "description": "Zaliczka", "status": "paid"},
                        {"amount": 15000, "amount_paid": 0, "due_date": 1700864000,
                         "description": "Reszta", "status": "open"}],
    }  # fmt: skip


LINES = [{"description": "Usługa", "quantity": 2, "amount": 20000,
          "pricing": {"unit_amount_decimal": "10000"}}]  # fmt: skip


def _text(content: bytes) -> str:
    return "".join(page.extract_text() for page in pypdf.PdfReader(io.BytesIO(content)).pages)


def test_pdf_with_unicode_font() -> None:
    text = _text(pdf.render_invoice(_invoice(), LINES, "Sandbox Ltd"))
    for expected in ("ABC-0001", "Łukasz Żółć", "Gdańsk", "Usługa", "200.00 PLN", "Zaliczka",
                     "150.00 PLN", "PL1234567890"):  # fmt: skip
        assert expected in text


def test_pdf_falls_back_to_core_font(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(pdf, "unicode_font", lambda: None)
    text = _text(pdf.render_invoice(_invoice(), LINES, "Sandbox Ltd"))
    assert "Lukasz Zólc" in text
    assert "200.00 PLN" in text


def test_webhook_signature_verifies_with_the_sdk() -> None:
    payload = b'{"id": "evt_1", "object": "event", "type": "x", "data": {"object": {}}}'
    header = webhooks.sign(payload, "whsec_abc")
    event = stripe.Webhook.construct_event(payload, header, "whsec_abc")
    assert event.id == "evt_1"
