"""The EPC QR code's content, checked line by line against EPC069-12 and against segno's own
implementation of the standard (a second reading of it, not ours)."""

from __future__ import annotations

from decimal import Decimal

import pytest
import segno.helpers

from portal.billing.transfers import Transfer, epc_payload, qr_svg
from portal.formatting import format_plain_amount, grouped_iban

TRANSFER = Transfer(
    account_holder="Sandbox Billing Ltd",
    iban="DE89 3704 0044 0532 0130 00",
    bic="COBADEFFXXX",
    reference="X7GE4VR2LM",
    amount=123450,
    currency="eur",
)


def test_the_payload_is_the_standards_eleven_lines() -> None:
    assert epc_payload(TRANSFER) == (
        "BCD\n002\n1\nSCT\nCOBADEFFXXX\nSandbox Billing Ltd\nDE89370400440532013000\n"
        "EUR1234.5\n\n\nX7GE4VR2LM"
    )


@pytest.mark.parametrize(("cents", "bic"), [(123450, "COBADEFFXXX"), (100, None), (1, None)])
def test_the_payload_is_what_segno_makes_of_the_same_transfer(cents: int, bic: str | None) -> None:
    transfer = Transfer("Sandbox Billing Ltd", TRANSFER.iban, bic, "X7GE4VR2LM", cents, "eur")
    theirs = segno.helpers._make_epc_qr_data(  # type: ignore[attr-defined]
        "Sandbox Billing Ltd",
        "DE89370400440532013000",
        Decimal(cents) / 100,
        "X7GE4VR2LM",
        None,
        bic,
        None,
        "utf-8",
    )
    assert epc_payload(transfer) == theirs.decode()


@pytest.mark.parametrize(
    "changed",
    [
        {"currency": "gbp"},  # the standard carries euros only
        {"amount": 0},
        {"amount": 100_000_000_000},  # above 999,999,999.99 euros
        {"account_holder": "x" * 71},
        {"reference": "r" * 141},
    ],
)
def test_what_the_standard_cannot_carry_gets_no_code(changed: dict[str, object]) -> None:
    values = {**TRANSFER.__dict__, **changed}
    assert epc_payload(Transfer(**values)) is None  # type: ignore[arg-type]


def test_the_code_is_an_svg_with_its_text_alternative_and_within_version_13() -> None:
    payload = epc_payload(TRANSFER)
    assert payload is not None
    svg = str(qr_svg(payload, title="QR code for your banking app"))
    assert svg.startswith('<svg role="img" viewBox="0 0 ')
    assert "<title>QR code for your banking app</title>" in svg
    assert segno.make_qr(payload, error="m", boost_error=False).version <= 13


def test_an_iban_is_shown_in_groups_of_four() -> None:
    assert grouped_iban("de89370400440532013000") == "DE89 3704 0044 0532 0130 00"


@pytest.mark.parametrize(
    ("locale", "cents", "currency", "shown"),
    [("de", 123450, "eur", "1234,50"), ("en", 123450, "eur", "1234.50"), ("pl", 5, "pln", "0,05")],
)
def test_the_amount_to_copy_is_what_a_transfer_form_takes(
    locale: str, cents: int, currency: str, shown: str
) -> None:
    assert format_plain_amount(cents, currency, locale) == shown
