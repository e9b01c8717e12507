"""Sandbox-only control endpoints under /_sandbox/ (not Stripe's API; no API key needed).

Request counts and the latest requests for benchmarks, injected faults for "Stripe is down"
tests, the sandbox clock, latency, rate limits, many objects at once for the bench (`bulk`),
webhook delivery state, a refund's answer from the bank now rather than after the settlement
delay, restricted API keys and the account's settings (which Stripe's Dashboard makes, not its
/v1 API), and a full reset.
"""

from __future__ import annotations

import dataclasses
import json
import time
from collections.abc import Awaitable, Callable
from typing import Any

from starlette.requests import Request
from starlette.responses import JSONResponse, Response

from stripe_sandbox import account_tax_ids, bulk, permissions, refunds, webhooks
from stripe_sandbox.errors import StripeError
from stripe_sandbox.store import Fault, Store
from stripe_sandbox.webhooks import WebhookDispatcher

Control = Callable[[Request], Awaitable[Response]]


async def _body(request: Request) -> dict[str, Any]:
    raw = await request.body()
    if not raw:
        return {}
    if request.headers.get("content-type", "").startswith("application/x-www-form-urlencoded"):
        return {key: value for key, value in (await request.form()).items()}
    value = json.loads(raw)
    return value if isinstance(value, dict) else {}


def _bad(message: str, status: int = 400) -> JSONResponse:
    return JSONResponse({"error": {"type": "invalid_request_error", "message": message}}, status)


def _int(body: dict[str, Any], key: str) -> int | None:
    value = body.get(key)
    if value is None:
        return None
    return int(value)


def routes(
    store: Store, dispatcher: WebhookDispatcher, api: bulk.Handlers
) -> dict[str, tuple[str, Control]]:
    """Path -> (method, handler), turned into Starlette routes by app.py; `api` are the /v1
    handlers behind their parameter checks, which `bulk` makes its objects with."""

    async def healthz(request: Request) -> Response:
        return JSONResponse({"ok": True, "now": store.now()})

    async def stats(request: Request) -> Response:
        return JSONResponse(
            {"requests": sum(store.stats.values()), "by_endpoint": dict(store.stats)}
        )

    async def reset_stats(request: Request) -> Response:
        store.stats.clear()
        store.requests.clear()
        return JSONResponse({"requests": 0, "by_endpoint": {}})

    async def requests(request: Request) -> Response:
        return JSONResponse(
            {
                "requests": [
                    {"method": method, "path": path, "stripe_version": version}
                    for method, path, version in store.requests
                ]
            }
        )

    async def faults(request: Request) -> Response:
        body = await _body(request)
        try:
            status = _int(body, "status") or 500
            count = _int(body, "count") or 1
        except ValueError:
            return _bad("status and count must be integers")
        if not 400 <= status <= 599:
            return _bad("status must be an HTTP error status (400-599)")
        match = body.get("match")
        store.faults.append(Fault(status, count, str(match) if match else None))
        return JSONResponse({"faults": [f.__dict__ for f in store.faults if f.remaining > 0]})

    async def clear_faults(request: Request) -> Response:
        store.faults.clear()
        return JSONResponse({"faults": []})

    async def clock(request: Request) -> Response:
        if request.method == "POST":
            body = await _body(request)
            async with store.lock:
                try:
                    if "now" in body:
                        store.clock_offset = float(body["now"]) - time.time()
                    elif "advance" in body:
                        store.clock_offset += float(body["advance"])
                    elif body.get("reset"):
                        store.clock_offset = 0.0
                    else:
                        return _bad('send {"now": unix}, {"advance": seconds} or {"reset": true}')
                except (TypeError, ValueError):
                    return _bad("now/advance must be numbers")
                # What fell due on the way (a draft's scheduled finalization) happens now.
                store.run_due()
        return JSONResponse({"now": store.now(), "offset": store.clock_offset})

    async def make_in_bulk(request: Request) -> Response:
        body = await _body(request)
        async with store.lock:
            try:
                made = bulk.make(store, api, body, str(request.base_url))
            except StripeError as error:
                return JSONResponse(error.body(), error.status)
        return JSONResponse(made)

    async def latency(request: Request) -> Response:
        body = await _body(request)
        try:
            store.latency_ms = max(0, _int(body, "ms") or 0)
        except ValueError:
            return _bad("ms must be an integer")
        return JSONResponse({"ms": store.latency_ms})

    async def rate_limit(request: Request) -> Response:
        if request.method == "POST":
            body = await _body(request)
            try:
                if "per_second" in body:
                    value = body["per_second"]
                    store.rate_limit = None if value in (None, "", 0) else float(value)
                if "search_per_second" in body:
                    store.search_rate_limit = float(body["search_per_second"])
            except (TypeError, ValueError):
                return _bad("per_second / search_per_second must be numbers (or null: no limit)")
            store.recent_requests.clear()
            store.recent_searches.clear()
        return JSONResponse(
            {"per_second": store.rate_limit, "search_per_second": store.search_rate_limit}
        )

    async def pending(request: Request) -> Response:
        wait = float(request.query_params.get("wait", "0") or 0)
        if wait > 0:
            await dispatcher.wait_idle(min(wait, 60.0))
        return JSONResponse({"pending": dispatcher.pending})

    async def deliveries(request: Request) -> Response:
        event = request.query_params.get("event")
        event_type = request.query_params.get("type")
        data = [
            entry
            for entry in dispatcher.log
            if (event is None or entry["event"] == event)
            and (event_type is None or entry["type"] == event_type)
        ]
        return JSONResponse({"data": data, "pending": dispatcher.pending})

    async def webhook_config(request: Request) -> Response:
        return JSONResponse(webhooks.describe(store, dispatcher))

    async def make_key(request: Request) -> Response:
        try:
            body = await _body(request)
            levels = permissions.parse_grants(body.get("permissions"))
        except (ValueError, permissions.InvalidGrant) as error:
            return _bad(str(error))
        key = permissions.new_key(store.account_id, levels)
        store.restricted_keys[key.key] = key
        return JSONResponse({"key": key.key, "permissions": dict(key.levels)})

    async def move_refund(request: Request) -> Response:
        body = await _body(request)
        status, reason = body.get("status"), body.get("failure_reason")
        if status not in ("succeeded", "failed", "canceled"):
            return _bad('send {"status": "succeeded"|"failed"|"canceled", "failure_reason": …}')
        if reason is not None and not isinstance(reason, str):
            return _bad("failure_reason must be a string")
        async with store.lock:
            refund = store.get("refunds", request.path_params["refund"])
            if refund is None:
                return _bad(f"No such refund: '{request.path_params['refund']}'", 404)
            refused = refunds.refusal(refund, status, reason)
            if refused is not None:
                return _bad(refused.message)
            refunds.move(store, refund, status, reason)
            store.run_deferred()
            return JSONResponse(store.render("refunds", refund))

    async def account(request: Request) -> Response:
        if request.method == "POST":
            body = await _body(request)
            async with store.lock:
                refused = _change_account(store, body)
                if refused is not None:
                    return _bad(refused)
        return JSONResponse(dataclasses.asdict(store.account_settings))

    async def reset(request: Request) -> Response:
        async with store.lock:
            store.reset()
            dispatcher.install_configured()
        return JSONResponse({"ok": True})

    return {
        "/_sandbox/healthz": ("GET", healthz),
        "/_sandbox/stats": ("GET", stats),
        "/_sandbox/stats/reset": ("POST", reset_stats),
        "/_sandbox/requests": ("GET", requests),
        "/_sandbox/faults": ("POST", faults),
        "/_sandbox/faults/clear": ("POST", clear_faults),
        "/_sandbox/clock": ("GET,POST", clock),
        "/_sandbox/latency": ("POST", latency),
        "/_sandbox/bulk": ("POST", make_in_bulk),
        "/_sandbox/rate_limit": ("GET,POST", rate_limit),
        "/_sandbox/webhooks/pending": ("GET", pending),
        "/_sandbox/webhooks/deliveries": ("GET", deliveries),
        "/_sandbox/webhooks/config": ("GET", webhook_config),
        "/_sandbox/refunds/{refund}": ("POST", move_refund),
        "/_sandbox/keys": ("POST", make_key),
        "/_sandbox/account": ("GET,POST", account),
        "/_sandbox/reset": ("POST", reset),
    }


def _change_account(store: Store, body: dict[str, Any]) -> str | None:
    """Apply what the Dashboard would set; the reason for refusing, or None (nothing changed)."""
    settings = store.account_settings
    name = body.get("name", settings.name)
    if not isinstance(name, str) or not name.strip():
        return "name must be a non-empty string"
    defaults = body.get("default_account_tax_ids", settings.default_account_tax_ids)
    if not isinstance(defaults, list) or not all(isinstance(d, str) for d in defaults):
        return "default_account_tax_ids must be a list of tax ID ids"
    for tax_id in defaults:
        found = store.get("tax_ids", tax_id)
        if found is None or not account_tax_ids.is_account_tax_id(found):
            return f"No such account tax ID: '{tax_id}'"
    emails = body.get("email_successful_payments", settings.email_successful_payments)
    if not isinstance(emails, bool):
        return "email_successful_payments must be true or false"
    team = body.get("team_emails", list(settings.team_emails))
    if not isinstance(team, list) or not all(isinstance(t, str) for t in team):
        return "team_emails must be a list of e-mail addresses"
    settings.name = name
    settings.default_account_tax_ids = list(dict.fromkeys(defaults))
    settings.email_successful_payments = emails
    settings.team_emails = tuple(team)
    return None
