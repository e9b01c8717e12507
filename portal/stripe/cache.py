"""Stripe reads kept per customer, so a repeat page view costs no Stripe round trip.

Stripe is the slow, rate-limited part of every page. `CachingGateway` wraps the gateway and keeps
what a customer's pages read (the customer, invoice lists, an invoice page, payment methods, tax
IDs) in this process, serving it again while both hold:

- the customer's change counter in the database (`customer_changes`) is still the one the entry
  was read at. Webhooks move it (on whichever instance receives them), and so does every change
  the portal itself makes at Stripe, so no instance serves data older than the last change it
  could know of;
- the entry is younger than the TTL (a safety net for changes no webhook reports).

When Stripe cannot be reached or rate-limits, the last known entry is served, however old, and
the page says so (`stale_since`). Reads that decide money (`get_invoice` while paying) and the
webhooks' re-reads (`uncached()`) always go to Stripe.

The class body is the table: every public method of the gateway is declared once, as a read it
keeps (`Keep`, or `KeepEach` for several at once), a write that ends a customer's entries
(`Ends`) or neither (`Through`), each saying whose data it is. A test fails when a gateway
method is missing, and mypy sees each method with the gateway's own signature.
"""

from __future__ import annotations

import functools
import inspect
import time
from collections.abc import Awaitable, Callable, Mapping
from contextvars import ContextVar, Token
from dataclasses import dataclass
from datetime import UTC, datetime
from typing import Any, Concatenate, Generic, ParamSpec, Self, TypeVar, cast, overload

from sqlalchemy.ext.asyncio import AsyncEngine

from portal.concurrency import Ready, at_once, then
from portal.lru import MB, LruCache, size_of
from portal.storage.database import transaction
from portal.stripe import changes
from portal.stripe.errors import StripeUnavailable
from portal.stripe.gateway import StripeGateway
from portal.stripe.models import Invoice, InvoicePage

P = ParamSpec("P")
R = TypeVar("R")

DEFAULT_TTL = 60.0
# The bytes kept per process (settings: a share of PORTAL_CACHE_MB), and at most this many
# entries however small.
DEFAULT_BUDGET = 16 * MB
MAX_ENTRIES = 20_000

# Per request: when the oldest stale entry served was read (a list, so that tasks gathered from
# the request, which copy the context, report into the same one).
_stale: ContextVar[list[datetime] | None] = ContextVar("portal_stale", default=None)
# Per request: the change counters already read, so a page's several reads of one customer ask
# the database once (a change the request itself makes forgets the customer's entry).
_versions: ContextVar[dict[str, int] | None] = ContextVar("portal_versions", default=None)


def remember_version(customer_id: str, version: int) -> None:
    """A change counter read along with something else in this request (the session)."""
    seen = _versions.get()
    if seen is not None:
        seen.setdefault(customer_id, version)


def known_version(customer_id: str) -> bool:
    """Whether this request has read the customer's change counter."""
    seen = _versions.get()
    return seen is not None and customer_id in seen


RequestRecord = tuple[Token[list[datetime] | None], Token[dict[str, int] | None]]


def start_request() -> RequestRecord:
    """Give this request its own record of stale data served (see `stale_since`) and of the
    change counters read (`portal.middleware` calls it for every request)."""
    return _stale.set([]), _versions.set({})


def end_request(record: RequestRecord) -> None:
    stale, versions = record
    _stale.reset(stale)
    _versions.reset(versions)


def stale_since() -> datetime | None:
    found = _stale.get()
    return min(found) if found else None


# --- whose data a call reads or changes ---------------------------------------------------------

_NO_ANSWER: Any = object()


@dataclass(frozen=True)
class Argument:
    """The customer is an argument of the call (or an attribute of one)."""

    name: str
    attribute: str | None = None

    def of(self, cache: CachingGateway, call: Mapping[str, Any], answer: Any) -> str | None:
        value = call[self.name]
        return cast(str | None, getattr(value, self.attribute) if self.attribute else value)


@dataclass(frozen=True)
class Answer:
    """Only Stripe's answer says whose it is (an invoice names its customer)."""

    read: Callable[[Any], str]

    def of(self, cache: CachingGateway, call: Mapping[str, Any], answer: Any) -> str | None:
        return None if answer is _NO_ANSWER else self.read(answer)


@dataclass(frozen=True)
class KeptOwner:
    """The customer of what `read` keeps for the same argument (a failed payment has no
    answer, and the invoice page it was made from says whose invoice it is)."""

    read: str
    argument: str

    def of(self, cache: CachingGateway, call: Mapping[str, Any], answer: Any) -> str | None:
        entry = cache._entries.peek((self.read, call[self.argument]))
        return entry.customer_id if entry else None


Whose = Argument | Answer | KeptOwner


# --- the kinds of row in the table ------------------------------------------------------------


class _Row(Generic[P, R]):
    """One gateway method, declared in `CachingGateway`'s body under the method's own name."""

    def __init__(self, method: Callable[Concatenate[StripeGateway, P], R]) -> None:
        self.method = method
        self.name = method.__name__
        self.signature = inspect.signature(method)
        parameters = list(self.signature.parameters.values())[1:]  # after the gateway itself
        self._names = tuple(p.name for p in parameters)
        self._defaults = {p.name: p.default for p in parameters if p.default is not p.empty}

    def __set_name__(self, owner: type, name: str) -> None:
        if name != self.name:
            raise TypeError(f"{owner.__name__}.{name} declares the gateway's {self.name}")
        for whose in self.whose():
            for parameter in (getattr(whose, "name", None), getattr(whose, "argument", None)):
                if parameter is not None and parameter not in self.signature.parameters:
                    raise TypeError(f"{self.name} has no parameter {parameter!r}")

    def whose(self) -> tuple[Whose, ...]:
        return ()

    def arguments(self, args: tuple[Any, ...], kwargs: dict[str, Any]) -> dict[str, Any]:
        """The call's arguments by name, in the signature's order, defaults filled in. (mypy has
        checked the call against the signature; `inspect`'s own binding costs more than the
        rest of a kept read.)"""
        given = {**self._defaults, **dict(zip(self._names, args, strict=False)), **kwargs}
        try:
            return {name: given[name] for name in self._names}
        except KeyError as missing:
            raise TypeError(f"{self.name}() missing argument {missing}") from None

    def _bound(self, obj: CachingGateway, function: Callable[..., Any]) -> Any:
        """`function` as `obj`'s own attribute from now on, so the next access skips this."""
        if not inspect.ismethod(function):  # ours, not the gateway's own: name it as the gateway's
            function = functools.wraps(self.method)(function)
        vars(obj)[self.name] = function
        return function


class Through(_Row[P, R]):
    """Neither kept nor changing anything kept: the gateway's own method."""

    @overload
    def __get__(self, obj: None, owner: type | None = None) -> Self: ...
    @overload
    def __get__(self, obj: CachingGateway, owner: type | None = None) -> Callable[P, R]: ...
    def __get__(self, obj: CachingGateway | None, owner: type | None = None) -> Any:
        return self if obj is None else self._bound(obj, getattr(obj._gateway, self.name))


class Keep(_Row[P, Awaitable[R]]):
    """A read kept under the customer it belongs to; the key is the method and its arguments."""

    def __init__(
        self, method: Callable[Concatenate[StripeGateway, P], Awaitable[R]], *, customer: Whose
    ) -> None:
        super().__init__(method)
        self.customer = customer

    def whose(self) -> tuple[Whose, ...]:
        return (self.customer,)

    @overload
    def __get__(self, obj: None, owner: type | None = None) -> Self: ...
    @overload
    def __get__(
        self, obj: CachingGateway, owner: type | None = None
    ) -> Callable[P, Awaitable[R]]: ...
    def __get__(self, obj: CachingGateway | None, owner: type | None = None) -> Any:
        if obj is None:
            return self
        load = getattr(obj._gateway, self.name)

        def read(*args: P.args, **kwargs: P.kwargs) -> Awaitable[R]:
            call = self.arguments(args, kwargs)
            key = (self.name, *call.values())
            kept = obj._current(key, self.customer, call)
            if kept is not None:  # no coroutine, no task: see portal.concurrency
                return Ready(kept.value)
            return cast(Awaitable[R], obj._cached(key, self.customer, call, lambda: load(**call)))

        return self._bound(obj, read)


class KeepEach(_Row[P, Awaitable[list[R]]]):
    """A read of several at once, each kept as the row `one` keeps it (sign-in reads every
    customer of an address, and their pages then read one of them)."""

    def __init__(
        self, method: Callable[Concatenate[StripeGateway, P], Awaitable[list[R]]], *, one: str
    ) -> None:
        super().__init__(method)
        self.one = one
        if len(self.signature.parameters) != 2:
            raise TypeError(f"{self.name} does not read one argument's items")

    @overload
    def __get__(self, obj: None, owner: type | None = None) -> Self: ...
    @overload
    def __get__(
        self, obj: CachingGateway, owner: type | None = None
    ) -> Callable[P, Awaitable[list[R]]]: ...
    def __get__(self, obj: CachingGateway | None, owner: type | None = None) -> Any:
        if obj is None:
            return self
        one = getattr(obj, self.one)

        def read(*args: P.args, **kwargs: P.kwargs) -> Awaitable[list[R]]:
            (items,) = self.arguments(args, kwargs).values()
            return then(at_once(*(one(item) for item in items)), list)

        return self._bound(obj, read)


class Ends(_Row[P, Awaitable[R]]):
    """A write after which every instance reads the customer again: `customer` says whose once
    it is done, `when_failed` (if given) whose data a failure may still have changed."""

    def __init__(
        self,
        method: Callable[Concatenate[StripeGateway, P], Awaitable[R]],
        *,
        customer: Whose,
        when_failed: Whose | None = None,
    ) -> None:
        super().__init__(method)
        self.customer = customer
        self.when_failed = when_failed

    def whose(self) -> tuple[Whose, ...]:
        return (self.customer,) if self.when_failed is None else (self.customer, self.when_failed)

    @overload
    def __get__(self, obj: None, owner: type | None = None) -> Self: ...
    @overload
    def __get__(
        self, obj: CachingGateway, owner: type | None = None
    ) -> Callable[P, Awaitable[R]]: ...
    def __get__(self, obj: CachingGateway | None, owner: type | None = None) -> Any:
        if obj is None:
            return self
        write = getattr(obj._gateway, self.name)

        async def change(*args: P.args, **kwargs: P.kwargs) -> R:
            call = self.arguments(args, kwargs)
            try:
                answer = await write(*args, **kwargs)
            except Exception:
                if self.when_failed is not None:
                    await obj._forget(self.when_failed.of(obj, call, _NO_ANSWER))
                raise
            await obj._forget(self.customer.of(obj, call, answer))
            return cast(R, answer)

        return self._bound(obj, change)


@dataclass
class _Entry:
    customer_id: str
    version: int
    stored_at: float  # monotonic
    read_at: datetime  # wall clock, for "data from 10:42"
    value: Any


# An entry's own bytes besides its key and value (the `_Entry` and the cache's bookkeeping).
_ENTRY_SIZE = 400


def _invoice_owner(invoice: Invoice) -> str:
    return invoice.customer_id


def _page_owner(page: InvoicePage) -> str:
    return page.invoice.customer_id


class CachingGateway:
    """The gateway the pages use: `StripeGateway`'s methods, a customer's reads kept."""

    def __init__(
        self,
        gateway: StripeGateway,
        *,
        engine: AsyncEngine,
        ttl: float = DEFAULT_TTL,
        budget: int = DEFAULT_BUDGET,
    ) -> None:
        self._gateway = gateway
        self._engine = engine
        self._ttl = ttl
        self._entries: LruCache[tuple[Any, ...], _Entry] = LruCache(budget, most=MAX_ENTRIES)

    # --- the table: reads a customer's pages make, kept ---

    get_customer = Keep(StripeGateway.get_customer, customer=Argument("customer_id"))
    list_invoices = Keep(StripeGateway.list_invoices, customer=Argument("customer_id"))
    invoice_page = Keep(StripeGateway.invoice_page, customer=Answer(_page_owner))
    list_payment_methods = Keep(
        StripeGateway.list_payment_methods, customer=Argument("customer_id")
    )
    list_tax_ids = Keep(StripeGateway.list_tax_ids, customer=Argument("customer_id"))
    get_balances = Keep(StripeGateway.get_balances, customer=Argument("customer_id"))
    # Created at Stripe on the first call, the same account on every call after: kept.
    funding_instructions = Keep(
        StripeGateway.funding_instructions, customer=Argument("customer_id")
    )
    get_customers = KeepEach(StripeGateway.get_customers, one="get_customer")

    # --- changes the portal makes: every instance must read the customer again ---

    pay_invoice = Ends(
        StripeGateway.pay_invoice,
        customer=Answer(_invoice_owner),
        when_failed=KeptOwner("invoice_page", "invoice_id"),  # a decline adds an attempt
    )
    pay_part_of_invoice = Ends(
        StripeGateway.pay_part_of_invoice,
        customer=Argument("customer_id"),
        when_failed=Argument("customer_id"),
    )
    attach_payment = Ends(
        StripeGateway.attach_payment,
        customer=Answer(_invoice_owner),
        when_failed=KeptOwner("invoice_page", "invoice_id"),
    )
    set_default_payment_method = Ends(
        StripeGateway.set_default_payment_method, customer=Argument("customer_id")
    )
    detach_payment_method = Ends(
        StripeGateway.detach_payment_method, customer=Argument("method", "customer_id")
    )
    update_billing_details = Ends(
        StripeGateway.update_billing_details, customer=Argument("customer_id")
    )
    set_email = Ends(StripeGateway.set_email, customer=Argument("customer_id"))
    set_preferred_locales = Ends(
        StripeGateway.set_preferred_locales, customer=Argument("customer_id")
    )
    add_tax_id = Ends(
        StripeGateway.add_tax_id,
        customer=Argument("customer_id"),
        when_failed=Argument("customer_id"),
    )
    delete_tax_id = Ends(StripeGateway.delete_tax_id, customer=Argument("customer_id"))

    # --- neither kept nor changing what is kept: straight to Stripe ---
    # Reads that decide money or serve staff and commands, and the steps of adding a payment
    # method (whose end, `set_default_payment_method`, is in the table above).

    find_customers_by_email = Through(StripeGateway.find_customers_by_email)
    find_customers = Through(StripeGateway.find_customers)
    open_invoices = Through(StripeGateway.open_invoices)
    charged_drafts = Through(StripeGateway.charged_drafts)
    get_invoice = Through(StripeGateway.get_invoice)
    get_invoice_with_lines = Through(StripeGateway.get_invoice_with_lines)
    list_invoice_payments = Through(StripeGateway.list_invoice_payments)
    list_credit_notes = Through(StripeGateway.list_credit_notes)
    get_credit_note = Through(StripeGateway.get_credit_note)
    get_invoice_payment = Through(StripeGateway.get_invoice_payment)
    open_invoice_pdf = Through(StripeGateway.open_invoice_pdf)
    open_credit_note_pdf = Through(StripeGateway.open_credit_note_pdf)
    get_payment_method = Through(StripeGateway.get_payment_method)
    start_adding_payment_method = Through(StripeGateway.start_adding_payment_method)
    get_checkout_session = Through(StripeGateway.get_checkout_session)
    start_paying = Through(StripeGateway.start_paying)
    expire_checkout_session = Through(StripeGateway.expire_checkout_session)
    refund_payment = Through(StripeGateway.refund_payment)
    get_refund = Through(StripeGateway.get_refund)
    probe = Through(StripeGateway.probe)
    invoice_version_accepted = Through(StripeGateway.invoice_version_accepted)
    list_webhook_endpoints = Through(StripeGateway.list_webhook_endpoints)
    cancel_payment_intent = Through(StripeGateway.cancel_payment_intent)
    added_payment_method = Through(StripeGateway.added_payment_method)
    get_tax_id = Through(StripeGateway.get_tax_id)
    authenticate_payment = Through(StripeGateway.authenticate_payment)
    get_payment_intent = Through(StripeGateway.get_payment_intent)
    verify_webhook = Through(StripeGateway.verify_webhook)
    aclose = Through(StripeGateway.aclose)

    @classmethod
    def table(cls) -> dict[str, _Row[..., Any]]:
        """Every gateway method this class declares, by name."""
        return {name: row for name, row in vars(cls).items() if isinstance(row, _Row)}

    # --- the cache itself ---

    def kept(self) -> tuple[int, int]:
        """How many reads this process keeps, and their estimated bytes."""
        return len(self._entries), self._entries.bytes

    def uncached(self) -> StripeGateway:
        """Reads straight from Stripe: for webhooks, which must act on the object as it is now,
        and for reads that decide money."""
        return self._gateway

    async def changed(self, customer_id: str) -> None:
        """Every instance drops what it keeps of this customer (the counter is shared)."""
        async with transaction(self._engine) as conn:
            await changes.bump(conn, customer_id, datetime.now(UTC))
        seen = _versions.get()
        if seen is not None:
            seen.pop(customer_id, None)

    async def _forget(self, customer_id: str | None) -> None:
        if customer_id is not None:
            await self.changed(customer_id)

    async def _version(self, customer_id: str) -> int:
        seen = _versions.get()
        if seen is not None and customer_id in seen:
            return seen[customer_id]
        version = await changes.version(self._engine, customer_id)
        if seen is not None:
            seen[customer_id] = version
        return version

    def _current(
        self, key: tuple[Any, ...], customer: Whose, call: Mapping[str, Any]
    ) -> _Entry | None:
        """The entry for `key` if it is current by what this request already knows of its
        customer's counter (the session's query brings it along); None if that takes a look
        at the database or Stripe (`_cached`)."""
        entry = self._entries.peek(key)
        if entry is None or self._ttl <= 0:
            return None
        seen = _versions.get()
        whose = customer.of(self, call, _NO_ANSWER) or entry.customer_id
        if (
            seen is None
            or seen.get(whose) != entry.version
            or time.monotonic() - entry.stored_at >= self._ttl
        ):
            return None
        self._entries.get(key)  # now the most recently used
        return entry

    async def _cached(
        self,
        key: tuple[Any, ...],
        customer: Whose,
        call: Mapping[str, Any],
        load: Callable[[], Awaitable[Any]],
    ) -> Any:
        """`load()` unless a current entry exists; the customer whose counter it follows is the
        call's (or, when only the value tells, the value's)."""
        customer_id = customer.of(self, call, _NO_ANSWER)
        entry = self._entries.peek(key)
        whose = customer_id or (entry.customer_id if entry else None)
        version = await self._version(whose) if whose else None
        # Whose it is may show only in the answer: the counters this request read before the
        # load say which version it is kept under. One read after the load could already
        # count a change the load missed, and keep the old data as current.
        before = dict(_versions.get() or {}) if whose is None else None
        if (
            entry is not None
            and self._ttl > 0
            and entry.version == version
            and time.monotonic() - entry.stored_at < self._ttl
        ):
            self._entries.get(key)  # now the most recently used
            return entry.value
        try:
            value = await load()
        except StripeUnavailable:  # unreachable or rate-limited: the last known data, said so
            if entry is None:
                raise
            found = _stale.get()
            if found is not None:
                found.append(entry.read_at)
            return entry.value
        expected, whose = whose, customer_id or customer.of(self, call, value)
        if before is not None:
            version = before.get(whose) if whose is not None else None
        elif whose != expected:  # not whose counter was read: kept by nothing
            version = None
        if whose is not None and version is not None:
            entry = _Entry(whose, version, time.monotonic(), datetime.now(UTC), value)
            self._entries.put(key, entry, size_of(key) + size_of(value) + _ENTRY_SIZE)
        return value
