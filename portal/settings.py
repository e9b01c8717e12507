"""The portal's settings: read from `PORTAL_*` environment variables, typed and validated once.

Settings are declared as a table (`SETTINGS`) with help text, in the manner of Datasette's
`SETTINGS`, so that the README's settings table can be checked against it by a test and no
setting goes undocumented. `load_settings()` collects every problem before failing, so that an
operator sees all of them in one go (`SettingsError.problems`, one line each).
"""

from __future__ import annotations

import dataclasses
import re
from collections.abc import Callable, Mapping
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, Literal
from urllib.parse import parse_qs, unquote, urlsplit

PREFIX = "PORTAL_"

STRIPE_API_BASE = "https://api.stripe.com"

# Invoices are read with the public preview of the API version the SDK pins (2026-10-28.endive):
# payment plans (`amounts_due`) and scheduled finalization are served only under `.preview`.
STRIPE_INVOICE_API_VERSION = "2026-10-28.preview"

# Stripe calls one process has under way at most. Stripe allows 25 requests/s in test mode and
# 100/s live per account, and limits concurrent requests too (https://docs.stripe.com/rate-limits).
STRIPE_MAX_CONCURRENT_REQUESTS = 20


class SettingsError(Exception):
    """One or more settings are missing or malformed; `problems` has a line for each."""

    def __init__(self, problems: list[str]) -> None:
        super().__init__("\n".join(problems))
        self.problems = problems


def _field_default(cls: type[Any], name: str) -> Any:
    """The default dataclass `cls` declares for field `name`, or `dataclasses.MISSING`."""
    for f in dataclasses.fields(cls):
        if f.name == name:
            if f.default_factory is not dataclasses.MISSING:
                return f.default_factory()
            return f.default
    raise KeyError(f"{cls.__name__} has no field {name!r}")


@dataclass(frozen=True)
class SmtpSettings:
    """Where and how the portal hands over e-mail, parsed from `PORTAL_SMTP_URL`."""

    host: str
    port: int
    security: Literal["starttls", "tls", "none"]
    username: str | None = None
    password: str | None = field(default=None, repr=False)
    timeout: float = 10.0


@dataclass(frozen=True)
class Settings:
    base_url: str
    secret_key: str = field(repr=False)
    stripe_api_key: str = field(repr=False)
    stripe_webhook_secret: str = field(repr=False)
    smtp: SmtpSettings
    mail_from: str
    database_url: str
    stripe_api_base: str = STRIPE_API_BASE
    stripe_timeout: float = 10.0
    stripe_max_network_retries: int = 2
    stripe_cache_seconds: float = 60.0
    cache_mb: int = 32
    stripe_max_concurrent_requests: int = STRIPE_MAX_CONCURRENT_REQUESTS
    stripe_batch_requests_per_second: float = 20.0
    stripe_invoice_api_version: str = STRIPE_INVOICE_API_VERSION
    log_format: str = "json"
    company_name: str = "Billing"
    support_email: str | None = None
    brand_color: str = "#5046e5"
    logo_file: Path | None = None
    imprint_url: str | None = None
    privacy_url: str | None = None
    data_dir: Path = Path("data")
    invoice_emails: bool = False
    charge_notice_days: int = 5
    stripe_debit_emails: bool = True
    staff_oidc_issuer: str | None = None
    staff_oidc_client_id: str | None = None
    staff_oidc_client_secret: str | None = field(default=None, repr=False)
    staff_email_domains: tuple[str, ...] = ()
    staff_groups: tuple[str, ...] = ()
    staff_groups_claim: str = "groups"
    staff_oidc_scopes: str = "openid email profile"
    client_ip_header: str | None = None

    @property
    def is_https(self) -> bool:
        return self.base_url.startswith("https://")

    @property
    def host(self) -> str:
        """The one Host (with port, as browsers send it) the portal answers to."""
        return urlsplit(self.base_url).netloc

    def replace(self, **changes: Any) -> Settings:
        return dataclasses.replace(self, **changes)


# --- parsers: each takes the raw string and returns the typed value or raises ValueError ---------


def _header_name(raw: str) -> str:
    # RFC 9110's token: what a header's name may be made of.
    if re.fullmatch(r"[!#$%&'*+.^_`|~0-9A-Za-z-]+", raw) is None:
        raise ValueError("must be an HTTP header name, e.g. Fly-Client-IP")
    return raw.lower()


def _base_url(raw: str) -> str:
    parts = urlsplit(raw)
    if parts.scheme not in ("http", "https") or not parts.netloc:
        raise ValueError(
            "must be an absolute http:// or https:// URL, e.g. https://billing.example.com"
        )
    if parts.query or parts.fragment:
        raise ValueError("must not carry a query or fragment")
    if parts.scheme == "http" and parts.hostname not in ("localhost", "127.0.0.1", "::1"):
        raise ValueError("must use https:// except on localhost")
    return raw.rstrip("/")


def _secret_key(raw: str) -> str:
    if len(raw) < 32:
        raise ValueError(
            "must be at least 32 characters of random data "
            '(e.g. python3 -c "import secrets; print(secrets.token_urlsafe(48))")'
        )
    return raw


def _stripe_api_key(raw: str) -> str:
    if not re.fullmatch(r"(sk|rk)_(test|live)_[A-Za-z0-9_]+", raw):
        raise ValueError(
            "must be a Stripe secret or restricted key (sk_live_..., rk_live_..., sk_test_...)"
        )
    return raw


def _webhook_secret(raw: str) -> str:
    if not raw.startswith("whsec_") or len(raw) < 12:
        raise ValueError("must be the webhook endpoint's signing secret (whsec_...)")
    return raw


def _http_url(raw: str) -> str:
    parts = urlsplit(raw)
    if parts.scheme not in ("http", "https") or not parts.netloc:
        raise ValueError("must be an absolute http:// or https:// URL")
    return raw.rstrip("/")


def _database_url(raw: str) -> str:
    """Accept the URLs people write and name the async driver SQLAlchemy needs."""
    scheme, sep, rest = raw.partition("://")
    if not sep:
        raise ValueError(
            "must be a URL such as sqlite:///data/portal.db or postgresql://user@host/db"
        )
    drivers = {
        "sqlite": "sqlite+aiosqlite",
        "sqlite+aiosqlite": "sqlite+aiosqlite",
        "postgres": "postgresql+asyncpg",
        "postgresql": "postgresql+asyncpg",
        "postgresql+asyncpg": "postgresql+asyncpg",
    }
    if scheme not in drivers:
        raise ValueError("only sqlite:// and postgresql:// URLs are supported")
    return f"{drivers[scheme]}://{rest}"


def parse_smtp_url(raw: str) -> SmtpSettings:
    """`smtp://user:pass@host:587` (STARTTLS, required), `smtps://host:465` (implicit TLS);
    `?tls=none` sends in the clear and is meant for a relay on the same host only."""
    parts = urlsplit(raw)
    if parts.scheme not in ("smtp", "smtps") or not parts.hostname:
        raise ValueError("must look like smtp://user:password@host:587 or smtps://host:465")
    query = {k: v[-1] for k, v in parse_qs(parts.query).items()}
    unknown = set(query) - {"tls", "timeout"}
    if unknown:
        raise ValueError(f"unknown option(s) {', '.join(sorted(unknown))}; known: tls, timeout")
    security: Literal["starttls", "tls", "none"]
    if parts.scheme == "smtps":
        security = "tls"
    elif query.get("tls", "starttls") == "starttls":
        security = "starttls"
    elif query.get("tls") == "none":
        security = "none"
    else:
        raise ValueError("tls= must be starttls or none (use smtps:// for implicit TLS)")
    try:
        port = parts.port or (465 if security == "tls" else 587)
        timeout: float = _field_default(SmtpSettings, "timeout")
        if "timeout" in query:
            timeout = float(query["timeout"])
    except ValueError as exc:
        raise ValueError("port and timeout must be numbers") from exc
    return SmtpSettings(
        host=parts.hostname,
        port=port,
        security=security,
        username=unquote(parts.username) if parts.username else None,
        password=unquote(parts.password) if parts.password else None,
        timeout=timeout,
    )


_EMAIL = re.compile(r"[^@\s<>]+@[^@\s<>]+\.[^@\s<>]+")


def _mail_from(raw: str) -> str:
    address = raw[raw.find("<") + 1 : raw.rfind(">")] if "<" in raw else raw
    if not _EMAIL.fullmatch(address.strip()) or "\n" in raw or "\r" in raw:
        raise ValueError(
            'must be an address, optionally with a name: "Example Billing <billing@example.com>"'
        )
    return raw.strip()


def _email(raw: str) -> str:
    if not _EMAIL.fullmatch(raw):
        raise ValueError("must be an e-mail address")
    return raw


def _color(raw: str) -> str:
    if not re.fullmatch(r"#[0-9a-fA-F]{6}", raw):
        raise ValueError("must be a colour as #rrggbb, e.g. #0a7c66")
    return raw.lower()


def _logo_file(raw: str) -> Path:
    path = Path(raw)
    if path.suffix.lower() not in (".svg", ".png", ".webp", ".jpg", ".jpeg"):
        raise ValueError("must be an .svg, .png, .webp or .jpg file")
    if not path.is_file():
        raise ValueError("names no readable file")
    return path


def _https_url(raw: str) -> str:
    parts = urlsplit(raw)
    if parts.scheme != "https" or not parts.netloc:
        raise ValueError("must be an https:// URL")
    return raw


def _api_version(raw: str) -> str:
    if not re.fullmatch(r"\d{4}-\d{2}-\d{2}\.[a-z]+", raw):
        raise ValueError(
            f"must be a Stripe API version such as {STRIPE_INVOICE_API_VERSION} or 2026-10-28.endive"
        )
    return raw


def _positive_float(raw: str) -> float:
    value = float(raw)
    if value <= 0:
        raise ValueError("must be a positive number of seconds")
    return value


def _log_format(raw: str) -> str:
    value = raw.strip().lower()
    if value not in ("json", "text"):
        raise ValueError("must be json or text")
    return value


def _non_negative_float(raw: str) -> float:
    value = float(raw)
    if value < 0:
        raise ValueError("must be a number of seconds, 0 or more")
    return value


def _non_negative_int(raw: str) -> int:
    value = int(raw)
    if value < 0:
        raise ValueError("must be a whole number, 0 or more")
    return value


def _positive_int(raw: str) -> int:
    value = int(raw)
    if value < 1:
        raise ValueError("must be a whole number, 1 or more")
    return value


def _yes_no(raw: str) -> bool:
    value = raw.strip().lower()
    if value in ("1", "true", "yes", "on"):
        return True
    if value in ("0", "false", "no", "off"):
        return False
    raise ValueError("must be true or false")


def _word_list(raw: str) -> tuple[str, ...]:
    """A comma-separated list, e.g. "example.com, example.org"; case does not matter."""
    words = tuple(w.strip().lower() for w in raw.split(",") if w.strip())
    if not words:
        raise ValueError("must name at least one entry, separated by commas")
    return words


def _text(raw: str) -> str:
    if not raw.strip():
        raise ValueError("must not be empty")
    return raw.strip()


def _as_environment_value(value: object) -> str | None:
    """A default as an operator would write it in the environment (and the README shows it);
    None when there is nothing to show."""
    if value is None or value is dataclasses.MISSING:
        return None
    if isinstance(value, bool):  # before int: bool is an int
        return "true" if value else "false"
    if isinstance(value, float):
        return str(int(value)) if value.is_integer() else repr(value)
    if isinstance(value, tuple):
        return ",".join(str(v) for v in value) or None
    if isinstance(value, str | int | Path):
        return str(value) or None
    # A new kind of default needs a deliberate rendering, not whatever str() happens to give.
    raise TypeError(f"no environment rendering for a default of type {type(value).__name__}")


@dataclass(frozen=True)
class Setting:
    name: str  # without the prefix
    attr: str
    parse: Callable[[str], Any]
    help: str
    required: bool = False
    secret: bool = False

    @property
    def env(self) -> str:
        return PREFIX + self.name

    @property
    def default(self) -> str | None:
        """The documented default, rendered from `Settings`' field so that it is written once."""
        return _as_environment_value(_field_default(Settings, self.attr))


SETTINGS: tuple[Setting, ...] = (
    Setting(
        "BASE_URL",
        "base_url",
        _base_url,
        "Public URL of the portal. Every link in every e-mail is built from it, never from the request's Host header.",
        required=True,
    ),
    Setting(
        "SECRET_KEY",
        "secret_key",
        _secret_key,
        "At least 32 random characters; signs invoice links and other tokens. Changing it invalidates them.",
        required=True,
        secret=True,
    ),
    Setting(
        "DATABASE_URL",
        "database_url",
        _database_url,
        "Where the portal keeps its own data (sessions, sign-in tokens, rate limits, outbox, audit trail). sqlite:///path or postgresql://user:pass@host/db. Default: a SQLite file in PORTAL_DATA_DIR.",
    ),
    Setting(
        "DATA_DIR",
        "data_dir",
        Path,
        "Folder for local data, such as the default SQLite database.",
    ),
    Setting(
        "STRIPE_API_KEY",
        "stripe_api_key",
        _stripe_api_key,
        "Stripe secret key or, better, a restricted key with the permissions the README lists.",
        required=True,
        secret=True,
    ),
    Setting(
        "STRIPE_API_BASE",
        "stripe_api_base",
        _http_url,
        "Base URL of Stripe's API. Point it at the local sandbox (portal sandbox) or another Stripe-compatible server.",
    ),
    Setting(
        "STRIPE_WEBHOOK_SECRET",
        "stripe_webhook_secret",
        _webhook_secret,
        "Signing secret (whsec_...) of the webhook endpoint registered in Stripe for BASE_URL/stripe/webhook.",
        required=True,
        secret=True,
    ),
    Setting(
        "STRIPE_TIMEOUT",
        "stripe_timeout",
        _positive_float,
        "Seconds to wait for one Stripe request.",
    ),
    Setting(
        "STRIPE_MAX_NETWORK_RETRIES",
        "stripe_max_network_retries",
        _non_negative_int,
        "How often the Stripe SDK retries a request that failed on the network or with a retryable status (retries reuse the idempotency key).",
    ),
    Setting(
        "STRIPE_CACHE_SECONDS",
        "stripe_cache_seconds",
        _non_negative_float,
        "How long a customer's Stripe data read for a page may be shown again without asking Stripe (webhooks and the portal's own changes end it sooner, on every instance); 0 turns the cache off.",
    ),
    Setting(
        "CACHE_MB",
        "cache_mb",
        _positive_int,
        "Memory one portal process's caches may hold, in megabytes, as estimated from what they keep: half for customers' Stripe data, three eighths for pages shown again, an eighth for the database rows every request reads (sessions). The least recently used go first.",
    ),
    Setting(
        "STRIPE_MAX_CONCURRENT_REQUESTS",
        "stripe_max_concurrent_requests",
        _positive_int,
        "How many Stripe requests one portal process has under way at most; more wait their turn. Stripe allows 25 requests per second in test mode and 100 live, for all instances together; a 429 is retried like a network failure (STRIPE_MAX_NETWORK_RETRIES).",
    ),
    Setting(
        "STRIPE_BATCH_REQUESTS_PER_SECOND",
        "stripe_batch_requests_per_second",
        _positive_float,
        "How many Stripe requests per second `portal send-reminders` makes at most, leaving the rest of Stripe's limit (25 per second in test mode, 100 live, for all processes together) to the pages; a 429 it meets is tried again after a growing pause.",
    ),
    Setting(
        "STRIPE_INVOICE_API_VERSION",
        "stripe_invoice_api_version",
        _api_version,
        "Stripe API version the portal reads invoices with (all other requests use the SDK's 2026-10-28.endive). Payment plans (amounts_due) are a public preview that Stripe serves only under a .preview version; with a GA version here invoices come without plans and are paid as a whole.",
    ),
    Setting(
        "LOG_FORMAT",
        "log_format",
        _log_format,
        "json: one JSON object per line (for a log service); text: readable lines.",
    ),
    Setting(
        "SMTP_URL",
        "smtp",
        parse_smtp_url,
        "Mail server: smtp://user:password@host:587 (STARTTLS required) or smtps://user:password@host:465 (implicit TLS); add ?tls=none only for a relay on the same host. Optional ?timeout=seconds.",
        required=True,
        secret=True,
    ),
    Setting(
        "MAIL_FROM",
        "mail_from",
        _mail_from,
        'Sender of the portal\'s e-mails, e.g. "Example Billing <billing@example.com>".',
        required=True,
    ),
    Setting(
        "COMPANY_NAME",
        "company_name",
        _text,
        "Company name shown on pages and in e-mails.",
    ),
    Setting("SUPPORT_EMAIL", "support_email", _email, "Support address shown to customers."),
    Setting(
        "BRAND_COLOR",
        "brand_color",
        _color,
        "Accent colour of buttons and links, as #rrggbb. Choose one with enough contrast on white (4.5:1).",
    ),
    Setting(
        "LOGO_FILE",
        "logo_file",
        _logo_file,
        "Path to the company logo (.svg, .png, .webp, .jpg), shown in the header of pages and e-mails instead of the company name.",
    ),
    Setting(
        "IMPRINT_URL",
        "imprint_url",
        _https_url,
        "Link to the company's legal notice (Impressum), shown in the footer of pages and e-mails.",
    ),
    Setting(
        "PRIVACY_URL",
        "privacy_url",
        _https_url,
        "Link to the privacy policy, shown in the footer of pages and e-mails.",
    ),
    Setting(
        "INVOICE_EMAILS",
        "invoice_emails",
        _yes_no,
        "true: when Stripe finalizes an invoice (webhook invoice.finalized), the portal e-mails the customer, in their language, with the amount, the due date or payment plan and a link that opens and pays the invoice. Turn off Stripe's own invoice e-mails then, or customers get two.",
    ),
    Setting(
        "CHARGE_NOTICE_DAYS",
        "charge_notice_days",
        _non_negative_int,
        "How many days before Stripe charges a scheduled invoice (a draft it finalizes by itself at automatically_finalizes_at, charged automatically) `portal send-reminders` e-mails the customer the amount, the date and the payment method, in their language; again if the amount or date changes. 0: no such e-mails.",
    ),
    Setting(
        "STRIPE_DEBIT_EMAILS",
        "stripe_debit_emails",
        _yes_no,
        "true while Stripe's own debit notification e-mails are on (Stripe Dashboard, customer e-mail settings; on by default, and always with Stripe's SEPA Creditor ID): the portal then announces scheduled card charges only and leaves debits (SEPA, Bacs, BECS, pre-authorized debit) to Stripe's notice, so no one is told of one debit twice. false: the portal announces debits too, days ahead of Stripe's notice.",
    ),
    Setting(
        "STAFF_OIDC_ISSUER",
        "staff_oidc_issuer",
        _http_url,
        "OpenID Connect issuer for support staff sign-in (e.g. https://accounts.google.com, https://login.microsoftonline.com/TENANT/v2.0, your Okta or Keycloak realm URL); its discovery document is read from ISSUER/.well-known/openid-configuration. Without it there is no staff sign-in.",
    ),
    Setting(
        "STAFF_OIDC_CLIENT_ID",
        "staff_oidc_client_id",
        _text,
        "Client id of the portal at that provider; register BASE_URL/staff/callback as its redirect URI.",
    ),
    Setting(
        "STAFF_OIDC_CLIENT_SECRET",
        "staff_oidc_client_secret",
        _text,
        "Client secret of the portal at that provider.",
        secret=True,
    ),
    Setting(
        "STAFF_OIDC_SCOPES",
        "staff_oidc_scopes",
        _text,
        'Scopes asked for at staff sign-in; add the one that puts groups or roles into the ID token where the provider needs it (e.g. "openid email profile groups" for Okta or Keycloak).',
    ),
    Setting(
        "STAFF_EMAIL_DOMAINS",
        "staff_email_domains",
        _word_list,
        "Who is staff, by verified e-mail domain: comma-separated, e.g. example.com. Staff must match this or STAFF_GROUPS (if both are set, either is enough).",
    ),
    Setting(
        "STAFF_GROUPS",
        "staff_groups",
        _word_list,
        "Who is staff, by group or role: comma-separated values of the ID token's STAFF_GROUPS_CLAIM.",
    ),
    Setting(
        "STAFF_GROUPS_CLAIM",
        "staff_groups_claim",
        _text,
        "The ID token claim holding the user's groups or roles (groups, roles, ...).",
    ),
    Setting(
        "CLIENT_IP_HEADER",
        "client_ip_header",
        _header_name,
        "Where the client's IP address (for rate limits and the audit trail) comes from when a proxy stands in front: the header that proxy sets and overwrites, e.g. Fly-Client-IP on Fly.io; X-Forwarded-For takes its right-most entry (the one the nearest proxy added). Unset: the connection's own address. Set it only behind a proxy that every request passes through, since clients can send any header.",
    ),
)


def load_database_url(environ: Mapping[str, str]) -> str:
    """Only the database URL, for commands that need nothing else (`portal migrate`)."""
    raw = environ.get(PREFIX + "DATABASE_URL", "").strip()
    try:
        if raw:
            return _database_url(raw)
        raw_dir = environ.get(PREFIX + "DATA_DIR", "").strip()
        data_dir: Path = Path(raw_dir) if raw_dir else _field_default(Settings, "data_dir")
        return _database_url(f"sqlite:///{data_dir / 'portal.sqlite3'}")
    except ValueError as exc:
        raise SettingsError([f"{PREFIX}DATABASE_URL={raw!r} {exc}"]) from exc


def load_settings(environ: Mapping[str, str]) -> Settings:
    """Build `Settings` from an environment mapping, or raise `SettingsError` listing every problem."""
    problems: list[str] = []
    values: dict[str, Any] = {}
    for setting in SETTINGS:
        raw = environ.get(setting.env, "").strip()
        if not raw:
            if setting.required:
                problems.append(f"{setting.env} is required: {setting.help}")
            # Otherwise left out, so that `Settings`' own default applies: it is written only there.
            continue
        try:
            values[setting.attr] = setting.parse(raw)
        except ValueError as exc:
            shown = "(hidden)" if setting.secret else repr(raw)
            problems.append(f"{setting.env}={shown} {exc}")
    if problems:
        raise SettingsError(problems)
    staff = [
        values.get(a)
        for a in ("staff_oidc_issuer", "staff_oidc_client_id", "staff_oidc_client_secret")
    ]
    if any(staff) and not all(staff):
        problems.append(
            f"{PREFIX}STAFF_OIDC_ISSUER, {PREFIX}STAFF_OIDC_CLIENT_ID and {PREFIX}STAFF_OIDC_CLIENT_SECRET go together: set all three for staff sign-in, or none"
        )
    if values.get("staff_oidc_issuer") and not (
        values.get("staff_email_domains") or values.get("staff_groups")
    ):
        problems.append(
            f"{PREFIX}STAFF_EMAIL_DOMAINS or {PREFIX}STAFF_GROUPS is required with staff sign-in: it says who is staff"
        )
    if problems:
        raise SettingsError(problems)
    values["database_url"] = load_database_url(environ)
    return Settings(**values)
