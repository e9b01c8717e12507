"""The sandbox's in-memory state: every object by collection, the events, the clock.

One `Store` per app instance. Handlers run synchronously on the event loop while holding
`Store.lock`, so each API call changes the state atomically. Objects are kept in Stripe's own
JSON shape; anything Stripe does not show (a test card's behaviour, a page secret) sits beside
them in `Store.private`.
"""

from __future__ import annotations

import asyncio
import heapq
import logging
import time
from collections import Counter, deque
from collections.abc import Callable
from contextvars import ContextVar
from dataclasses import dataclass, field
from typing import Any

from stripe_sandbox import ids
from stripe_sandbox.config import SandboxConfig
from stripe_sandbox.errors import no_such
from stripe_sandbox.permissions import RestrictedKey

JSON = dict[str, Any]
Renderer = Callable[[JSON], JSON]

log = logging.getLogger(__name__)

# Which collection an id belongs to, by its prefix (for `expand[]` and events).
PREFIXES: dict[str, str] = {
    "cus_": "customers",
    "ccsbtxn_": "cash_balance_transactions",
    "cbtxn_": "customer_balance_transactions",
    "txi_": "tax_ids",
    "pm_": "payment_methods",
    "seti_": "setup_intents",
    "pi_": "payment_intents",
    "ch_": "charges",
    "re_": "refunds",
    "ii_": "invoiceitems",
    "in_": "invoices",
    "inpay_": "invoice_payments",
    "cn_": "credit_notes",
    "txr_": "tax_rates",
    "di_": "discounts",
    "cs_": "checkout_sessions",
    "evt_": "events",
    "we_": "webhook_endpoints",
}

# Collections the Search API covers (GET /v1/{collection}/search).
SEARCHABLE = frozenset({"customers", "invoices", "payment_intents"})


def copy_json(value: Any) -> Any:
    """A deep copy of a JSON value (dicts, lists and immutable scalars): what every rendering and
    event snapshot makes, without `copy.deepcopy`'s memo, which costs several times as much."""
    if isinstance(value, dict):
        return {key: copy_json(item) for key, item in value.items()}
    if isinstance(value, list):
        return [copy_json(item) for item in value]
    return value


@dataclass
class RequestInfo:
    """What an event records about the API request that caused it."""

    request_id: str | None = None
    idempotency_key: str | None = None
    api_version: str | None = None
    base_url: str = "http://127.0.0.1"


current_request: ContextVar[RequestInfo | None] = ContextVar("current_request", default=None)


@dataclass
class IdempotentResult:
    fingerprint: str
    status: int
    body: bytes
    created: float  # on the sandbox clock: keys expire 24 hours after it


@dataclass
class Fault:
    status: int
    remaining: int
    match: str | None = None


@dataclass
class AccountSettings:
    """What the account's owner sets in Stripe's Dashboard, not through the API: the public
    business name on invoices, the tax IDs every invoice shows unless it names its own
    (https://docs.stripe.com/invoicing/taxes/account-tax-ids), and who gets receipts
    (`stripe_sandbox.receipts`). Starts from the config; changed by POST /_sandbox/account."""

    name: str
    default_account_tax_ids: list[str] = field(default_factory=list)
    email_successful_payments: bool = False
    team_emails: tuple[str, ...] = ()

    @classmethod
    def from_config(cls, config: SandboxConfig) -> AccountSettings:
        return cls(
            name=config.account_name,
            email_successful_payments=config.email_successful_payments,
            team_emails=tuple(config.team_emails),
        )


@dataclass
class Due:
    """Work to run once the sandbox clock reaches `at` (`Store.at`)."""

    at: int
    work: Callable[[], None]
    base_url: str


@dataclass
class Store:
    config: SandboxConfig
    lock: asyncio.Lock = field(default_factory=asyncio.Lock)
    collections: dict[str, dict[str, JSON]] = field(default_factory=dict)
    # (collection, field) -> field's value -> id -> object: `referring`'s index, built on first
    # use and kept by insert, remove and `refer`.
    indexes: dict[tuple[str, str], dict[Any, dict[str, JSON]]] = field(default_factory=dict)
    private: dict[str, JSON] = field(default_factory=dict)
    renderers: dict[str, Renderer] = field(default_factory=dict)
    clock_offset: float = 0.0
    latency_ms: int = 0
    idempotency: dict[str, IdempotentResult] = field(default_factory=dict)
    # Keys whose first request is still being answered (a second one gets 409).
    idempotency_in_flight: set[str] = field(default_factory=set)
    stats: Counter[str] = field(default_factory=Counter)
    # The API requests since the counts were last reset, as (method, path?query, Stripe-Version)
    # of the latest 1,000: the bench sends a view's calls again from a bare client, which is
    # what Stripe alone costs that view.
    requests: deque[tuple[str, str, str | None]] = field(
        default_factory=lambda: deque(maxlen=1_000)
    )
    faults: list[Fault] = field(default_factory=list)
    # Requests per second before 429 (None: no limit), and the moments of recent requests.
    rate_limit: float | None = None
    search_rate_limit: float = 20.0
    recent_requests: deque[float] = field(default_factory=deque)
    recent_searches: deque[float] = field(default_factory=deque)
    # What the Search API sees while it lags: per object id, its states as (time, copy).
    search_versions: dict[str, list[tuple[float, JSON]]] = field(default_factory=dict)
    # Called with each new event (webhook delivery hooks in here).
    event_listeners: list[Callable[[JSON], None]] = field(default_factory=list)
    # Work that follows the current response (a SEPA debit settling, a tax ID being verified):
    # run by the dispatcher right after it has rendered the response.
    deferred: list[Callable[[], None]] = field(default_factory=list)
    # Work scheduled by `later` that is running now (kept so the loop does not drop it).
    tasks: set[asyncio.Task[None]] = field(default_factory=set)
    # Work due at a moment of the sandbox clock (a draft's scheduled finalization), by key, and
    # its (moment, key) heap, whose entries no longer in `due` are skipped; `run_due` runs it.
    due: dict[str, Due] = field(default_factory=dict)
    due_order: list[tuple[int, str]] = field(default_factory=list)
    due_timer: asyncio.TimerHandle | None = None
    # What the timer is armed for: (moment, clock offset) of the earliest work when armed.
    due_timer_for: tuple[int, float] | None = None
    # The one account everything belongs to (named in Stripe's permission errors), and the
    # restricted keys made for it by POST /_sandbox/keys.
    account_id: str = field(default_factory=lambda: ids.new_id("acct", 16))
    restricted_keys: dict[str, RestrictedKey] = field(default_factory=dict)
    account_settings: AccountSettings = field(default_factory=lambda: AccountSettings(name=""))

    def __post_init__(self) -> None:
        self.account_settings = AccountSettings.from_config(self.config)
        self.latency_ms = self.config.latency_ms
        self.rate_limit = self.config.rate_limit
        self.search_rate_limit = self.config.search_rate_limit

    # -- time -----------------------------------------------------------------------------
    def now(self) -> int:
        return int(self.precise_now())

    def precise_now(self) -> float:
        return time.time() + self.clock_offset

    # -- objects --------------------------------------------------------------------------
    def table(self, collection: str) -> dict[str, JSON]:
        return self.collections.setdefault(collection, {})

    def insert(self, collection: str, obj: JSON) -> JSON:
        self.table(collection)[obj["id"]] = obj
        for (indexed, name), index in self.indexes.items():
            if indexed == collection:
                index.setdefault(obj.get(name), {})[obj["id"]] = obj
        return obj

    def referring(self, collection: str, name: str, value: Any) -> list[JSON]:
        """The objects of `collection` whose field `name` is `value` (an invoice's items and
        payments), in insertion order, without reading the whole collection: a bench's tens of
        thousands of invoices are each rendered with theirs."""
        index = self.indexes.get((collection, name))
        if index is None:
            index = {}
            for obj in self.table(collection).values():
                index.setdefault(obj.get(name), {})[obj["id"]] = obj
            self.indexes[collection, name] = index
        return list(index.get(value, {}).values())

    def refer(self, collection: str, obj: JSON, name: str, value: Any) -> None:
        """Set the field `name` of a stored object, keeping `referring`'s index."""
        index = self.indexes.get((collection, name))
        if index is not None:
            index.get(obj.get(name), {}).pop(obj["id"], None)
            index.setdefault(value, {})[obj["id"]] = obj
        obj[name] = value

    def get(self, collection: str, object_id: str) -> JSON | None:
        return self.table(collection).get(object_id)

    def require(self, collection: str, object_id: str, kind: str, param: str = "id") -> JSON:
        obj = self.get(collection, object_id)
        if obj is None:
            raise no_such(kind, object_id, param)
        return obj

    def remove(self, collection: str, object_id: str) -> None:
        obj = self.table(collection).pop(object_id, None)
        if obj is None:
            return
        for (indexed, name), index in self.indexes.items():
            if indexed == collection:
                index.get(obj.get(name), {}).pop(object_id, None)

    def values(self, collection: str) -> list[JSON]:
        return list(self.table(collection).values())

    def secret(self, object_id: str) -> JSON:
        return self.private.setdefault(object_id, {})

    def render(self, collection: str, obj: JSON) -> JSON:
        renderer = self.renderers.get(collection)
        return renderer(obj) if renderer else copy_json(obj)

    def find(self, object_id: str) -> tuple[str, JSON] | None:
        for prefix, collection in PREFIXES.items():
            if object_id.startswith(prefix):
                obj = self.get(collection, object_id)
                if obj is None and collection == "tax_ids":
                    # A deleted account tax ID stays on the invoices finalized with it.
                    obj = self.get("deleted_tax_ids", object_id)
                    return ("deleted_tax_ids", obj) if obj is not None else None
                return (collection, obj) if obj is not None else None
        # Coupon ids have no prefix: Stripe's are codes ("Z4OV52SU") or whatever the account chose.
        coupon = self.get("coupons", object_id)
        return ("coupons", coupon) if coupon is not None else None

    def base_url(self) -> str:
        if self.config.public_url:
            return self.config.public_url.rstrip("/")
        info = current_request.get()
        return (info.base_url if info else "http://127.0.0.1").rstrip("/")

    def surface_url(self, surface: str) -> str:
        """Base of the URLs of one surface (`hooks`, `checkout`, `files`): its own origin when
        configured, else the API's."""
        return self.config.surface_urls().get(surface) or self.base_url()

    # -- search's lag -------------------------------------------------------------------------
    def remember_for_search(self, collection: str, obj: JSON) -> None:
        if self.config.search_delay_s > 0 and collection in SEARCHABLE:
            versions = self.search_versions.setdefault(obj["id"], [])
            versions.append((self.precise_now(), copy_json(obj)))

    def as_search_sees(self, obj: JSON) -> JSON | None:
        """The state of `obj` the Search API has caught up with (None: not indexed yet)."""
        delay = self.config.search_delay_s
        if delay <= 0:
            return obj
        versions = self.search_versions.get(obj["id"], [])
        cutoff = self.precise_now() - delay
        seen = [index for index, (at, _) in enumerate(versions) if at <= cutoff]
        if not seen:
            return None
        # Older states than the one visible can never be seen again.
        del versions[: seen[-1]]
        return versions[0][1]

    # -- events ---------------------------------------------------------------------------
    def emit(
        self,
        event_type: str,
        collection: str,
        obj: JSON,
        previous_attributes: JSON | None = None,
    ) -> JSON:
        info = current_request.get() or RequestInfo()
        data: JSON = {"object": self.render(collection, obj)}
        if previous_attributes:
            data["previous_attributes"] = copy_json(previous_attributes)
        event: JSON = {
            "id": ids.new_id("evt"),
            "object": "event",
            "api_version": info.api_version or self.config.api_version,
            "created": self.now(),
            "data": data,
            "livemode": False,
            "pending_webhooks": 0,
            "request": {"id": info.request_id, "idempotency_key": info.idempotency_key},
            "type": event_type,
        }
        self.insert("events", event)
        self.remember_for_search(collection, obj)
        for listener in self.event_listeners:
            listener(event)
        return event

    def defer(self, work: Callable[[], None]) -> None:
        self.deferred.append(work)

    def run_deferred(self) -> None:
        while self.deferred:
            self.deferred.pop(0)()

    def later(self, delay_ms: int, work: Callable[[], None]) -> None:
        """Run `work` after `delay_ms` (money reaching a bank), under the lock like a request,
        its events tied to no request as Stripe's own are; 0: right after the current response.
        Call it from within a handler: the timer belongs to the running event loop."""
        if delay_ms <= 0:
            self.defer(work)
            return
        base_url = self.base_url()

        async def run() -> None:
            async with self.lock:
                token = current_request.set(RequestInfo(base_url=base_url))
                try:
                    work()
                    self.run_deferred()
                finally:
                    current_request.reset(token)

        def start() -> None:
            task = asyncio.ensure_future(run())
            self.tasks.add(task)
            task.add_done_callback(self.tasks.discard)

        asyncio.get_running_loop().call_later(delay_ms / 1000, start)

    def at(self, key: str, moment: int, work: Callable[[], None]) -> None:
        """Run `work` once the sandbox clock reaches `moment`, in place of what `key` had.

        It runs at the first of: an API request (before its handler), a move of the clock, or a
        timer when real time gets there; so no request ever sees it not yet done."""
        kept = self.due.get(key)
        self.due[key] = Due(moment, work, self.base_url())
        if kept is None or kept.at != moment:
            heapq.heappush(self.due_order, (moment, key))
            self._arm_due_timer()

    def cancel_at(self, key: str) -> None:
        self.due.pop(key, None)

    def run_due(self) -> None:
        """Run the work whose moment has come, earliest first, under the lock, its events tied
        to no request as Stripe's own are. Each runs at its own moment on the clock (its
        timestamps say when it was due, not when the clock was moved past it), as a Stripe
        test clock advancing through it would."""
        now = self.now()
        offset = self.clock_offset
        while self.due_order and self.due_order[0][0] <= now:
            moment, key = heapq.heappop(self.due_order)
            entry = self.due.get(key)
            if entry is None or entry.at != moment:
                continue
            del self.due[key]
            token = current_request.set(RequestInfo(base_url=entry.base_url))
            self.clock_offset = min(offset, moment - time.time())
            try:
                entry.work()
                self.run_deferred()
            except Exception:
                # A fault in one piece of timed work must not fail the request that ran it.
                log.exception("sandbox timed work %s failed", key)
                self.deferred.clear()
            finally:
                self.clock_offset = offset
                current_request.reset(token)
        self._arm_due_timer()

    def _arm_due_timer(self) -> None:
        """Have a timer run `run_due` when real time reaches the earliest work (again only if
        that work or the clock changed: this runs at every request)."""
        while self.due_order:
            moment, key = self.due_order[0]
            entry = self.due.get(key)
            if entry is not None and entry.at == moment:
                break
            heapq.heappop(self.due_order)
        target = (self.due_order[0][0], self.clock_offset) if self.due_order else None
        if target == self.due_timer_for and self.due_timer is not None:
            return
        if self.due_timer is not None:
            self.due_timer.cancel()
            self.due_timer = None
        self.due_timer_for = None
        if target is None:
            return
        try:
            loop = asyncio.get_running_loop()
        except RuntimeError:
            return  # no event loop (a handler called directly): requests and clock moves run it
        delay = max(0.0, target[0] - self.precise_now())

        async def run() -> None:
            async with self.lock:
                self.run_due()

        def start() -> None:
            self.due_timer = None  # fired: `run_due` arms the next
            task = asyncio.ensure_future(run())
            self.tasks.add(task)
            task.add_done_callback(self.tasks.discard)

        self.due_timer = loop.call_later(delay, start)
        self.due_timer_for = target

    def reset(self) -> None:
        self.due.clear()
        self.due_order.clear()
        self._arm_due_timer()
        self.collections.clear()
        self.indexes.clear()
        self.private.clear()
        self.idempotency.clear()
        self.search_versions.clear()
        self.stats.clear()
        self.requests.clear()
        self.faults.clear()
        self.restricted_keys.clear()
        self.clock_offset = 0.0
        self.account_settings = AccountSettings.from_config(self.config)
