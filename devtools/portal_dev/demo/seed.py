"""Demo data: realistic customers in six languages, created through Stripe's public REST API.

The customers and their histories are plain data (`portal_dev.demo.stories`); this module turns each
into timed calls to the API, spoken as plain HTTP (`portal_dev.demo.stripe_http`), so it fills the
local sandbox and a real Stripe test-mode account alike.

Stripe cannot back-date objects. When the server offers the sandbox's clock
(`/_sandbox/clock`, see docs/sandbox.md) the seeder moves it through sixteen months of history so
that invoices, payments and due dates carry believable dates, and puts it back afterwards. Against
a server without that clock everything is created "now", with due dates in the past where a story
needs them (the sandbox accepts those as a documented leniency; Stripe itself refuses them).
"""

from __future__ import annotations

import asyncio
import contextlib
from collections.abc import Awaitable, Callable, Coroutine, Iterable, Sequence
from dataclasses import dataclass, field
from datetime import UTC, datetime
from decimal import Decimal
from typing import Any

import httpx
from babel import Locale

from portal.settings import STRIPE_INVOICE_API_VERSION
from portal_dev.demo.stories import (
    SELLER,
    Coupon,
    CustomerPlan,
    InvoicePlan,
    Part,
    TaxRate,
    demo_plans,
    expected_tax_status,
    months_before,
)
from portal_dev.demo.stripe_http import FormValue, StripeAPIError, StripeHTTP, encode_form

__all__ = [
    "DemoCustomer",
    "DemoData",
    "StripeAPIError",
    "encode_form",
    "format_summary",
    "seed_demo",
]

# --- the sandbox's clock ---------------------------------------------------------------------


class _Clock:
    """Moves the server's notion of now, when it has one we can move (only the sandbox does).

    The sandbox's control endpoint (`GET/POST /_sandbox/clock`, not part of Stripe's API) keeps
    an offset from real time; the seeder remembers it and puts it back when done.
    """

    PATH = "/_sandbox/clock"

    def __init__(self, http: StripeHTTP) -> None:
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


# --- what the demo created -------------------------------------------------------------------


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

    def __init__(
        self, http: StripeHTTP, plan: CustomerPlan, now: datetime, seller_tax_id: str
    ) -> None:
        self.http = http
        self.plan = plan
        self.now = now
        self.seller_tax_id = seller_tax_id
        self.customer_id = ""
        self.card_id: str | None = None
        self.sepa_id: str | None = None
        self.tax_rates: dict[TaxRate, str] = {}  # each made once, then reused

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
                "tax_exempt": plan.tax_exempt,
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
            month, year = months_before(self.now, 2)
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
                "allowed_payment_method_types": ["sepa_debit"],
                "usage": "off_session",
                "confirm": True,
                # Signed on paper: Stripe's "offline" acceptance needs no IP or user agent.
                "mandate_data": {"customer_acceptance": {"type": "offline"}},
            },
        )
        return str(method["id"])

    # -- invoices ----------------------------------------------------------------------------
    def _invoice_steps(self, plan: InvoicePlan) -> list[_Step]:
        holder: dict[str, str] = {}

        async def issue() -> None:
            holder["id"] = await self._issue(plan)

        steps = [_Step(plan.issued, issue)]
        for part in plan.parts:
            if part.paid_at is not None:
                paid_at = part.paid_at

                async def pay_part(part: Part = part) -> None:
                    await self._pay_part(holder["id"], part)

                steps.append(_Step(paid_at, pay_part))
        if plan.settled is not None:

            async def settle() -> None:
                await self._settle(holder["id"], plan)

            steps.append(_Step(plan.settled, settle))
        return steps

    async def _tax_rate(self, rate: TaxRate) -> str:
        if rate not in self.tax_rates:
            made = await self.http.post(
                "/v1/tax_rates",
                {
                    "display_name": rate.display_name,
                    "percentage": Decimal(str(rate.percentage)),
                    "inclusive": rate.inclusive,
                    "country": rate.country,
                    "tax_type": "vat",
                    "metadata": {"demo": "true"},
                },
            )
            self.tax_rates[rate] = str(made["id"])
        return self.tax_rates[rate]

    async def _coupon(self, coupon: Coupon) -> list[FormValue]:
        """A coupon made for one use, as `discounts` takes it."""
        params: dict[str, FormValue] = {
            "name": coupon.name,
            "duration": "once",
            "metadata": {"demo": "true"},
        }
        if coupon.percent_off is not None:
            params["percent_off"] = Decimal(str(coupon.percent_off))
        else:
            params["amount_off"] = coupon.amount_off
            params["currency"] = self.plan.currency
        made = await self.http.post("/v1/coupons", params)
        return [{"coupon": str(made["id"])}]

    async def _issue(self, plan: InvoicePlan) -> str:
        params: dict[str, FormValue] = {
            "customer": self.customer_id,
            "currency": self.plan.currency,
            "collection_method": "send_invoice",
            "due_date": plan.due,
            "description": plan.memo,
            # Only the lines added below, never stray pending items.
            "pending_invoice_items_behavior": "exclude",
            # Stripe would finalize a draft by itself after an hour; the draft must stay one.
            "auto_advance": False,
            # The seller's VAT number in the invoice's header.
            "account_tax_ids": [self.seller_tax_id],
            "metadata": {"demo": "true"},
        }
        if plan.finalizes_at is not None:
            del params["due_date"]
            params["collection_method"] = "charge_automatically"
            params["auto_advance"] = True
            params["automatically_finalizes_at"] = plan.finalizes_at
        if plan.tax is not None:
            params["default_tax_rates"] = [await self._tax_rate(plan.tax)]
        if plan.discount is not None:
            params["discounts"] = await self._coupon(plan.discount)
        if plan.by_transfer:
            params["payment_settings"] = {
                "payment_method_types": ["customer_balance"],
                "payment_method_options": {
                    "customer_balance": {
                        "funding_type": "bank_transfer",
                        "bank_transfer": {
                            "type": "eu_bank_transfer",
                            "eu_bank_transfer": {"country": "DE"},
                        },
                    }
                },
            }
        invoice = await self.http.post("/v1/invoices", params)
        invoice_id = str(invoice["id"])
        for line in plan.lines:
            item: dict[str, FormValue] = {
                "customer": self.customer_id,
                "invoice": invoice_id,
                "currency": self.plan.currency,
                "description": line.description,
            }
            if line.discount is not None:
                item["discounts"] = await self._coupon(line.discount)
            if line.quantity == 1:
                item["amount"] = line.unit_amount
            else:
                item["quantity"] = line.quantity
                item["unit_amount_decimal"] = Decimal(line.unit_amount)
            await self.http.post("/v1/invoiceitems", item)
        if plan.parts:
            # The plan must add up to amount_due, so it is set once the lines are in. Payment
            # plans are a Stripe preview: sent with the preview version the portal reads with.
            await self.http.post(
                f"/v1/invoices/{invoice_id}",
                {
                    "amounts_due": [
                        {"amount": p.amount, "due_date": p.due, "description": p.description}
                        for p in plan.parts
                    ]
                },
                stripe_version=STRIPE_INVOICE_API_VERSION,
            )
        if plan.outcome != "draft":
            await self.http.post(f"/v1/invoices/{invoice_id}/finalize", {"auto_advance": False})
        return invoice_id

    async def _settle(self, invoice_id: str, plan: InvoicePlan) -> None:
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

    async def _pay_part(self, invoice_id: str, part: Part) -> None:
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
                "allowed_payment_method_types": [
                    "sepa_debit" if method == self.sepa_id else "card"
                ],
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
        http = StripeHTTP(client)
        clock = _Clock(http)
        await clock.probe()
        seller_tax_id = await _introduce_seller(http)
        seeders = [_CustomerSeeder(http, plan, now, seller_tax_id) for plan in plans]
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


async def _introduce_seller(http: StripeHTTP) -> str:
    """The seller's name (a Dashboard setting: the sandbox's /_sandbox/account, skipped against
    Stripe itself) and its VAT number as an account tax ID; returns the tax ID's id."""
    # Against Stripe itself the name is whatever its Dashboard says.
    with contextlib.suppress(StripeAPIError):
        await http.post("/_sandbox/account", {"name": SELLER.name})
    tax_type, value = SELLER.tax_id
    listed = await http.get("/v1/tax_ids", {"limit": 100})
    for existing in listed.get("data", []):
        if (existing.get("type"), existing.get("value")) == (tax_type, value):
            return str(existing["id"])
    made = await http.post("/v1/tax_ids", {"type": tax_type, "value": value})
    return str(made["id"])


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


def _story(plan: CustomerPlan, now: datetime) -> str:
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
        parts.append(
            f"installment plan with deposit paid and {late} part late"
            if late
            else "installment plan with deposit paid, next part upcoming"
        )
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
    parts += [f"tax ID {expected_tax_status(t, v)}" for t, v in plan.tax_ids]
    return ", ".join(parts)


def _utcnow() -> datetime:
    return datetime.now(UTC)
