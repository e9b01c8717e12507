"""Webhook endpoints (/v1/webhook_endpoints) and the delivery of events to them.

Each event goes to the endpoint configured from outside (`SandboxConfig.webhook_url`) and to every
registered endpoint whose `enabled_events` match (`*` matches all). Delivery runs in the
background, never delaying the API response, one queue per endpoint so events arrive in order;
a non-2xx answer or a connection error is retried after each of `webhook_retry_delays`.
Bodies are signed as Stripe signs them: `Stripe-Signature: t=<unix>,v1=<HMAC-SHA256 of
"{t}.{body}">`, so `stripe.Webhook.construct_event` accepts them.
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

import httpx

from stripe_sandbox import ids
from stripe_sandbox.api import ApiRequest
from stripe_sandbox.errors import invalid_request, missing_param
from stripe_sandbox.listing import list_object, newest_first
from stripe_sandbox.params import apply_metadata, get_bool, get_str, get_str_list, require_str
from stripe_sandbox.store import JSON, Store

log = logging.getLogger(__name__)

CONFIGURED = "configured"  # the key of the endpoint from SandboxConfig.webhook_url
MAX_LOG = 2000


def sign(payload: bytes, secret: str, timestamp: int | None = None) -> str:
    """The `Stripe-Signature` header value for `payload`."""
    t = int(time.time()) if timestamp is None else timestamp
    signed = f"{t}.".encode() + payload
    digest = hmac.new(secret.encode(), signed, hashlib.sha256).hexdigest()
    return f"t={t},v1={digest}"


@dataclass
class _Delivery:
    endpoint: str
    url: str
    secret: str
    event_id: str
    event_type: str
    payload: bytes


@dataclass
class WebhookDispatcher:
    store: Store
    configured_secret: str
    queues: dict[str, asyncio.Queue[_Delivery]] = field(default_factory=dict)
    workers: dict[str, asyncio.Task[None]] = field(default_factory=dict)
    log: list[JSON] = field(default_factory=list)
    pending: int = 0
    idle: asyncio.Event = field(default_factory=asyncio.Event)
    client: httpx.AsyncClient | None = None

    def __post_init__(self) -> None:
        self.idle.set()
        self.store.event_listeners.append(self.on_event)

    def _targets(self, event_type: str) -> list[tuple[str, str, str]]:
        targets = []
        config = self.store.config
        if config.webhook_url:
            targets.append((CONFIGURED, config.webhook_url, self.configured_secret))
        for endpoint in self.store.values("webhook_endpoints"):
            events = endpoint["enabled_events"]
            if endpoint["status"] == "enabled" and ("*" in events or event_type in events):
                secret = self.store.secret(endpoint["id"])["secret"]
                targets.append((endpoint["id"], endpoint["url"], secret))
        return targets

    def on_event(self, event: JSON) -> None:
        targets = self._targets(event["type"])
        if not targets:
            return
        event["pending_webhooks"] = len(targets)
        payload = json.dumps(event, indent=2).encode()
        for endpoint, url, secret in targets:
            delivery = _Delivery(endpoint, url, secret, event["id"], event["type"], payload)
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
            status, error = await self._attempt(delivery)
            succeeded = status is not None and 200 <= status < 300
            self._record(delivery, attempt, status, error, succeeded)
            if succeeded or attempt > len(delays):
                return
            await asyncio.sleep(delays[attempt - 1])

    async def _attempt(self, delivery: _Delivery) -> tuple[int | None, str | None]:
        if self.client is None:
            self.client = httpx.AsyncClient(timeout=self.store.config.webhook_timeout_s)
        headers = {
            "Content-Type": "application/json; charset=utf-8",
            "Stripe-Signature": sign(delivery.payload, delivery.secret),
            "User-Agent": "Stripe/1.0 (+https://stripe.com/docs/webhooks)",
        }
        try:
            response = await self.client.post(
                delivery.url, content=delivery.payload, headers=headers
            )
        except httpx.HTTPError as error:
            return None, f"{type(error).__name__}: {error}"
        return response.status_code, None

    def _record(
        self, delivery: _Delivery, attempt: int, status: int | None, error: str | None, ok: bool
    ) -> None:
        self.log.append(
            {
                "id": ids.new_id("whdel"),
                "event": delivery.event_id,
                "type": delivery.event_type,
                "endpoint": delivery.endpoint,
                "url": delivery.url,
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


def _enabled_events(call: ApiRequest, required: bool) -> list[str] | None:
    events = get_str_list(call.params, "enabled_events")
    if events is None:
        if required:
            raise missing_param("enabled_events")
        return None
    if not events:
        raise invalid_request("enabled_events must not be empty.", param="enabled_events")
    return events


def _url(call: ApiRequest, required: bool) -> str | None:
    url = require_str(call.params, "url") if required else get_str(call.params, "url")
    if url is not None and not url.startswith(("http://", "https://")):
        raise invalid_request("Invalid URL: must start with http:// or https://", param="url")
    return url


def create_endpoint(call: ApiRequest) -> JSON:
    store = call.store
    endpoint: JSON = {
        "id": ids.new_id("we"),
        "object": "webhook_endpoint",
        "api_version": get_str(call.params, "api_version"),
        "application": None,
        "created": store.now(),
        "description": get_str(call.params, "description"),
        "enabled_events": _enabled_events(call, required=True),
        "livemode": False,
        "metadata": {},
        "status": "enabled",
        "url": _url(call, required=True),
    }
    apply_metadata(endpoint, call.params)
    secret = ids.webhook_secret()
    store.secret(endpoint["id"])["secret"] = secret
    store.insert("webhook_endpoints", endpoint)
    # Stripe shows the signing secret only in the response to the create call.
    return {**store.render("webhook_endpoints", endpoint), "secret": secret}


def retrieve_endpoint(call: ApiRequest) -> JSON:
    endpoint = call.store.require("webhook_endpoints", call.path_id("endpoint"), "webhook_endpoint")
    return call.store.render("webhook_endpoints", endpoint)


def update_endpoint(call: ApiRequest) -> JSON:
    endpoint = call.store.require("webhook_endpoints", call.path_id("endpoint"), "webhook_endpoint")
    url = _url(call, required=False)
    if url is not None:
        endpoint["url"] = url
    events = _enabled_events(call, required=False)
    if events is not None:
        endpoint["enabled_events"] = events
    if "description" in call.params:
        endpoint["description"] = get_str(call.params, "description")
    disabled = get_bool(call.params, "disabled")
    if disabled is not None:
        endpoint["status"] = "disabled" if disabled else "enabled"
    apply_metadata(endpoint, call.params)
    return call.store.render("webhook_endpoints", endpoint)


def delete_endpoint(call: ApiRequest) -> JSON:
    endpoint = call.store.require("webhook_endpoints", call.path_id("endpoint"), "webhook_endpoint")
    call.store.remove("webhook_endpoints", endpoint["id"])
    return {"id": endpoint["id"], "object": "webhook_endpoint", "deleted": True}


def list_endpoints(call: ApiRequest) -> JSON:
    items = newest_first(call.store.values("webhook_endpoints"))
    return list_object(call.store, "webhook_endpoints", items, call.params, "/v1/webhook_endpoints")
