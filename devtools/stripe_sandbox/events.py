"""/v1/events: the record of every state change, newest first, filterable by type and time."""

from __future__ import annotations

import fnmatch

from stripe_sandbox.api import ApiRequest
from stripe_sandbox.listing import list_object, matches_range, newest_first
from stripe_sandbox.params import get_str, get_str_list
from stripe_sandbox.store import JSON


def list_events(call: ApiRequest) -> JSON:
    params = call.params
    event_type = get_str(params, "type")
    types = get_str_list(params, "types") or []
    patterns = ([event_type] if event_type else []) + types
    items = [
        event
        for event in call.store.values("events")
        # Stripe's `type` filter accepts `*` wildcards, e.g. `invoice.*`.
        if (not patterns or any(fnmatch.fnmatchcase(event["type"], p) for p in patterns))
        and matches_range(event["created"], params.get("created"), "created")
    ]
    return list_object(call.store, "events", newest_first(items), params, "/v1/events")


def retrieve_event(call: ApiRequest) -> JSON:
    event = call.store.require("events", call.path_id("event"), "event")
    return call.store.render("events", event)
