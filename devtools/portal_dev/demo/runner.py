"""`portal demo`: everything a newcomer needs in one process.

The Stripe sandbox with demo data, the portal pointed at it, and a development mailbox that is
a real SMTP server the portal sends to. State starts fresh on every run: the sandbox keeps its
data in memory, so the portal's database from an earlier run would only point at customers that
no longer exist.
"""

from __future__ import annotations

import asyncio
import logging
import secrets
import socket
import sys
from pathlib import Path

from starlette.applications import Starlette

from portal import logs
from portal.app import create_app
from portal.serving import run_servers, server, servers_on_ports
from portal.settings import Settings, parse_smtp_url
from portal.storage import migrate
from portal.storage.database import create_engine
from portal_dev.demo.mailbox_pages import mailbox_routes
from portal_dev.demo.seed import format_summary, seed_demo
from portal_dev.mailbox import DevMailbox, DevMailServer
from stripe_sandbox.app import SandboxConfig, create_sandbox_app
from stripe_sandbox.config import OWN_PORT_SURFACES, on_own_ports

DEMO_DIR = Path("data") / "demo"
DEMO_API_KEY = "sk_test_demo"
# Stripe's Search API lags behind changes (up to about a minute); the demo shows a little of it.
DEMO_SEARCH_DELAY_S = 5.0


def _port_free(port: int) -> bool:
    with socket.socket() as s:
        s.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
        try:
            s.bind(("127.0.0.1", port))
        except OSError:
            return False
    return True


def demo_settings(port: int, sandbox_port: int, smtp_port: int, data_dir: Path) -> Settings:
    return Settings(
        base_url=f"http://127.0.0.1:{port}",
        secret_key=secrets.token_urlsafe(48),
        stripe_api_key=DEMO_API_KEY,
        stripe_api_base=f"http://127.0.0.1:{sandbox_port}",
        stripe_webhook_secret="whsec_" + secrets.token_hex(24),
        stripe_max_network_retries=0,
        smtp=parse_smtp_url(f"smtp://127.0.0.1:{smtp_port}?tls=none"),
        mail_from="Demo Billing <billing@example.com>",
        company_name="Demo Company",
        support_email="support@example.com",
        database_url=f"sqlite+aiosqlite:///{data_dir / 'portal.sqlite3'}",
        data_dir=data_dir,
    )


def create_demo_app(settings: Settings, mailbox: DevMailbox) -> Starlette:
    """The portal in demo mode, with the pages of `mailbox` at `/_dev/mail`."""
    return create_app(settings, demo=True, extra_routes=mailbox_routes(mailbox))


def run_demo(*, port: int, sandbox_port: int | None = None, smtp_port: int | None = None) -> int:
    sandbox_port = sandbox_port or port + 1
    smtp_port = smtp_port or port + 25
    # The sandbox's 3-D Secure, Checkout and files origins: the ports after its API's.
    sandbox_ports = [sandbox_port + offset for offset in range(len(OWN_PORT_SURFACES) + 1)]
    taken = [p for p in (port, *sandbox_ports, smtp_port) if not _port_free(p)]
    if taken:
        print(
            f"portal: port(s) {', '.join(map(str, taken))} already in use; "
            "choose others with --port, --sandbox-port, --smtp-port",
            file=sys.stderr,
        )
        return 2

    # A person reads the demo's console: the summary, the e-mails, and problems; not every
    # request (seeding alone delivers dozens of webhooks).
    logs.configure(json_lines=False, level=logging.WARNING)
    DEMO_DIR.mkdir(parents=True, exist_ok=True)
    for old in DEMO_DIR.glob("portal.sqlite3*"):
        old.unlink()
    settings = demo_settings(port, sandbox_port, smtp_port, DEMO_DIR)

    mailbox = DevMailbox()
    mail_server = DevMailServer(mailbox, smtp_port)
    sandbox_config = SandboxConfig(
        webhook_url=f"{settings.base_url}/stripe/webhook",
        webhook_secret=settings.stripe_webhook_secret,
        search_delay_s=DEMO_SEARCH_DELAY_S,
    )
    sandbox = create_sandbox_app(on_own_ports(sandbox_config, "127.0.0.1", sandbox_port))
    portal = create_demo_app(settings, mailbox)

    async def main() -> None:
        engine = create_engine(settings.database_url)
        await migrate.upgrade(engine)
        await engine.dispose()

        async def after_start() -> None:
            data = await seed_demo(settings.stripe_api_base, DEMO_API_KEY)
            print(
                "\n"
                f"  The billing portal demo is running: open {settings.base_url}/\n"
                f"  Demo mailbox (every e-mail the portal sends): {settings.base_url}/_dev/mail\n"
                f"  Stripe sandbox: {settings.stripe_api_base} (key {DEMO_API_KEY})\n\n"
                "  Sign in as one of these demo customers:\n"
                f"{format_summary(data)}\n\n"
                "  Stop with Ctrl-C.\n",
                flush=True,
            )

        await run_servers(
            [
                # The sandbox's own access log would bury the banner and the portal's log.
                *servers_on_ports(sandbox, "127.0.0.1", sandbox_ports, access_log=False),
                server(portal, "127.0.0.1", port, access_log=False),
            ],
            after_start,
        )

    mail_server.start()
    try:
        asyncio.run(main())
    finally:
        mail_server.stop()
    return 0
