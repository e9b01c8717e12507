"""The `portal` command: serve, migrate, purge, send-reminders, invoice-link, doctor, and the commands
other installed distributions add through the `portal.commands` entry points (the development
tools' demo, bench and sandbox: devtools/pyproject.toml)."""

from __future__ import annotations

import argparse
import asyncio
import os
import sys
from collections.abc import Awaitable, Callable, Sequence
from importlib.metadata import entry_points
from typing import TYPE_CHECKING, TypeAlias

from portal.settings import SettingsError, load_database_url, load_settings

if TYPE_CHECKING:  # the commands import what they need when they run
    from sqlalchemy.ext.asyncio import AsyncEngine

    from portal.services import Services

EXIT_CONFIG = 2
# The entry point group: each entry is a callable that adds its subparsers to `Subcommands`
# (`set_defaults(func=...)` with a function of the parsed arguments returning the exit status).
COMMANDS = "portal.commands"
Subcommands: TypeAlias = "argparse._SubParsersAction[argparse.ArgumentParser]"


def _fail(problems: Sequence[str]) -> int:
    for line in problems:
        print(f"portal: {line}", file=sys.stderr)
    return EXIT_CONFIG


def cmd_serve(args: argparse.Namespace) -> int:
    from portal import doctor, logs
    from portal.app import create_app
    from portal.serving import run_servers, server
    from portal.storage import migrate
    from portal.storage.database import create_engine

    try:
        settings = load_settings(os.environ)
    except SettingsError as exc:
        return _fail(exc.problems)

    async def main() -> int:
        engine = create_engine(settings.database_url)
        try:
            current = await migrate.is_current(engine)
        except Exception as exc:  # a wrong host, password or file: say so, no traceback
            return _fail([f"cannot open the database: {type(exc).__name__}: {exc}"])
        finally:
            await engine.dispose()
        if not current:
            return _fail(["the database schema is not current: run `portal migrate` first"])
        logs.configure(json_lines=settings.log_format == "json")

        async def checked() -> None:  # never waited for: serving does not depend on it
            checks.append(asyncio.create_task(doctor.warn_at_start(settings)))

        checks: list[asyncio.Task[None]] = []
        try:
            await run_servers(
                [server(create_app(settings), args.host, args.port, access_log=False)], checked
            )
        finally:
            for task in checks:
                task.cancel()
        return 0

    return asyncio.run(main())


def _on_database(work: Callable[[AsyncEngine], Awaitable[str]], failing: str) -> int:
    """Run `work` on the database of PORTAL_DATABASE_URL (the one setting these commands
    need); its result is printed, a failure is one line and exit status 2."""
    from portal.storage.database import create_engine

    try:
        url = load_database_url(os.environ)
    except SettingsError as exc:
        return _fail(exc.problems)

    async def main() -> int:
        engine = create_engine(url)
        try:
            print(f"portal: {await work(engine)}")
        except Exception as exc:  # a wrong host, password or file: say so, no traceback
            return _fail([f"{failing}: {type(exc).__name__}: {exc}"])
        finally:
            await engine.dispose()
        return 0

    return asyncio.run(main())


def cmd_migrate(args: argparse.Namespace) -> int:
    from portal.storage import migrate

    async def work(engine: AsyncEngine) -> str:
        await migrate.upgrade(engine)
        return f"database at revision {await migrate.current_revision(engine)}"

    return _on_database(work, "migration failed")


def cmd_purge(args: argparse.Namespace) -> int:
    from datetime import UTC, datetime

    from portal import housekeeping

    async def work(engine: AsyncEngine) -> str:
        await housekeeping.purge(engine, datetime.now(UTC))
        return "purged expired sessions, sign-in tokens, rate limits and payments"

    return _on_database(work, "purge failed")


def _with_services(work: Callable[[Services], Awaitable[int]]) -> int:
    """Run `work` with the portal's services from the full PORTAL_* settings."""
    from portal.app import open_services

    try:
        settings = load_settings(os.environ)
    except SettingsError as exc:
        return _fail(exc.problems)

    async def main() -> int:
        async with open_services(settings) as svc:
            return await work(svc)

    return asyncio.run(main())


def cmd_send_reminders(args: argparse.Namespace) -> int:
    import signal

    from portal.billing.mailing import send_reminders
    from portal.stripe import pace
    from portal.stripe.errors import GatewayError

    async def once(svc: Services, stop: asyncio.Event, job: pace.Pace) -> int:
        try:
            report = await send_reminders(svc, stop=stop.is_set)
        except (
            GatewayError
        ) as exc:  # Stripe unreachable: what was queued stays, the next run goes on
            return _fail([f"Stripe could not be asked for the open invoices: {exc}"])
        print(
            f"portal: {report.due} e-mails due (reminders, announced charges), {report.queued} new, "
            f"{report.sent} sent, {report.failed} left for the next run; "
            f"{job.rate_limited} Stripe requests refused (429) and tried again"
            + ("; stopped before the end, the next run goes on" if report.stopped else ""),
            flush=True,
        )
        return 0 if report.failed == 0 else 1

    async def work(svc: Services) -> int:
        # SIGTERM (a scheduler stopping the job) and Ctrl-C end it between two messages, never
        # between sending one and marking it sent.
        stop = asyncio.Event()
        loop = asyncio.get_running_loop()
        for sig in (signal.SIGTERM, signal.SIGINT):
            loop.add_signal_handler(sig, stop.set)
        # The batch's own pace: the serving processes share Stripe's limit with it.
        with pace.paced(pace.for_rate(svc.settings.stripe_batch_requests_per_second)) as job:
            status = await once(svc, stop, job)
            while args.every is not None and not stop.is_set():  # a scheduler of its own
                try:  # (fly.toml's "reminders" process)
                    await asyncio.wait_for(stop.wait(), args.every)
                except TimeoutError:
                    status = await once(svc, stop, job)
        return status

    return _with_services(work)


def cmd_invoice_link(args: argparse.Namespace) -> int:
    from portal.billing.mailing import invoice_link_url
    from portal.stripe.errors import GatewayError

    async def work(svc: Services) -> int:
        try:
            invoice = await svc.gateway.get_invoice(args.invoice_id)
        except GatewayError as exc:
            return _fail([f"no invoice {args.invoice_id}: {exc}"])
        if invoice.status == "draft":
            return _fail([f"{args.invoice_id} is a draft: customers never see drafts"])
        print(invoice_link_url(svc, invoice))
        return 0

    return _with_services(work)


def cmd_doctor(args: argparse.Namespace) -> int:
    """The checklist of `portal.doctor`: exit status 1 when a check fails, 2 when the settings
    themselves cannot be read."""
    from portal import doctor

    try:
        settings = load_settings(os.environ)
    except SettingsError as exc:
        return _fail(exc.problems)
    return doctor.report(asyncio.run(doctor.run(settings)))


def build_parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(prog="portal", description=__doc__)
    sub = parser.add_subparsers(dest="command", required=True)

    serve = sub.add_parser("serve", help="run the portal with the PORTAL_* settings")
    serve.add_argument("--host", default="127.0.0.1")
    serve.add_argument("--port", type=int, default=8000)
    serve.set_defaults(func=cmd_serve)

    migrate = sub.add_parser("migrate", help="bring the database to the current schema")
    migrate.set_defaults(func=cmd_migrate)

    purge = sub.add_parser(
        "purge", help="forget expired sessions, tokens, rate limits and unpaid payments"
    )
    purge.set_defaults(func=cmd_purge)

    reminders = sub.add_parser(
        "send-reminders",
        help="e-mail due-soon and overdue reminders (run it daily); sends what the outbox holds",
    )
    reminders.add_argument(
        "--every",
        type=int,
        metavar="SECONDS",
        help="keep running, once every SECONDS (for platforms without a cron)",
    )
    reminders.set_defaults(func=cmd_send_reminders)

    link = sub.add_parser("invoice-link", help="print the link that opens and pays one invoice")
    link.add_argument("invoice_id", help="Stripe's invoice id, in_...")
    link.set_defaults(func=cmd_invoice_link)
    doctor = sub.add_parser(
        "doctor",
        help="check the set-up (Stripe key and permissions, webhook endpoint, mail, database)",
    )
    doctor.set_defaults(func=cmd_doctor)

    # What other installed distributions add (devtools: demo, bench, sandbox); the portal
    # itself knows none of them.
    for entry in sorted(entry_points(group=COMMANDS), key=lambda e: e.name):
        add: Callable[[Subcommands], None] = entry.load()
        add(sub)
    return parser


def main(argv: Sequence[str] | None = None) -> int:
    args = build_parser().parse_args(argv)
    result: int = args.func(args)
    return result


if __name__ == "__main__":  # pragma: no cover
    sys.exit(main())
