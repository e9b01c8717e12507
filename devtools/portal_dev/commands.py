"""The `portal` subcommands this distribution contributes (entry points `portal.commands` in
devtools/pyproject.toml): each entry adds one subparser; the work is imported when it runs, so
`portal --help` stays fast."""

from __future__ import annotations

import argparse
import asyncio
import sys
from typing import TYPE_CHECKING

if TYPE_CHECKING:
    from portal.cli import Subcommands

EXIT_CONFIG = 2


def fail(problem: str) -> int:
    print(f"portal: {problem}", file=sys.stderr)
    return EXIT_CONFIG


def add_sandbox(sub: Subcommands) -> None:
    sandbox = sub.add_parser("sandbox", help="run the local Stripe sandbox alone")
    sandbox.add_argument("--host", default="127.0.0.1")
    sandbox.add_argument("--port", type=int, default=12111)
    sandbox.add_argument("--seed", choices=("demo", "none"), default="none")
    sandbox.add_argument("--webhook-url", help="deliver signed events to this URL")
    sandbox.add_argument("--webhook-secret", help="signing secret (whsec_...) for --webhook-url")
    sandbox.add_argument("--latency-ms", type=int, default=0, help="delay every API answer")
    sandbox.add_argument(
        "--search-delay",
        type=float,
        default=0.0,
        metavar="SECONDS",
        help="how long new and changed objects take to show in search (Stripe: up to a minute)",
    )
    sandbox.set_defaults(func=cmd_sandbox)


def add_bench(sub: Subcommands) -> None:
    bench = sub.add_parser(
        "bench",
        help="measure Stripe calls per page, latency, throughput against a same-size floor, CPU"
        " per view and memory (needs wrk)",
    )
    bench.add_argument("--latency-ms", type=int, default=80, help="per Stripe API call")
    bench.add_argument("--samples", type=int, default=30, help="overview views per latency measure")
    bench.add_argument(
        "--rounds", type=int, default=5, help="load rounds, portal and floor in turn"
    )
    bench.add_argument("--seconds", type=int, default=3, help="each side of a load round")
    bench.add_argument("--connections", type=int, default=50, help="wrk's open connections")
    bench.add_argument("--threads", type=int, default=2, help="wrk's threads")
    bench.add_argument(
        "--database",
        metavar="URL",
        default=None,
        help="run the portal on this PostgreSQL database (production's shape) instead of SQLite",
    )
    bench.add_argument(
        "--scale",
        nargs="*",
        metavar="NAME",
        default=None,
        help="instead, how costs grow: invoices (a customer with 2,000), customers (memory after"
        " 10,000), reminders (50,000 open invoices at Stripe's rate limit), webhooks (1,000 in"
        " 10 s); all four when no NAME is given",
    )
    bench.set_defaults(func=cmd_bench)


def add_demo(sub: Subcommands) -> None:
    demo = sub.add_parser("demo", help="sandbox + demo data + portal + development mailbox")
    demo.add_argument("--port", type=int, default=8000)
    demo.add_argument("--sandbox-port", type=int, default=None, help="default: --port + 1")
    demo.add_argument("--smtp-port", type=int, default=None, help="default: --port + 25")
    demo.set_defaults(func=cmd_demo)


def cmd_bench(args: argparse.Namespace) -> int:
    from portal_dev.bench.runner import run
    from portal_dev.bench.wrk import WrkMissing

    if args.scale is not None:
        from portal_dev.bench import scale

        unknown = sorted(set(args.scale) - set(scale.SCALES))
        if unknown:
            return fail(
                f"--scale: unknown {', '.join(unknown)} (choose from {', '.join(scale.SCALES)})"
            )
        figures = scale.run(args.scale or scale.SCALES, database_url=args.database)
        print(scale.markdown(figures, "SQLite" if args.database is None else "PostgreSQL"))
        return 0

    try:
        result = run(
            latency_ms=args.latency_ms,
            samples=args.samples,
            rounds=args.rounds,
            seconds=args.seconds,
            threads=args.threads,
            connections=args.connections,
            database_url=args.database,
        )
    except WrkMissing as exc:
        return fail(str(exc))
    print(result.table())
    return 0


def cmd_sandbox(args: argparse.Namespace) -> int:
    from portal import logs
    from portal.serving import run_servers, servers_on_ports
    from portal_dev.demo.seed import format_summary, seed_demo
    from stripe_sandbox.app import SandboxConfig, create_sandbox_app
    from stripe_sandbox.config import OWN_PORT_SURFACES, on_own_ports

    if bool(args.webhook_url) != bool(args.webhook_secret):
        return fail("--webhook-url and --webhook-secret go together")
    config = SandboxConfig(
        webhook_url=args.webhook_url,
        webhook_secret=args.webhook_secret,
        latency_ms=args.latency_ms,
        search_delay_s=args.search_delay,
    )
    # 3-D Secure, Checkout and files on the next ports, each an origin of its own as at Stripe.
    config = on_own_ports(config, args.host, args.port)
    ports = [args.port + offset for offset in range(len(OWN_PORT_SURFACES) + 1)]
    base_url = f"http://{args.host}:{args.port}"
    logs.configure(json_lines=False)

    async def seed() -> None:
        print(
            f"Stripe sandbox at {base_url} (any sk_test_ key; restricted keys from "
            "POST /_sandbox/keys)"
        )
        for name, url in config.surface_urls().items():
            print(f"  {name}: {url}")
        if args.seed == "demo":
            print(format_summary(await seed_demo(base_url)))

    app = create_sandbox_app(config)
    asyncio.run(run_servers(servers_on_ports(app, args.host, ports), seed))
    return 0


def cmd_demo(args: argparse.Namespace) -> int:
    from portal_dev.demo.runner import run_demo

    return run_demo(port=args.port, sandbox_port=args.sandbox_port, smtp_port=args.smtp_port)
