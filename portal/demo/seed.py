"""Demo data: realistic customers in six languages, created through Stripe's public REST API.

The seeder talks plain HTTP with Stripe's form encoding, the way any user of the API would, so it
fills the local sandbox and a real Stripe test-mode account alike. It deliberately does not use
the `stripe` SDK: only `portal.stripe_gateway` may import it, and the seeder would otherwise be a
second door to Stripe.

Stripe cannot back-date objects. When the server offers the sandbox's clock
(`/_sandbox/clock`, see docs/sandbox.md) the seeder moves it through sixteen months of history so
that invoices, payments and due dates carry believable dates, and puts it back afterwards. Against
a server without that clock everything is created "now", with due dates in the past where a story
needs them (the sandbox accepts those as a documented leniency; Stripe itself refuses them).
"""

from __future__ import annotations

import asyncio
import uuid
from collections.abc import Awaitable, Callable, Coroutine, Iterable, Mapping, Sequence
from dataclasses import dataclass, field
from datetime import UTC, date, datetime, time, timedelta
from decimal import Decimal
from typing import Any, Literal, TypeAlias
from urllib.parse import urlencode

import httpx
from babel import Locale
from babel.dates import format_date

__all__ = [
    "DemoCustomer",
    "DemoData",
    "StripeAPIError",
    "encode_form",
    "format_summary",
    "seed_demo",
]

# --- Stripe's form encoding ------------------------------------------------------------------

FormValue: TypeAlias = (
    str | int | bool | Decimal | datetime | Mapping[str, "FormValue"] | Sequence["FormValue"] | None
)


def encode_form(params: Mapping[str, FormValue]) -> list[tuple[str, str]]:
    """Flatten parameters into the `(key, value)` pairs Stripe expects in a form body.

    Nested mappings become `a[b][c]`, lists become `a[0][c]` (indexed, as Stripe's SDKs send
    them), booleans `true`/`false`, datetimes Unix timestamps and Decimals plain decimal strings
    (for `unit_amount_decimal`). None and empty containers send nothing: the caller leaves a
    field out rather than unsetting it, which Stripe spells as an empty string.
    """
    pairs: list[tuple[str, str]] = []
    for key, value in params.items():
        _encode_into(pairs, key, value)
    return pairs


def _encode_into(pairs: list[tuple[str, str]], key: str, value: FormValue) -> None:
    if value is None:
        return
    # bool before int: True is an int, and Stripe wants the word.
    if isinstance(value, bool):
        pairs.append((key, "true" if value else "false"))
    elif isinstance(value, str | int):
        pairs.append((key, str(value)))
    elif isinstance(value, Decimal):
        pairs.append((key, format(value, "f")))
    elif isinstance(value, datetime):
        if value.tzinfo is None:
            raise ValueError(f"{key}: naive datetime, Stripe timestamps need a time zone")
        pairs.append((key, str(int(value.timestamp()))))
    elif isinstance(value, Mapping):
        for sub_key, sub_value in value.items():
            _encode_into(pairs, f"{key}[{sub_key}]", sub_value)
    else:
        for index, item in enumerate(value):
            _encode_into(pairs, f"{key}[{index}]", item)


# --- a minimal HTTP client -----------------------------------------------------------------

JSON: TypeAlias = dict[str, Any]


class StripeAPIError(RuntimeError):
    """A non-2xx answer, carrying Stripe's own error message so a failed seed says why."""

    def __init__(self, method: str, path: str, status: int, error: Mapping[str, Any]) -> None:
        self.method = method
        self.path = path
        self.status = status
        self.type = str(error.get("type") or "")
        self.code = str(error.get("code") or "")
        self.param = str(error.get("param") or "")
        self.stripe_message = str(error.get("message") or "(no message)")
        details = ", ".join(
            f"{name}={value}"
            for name, value in (("type", self.type), ("code", self.code), ("param", self.param))
            if value
        )
        super().__init__(
            f"{method} {path} failed with HTTP {status}: {self.stripe_message}"
            + (f" ({details})" if details else "")
        )


class _StripeHTTP:
    """POST/GET against a Stripe-compatible API, with Stripe's auth, encoding and errors."""

    # Attempts per request when the connection drops; POSTs are safe to repeat because each
    # carries an Idempotency-Key, as Stripe's SDKs do when they retry.
    ATTEMPTS = 3

    def __init__(self, client: httpx.AsyncClient) -> None:
        self._client = client

    async def post(self, path: str, params: Mapping[str, FormValue] | None = None) -> JSON:
        body = urlencode(encode_form(params or {}))
        headers = {
            "Content-Type": "application/x-www-form-urlencoded",
            "Idempotency-Key": f"demo-seed-{uuid.uuid4()}",
        }
        return await self._send("POST", path, content=body, headers=headers)

    async def get(self, path: str, params: Mapping[str, FormValue] | None = None) -> JSON:
        return await self._send("GET", path, params=encode_form(params or {}))

    async def _send(self, method: str, path: str, **kwargs: Any) -> JSON:
        for attempt in range(1, self.ATTEMPTS + 1):
            try:
                response = await self._client.request(method, path, **kwargs)
                break
            except httpx.TransportError:
                if attempt == self.ATTEMPTS:
                    raise
                await asyncio.sleep(0.2 * attempt)
        try:
            body = response.json()
        except ValueError:
            body = {"error": {"message": response.text[:200] or response.reason_phrase}}
        if not response.is_success:
            error = body.get("error") if isinstance(body, dict) else None
            raise StripeAPIError(method, path, response.status_code, error or {})
        if not isinstance(body, dict):
            raise StripeAPIError(
                method, path, response.status_code, {"message": "not a JSON object"}
            )
        return body


# --- the sandbox's clock ---------------------------------------------------------------------


class _Clock:
    """Moves the server's notion of now, when it has one we can move (only the sandbox does).

    The sandbox's control endpoint (`GET/POST /_sandbox/clock`, not part of Stripe's API) keeps
    an offset from real time; the seeder remembers it and puts it back when done.
    """

    PATH = "/_sandbox/clock"

    def __init__(self, http: _StripeHTTP) -> None:
        self._http = http
        self.available = False
        self._offset_before = 0.0
        self._offset = 0.0

    async def probe(self) -> None:
        try:
            state = await self._http.get(self.PATH)
        except StripeAPIError:
            return  # Stripe itself, or a sandbox without a clock: history is dated today
        self.available = True
        self._offset_before = self._offset = float(state.get("offset") or 0.0)

    async def travel_to(self, moment: datetime) -> None:
        if self.available:
            state = await self._http.post(self.PATH, {"now": moment})
            self._offset = float(state.get("offset") or 0.0)

    async def restore(self) -> None:
        if not self.available:
            return
        if self._offset_before == 0.0:
            await self._http.post(self.PATH, {"reset": True})
        else:
            await self._http.post(self.PATH, {"advance": repr(self._offset_before - self._offset)})


# --- what the demo contains, as data ---------------------------------------------------------

Outcome = Literal["draft", "open", "paid", "void", "uncollectible"]
PayWith = Literal["card", "sepa", "out_of_band"]


@dataclass(frozen=True)
class _Line:
    description: str
    unit_amount: int  # minor units of the invoice's currency (whole yen for JPY)
    quantity: int = 1


@dataclass(frozen=True)
class _Part:
    """One entry of an installment plan (`amounts_due`)."""

    description: str
    amount: int
    due: datetime
    paid_at: datetime | None = None


@dataclass(frozen=True)
class _InvoicePlan:
    outcome: Outcome
    issued: datetime
    due: datetime
    lines: tuple[_Line, ...]
    # When it was paid, voided or written off; None for drafts and open invoices.
    settled: datetime | None = None
    pay_with: PayWith = "card"
    memo: str | None = None
    parts: tuple[_Part, ...] = ()

    @property
    def total(self) -> int:
        return sum(line.unit_amount * line.quantity for line in self.lines)


@dataclass(frozen=True)
class _CustomerPlan:
    name: str
    contact: str
    email: str
    locale: str
    currency: str
    phone: str
    address: Mapping[str, str]
    since: datetime
    invoices: tuple[_InvoicePlan, ...]
    tax_ids: tuple[tuple[str, str], ...] = ()
    # Stripe's test tokens (tok_visa, ...): the default card, unless SEPA is preferred, and one
    # saved long ago that has expired since.
    card: str | None = None
    expired_card: str | None = None
    sepa_iban: str | None = None
    prefers_sepa: bool = False


@dataclass(frozen=True)
class DemoCustomer:
    """One seeded customer, as the demo banner and the console list show it."""

    email: str
    name: str
    contact: str
    locale: str
    customer_id: str
    currency: str
    story: str


@dataclass(frozen=True)
class DemoData:
    """What `seed_demo` created, in the order the console lists it."""

    customers: tuple[DemoCustomer, ...]
    # False when the server could not back-date: the history then carries today's dates.
    dated_history: bool
    seconds: float = field(default=0.0, compare=False)


# --- the seeding itself --------------------------------------------------------------------


@dataclass(frozen=True)
class _Step:
    at: datetime
    run: Callable[[], Awaitable[None]]


class _CustomerSeeder:
    """Turns one customer's plan into timed API calls; keeps the ids the later calls need."""

    def __init__(self, http: _StripeHTTP, plan: _CustomerPlan, now: datetime) -> None:
        self.http = http
        self.plan = plan
        self.now = now
        self.customer_id = ""
        self.card_id: str | None = None
        self.sepa_id: str | None = None

    def steps(self) -> list[_Step]:
        steps = [_Step(self.plan.since, self._create_customer)]
        for invoice in self.plan.invoices:
            steps.extend(self._invoice_steps(invoice))
        # Stable: calls at the same moment keep their written order.
        return sorted(steps, key=lambda step: step.at)

    # -- the customer and its payment details --------------------------------------------
    async def _create_customer(self) -> None:
        plan = self.plan
        customer = await self.http.post(
            "/v1/customers",
            {
                "name": plan.name,
                "email": plan.email,
                "phone": plan.phone,
                "preferred_locales": [plan.locale],
                "address": plan.address,
                "description": plan.contact,
                "metadata": {"demo": "true", "contact": plan.contact},
            },
        )
        self.customer_id = customer["id"]
        for tax_type, value in plan.tax_ids:
            await self.http.post(
                f"/v1/customers/{self.customer_id}/tax_ids", {"type": tax_type, "value": value}
            )
        if plan.card:
            self.card_id = await self._attach_card(plan.card)
        if plan.expired_card:
            expired = await self._attach_card(plan.expired_card)
            # Test tokens expire years ahead; set a date that has passed by today, as happens
            # to a card a customer saved long ago.
            month, year = _months_before(self.now, 2)
            await self.http.post(
                f"/v1/payment_methods/{expired}", {"card": {"exp_month": month, "exp_year": year}}
            )
        if plan.sepa_iban:
            self.sepa_id = await self._sepa_mandate(plan.sepa_iban)
        default = self.sepa_id if plan.prefers_sepa else (self.card_id or self.sepa_id)
        if default:
            await self.http.post(
                f"/v1/customers/{self.customer_id}",
                {"invoice_settings": {"default_payment_method": default}},
            )

    async def _attach_card(self, token: str) -> str:
        method = await self.http.post(
            "/v1/payment_methods",
            {
                "type": "card",
                "card": {"token": token},
                "billing_details": {"name": self.plan.contact, "email": self.plan.email},
            },
        )
        await self.http.post(
            f"/v1/payment_methods/{method['id']}/attach", {"customer": self.customer_id}
        )
        return str(method["id"])

    async def _sepa_mandate(self, iban: str) -> str:
        """A SEPA Direct Debit method with a mandate, as a confirmed SetupIntent creates it."""
        method = await self.http.post(
            "/v1/payment_methods",
            {
                "type": "sepa_debit",
                "sepa_debit": {"iban": iban},
                "billing_details": {
                    "name": self.plan.contact,
                    "email": self.plan.email,
                    "address": self.plan.address,
                },
            },
        )
        await self.http.post(
            "/v1/setup_intents",
            {
                "customer": self.customer_id,
                "payment_method": method["id"],
                "payment_method_types": ["sepa_debit"],
                "usage": "off_session",
                "confirm": True,
                # Signed on paper: Stripe's "offline" acceptance needs no IP or user agent.
                "mandate_data": {"customer_acceptance": {"type": "offline"}},
            },
        )
        return str(method["id"])

    # -- invoices ----------------------------------------------------------------------------
    def _invoice_steps(self, plan: _InvoicePlan) -> list[_Step]:
        holder: dict[str, str] = {}

        async def issue() -> None:
            holder["id"] = await self._issue(plan)

        steps = [_Step(plan.issued, issue)]
        for part in plan.parts:
            if part.paid_at is not None:
                paid_at = part.paid_at

                async def pay_part(part: _Part = part) -> None:
                    await self._pay_part(holder["id"], part)

                steps.append(_Step(paid_at, pay_part))
        if plan.settled is not None:

            async def settle() -> None:
                await self._settle(holder["id"], plan)

            steps.append(_Step(plan.settled, settle))
        return steps

    async def _issue(self, plan: _InvoicePlan) -> str:
        invoice = await self.http.post(
            "/v1/invoices",
            {
                "customer": self.customer_id,
                "currency": self.plan.currency,
                "collection_method": "send_invoice",
                "due_date": plan.due,
                "description": plan.memo,
                # Only the lines added below, never stray pending items.
                "pending_invoice_items_behavior": "exclude",
                # Stripe would finalize a draft by itself after an hour; the draft must stay one.
                "auto_advance": False,
                "metadata": {"demo": "true"},
            },
        )
        invoice_id = str(invoice["id"])
        for line in plan.lines:
            item: dict[str, FormValue] = {
                "customer": self.customer_id,
                "invoice": invoice_id,
                "currency": self.plan.currency,
                "description": line.description,
            }
            if line.quantity == 1:
                item["amount"] = line.unit_amount
            else:
                item["quantity"] = line.quantity
                item["unit_amount_decimal"] = Decimal(line.unit_amount)
            await self.http.post("/v1/invoiceitems", item)
        if plan.parts:
            # The plan must add up to amount_due, so it is set once the lines are in.
            await self.http.post(
                f"/v1/invoices/{invoice_id}",
                {
                    "amounts_due": [
                        {"amount": p.amount, "due_date": p.due, "description": p.description}
                        for p in plan.parts
                    ]
                },
            )
        if plan.outcome != "draft":
            await self.http.post(f"/v1/invoices/{invoice_id}/finalize", {"auto_advance": False})
        return invoice_id

    async def _settle(self, invoice_id: str, plan: _InvoicePlan) -> None:
        if plan.outcome == "void":
            await self.http.post(f"/v1/invoices/{invoice_id}/void")
        elif plan.outcome == "uncollectible":
            await self.http.post(f"/v1/invoices/{invoice_id}/mark_uncollectible")
        elif plan.outcome == "paid":
            params: dict[str, FormValue]
            method = self.sepa_id if plan.pay_with == "sepa" else self.card_id
            if plan.pay_with == "out_of_band" or method is None:
                params = {"paid_out_of_band": True}  # a bank transfer, recorded by hand
            else:
                params = {"payment_method": method, "off_session": True}
            await self.http.post(f"/v1/invoices/{invoice_id}/pay", params)

    async def _pay_part(self, invoice_id: str, part: _Part) -> None:
        """Pay one installment: a PaymentIntent for its amount, attached to the invoice."""
        method = self.card_id or self.sepa_id
        if method is None:
            raise ValueError(f"{self.plan.name}: an installment needs a saved payment method")
        intent = await self.http.post(
            "/v1/payment_intents",
            {
                "amount": part.amount,
                "currency": self.plan.currency,
                "customer": self.customer_id,
                "payment_method": method,
                "payment_method_types": ["sepa_debit" if method == self.sepa_id else "card"],
                "description": part.description,
                "confirm": True,
                "off_session": True,
            },
        )
        await self.http.post(
            f"/v1/invoices/{invoice_id}/attach_payment", {"payment_intent": intent["id"]}
        )


async def seed_demo(
    api_base: str, api_key: str = "sk_test_demo", *, now: datetime | None = None
) -> DemoData:
    """Create the demo customers and their billing history in the Stripe-compatible `api_base`.

    `now` is the moment the stories are told around (overdue, due soon, a year of history);
    it defaults to the current time. Every run creates a fresh set of customers.
    """
    started = asyncio.get_running_loop().time()
    now = (now or _utcnow()).astimezone(UTC).replace(microsecond=0)
    plans = demo_plans(now)
    async with httpx.AsyncClient(
        base_url=api_base.rstrip("/"),
        headers={"Authorization": f"Bearer {api_key}"},
        timeout=httpx.Timeout(30.0),
    ) as client:
        http = _StripeHTTP(client)
        clock = _Clock(http)
        await clock.probe()
        seeders = [_CustomerSeeder(http, plan, now) for plan in plans]
        timelines = [seeder.steps() for seeder in seeders]
        if clock.available:
            try:
                await _replay_in_time(clock, timelines)
            finally:
                await clock.restore()
        else:
            # Nothing to wait for between steps: each customer's calls run in order, and the
            # customers side by side.
            await _together(_run_in_order(timeline) for timeline in timelines)
    customers = tuple(
        DemoCustomer(
            email=plan.email,
            name=plan.name,
            contact=plan.contact,
            locale=plan.locale,
            customer_id=seeder.customer_id,
            currency=plan.currency,
            story=_story(plan, now),
        )
        for plan, seeder in zip(plans, seeders, strict=True)
    )
    elapsed = asyncio.get_running_loop().time() - started
    return DemoData(customers=customers, dated_history=clock.available, seconds=elapsed)


async def _run_in_order(steps: Iterable[_Step]) -> None:
    for step in steps:
        await step.run()


async def _replay_in_time(clock: _Clock, timelines: Sequence[Sequence[_Step]]) -> None:
    """Set the clock to each moment in turn and run what happens then, customers concurrently."""
    moments = sorted({step.at for timeline in timelines for step in timeline})
    for moment in moments:
        await clock.travel_to(moment)
        await _together(
            _run_in_order(step for step in timeline if step.at == moment) for timeline in timelines
        )


async def _together(coroutines: Iterable[Coroutine[Any, Any, None]]) -> None:
    """Run side by side; on the first failure stop the others and raise that failure itself.

    A TaskGroup rather than gather(), so that no customer keeps sending requests after another
    failed and the HTTP client has been closed.
    """
    try:
        async with asyncio.TaskGroup() as group:
            for coroutine in coroutines:
                group.create_task(coroutine)
    except ExceptionGroup as failures:
        raise failures.exceptions[0] from None


# --- the console summary ---------------------------------------------------------------------


def format_summary(data: DemoData) -> str:
    """A plain-text table of the demo customers for the console, each with its story below it.

    The story goes on its own line so that the table stays readable in an 80-120 column terminal.
    """
    indent = "    "
    header = ("E-mail", "Company", "Contact", "Language", "Currency")
    rows = [header] + [
        (
            c.email,
            c.name,
            c.contact,
            f"{c.locale} {Locale.parse(c.locale).display_name or ''}".rstrip(),
            c.currency.upper(),
        )
        for c in data.customers
    ]
    widths = [max(len(row[i]) for row in rows) for i in range(len(header))]

    def render(row: Sequence[str]) -> str:
        return (indent + "  ".join(c.ljust(w) for c, w in zip(row, widths, strict=True))).rstrip()

    lines = [render(header), indent + "  ".join("-" * w for w in widths)]
    story_indent = indent + " " * (widths[0] + 2)
    for row, customer in zip(rows[1:], data.customers, strict=True):
        lines.append(render(row))
        lines += [story_indent + part for part in _wrap_list(customer.story, width=72)]
    for email, count in _shared_emails(data.customers):
        lines += ["", f"{indent}{email} belongs to {count} customers (one person, two companies)."]
    if not data.dated_history:
        lines += ["", f"{indent}The server cannot back-date: the invoice history is dated today."]
    return "\n".join(lines)


def _wrap_list(text: str, width: int) -> list[str]:
    """Wrap a comma-separated list between its items, never inside one."""
    lines: list[str] = []
    for item in text.split(", "):
        if lines and len(lines[-1]) + 2 + len(item) <= width:
            lines[-1] += ", " + item
        else:
            if lines:
                lines[-1] += ","
            lines.append(item)
    return lines


def _shared_emails(customers: Sequence[DemoCustomer]) -> list[tuple[str, int]]:
    counts: dict[str, int] = {}
    for customer in customers:
        counts[customer.email] = counts.get(customer.email, 0) + 1
    return [(email, n) for email, n in counts.items() if n > 1]


def _story(plan: _CustomerPlan, now: datetime) -> str:
    """The one-line summary of a customer's situation, derived from its plan."""
    invoices = plan.invoices
    paid = [i for i in invoices if i.outcome == "paid"]
    overdue = [i for i in invoices if i.outcome == "open" and not i.parts and i.due < now]
    upcoming = [i for i in invoices if i.outcome == "open" and not i.parts and i.due >= now]
    plans = [i for i in invoices if i.parts]
    parts: list[str] = []
    if paid:
        oldest = min(i.issued for i in paid)
        months = (now.year - oldest.year) * 12 + now.month - oldest.month
        parts.append(f"{len(paid)} paid over {months} months")
    if overdue:
        parts.append(f"{len(overdue)} overdue")
    if upcoming:
        parts.append(f"{len(upcoming)} open (not yet due)")
    for installment_plan in plans:
        late = sum(1 for p in installment_plan.parts if p.paid_at is None and p.due < now)
        parts.append(f"installment plan with deposit paid and {late} part late")
    for outcome in ("uncollectible", "void", "draft"):
        count = sum(1 for i in invoices if i.outcome == outcome)
        if count:
            parts.append(f"{count} {outcome}")
    methods = []
    if plan.card:
        methods.append("card")
    if plan.expired_card:
        methods.append("expired card")
    if plan.sepa_iban:
        methods.append("SEPA mandate")
    if methods:
        parts.append(" + ".join(methods))
    parts += [f"tax ID {_expected_tax_status(t, v)}" for t, v in plan.tax_ids]
    return ", ".join(parts)


def _expected_tax_status(tax_type: str, value: str) -> str:
    if tax_type not in ("eu_vat", "gb_vat"):
        return "unavailable"
    for marker, status in (
        (_VERIFIED, "verified"),
        (_UNVERIFIED, "unverified"),
        (_UNAVAILABLE, "unavailable"),
    ):
        if marker in value:
            return status
    return "pending"


# --- the stories -----------------------------------------------------------------------------

# Tax IDs get their verification status from their value in test mode (Stripe's convention
# for eu_vat and gb_vat, https://docs.stripe.com/billing/customer/tax-ids#testing): a value
# containing 000000000 is verified, 111111111 unverified, others stay pending. Stripe has no test
# value for `unavailable`; the sandbox uses 333333333 (docs/sandbox.md), and types Stripe does not
# verify at all (ch_vat) are `unavailable` everywhere.
_VERIFIED, _UNVERIFIED, _UNAVAILABLE = "000000000", "111111111", "333333333"


def demo_plans(now: datetime) -> list[_CustomerPlan]:
    """Every demo customer and what happens to it, with dates relative to `now`."""
    at = _Dates(now)
    return [
        _schmidt_haustechnik(at),
        _schmidt_immobilien(at),
        _bennett_hale(at),
        _de_vries(at),
        _talleres_morales(at),
        _nowak_software(at),
        _horvat_dizajn(at),
        _tanaka_trading(at),
    ]


class _Dates:
    """Business-hours moments relative to `now`, so that neighbouring steps share a clock move."""

    def __init__(self, now: datetime) -> None:
        self.now = now
        self.today = now.date()

    def days_ago(self, days: int, hour: int = 9) -> datetime:
        return _at(self.today - timedelta(days=days), hour)

    def end_of_day(self, days_from_today: int) -> datetime:
        """23:00 UTC on a day before (negative) or after today: when a due date runs out."""
        return _at(self.today + timedelta(days=days_from_today), 23)

    def month_start(self, months_ago: int, day: int = 1, hour: int = 8) -> datetime:
        month, year = _months_before(self.now, months_ago)
        return _at(date(year, month, day), hour)


def _at(day: date, hour: int) -> datetime:
    return datetime.combine(day, time(hour), tzinfo=UTC)


def _months_before(moment: datetime, months: int) -> tuple[int, int]:
    index = moment.year * 12 + moment.month - 1 - months
    return index % 12 + 1, index // 12


def _month_name(moment: datetime, locale: str) -> str:
    # The stand-alone form ("März 2025", "marzec 2025", "ožujak 2025") reads right after a dash.
    return format_date(moment, "LLLL yyyy", locale=locale)


def _monthly(
    at: _Dates,
    months: int,
    lines: Callable[[datetime, int], tuple[_Line, ...]],
    *,
    day: int = 1,
    due_days: int = 14,
    paid_after_days: int = 9,
    pay_with: Callable[[int], PayWith] = lambda _: "card",
) -> list[_InvoicePlan]:
    """Paid invoices, one a month for `months` months (the current month excluded)."""
    plans = []
    for months_ago in range(months, 0, -1):
        issued = at.month_start(months_ago, day)
        plans.append(
            _InvoicePlan(
                outcome="paid",
                issued=issued,
                due=issued + timedelta(days=due_days),
                settled=issued + timedelta(days=paid_after_days, hours=3),
                lines=lines(issued, months_ago),
                pay_with=pay_with(months_ago),
            )
        )
    return plans


def _open(
    at: _Dates, issued_days_ago: int, due_days: int, *lines: _Line, memo: str | None = None
) -> _InvoicePlan:
    issued = at.days_ago(issued_days_ago)
    return _InvoicePlan(
        outcome="open",
        issued=issued,
        due=_at(issued.date() + timedelta(days=due_days), 23),
        lines=lines,
        memo=memo,
    )


def _closed(
    outcome: Outcome,
    at: _Dates,
    issued_days_ago: int,
    settled_days_ago: int,
    due_days: int,
    *lines: _Line,
    memo: str | None = None,
) -> _InvoicePlan:
    issued = at.days_ago(issued_days_ago)
    return _InvoicePlan(
        outcome=outcome,
        issued=issued,
        due=_at(issued.date() + timedelta(days=due_days), 23),
        settled=at.days_ago(settled_days_ago, hour=14),
        lines=lines,
        memo=memo,
    )


def _draft(at: _Dates, *lines: _Line, memo: str | None = None) -> _InvoicePlan:
    return _InvoicePlan(
        outcome="draft",
        issued=at.days_ago(1, hour=16),
        due=at.end_of_day(30),
        lines=lines,
        memo=memo,
    )


def _schmidt_haustechnik(at: _Dates) -> _CustomerPlan:
    """German, EUR: the richest story, and one of the two companies behind one e-mail."""
    jobs = (
        (
            _Line("Notdienst-Einsatz Rohrbruch Keller", 14500),
            _Line("Arbeitszeit Monteur (Std.)", 6800, 3),
        ),
        (_Line("Austausch Umwälzpumpe inkl. Material", 38900),),
        (_Line("Jährliche Heizungswartung inkl. Abgasmessung", 24900),),
        (_Line("Thermostatventile (Stück)", 2450, 6), _Line("Anfahrtspauschale", 4500)),
        (_Line("Entkalkung Warmwasserspeicher", 17900), _Line("Anfahrtspauschale", 4500)),
    )

    def contract(issued: datetime, _: int) -> tuple[_Line, ...]:
        return (_Line(f"Wartungsvertrag Heizung und Sanitär ({_month_name(issued, 'de')})", 18900),)

    def job(_: datetime, months_ago: int) -> tuple[_Line, ...]:
        return jobs[months_ago % len(jobs)]

    installment_issued = at.days_ago(50)
    return _CustomerPlan(
        name="Schmidt Haustechnik GmbH",
        contact="Anna Schmidt",
        email="anna.schmidt@example.de",
        locale="de",
        currency="eur",
        phone="+49 30 9018 2042",
        address={
            "line1": "Lindenstraße 42",
            "postal_code": "10969",
            "city": "Berlin",
            "country": "DE",
        },
        since=at.month_start(16, day=20),
        tax_ids=(("eu_vat", f"DE{_VERIFIED}"),),
        card="tok_de",
        expired_card="tok_mastercard",
        sepa_iban="DE89370400440532013000",
        invoices=(
            # The maintenance contract by direct debit, the call-outs by card: 30 paid invoices
            # over 15 months, three pages of Stripe's default list.
            *_monthly(at, 15, contract, pay_with=lambda _: "sepa"),
            *_monthly(at, 15, job, day=16, paid_after_days=4),
            _open(
                at,
                6,
                30,
                _Line(f"Wartungsvertrag Heizung und Sanitär ({_month_name(at.now, 'de')})", 18900),
            ),
            _open(
                at,
                58,
                14,
                _Line("Notdienst-Einsatz Heizungsausfall (Wochenende)", 21000),
                _Line("Arbeitszeit Monteur (Std.)", 6800, 2),
                memo="Einsatz vom Samstag; Zuschlag für Wochenendeinsatz enthalten.",
            ),
            _open(
                at,
                33,
                14,
                _Line("Wartungsvertrag Q3, Lüftungsanlage Bürogebäude", 46500),
            ),
            _InvoicePlan(
                outcome="open",
                issued=installment_issued,
                due=at.end_of_day(18),
                lines=(
                    _Line("Gas-Brennwertkessel 25 kW inkl. Montage", 625000),
                    _Line("Abgasanlage, Inbetriebnahme und Einweisung", 135000),
                    _Line("Demontage und Entsorgung Altkessel", 80000),
                ),
                memo="Ratenzahlung wie vereinbart: Anzahlung und zwei Raten.",
                parts=(
                    _Part(
                        "Anzahlung",
                        240000,
                        installment_issued + timedelta(days=7),
                        paid_at=installment_issued + timedelta(days=3, hours=2),
                    ),
                    _Part("1. Rate", 300000, at.end_of_day(-12)),
                    _Part("2. Rate", 300000, at.end_of_day(18)),
                ),
            ),
            _closed(
                "void",
                at,
                75,
                74,
                14,
                _Line("Jährliche Heizungswartung inkl. Abgasmessung", 24900),
                memo="Storniert: doppelt erfasst.",
            ),
            _draft(
                at,
                _Line("Badsanierung: Vorwandinstallation", 289000),
                _Line("Sanitärobjekte und Armaturen", 174500),
                memo="Entwurf, noch nicht mit der Kundin abgestimmt.",
            ),
        ),
    )


def _schmidt_immobilien(at: _Dates) -> _CustomerPlan:
    """The same person's second company: Swiss, CHF, under the same e-mail address."""

    def quarter(issued: datetime, _: int) -> tuple[_Line, ...]:
        q = (issued.month - 1) // 3 + 1
        return (
            _Line(f"Hauswartung Liegenschaft Seefeldstrasse, Q{q}/{issued.year}", 126000),
            _Line("Treppenhausreinigung (Monate)", 18000, 3),
        )

    quarterly = [p for p in _monthly(at, 12, quarter, day=5) if p.issued.month % 3 == 1]
    return _CustomerPlan(
        name="Schmidt Immobilien AG",
        contact="Anna Schmidt",
        email="anna.schmidt@example.de",
        locale="de",
        currency="chf",
        phone="+41 44 668 18 00",
        address={
            "line1": "Seefeldstrasse 88",
            "postal_code": "8008",
            "city": "Zürich",
            "country": "CH",
        },
        since=at.month_start(14, day=3),
        tax_ids=(("ch_vat", "CHE-116.281.710 MWST"),),
        card="tok_visa",
        invoices=(
            *quarterly,
            _open(
                at,
                3,
                30,
                _Line("Verwaltungshonorar Jahresabrechnung Nebenkosten", 85000),
            ),
        ),
    )


def _bennett_hale(at: _Dates) -> _CustomerPlan:
    """English, GBP: a retainer, an open invoice, an overdue one and a written-off survey."""

    def retainer(issued: datetime, _: int) -> tuple[_Line, ...]:
        return (
            _Line(f"Project management retainer — {_month_name(issued, 'en')}", 95000),
            _Line("CAD licence seats", 4200, 4),
        )

    return _CustomerPlan(
        name="Bennett & Hale Architects Ltd",
        contact="Oliver Bennett",
        email="oliver.bennett@example.co.uk",
        locale="en",
        currency="gbp",
        phone="+44 113 496 0321",
        address={
            "line1": "14 Park Row",
            "line2": "Second Floor",
            "city": "Leeds",
            "postal_code": "LS1 5HD",
            "country": "GB",
        },
        since=at.month_start(10, day=12),
        tax_ids=(("gb_vat", f"GB{_UNVERIFIED}"),),
        card="tok_amex",
        invoices=(
            *_monthly(at, 8, retainer, day=2),
            _open(at, 4, 30, _Line("Planning consultancy — phase 2, Holbeck Yard", 240000)),
            _open(
                at,
                45,
                30,
                _Line("Structural engineer site visits", 32500, 2),
                _Line("Printing of planning drawings (A1 sets)", 1850, 6),
            ),
            _closed(
                "uncollectible",
                at,
                150,
                40,
                30,
                _Line("Measured building survey — 12 Wellington Street", 175000),
                memo="Client entered administration; written off after three reminders.",
            ),
        ),
    )


def _de_vries(at: _Dates) -> _CustomerPlan:
    """Dutch, EUR, paying by SEPA Direct Debit: history, an overdue invoice, a voided one."""

    def shop(issued: datetime, _: int) -> tuple[_Line, ...]:
        return (
            _Line(f"Onderhoud webwinkel — {_month_name(issued, 'nl')}", 32500),
            _Line("Hosting en back-ups", 2900),
        )

    return _CustomerPlan(
        name="Bloemenhandel De Vries B.V.",
        contact="Sanne de Vries",
        email="sanne.devries@example.nl",
        locale="nl",
        currency="eur",
        phone="+31 20 794 0123",
        address={
            "line1": "Prinsengracht 263",
            "postal_code": "1016 GV",
            "city": "Amsterdam",
            "country": "NL",
        },
        since=at.month_start(8, day=8),
        tax_ids=(("eu_vat", f"NL{_UNAVAILABLE}B01"),),
        sepa_iban="NL39RABO0300065264",
        prefers_sepa=True,
        invoices=(
            *_monthly(at, 6, shop, day=3, pay_with=lambda _: "sepa"),
            _open(
                at,
                40,
                14,
                _Line("Koppeling met bezorgdienst (uren)", 8500, 6),
                memo="Meerwerk buiten het onderhoudscontract.",
            ),
            _open(at, 2, 14, _Line(f"Onderhoud webwinkel — {_month_name(at.now, 'nl')}", 32500)),
            _closed(
                "void",
                at,
                20,
                19,
                14,
                _Line("Fotografie productcatalogus voorjaar", 64000),
                memo="Vervallen: opdracht geannuleerd.",
            ),
        ),
    )


def _talleres_morales(at: _Dates) -> _CustomerPlan:
    """Spanish, EUR, paying by bank transfer: history, one open, one overdue, a draft."""

    def upkeep(issued: datetime, _: int) -> tuple[_Line, ...]:
        return (
            _Line(f"Mantenimiento preventivo de maquinaria — {_month_name(issued, 'es')}", 41000),
        )

    return _CustomerPlan(
        name="Talleres Morales S.L.",
        contact="Javier Morales García",
        email="javier.morales@example.es",
        locale="es",
        currency="eur",
        phone="+34 912 345 678",
        address={
            "line1": "Calle de Alcalá, 123",
            "line2": "3.º B",
            "postal_code": "28009",
            "city": "Madrid",
            "state": "Madrid",
            "country": "ES",
        },
        since=at.month_start(7, day=14),
        tax_ids=(("eu_vat", "ESB12345674"),),
        invoices=(
            *_monthly(at, 5, upkeep, day=10, pay_with=lambda _: "out_of_band"),
            _open(at, 9, 30, _Line("Revisión anual de la flota de carretillas elevadoras", 98000)),
            _open(
                at,
                52,
                30,
                _Line("Reparación de la prensa hidráulica", 125000),
                _Line("Horas de técnico", 4500, 5),
            ),
            _draft(at, _Line("Instalación de compresor nuevo (presupuesto)", 310000)),
        ),
    )


def _nowak_software(at: _Dates) -> _CustomerPlan:
    """Polish, PLN: the second rich story, with its own installment plan."""

    def subscription(issued: datetime, _: int) -> tuple[_Line, ...]:
        return (
            _Line(f"Abonament — pakiet Pro ({_month_name(issued, 'pl')})", 149900),
            _Line("Dodatkowi użytkownicy", 4900, 5),
        )

    plan_issued = at.days_ago(40)
    return _CustomerPlan(
        name="Nowak Software sp. z o.o.",
        contact="Katarzyna Nowak",
        email="katarzyna.nowak@example.pl",
        locale="pl",
        currency="pln",
        phone="+48 22 628 41 35",
        address={
            "line1": "ul. Marszałkowska 84/92",
            "line2": "lok. 15",
            "postal_code": "00-514",
            "city": "Warszawa",
            "state": "mazowieckie",
            "country": "PL",
        },
        since=at.month_start(15, day=2),
        tax_ids=(("eu_vat", f"PL{_VERIFIED}0"),),
        card="tok_pl",
        invoices=(
            *_monthly(at, 14, subscription, day=1, paid_after_days=2),
            _open(
                at, 5, 14, _Line(f"Abonament — pakiet Pro ({_month_name(at.now, 'pl')})", 149900)
            ),
            _open(
                at, 35, 14, _Line("Wdrożenie modułu fakturowania — konsultacje (godz.)", 25000, 8)
            ),
            _open(at, 64, 21, _Line("Integracja z KSeF — prace programistyczne", 480000)),
            _InvoicePlan(
                outcome="open",
                issued=plan_issued,
                due=at.end_of_day(25),
                lines=(
                    _Line("Analiza przedwdrożeniowa", 900000),
                    _Line("Konfiguracja i migracja danych", 1800000),
                    _Line("Szkolenie użytkowników (dni)", 300000, 3),
                ),
                memo="Płatność w ratach zgodnie z umową: zaliczka i dwie raty.",
                parts=(
                    _Part(
                        "Zaliczka",
                        720000,
                        plan_issued + timedelta(days=5),
                        paid_at=plan_issued + timedelta(days=1, hours=5),
                    ),
                    _Part("Rata 1", 1440000, at.end_of_day(-5)),
                    _Part("Rata 2", 1440000, at.end_of_day(25)),
                ),
            ),
            _closed(
                "uncollectible",
                at,
                200,
                90,
                14,
                _Line("Szkolenie zespołu — 2 dni, Kraków", 560000),
                memo="Spisane jako nieściągalne po sporze o zakres szkolenia.",
            ),
            _closed(
                "void",
                at,
                120,
                118,
                14,
                _Line("Abonament — pakiet Enterprise (błędny pakiet)", 349900),
                memo="Anulowana: wystawiona na niewłaściwy pakiet.",
            ),
        ),
    )


def _horvat_dizajn(at: _Dates) -> _CustomerPlan:
    """Croatian, EUR: web maintenance history, an open and an overdue invoice, a voided one."""

    def upkeep(issued: datetime, _: int) -> tuple[_Line, ...]:
        return (_Line(f"Održavanje web stranice — {_month_name(issued, 'hr')}", 22000),)

    return _CustomerPlan(
        name="Horvat Dizajn d.o.o.",
        contact="Ivana Horvat",
        email="ivana.horvat@example.hr",
        locale="hr",
        currency="eur",
        phone="+385 1 4812 345",
        address={
            "line1": "Ilica 45",
            "postal_code": "10000",
            "city": "Zagreb",
            "country": "HR",
        },
        since=at.month_start(9, day=1),
        tax_ids=(("eu_vat", "HR12345678903"),),
        card="tok_hr",
        invoices=(
            *_monthly(at, 7, upkeep, day=5),
            _open(at, 8, 15, _Line("Izrada web trgovine — prva faza", 180000)),
            _open(
                at,
                47,
                15,
                _Line("Hosting i SSL certifikat — godišnja pretplata", 24000),
                _Line("Registracija domene .hr", 2500),
            ),
            _closed(
                "void",
                at,
                30,
                28,
                15,
                _Line("Fotografiranje proizvoda", 45000),
                memo="Stornirano: usluga otkazana.",
            ),
        ),
    )


def _tanaka_trading(at: _Dates) -> _CustomerPlan:
    """English-speaking, JPY (zero-decimal: the amounts are whole yen)."""

    def translation(issued: datetime, _: int) -> tuple[_Line, ...]:
        return (
            _Line(f"Translation EN→DE, product catalogue — {_month_name(issued, 'en')}", 185000),
            _Line("Terminology review (hours)", 9500, 2),
        )

    every_other = [p for p in _monthly(at, 8, translation, day=15) if p.issued.month % 2 == 0]
    return _CustomerPlan(
        name="Tanaka Trading K.K.",
        contact="Kenji Tanaka",
        email="kenji.tanaka@example.jp",
        locale="en",
        currency="jpy",
        phone="+81 3 4567 8901",
        address={
            "line1": "2-7-2 Marunouchi",
            "line2": "Chiyoda-ku",
            "city": "Tokyo",
            "state": "Tokyo",
            "postal_code": "100-7090",
            "country": "JP",
        },
        since=at.month_start(9, day=10),
        card="tok_jcb",
        invoices=(
            *every_other,
            _open(at, 10, 30, _Line("Localisation of trade-fair brochure (DE, PL, HR)", 96000)),
            _open(at, 38, 14, _Line("Interpreting, Messe Frankfurt (days)", 48500, 2)),
        ),
    )


def _utcnow() -> datetime:
    return datetime.now(UTC)
