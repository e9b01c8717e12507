"""`portal doctor`: the deployment's set-up checked in one go, each finding with its fix.

It reads the same settings as `portal serve` and asks what a customer's first visit would
otherwise find out: whether the Stripe key works and has every permission the portal uses
(`portal.stripe.permissions`, one harmless request each: a list of one, a change to an id that
does not exist; nothing is created), whether the invoice preview version is accepted, whether
Stripe's webhook endpoint for this deployment exists, is enabled and sends every event the
portal handles (`portal.billing.events.HANDLERS`), whether the mail server takes the
credentials, whether the database is reachable and current, and whether the base URL and the
secret key are fit for production. `portal serve` runs the same checks once it listens and logs
a warning per failed one; it never waits for them.
"""

from __future__ import annotations

import ipaddress
import logging
from collections.abc import Awaitable, Callable, Sequence
from dataclasses import dataclass
from urllib.parse import urlsplit

from starlette.routing import Router

from portal.assets import Assets
from portal.billing.events import HANDLERS
from portal.concurrency import at_once
from portal.mail import smtp
from portal.routes import routes
from portal.settings import Settings
from portal.storage import migrate
from portal.storage.database import create_engine, dispose
from portal.stripe.errors import GatewayError, StripeMisconfigured
from portal.stripe.gateway import StripeGateway
from portal.stripe.permissions import PERMISSIONS, WEBHOOK_ENDPOINTS, Permission

log = logging.getLogger(__name__)

# A secret key drawn from `secrets.token_urlsafe` has dozens of different characters; one
# made of a word repeated has few.
SECRET_DISTINCT_CHARACTERS = 16


@dataclass(frozen=True)
class Finding:
    check: str  # what was checked
    ok: bool
    detail: str  # what was found
    fix: str | None = None  # for a failed check: what to do


def passed(check: str, detail: str) -> Finding:
    return Finding(check, True, detail)


def failed(check: str, detail: str, fix: str) -> Finding:
    return Finding(check, False, detail, fix)


# -- the settings ------------------------------------------------------------------------------


def _loopback(host: str) -> bool:
    if host == "localhost":
        return True
    try:
        return ipaddress.ip_address(host).is_loopback
    except ValueError:
        return False


def check_base_url(settings: Settings) -> Finding:
    host = urlsplit(settings.base_url).hostname or ""
    if settings.is_https or _loopback(host):
        return passed("base URL", settings.base_url)
    return failed(
        "base URL",
        f"{settings.base_url} is not https: sign-in links and session cookies would cross the "
        "network in the clear",
        "set PORTAL_BASE_URL to the https:// address customers open",
    )


def check_secret_key(settings: Settings) -> Finding:
    if len(set(settings.secret_key)) >= SECRET_DISTINCT_CHARACTERS:
        return passed("secret key", f"{len(settings.secret_key)} characters")
    return failed(
        "secret key",
        "too few different characters to be random",
        'set PORTAL_SECRET_KEY to python3 -c "import secrets; print(secrets.token_urlsafe(48))"',
    )


def check_key_mode(settings: Settings) -> Finding:
    """A public https deployment bills real customers: its key is live; anything else (a
    laptop, a test deployment on loopback) works in test mode."""
    key = settings.stripe_api_key
    mode = "live" if key.startswith(("sk_live_", "rk_live_")) else "test"
    host = urlsplit(settings.base_url).hostname or ""
    public = settings.is_https and not _loopback(host)
    if key.startswith(("sk_live_", "rk_live_", "sk_test_", "rk_test_")) and (
        (mode == "live") == public
    ):
        return passed("Stripe key mode", f"{mode} mode")
    return failed(
        "Stripe key mode",
        f"a {mode}-mode key for {settings.base_url}",
        "use the live key (sk_live_… or rk_live_…) for the public address, a test key elsewhere",
    )


# -- what the portal talks to --------------------------------------------------------------------


async def check_database(settings: Settings) -> Finding:
    engine = create_engine(settings.database_url)
    try:
        current, head = await migrate.current_revision(engine), migrate.HEAD
    except Exception as exc:  # a wrong host, password or file: one line, no traceback
        return failed(
            "database",
            f"cannot be opened: {type(exc).__name__}: {exc}",
            "check PORTAL_DATABASE_URL (host, port, user, password, database name)",
        )
    finally:
        await dispose(engine)
    if current != head:
        return failed(
            "database", f"schema at {current or 'nothing'}, {head} expected", "run `portal migrate`"
        )
    return passed("database", f"reachable, schema current ({head})")


async def check_smtp(settings: Settings) -> Finding:
    server = f"{settings.smtp.host}:{settings.smtp.port}"
    try:
        await smtp.check(settings.smtp)
    except smtp.MailDeliveryFailed as exc:
        return failed(
            "mail server",
            f"{server}: {exc}",
            "check PORTAL_SMTP_URL (host, port, tls=, user and password)",
        )
    signed_in = " with the credentials" if settings.smtp.username else ""
    return passed("mail server", f"{server} answers EHLO{signed_in}")


async def _refusal(gateway: StripeGateway, permission: Permission) -> GatewayError | None:
    try:
        await gateway.probe(permission.probe)
    except GatewayError as exc:
        return exc
    return None


async def check_permissions(gateway: StripeGateway) -> list[Finding]:
    """One harmless request per permission the portal uses (`PERMISSIONS`), all at once."""
    outcomes = await at_once(*(_refusal(gateway, p) for p in PERMISSIONS))
    findings = []
    for permission, outcome in zip(PERMISSIONS, outcomes, strict=True):
        check = f"Stripe permission {permission.name} ({permission.access})"
        if isinstance(outcome, StripeMisconfigured):
            findings.append(
                failed(
                    check,
                    f"refused: {outcome}",
                    f"give the key {permission.name} {permission.access} "
                    f"(Stripe's rak_{permission.name}_{permission.access}): the portal "
                    f"{permission.why}",
                )
            )
        elif outcome is not None:
            findings.append(failed(check, f"not asked: {outcome}", "try again once Stripe answers"))
        else:
            findings.append(passed(check, permission.why))
    return findings


async def check_invoice_version(gateway: StripeGateway, settings: Settings) -> Finding:
    version = settings.stripe_invoice_api_version
    try:
        plans = await gateway.invoice_version_accepted()
    except GatewayError as exc:
        return failed(
            "invoice API version",
            f"{version} refused: {exc}",
            "set PORTAL_STRIPE_INVOICE_API_VERSION to the preview of the installed stripe SDK, "
            "or to a GA version (invoices are then paid whole, without plans)",
        )
    seen = {True: "payment plans available", False: "no payment plans", None: "no invoice yet"}
    return passed("invoice API version", f"{version} accepted; {seen[plans]}")


def webhook_url(settings: Settings) -> str:
    """Where Stripe must send this deployment's events: the webhook route's address."""
    path = Router(routes(assets=Assets(), demo=False)).url_path_for("stripe:webhook")
    return f"{settings.base_url}{path}"


async def check_webhook_endpoint(gateway: StripeGateway, settings: Settings) -> Finding:
    url = webhook_url(settings)
    check = "Stripe webhook endpoint"
    try:
        endpoints = await gateway.list_webhook_endpoints()
    except StripeMisconfigured as exc:
        return failed(
            check,
            f"cannot be read: {exc}",
            f"give the key {WEBHOOK_ENDPOINTS.name} read (Stripe's rak_webhook_read), or check "
            "the endpoint in Stripe's Dashboard",
        )
    except GatewayError as exc:
        return failed(check, f"not asked: {exc}", "try again once Stripe answers")
    mine = [e for e in endpoints if e.url == url]
    if not mine:
        return failed(
            check,
            f"none for {url}",
            f"add an endpoint for {url} with the events {', '.join(sorted(HANDLERS))}",
        )
    endpoint = next((e for e in mine if e.enabled), mine[0])
    if not endpoint.enabled:
        return failed(check, f"{endpoint.id} is disabled", "enable it in Stripe's Dashboard")
    missing = sorted(set(HANDLERS) - set(endpoint.events)) if "*" not in endpoint.events else []
    if missing:
        return failed(
            check,
            f"{endpoint.id} does not send {', '.join(missing)}",
            f"add {', '.join(missing)} to the endpoint's events",
        )
    sdk = gateway.api_version
    if endpoint.api_version not in (None, sdk):
        return failed(
            check,
            f"{endpoint.id} sends events in version {endpoint.api_version}",
            f"make a new endpoint with api_version {sdk} (the portal's) and delete this one",
        )
    return passed(check, f"{endpoint.id} for {url}, every event the portal handles")


async def _listed(check: Awaitable[Finding]) -> list[Finding]:
    return [await check]


async def run(settings: Settings) -> list[Finding]:
    """Every check, in the checklist's order (those that ask a server, at the same time)."""
    findings = [check_base_url(settings), check_secret_key(settings), check_key_mode(settings)]
    gateway = StripeGateway(
        api_key=settings.stripe_api_key,
        api_base=settings.stripe_api_base,
        timeout=settings.stripe_timeout,
        max_network_retries=0,
        invoice_api_version=settings.stripe_invoice_api_version,
    )
    try:
        groups = await at_once(
            _listed(check_database(settings)),
            _listed(check_smtp(settings)),
            check_permissions(gateway),
            _listed(check_invoice_version(gateway, settings)),
            _listed(check_webhook_endpoint(gateway, settings)),
        )
        findings.extend(f for group in groups for f in group)
    finally:
        await gateway.aclose()
    return findings


def report(findings: Sequence[Finding], out: Callable[[str], None] = print) -> int:
    """The checklist, one line each (failed ones with their fix); 1 if any failed."""
    for f in findings:
        out(f"{'ok  ' if f.ok else 'FAIL'}  {f.check}: {f.detail}")
        if f.fix:
            out(f"      fix: {f.fix}")
    bad = [f for f in findings if not f.ok]
    out(f"{len(findings) - len(bad)} passed, {len(bad)} failed")
    return 1 if bad else 0


async def warn_at_start(settings: Settings) -> None:
    """`portal serve`: the same checks once it listens, a warning per failed one; a check
    that cannot run is no reason to stop serving."""
    try:
        findings = await run(settings)
    except Exception:
        log.exception("portal doctor's checks could not run")
        return
    for f in findings:
        if not f.ok:
            log.warning("portal doctor: %s: %s (fix: %s)", f.check, f.detail, f.fix)
