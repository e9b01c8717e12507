"""Webhook endpoints (/v1/webhook_endpoints) and the delivery of events to them.

Each event goes to every enabled endpoint whose `enabled_events` match (`*` matches all). The
endpoint configured from outside (`SandboxConfig.webhook_url`, the CLI's --webhook-url) is one of
them from the start, with `*` and the configured secret, and can be changed, disabled or deleted
through the API like any other. Delivery runs in the background, never delaying the API
response, one queue per endpoint so events arrive in order; a non-2xx answer or a connection
error is retried after each of `webhook_retry_delays`, to the endpoint's URL at that moment, and
not at all once it is disabled or deleted. Bodies are signed as Stripe signs them:
`Stripe-Signature: t=<unix>,v1=<HMAC-SHA256 of "{t}.{body}">` with the endpoint's own secret, so
`stripe.Webhook.construct_event` accepts them.
"""

from __future__ import annotations

import asyncio
import contextlib
import hashlib
import hmac
import json
import logging
import time
from dataclasses import dataclass, field
from urllib.parse import urlsplit

import httpx

from stripe_sandbox import ids
from stripe_sandbox.api import ApiRequest
from stripe_sandbox.errors import cannot_unset, invalid_request, missing_param
from stripe_sandbox.listing import list_object, newest_first
from stripe_sandbox.params import Params, apply_metadata, get_bool, get_str, get_str_list
from stripe_sandbox.store import JSON, Store

log = logging.getLogger(__name__)

MAX_LOG = 2000
# "You can register up to 16 webhook endpoints" (https://docs.stripe.com/webhooks).
MAX_ENDPOINTS = 16


def sign(payload: bytes, secret: str, timestamp: int | None = None) -> str:
    """The `Stripe-Signature` header value for `payload`."""
    t = int(time.time()) if timestamp is None else timestamp
    signed = f"{t}.".encode() + payload
    digest = hmac.new(secret.encode(), signed, hashlib.sha256).hexdigest()
    return f"t={t},v1={digest}"


@dataclass
class _Delivery:
    endpoint: str
    event_id: str
    event_type: str
    payload: bytes


@dataclass
class WebhookDispatcher:
    store: Store
    configured_secret: str
    # The id of the endpoint made from SandboxConfig.webhook_url (None without one).
    configured_endpoint: str | None = None
    queues: dict[str, asyncio.Queue[_Delivery]] = field(default_factory=dict)
    workers: dict[str, asyncio.Task[None]] = field(default_factory=dict)
    log: list[JSON] = field(default_factory=list)
    pending: int = 0
    idle: asyncio.Event = field(default_factory=asyncio.Event)
    client: httpx.AsyncClient | None = None

    def __post_init__(self) -> None:
        self.idle.set()
        self.store.event_listeners.append(self.on_event)
        self.install_configured()

    def install_configured(self) -> None:
        """The configured webhook URL as a registered endpoint (at start, and after a reset)."""
        url = self.store.config.webhook_url
        self.configured_endpoint = None
        if url:
            endpoint = _new_endpoint(self.store, url, ["*"], self.configured_secret)
            self.configured_endpoint = endpoint["id"]

    def _targets(self, event_type: str) -> list[str]:
        return [
            endpoint["id"]
            for endpoint in self.store.values("webhook_endpoints")
            if _receives(self.store, endpoint, event_type)
        ]

    def on_event(self, event: JSON) -> None:
        targets = self._targets(event["type"])
        if not targets:
            return
        event["pending_webhooks"] = len(targets)
        payload = json.dumps(event, indent=2).encode()
        for endpoint in targets:
            delivery = _Delivery(endpoint, event["id"], event["type"], payload)
            self._queue(endpoint).put_nowait(delivery)
            self.pending += 1
            self.idle.clear()

    def _queue(self, endpoint: str) -> asyncio.Queue[_Delivery]:
        queue = self.queues.get(endpoint)
        if queue is None:
            queue = self.queues[endpoint] = asyncio.Queue()
        worker = self.workers.get(endpoint)
        if worker is None or worker.done():
            self.workers[endpoint] = asyncio.get_running_loop().create_task(
                self._work(queue), name=f"sandbox-webhooks-{endpoint}"
            )
        return queue

    async def _work(self, queue: asyncio.Queue[_Delivery]) -> None:
        while True:
            delivery = await queue.get()
            try:
                await self._deliver(delivery)
            except Exception:  # a broken delivery must not stop the endpoint's queue
                log.exception("webhook delivery failed")
            finally:
                self.pending -= 1
                event = self.store.get("events", delivery.event_id)
                if event is not None:
                    event["pending_webhooks"] = max(0, event["pending_webhooks"] - 1)
                if self.pending == 0:
                    self.idle.set()
                queue.task_done()

    async def _deliver(self, delivery: _Delivery) -> None:
        delays = self.store.config.webhook_retry_delays
        for attempt in range(1, len(delays) + 2):
            endpoint = self.store.get("webhook_endpoints", delivery.endpoint)
            if endpoint is None or endpoint["status"] != "enabled":
                return
            url, secret = endpoint["url"], self.store.secret(endpoint["id"])["secret"]
            status, error = await self._attempt(url, secret, delivery.payload)
            succeeded = status is not None and 200 <= status < 300
            self._record(delivery, url, attempt, status, error, succeeded)
            if succeeded or attempt > len(delays):
                return
            await asyncio.sleep(delays[attempt - 1])

    async def _attempt(
        self, url: str, secret: str, payload: bytes
    ) -> tuple[int | None, str | None]:
        if self.client is None:
            self.client = httpx.AsyncClient(timeout=self.store.config.webhook_timeout_s)
        headers = {
            "Content-Type": "application/json; charset=utf-8",
            "Stripe-Signature": sign(payload, secret),
            "User-Agent": "Stripe/1.0 (+https://stripe.com/docs/webhooks)",
        }
        try:
            response = await self.client.post(url, content=payload, headers=headers)
        except httpx.HTTPError as error:
            return None, f"{type(error).__name__}: {error}"
        return response.status_code, None

    def _record(
        self,
        delivery: _Delivery,
        url: str,
        attempt: int,
        status: int | None,
        error: str | None,
        ok: bool,
    ) -> None:
        self.log.append(
            {
                "id": ids.new_id("whdel"),
                "event": delivery.event_id,
                "type": delivery.event_type,
                "endpoint": delivery.endpoint,
                "url": url,
                "attempt": attempt,
                "status": status,
                "error": error,
                "succeeded": ok,
                "created": time.time(),
            }
        )
        del self.log[:-MAX_LOG]

    async def wait_idle(self, seconds: float) -> bool:
        with contextlib.suppress(TimeoutError):
            await asyncio.wait_for(self.idle.wait(), seconds)
        return self.pending == 0

    async def close(self) -> None:
        for worker in self.workers.values():
            worker.cancel()
        for worker in self.workers.values():
            with contextlib.suppress(asyncio.CancelledError, Exception):
                await worker
        self.workers.clear()
        if self.client is not None:
            await self.client.aclose()
            self.client = None


# -- /v1/webhook_endpoints ---------------------------------------------------------------------


def _receives(store: Store, endpoint: JSON, event_type: str) -> bool:
    # A Connect endpoint hears only connected accounts' events; the sandbox has none.
    if endpoint["status"] != "enabled" or store.secret(endpoint["id"]).get("connect"):
        return False
    events = endpoint["enabled_events"]
    return "*" in events or event_type in events


def _new_endpoint(
    store: Store,
    url: str,
    events: list[str],
    secret: str,
    *,
    api_version: str | None = None,
    description: str | None = None,
    connect: bool = False,
) -> JSON:
    endpoint: JSON = {
        "id": ids.new_id("we"),
        "object": "webhook_endpoint",
        "api_version": api_version,
        "application": None,
        "created": store.now(),
        "description": description,
        "enabled_events": events,
        "livemode": False,
        "metadata": {},
        "status": "enabled",
        "url": url,
    }
    store.secret(endpoint["id"]).update(secret=secret, connect=connect)
    return store.insert("webhook_endpoints", endpoint)


def _url(params: Params) -> str | None:
    """The `url` sent (None when absent), refused as Stripe refuses it."""
    if "url" not in params:
        return None
    url = get_str(params, "url")
    if url is None:
        raise cannot_unset("url")
    if "://" not in url:
        raise invalid_request(
            "Invalid URL: An explicit scheme (such as https) must be provided.",
            param="url",
            code="url_invalid",
        )
    parts = urlsplit(url)
    if parts.scheme not in ("http", "https") or not parts.hostname:
        raise invalid_request("Invalid URL: Not a valid URL", param="url", code="url_invalid")
    return url


def _enabled_events(params: Params) -> list[str] | None:
    """The `enabled_events` sent (None when absent); schema.py has already refused any value
    that is not `*` or one of the SDK's event types, as an enum."""
    if "enabled_events" not in params:
        return None
    events = get_str_list(params, "enabled_events")
    if not events:
        raise cannot_unset("enabled_events")
    return events


def create_endpoint(call: ApiRequest) -> JSON:
    store, params = call.store, call.params
    url = _url(params)
    if url is None:
        raise missing_param("url")
    events = _enabled_events(params)
    if events is None:
        raise missing_param("enabled_events")
    if len(store.table("webhook_endpoints")) >= MAX_ENDPOINTS:
        raise invalid_request(
            f"You have reached the maximum of {MAX_ENDPOINTS} test webhook endpoints."
        )
    secret = ids.webhook_secret()
    endpoint = _new_endpoint(
        store,
        url,
        events,
        secret,
        api_version=get_str(params, "api_version"),
        description=get_str(params, "description"),
        connect=bool(get_bool(params, "connect", False)),
    )
    apply_metadata(endpoint, params)
    # Stripe shows the signing secret only in the response to the create call.
    return {**store.render("webhook_endpoints", endpoint), "secret": secret}


def retrieve_endpoint(call: ApiRequest) -> JSON:
    endpoint = call.store.require("webhook_endpoints", call.path_id("endpoint"), "webhook_endpoint")
    return call.store.render("webhook_endpoints", endpoint)


def update_endpoint(call: ApiRequest) -> JSON:
    store, params = call.store, call.params
    endpoint = store.require("webhook_endpoints", call.path_id("endpoint"), "webhook_endpoint")
    url = _url(params)
    events = _enabled_events(params)
    disabled = get_bool(params, "disabled")
    if url is not None:
        endpoint["url"] = url
    if events is not None:
        endpoint["enabled_events"] = events
    if "description" in params:
        endpoint["description"] = get_str(params, "description")
    if disabled is not None:
        endpoint["status"] = "disabled" if disabled else "enabled"
    apply_metadata(endpoint, params)
    return store.render("webhook_endpoints", endpoint)


def delete_endpoint(call: ApiRequest) -> JSON:
    store = call.store
    endpoint = store.require("webhook_endpoints", call.path_id("endpoint"), "webhook_endpoint")
    store.remove("webhook_endpoints", endpoint["id"])
    store.private.pop(endpoint["id"], None)
    return {"id": endpoint["id"], "object": "webhook_endpoint", "deleted": True}


def list_endpoints(call: ApiRequest) -> JSON:
    items = newest_first(call.store.values("webhook_endpoints"))
    return list_object(call.store, "webhook_endpoints", items, call.params, "/v1/webhook_endpoints")


def describe(store: Store, dispatcher: WebhookDispatcher) -> JSON:
    """What GET /_sandbox/webhooks/config answers: the configured URL and secret as given at
    start, the endpoint made from them (null once deleted), and every endpoint with its secret."""
    configured = dispatcher.configured_endpoint
    endpoints = store.values("webhook_endpoints")
    return {
        "url": store.config.webhook_url,
        "secret": dispatcher.configured_secret,
        "endpoint": configured if store.get("webhook_endpoints", configured or "") else None,
        "endpoints": [
            {
                "id": endpoint["id"],
                "url": endpoint["url"],
                "status": endpoint["status"],
                "enabled_events": endpoint["enabled_events"],
                "secret": store.secret(endpoint["id"])["secret"],
            }
            for endpoint in endpoints
        ],
    }
