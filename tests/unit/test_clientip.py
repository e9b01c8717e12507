"""Which address a request is counted under (portal.clientip)."""

from __future__ import annotations

import pytest

from portal.clientip import client_address


@pytest.mark.parametrize(
    ("value", "expected"),
    [
        ("203.0.113.7", "203.0.113.7"),
        ("1.2.3.4, 203.0.113.7", "203.0.113.7"),  # the left entry is the client's own claim
        ("evil, 1.2.3.4,203.0.113.7 ", "203.0.113.7"),
        ("2001:db8::1", "2001:db8::1"),
        ("1.2.3.4, not-an-ip", None),
        ("", None),
    ],
)
def test_x_forwarded_for_is_read_from_the_right(value: str, expected: str | None) -> None:
    assert client_address("x-forwarded-for", value) == expected


def test_a_proxys_own_header_is_taken_whole() -> None:
    assert client_address("fly-client-ip", " 198.51.100.2 ") == "198.51.100.2"
    assert client_address("fly-client-ip", "198.51.100.2, 1.2.3.4") is None
