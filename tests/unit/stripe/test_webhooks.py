"""A verified webhook body read as an event (`portal.stripe.webhooks.event_from_body`): Stripe's
shape is read, anything else in its place is refused with ValueError, before it is recorded."""

from __future__ import annotations

import copy
import json
from datetime import UTC, datetime
from typing import Any

import pytest

from portal.stripe.webhooks import event_from_body
from tests.unit.stripe.test_convert import EXAMPLES

WELL_FORMED: dict[str, Any] = {
    "id": "evt_1",
    "object": "event",
    "type": "invoice.paid",
    "created": 1_700_000_000,
    "livemode": False,
    "data": {"object": {"id": "in_1", "object": "invoice", "customer": "cus_1"}},
}


def body(**changes: Any) -> bytes:
    """The well-formed event with `changes` (`data__object__id=5` sets data.object.id; the
    value `...` removes the field), as Stripe would send it."""
    event = copy.deepcopy(WELL_FORMED)
    for path, value in changes.items():
        *parents, last = path.split("__")
        place = event
        for name in parents:
            place = place[name]
        if value is ...:
            del place[last]
        else:
            place[last] = value
    return json.dumps(event).encode()


# Signed, and still not an event to act on: each (name, body).
MALFORMED: list[tuple[str, bytes]] = [
    ("100,000 nested lists", b"[" * 100_000 + b"]" * 100_000),
    ("100,000 unclosed lists", b"[" * 100_000),
    ("50,000 nested objects", b'{"a":' * 50_000 + b"1" + b"}" * 50_000),
    ("not JSON", b"{"),
    ("a list", b"[]"),
    ("a string", b'"an event"'),
    ("null", b"null"),
    ("a thin event", body(object="v2.core.event")),
    ("no object", body(object=...)),
    ("an id that is a number", body(id=5)),
    ("an id that is a list", body(id=["evt_1"])),
    ("no id", body(id=...)),
    ("an empty id", body(id="")),
    ("an id with a space", body(id="evt 1")),
    ("an id with a NUL", body(id="evt_\x00")),
    ("an id with a lone surrogate", body(id="evt_\ud800")),
    ("an id longer than its column", body(id="evt_" + "x" * 252)),
    ("a type that is a number", body(type=7)),
    ("no type", body(type=...)),
    ("created 1e300", body(created=1e300)),
    ("created beyond year 9999", body(created=10**20)),
    ("created before 1970", body(created=-1)),
    ("created as a string", body(created="1700000000")),
    ("created as a boolean", body(created=True)),
    ("created as a fraction", body(created=1.5)),
    ("created NaN", body(created=float("nan"))),
    ("no created", body(created=...)),
    ("livemode as a string", body(livemode="false")),
    ("no livemode", body(livemode=...)),
    ("no data", body(data=...)),
    ("data a number", body(data=7)),
    ("no data.object", body(data={})),
    ("data.object a list", body(data__object=[])),
    ("data.object null", body(data__object=None)),
    ("data.object.id a number", body(data__object__id=5)),
    ("data.object.id a list", body(data__object__id=["in_1"])),
    ("data.object.id an object", body(data__object__id={"id": "in_1"})),
    ("data.object.object a number", body(data__object__object=5)),
    ("data.object.customer a number", body(data__object__customer=5)),
    ("data.object.customer expanded without an id", body(data__object__customer={})),
    ("data.object.customer expanded with a numeric id", body(data__object__customer={"id": 5})),
    ("data.previous_attributes a list", body(data__previous_attributes=[])),
    (
        "data.previous_attributes.customer a number",
        body(data__object__customer=None, data__previous_attributes={"customer": 5}),
    ),
]


def test_stripes_example_event_is_read() -> None:
    example = EXAMPLES["event"]
    event = event_from_body(json.dumps(example).encode())
    assert event.id == example["id"]
    assert event.type == example["type"]
    assert event.object_type == example["data"]["object"]["object"]
    assert event.object_id == example["data"]["object"]["id"]
    assert event.customer_id is None
    assert event.created == datetime.fromtimestamp(example["created"], UTC)


@pytest.mark.parametrize(
    ("changes", "customer"),
    [
        ({}, "cus_1"),
        ({"data__object__customer": {"id": "cus_2", "object": "customer"}}, "cus_2"),
        ({"data__object": {"id": "cus_3", "object": "customer"}}, "cus_3"),
        # A detached payment method names its customer only as it was.
        (
            {
                "data__object": {"id": "pm_1", "object": "payment_method", "customer": None},
                "data__previous_attributes": {"customer": "cus_4"},
            },
            "cus_4",
        ),
        ({"data__object__customer": None}, None),
        ({"data__object__customer": None, "data__previous_attributes": None}, None),
    ],
)
def test_the_customer_is_read_wherever_stripe_names_it(
    changes: dict[str, Any], customer: str | None
) -> None:
    assert event_from_body(body(**changes)).customer_id == customer


def test_an_object_without_an_id_is_read_as_none() -> None:
    event = event_from_body(body(data__object={"object": "balance"}))
    assert (event.object_id, event.object_type) == (None, "balance")


def test_the_edges_of_time_are_read() -> None:
    assert event_from_body(body(created=0)).created == datetime(1970, 1, 1, tzinfo=UTC)
    last = event_from_body(body(created=253_402_300_799)).created
    assert last == datetime(9999, 12, 31, 23, 59, 59, tzinfo=UTC)


@pytest.mark.parametrize("case", MALFORMED, ids=[name for name, _body in MALFORMED])
def test_a_body_that_is_not_a_well_formed_event_is_refused(case: tuple[str, bytes]) -> None:
    _name, malformed = case
    with pytest.raises(ValueError, match=r"."):
        event_from_body(malformed)


def test_the_event_each_malformed_body_changes_is_read() -> None:
    # So that each body of the table is refused for its own change.
    event = event_from_body(body())
    assert (event.id, event.type, event.object_id, event.customer_id) == (
        "evt_1",
        "invoice.paid",
        "in_1",
        "cus_1",
    )
