"""The demo's data: who the demo customers are and what has happened to each of them.

Nine companies in six languages (German, English, Dutch, Spanish, Polish, Croatian) and five
currencies, one of them zero-decimal (JPY), billed by one seller (`SELLER`: its name and German
VAT number on every invoice, as Stripe's `account_name` and `account_tax_ids` carry them). Between them they show every state the portal has to
present: paid, open, overdue, draft, void and uncollectible invoices, an installment plan with the
deposit paid and one part late, more than a year of monthly history (several pages of Stripe's
default list), a default card next to an expired one, a SEPA Direct Debit mandate, tax IDs in
each verification state, invoices with a tax rate, discounts on the invoice and on a line, an
Austrian business billed under the reverse charge (`tax_exempt=reverse`, no tax), customers in
Poland and the Netherlands for the portal's country-based payment method examples, and one
e-mail address behind two companies, so that a newcomer finds something realistic on every
page.

The stories are plain data, with dates relative to the `now` they are told around, so that they
hold whenever the demo runs and can be checked without a server. `portal_dev.demo.seed` turns them
into API calls.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping
from dataclasses import dataclass
from datetime import UTC, date, datetime, time, timedelta
from typing import Literal

from babel.dates import format_date

__all__ = [
    "SELLER",
    "Coupon",
    "CustomerPlan",
    "InvoicePlan",
    "Line",
    "Outcome",
    "Part",
    "PayWith",
    "Seller",
    "TaxRate",
    "demo_plans",
    "expected_tax_status",
    "months_before",
]

# --- what the demo contains, as data ---------------------------------------------------------

Outcome = Literal["draft", "open", "paid", "void", "uncollectible"]
PayWith = Literal["card", "sepa", "out_of_band"]
TaxExempt = Literal["none", "exempt", "reverse"]


@dataclass(frozen=True)
class Seller:
    """Who issues the invoices: the account's public business name (a Dashboard setting, set
    through the sandbox's /_sandbox/account) and its tax ID (`POST /v1/tax_ids`)."""

    name: str
    tax_id: tuple[str, str]


# A fictitious German software house; the VAT number has a valid check digit (ISO 7064 MOD 11,10).
SELLER = Seller("Nordlicht Software GmbH", ("eu_vat", "DE293817466"))


@dataclass(frozen=True)
class Coupon:
    """A coupon redeemed on an invoice or a line: a percentage or an amount off."""

    name: str
    percent_off: float | None = None
    amount_off: int | None = None  # minor units of the invoice's currency


@dataclass(frozen=True)
class TaxRate:
    """A Stripe tax rate (`display_name` as the seller set it up, often just "VAT")."""

    display_name: str
    percentage: float
    country: str
    inclusive: bool = False


@dataclass(frozen=True)
class Line:
    description: str
    unit_amount: int  # minor units of the invoice's currency (whole yen for JPY)
    quantity: int = 1
    discount: Coupon | None = None  # the line's own


@dataclass(frozen=True)
class Part:
    """One entry of an installment plan (`amounts_due`)."""

    description: str
    amount: int
    due: datetime
    paid_at: datetime | None = None


@dataclass(frozen=True)
class InvoicePlan:
    outcome: Outcome
    issued: datetime
    due: datetime
    lines: tuple[Line, ...]
    # When it was paid, voided or written off; None for drafts and open invoices.
    settled: datetime | None = None
    pay_with: PayWith = "card"
    memo: str | None = None
    parts: tuple[Part, ...] = ()
    # Tax on every line (`default_tax_rates`) and a discount of the invoice's own.
    tax: TaxRate | None = None
    discount: Coupon | None = None
    # Paid by bank transfer only: Stripe's instructions for it (the customer's virtual IBAN).
    by_transfer: bool = False
    # A draft Stripe finalizes and charges by itself then (`automatically_finalizes_at`,
    # `charge_automatically`): the overview's upcoming invoices, announced by e-mail.
    finalizes_at: datetime | None = None

    @property
    def total(self) -> int:
        """The lines' amounts, before any discount or tax (Stripe works those out)."""
        return sum(line.unit_amount * line.quantity for line in self.lines)


@dataclass(frozen=True)
class CustomerPlan:
    name: str
    contact: str
    email: str
    locale: str
    currency: str
    phone: str
    address: Mapping[str, str]
    since: datetime
    invoices: tuple[InvoicePlan, ...]
    tax_ids: tuple[tuple[str, str], ...] = ()
    # Stripe's test tokens (tok_visa, ...): the default card, unless SEPA is preferred, and one
    # saved long ago that has expired since.
    card: str | None = None
    expired_card: str | None = None
    sepa_iban: str | None = None
    prefers_sepa: bool = False
    tax_exempt: TaxExempt = "none"


# --- tax IDs ---------------------------------------------------------------------------------

# Tax IDs get their verification status from their value in test mode (Stripe's convention
# for eu_vat and gb_vat, https://docs.stripe.com/billing/customer/tax-ids#testing): a value
# containing 000000000 is verified, 111111111 unverified, others stay pending. Stripe has no test
# value for `unavailable`; the sandbox uses 333333333 (docs/sandbox.md), and types Stripe does not
# verify at all (ch_vat) are `unavailable` everywhere.
_VERIFIED, _UNVERIFIED, _UNAVAILABLE = "000000000", "111111111", "333333333"


def expected_tax_status(tax_type: str, value: str) -> str:
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


def demo_plans(now: datetime) -> list[CustomerPlan]:
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
        _bergwerk_alpin(at),
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
        month, year = months_before(self.now, months_ago)
        return _at(date(year, month, day), hour)


def _at(day: date, hour: int) -> datetime:
    return datetime.combine(day, time(hour), tzinfo=UTC)


def months_before(moment: datetime, months: int) -> tuple[int, int]:
    index = moment.year * 12 + moment.month - 1 - months
    return index % 12 + 1, index // 12


def _month_name(moment: datetime, locale: str) -> str:
    # The stand-alone form ("März 2025", "marzec 2025", "ožujak 2025") reads right after a dash.
    return format_date(moment, "LLLL yyyy", locale=locale)


def _monthly(
    at: _Dates,
    months: int,
    lines: Callable[[datetime, int], tuple[Line, ...]],
    *,
    day: int = 1,
    due_days: int = 14,
    paid_after_days: int = 9,
    pay_with: Callable[[int], PayWith] = lambda _: "card",
) -> list[InvoicePlan]:
    """Paid invoices, one a month for `months` months (the current month excluded)."""
    plans = []
    for months_ago in range(months, 0, -1):
        issued = at.month_start(months_ago, day)
        plans.append(
            InvoicePlan(
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
    at: _Dates,
    issued_days_ago: int,
    due_days: int,
    *lines: Line,
    memo: str | None = None,
    tax: TaxRate | None = None,
    discount: Coupon | None = None,
    by_transfer: bool = False,
) -> InvoicePlan:
    issued = at.days_ago(issued_days_ago)
    return InvoicePlan(
        outcome="open",
        issued=issued,
        due=_at(issued.date() + timedelta(days=due_days), 23),
        lines=lines,
        memo=memo,
        tax=tax,
        discount=discount,
        by_transfer=by_transfer,
    )


def _closed(
    outcome: Outcome,
    at: _Dates,
    issued_days_ago: int,
    settled_days_ago: int,
    due_days: int,
    *lines: Line,
    memo: str | None = None,
) -> InvoicePlan:
    issued = at.days_ago(issued_days_ago)
    return InvoicePlan(
        outcome=outcome,
        issued=issued,
        due=_at(issued.date() + timedelta(days=due_days), 23),
        settled=at.days_ago(settled_days_ago, hour=14),
        lines=lines,
        memo=memo,
    )


def _draft(at: _Dates, *lines: Line, memo: str | None = None) -> InvoicePlan:
    return InvoicePlan(
        outcome="draft",
        issued=at.days_ago(1, hour=16),
        due=at.end_of_day(30),
        lines=lines,
        memo=memo,
    )


# Named as Stripe's own example names it: the portal shows it as "USt." to a German reader.
_GERMAN_VAT = TaxRate("VAT", 19, "DE")


def _schmidt_haustechnik(at: _Dates) -> CustomerPlan:
    """German, EUR: the richest story, and one of the two companies behind one e-mail."""
    jobs = (
        (
            Line("Notdienst-Einsatz Rohrbruch Keller", 14500),
            Line("Arbeitszeit Monteur (Std.)", 6800, 3),
        ),
        (Line("Austausch Umwälzpumpe inkl. Material", 38900),),
        (Line("Jährliche Heizungswartung inkl. Abgasmessung", 24900),),
        (Line("Thermostatventile (Stück)", 2450, 6), Line("Anfahrtspauschale", 4500)),
        (Line("Entkalkung Warmwasserspeicher", 17900), Line("Anfahrtspauschale", 4500)),
    )

    def contract(issued: datetime, _: int) -> tuple[Line, ...]:
        return (Line(f"Wartungsvertrag Heizung und Sanitär ({_month_name(issued, 'de')})", 18900),)

    def job(_: datetime, months_ago: int) -> tuple[Line, ...]:
        return jobs[months_ago % len(jobs)]

    installment_issued = at.days_ago(50)
    return CustomerPlan(
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
                Line(f"Wartungsvertrag Heizung und Sanitär ({_month_name(at.now, 'de')})", 18900),
            ),
            _open(
                at,
                2,
                14,
                Line("Erneuerung Gasbrennwerttherme inkl. Montage", 489000),
                tax=_GERMAN_VAT,
                by_transfer=True,
            ),
            _open(
                at,
                58,
                14,
                Line("Notdienst-Einsatz Heizungsausfall (Wochenende)", 21000),
                Line(
                    "Arbeitszeit Monteur (Std.)",
                    6800,
                    2,
                    discount=Coupon("Kulanz: 1 Std. Anfahrt", amount_off=6800),
                ),
                memo="Einsatz vom Samstag; Zuschlag für Wochenendeinsatz enthalten.",
                tax=_GERMAN_VAT,
            ),
            _open(
                at,
                33,
                14,
                Line("Wartungsvertrag Q3, Lüftungsanlage Bürogebäude", 46500),
                Line("Filtersatz F7 (Stück)", 3900, 4),
                tax=_GERMAN_VAT,
                discount=Coupon("Treuerabatt 5 %", percent_off=5),
            ),
            InvoicePlan(
                outcome="open",
                issued=installment_issued,
                due=at.end_of_day(18),
                lines=(
                    Line("Gas-Brennwertkessel 25 kW inkl. Montage", 625000),
                    Line("Abgasanlage, Inbetriebnahme und Einweisung", 135000),
                    Line("Demontage und Entsorgung Altkessel", 80000),
                ),
                memo="Ratenzahlung wie vereinbart: Anzahlung und zwei Raten.",
                parts=(
                    Part(
                        "Anzahlung",
                        240000,
                        installment_issued + timedelta(days=7),
                        paid_at=installment_issued + timedelta(days=3, hours=2),
                    ),
                    Part("1. Rate", 300000, at.end_of_day(-12)),
                    Part("2. Rate", 300000, at.end_of_day(18)),
                ),
            ),
            _closed(
                "void",
                at,
                75,
                74,
                14,
                Line("Jährliche Heizungswartung inkl. Abgasmessung", 24900),
                memo="Storniert: doppelt erfasst.",
            ),
            InvoicePlan(
                outcome="draft",
                issued=at.days_ago(1, hour=9),
                due=at.end_of_day(4),
                lines=(Line("Jährliche Heizungswartung inkl. Abgasmessung", 24900),),
                tax=_GERMAN_VAT,
                finalizes_at=at.days_ago(-4, hour=8),
            ),
            _draft(
                at,
                Line("Badsanierung: Vorwandinstallation", 289000),
                Line("Sanitärobjekte und Armaturen", 174500),
                memo="Entwurf, noch nicht mit der Kundin abgestimmt.",
            ),
        ),
    )


def _schmidt_immobilien(at: _Dates) -> CustomerPlan:
    """The same person's second company: Swiss, CHF, under the same e-mail address."""

    def quarter(issued: datetime, _: int) -> tuple[Line, ...]:
        q = (issued.month - 1) // 3 + 1
        return (
            Line(f"Hauswartung Liegenschaft Seefeldstrasse, Q{q}/{issued.year}", 126000),
            Line("Treppenhausreinigung (Monate)", 18000, 3),
        )

    quarterly = [p for p in _monthly(at, 12, quarter, day=5) if p.issued.month % 3 == 1]
    return CustomerPlan(
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
                Line("Verwaltungshonorar Jahresabrechnung Nebenkosten", 85000),
            ),
        ),
    )


def _bennett_hale(at: _Dates) -> CustomerPlan:
    """English, GBP: a retainer, an open invoice, an overdue one and a written-off survey."""

    def retainer(issued: datetime, _: int) -> tuple[Line, ...]:
        return (
            Line(f"Project management retainer — {_month_name(issued, 'en')}", 95000),
            Line("CAD licence seats", 4200, 4),
        )

    return CustomerPlan(
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
            _open(at, 4, 30, Line("Planning consultancy — phase 2, Holbeck Yard", 240000)),
            _open(
                at,
                45,
                30,
                Line("Structural engineer site visits", 32500, 2),
                Line("Printing of planning drawings (A1 sets)", 1850, 6),
            ),
            _closed(
                "uncollectible",
                at,
                150,
                40,
                30,
                Line("Measured building survey — 12 Wellington Street", 175000),
                memo="Client entered administration; written off after three reminders.",
            ),
        ),
    )


def _de_vries(at: _Dates) -> CustomerPlan:
    """Dutch, EUR, paying by SEPA Direct Debit: history, an overdue invoice, a voided one."""

    def shop(issued: datetime, _: int) -> tuple[Line, ...]:
        return (
            Line(f"Onderhoud webwinkel — {_month_name(issued, 'nl')}", 32500),
            Line("Hosting en back-ups", 2900),
        )

    return CustomerPlan(
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
                Line("Koppeling met bezorgdienst (uren)", 8500, 6),
                memo="Meerwerk buiten het onderhoudscontract.",
                tax=TaxRate("BTW", 21, "NL"),  # the seller's own word: shown as it is
            ),
            _open(at, 2, 14, Line(f"Onderhoud webwinkel — {_month_name(at.now, 'nl')}", 32500)),
            _closed(
                "void",
                at,
                20,
                19,
                14,
                Line("Fotografie productcatalogus voorjaar", 64000),
                memo="Vervallen: opdracht geannuleerd.",
            ),
        ),
    )


def _talleres_morales(at: _Dates) -> CustomerPlan:
    """Spanish, EUR, paying by bank transfer: history, one open, one overdue, a draft."""

    def upkeep(issued: datetime, _: int) -> tuple[Line, ...]:
        return (
            Line(f"Mantenimiento preventivo de maquinaria — {_month_name(issued, 'es')}", 41000),
        )

    return CustomerPlan(
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
            _open(at, 9, 30, Line("Revisión anual de la flota de carretillas elevadoras", 98000)),
            _open(
                at,
                52,
                30,
                Line("Reparación de la prensa hidráulica", 125000),
                Line("Horas de técnico", 4500, 5),
            ),
            _draft(at, Line("Instalación de compresor nuevo (presupuesto)", 310000)),
        ),
    )


def _nowak_software(at: _Dates) -> CustomerPlan:
    """Polish, PLN: the second rich story, with its own installment plan."""

    def subscription(issued: datetime, _: int) -> tuple[Line, ...]:
        return (
            Line(f"Abonament — pakiet Pro ({_month_name(issued, 'pl')})", 149900),
            Line("Dodatkowi użytkownicy", 4900, 5),
        )

    plan_issued = at.days_ago(40)
    return CustomerPlan(
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
            _open(at, 5, 14, Line(f"Abonament — pakiet Pro ({_month_name(at.now, 'pl')})", 149900)),
            _open(
                at,
                35,
                14,
                Line("Wdrożenie modułu fakturowania — konsultacje (godz.)", 25000, 8),
                tax=TaxRate("VAT", 23, "PL"),
                discount=Coupon("Rabat dla stałych klientów", amount_off=20000),
            ),
            _open(at, 64, 21, Line("Integracja z KSeF — prace programistyczne", 480000)),
            InvoicePlan(
                outcome="open",
                issued=plan_issued,
                due=at.end_of_day(25),
                lines=(
                    Line("Analiza przedwdrożeniowa", 900000),
                    Line("Konfiguracja i migracja danych", 1800000),
                    Line("Szkolenie użytkowników (dni)", 300000, 3),
                ),
                memo="Płatność w ratach zgodnie z umową: zaliczka i dwie raty.",
                parts=(
                    Part(
                        "Zaliczka",
                        720000,
                        plan_issued + timedelta(days=5),
                        paid_at=plan_issued + timedelta(days=1, hours=5),
                    ),
                    # Nothing late yet: the overview's "partially paid" (Schmidt's plan is late).
                    Part("Rata 1", 1440000, at.end_of_day(10)),
                    Part("Rata 2", 1440000, at.end_of_day(40)),
                ),
            ),
            _closed(
                "uncollectible",
                at,
                200,
                90,
                14,
                Line("Szkolenie zespołu — 2 dni, Kraków", 560000),
                memo="Spisane jako nieściągalne po sporze o zakres szkolenia.",
            ),
            _closed(
                "void",
                at,
                120,
                118,
                14,
                Line("Abonament — pakiet Enterprise (błędny pakiet)", 349900),
                memo="Anulowana: wystawiona na niewłaściwy pakiet.",
            ),
        ),
    )


def _horvat_dizajn(at: _Dates) -> CustomerPlan:
    """Croatian, EUR: web maintenance history, an open and an overdue invoice, a voided one."""

    def upkeep(issued: datetime, _: int) -> tuple[Line, ...]:
        return (Line(f"Održavanje web stranice — {_month_name(issued, 'hr')}", 22000),)

    return CustomerPlan(
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
            # Due in three days: the overview's "due soon".
            _open(at, 12, 15, Line("Izrada web trgovine — prva faza", 180000)),
            _open(
                at,
                47,
                15,
                Line("Hosting i SSL certifikat — godišnja pretplata", 24000),
                Line("Registracija domene .hr", 2500),
            ),
            _closed(
                "void",
                at,
                30,
                28,
                15,
                Line("Fotografiranje proizvoda", 45000),
                memo="Stornirano: usluga otkazana.",
            ),
        ),
    )


def _tanaka_trading(at: _Dates) -> CustomerPlan:
    """English-speaking, JPY (zero-decimal: the amounts are whole yen)."""

    def translation(issued: datetime, _: int) -> tuple[Line, ...]:
        return (
            Line(f"Translation EN→DE, product catalogue — {_month_name(issued, 'en')}", 185000),
            Line("Terminology review (hours)", 9500, 2),
        )

    every_other = [p for p in _monthly(at, 8, translation, day=15) if p.issued.month % 2 == 0]
    return CustomerPlan(
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
            _open(at, 10, 30, Line("Localisation of trade-fair brochure (DE, PL, HR)", 96000)),
            _open(at, 38, 14, Line("Interpreting, Messe Frankfurt (days)", 48500, 2)),
        ),
    )


def _bergwerk_alpin(at: _Dates) -> CustomerPlan:
    """Austrian business, EUR, under the reverse charge: a German seller bills it without VAT
    (`tax_exempt=reverse`; Stripe prints "Reverse charge" on its PDFs)."""

    def licence(issued: datetime, _: int) -> tuple[Line, ...]:
        return (Line(f"Softwarelizenz Lagerverwaltung ({_month_name(issued, 'de')})", 54000),)

    return CustomerPlan(
        name="Bergwerk Alpin Logistik GmbH",
        contact="Florian Gruber",
        email="florian.gruber@example.at",
        locale="de",
        currency="eur",
        phone="+43 512 567 890",
        address={
            "line1": "Museumstraße 12",
            "postal_code": "6020",
            "city": "Innsbruck",
            "country": "AT",
        },
        since=at.month_start(4, day=6),
        tax_ids=(("eu_vat", "ATU63842159"),),
        tax_exempt="reverse",
        card="tok_at",
        invoices=(
            *_monthly(at, 3, licence, day=6),
            _open(at, 6, 30, Line("Schnittstelle zum Speditionsportal (Std.)", 9500, 12)),
        ),
    )
