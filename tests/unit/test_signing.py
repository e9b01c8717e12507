"""One purpose per use (portal.signing): nothing made for one passes for another."""

from __future__ import annotations

import hashlib

import pytest
from itsdangerous import BadSignature

from portal.signing import Purpose, digest, mac, same, serializer

SECRET = "s" * 40


def test_a_digest_is_the_tokens_sha256() -> None:
    assert digest("abc") == hashlib.sha256(b"abc").hexdigest()


def test_macs_of_one_value_differ_per_purpose_and_secret() -> None:
    values = {mac(SECRET, purpose, "browser-1") for purpose in Purpose}
    assert len(values) == len(Purpose)
    assert mac(SECRET, Purpose.CSRF, "browser-1") != mac("t" * 40, Purpose.CSRF, "browser-1")
    assert same(mac(SECRET, Purpose.CSRF, "x"), mac(SECRET, Purpose.CSRF, "x"))


def test_signed_data_of_one_purpose_is_refused_by_another() -> None:
    token = serializer(SECRET, Purpose.INVOICE_LINK).dumps({"invoice": "in_1"})
    assert serializer(SECRET, Purpose.INVOICE_LINK).loads(token) == {"invoice": "in_1"}
    with pytest.raises(BadSignature):
        serializer(SECRET, Purpose.CSRF).loads(token)


@pytest.mark.parametrize("sent", ["€", "a€", "\ud800", "\x00"])
def test_text_no_mac_holds_is_not_the_same_rather_than_an_error(sent: str) -> None:
    made = mac(SECRET, Purpose.CSRF, "browser-1")
    assert not same(sent, made)
    assert not same(made[:-1] + sent, made)
    assert same(made, mac(SECRET, Purpose.CSRF, "browser-1"))
