"""A load generator run as a process of its own (so it does not share the portal's event loop):
`python -m portal_dev.bench.load URL --concurrency 50 --seconds 10 [--cookie k=v] [--host h]`,
printing one JSON object: requests, requests per second, latency percentiles, errors."""

from __future__ import annotations

import argparse
import asyncio
import json
import time

import httpx


def percentile(values: list[float], p: float) -> float:
    if not values:
        return 0.0
    ordered = sorted(values)
    return ordered[min(len(ordered) - 1, round(p / 100 * (len(ordered) - 1)))]


async def run(
    urls: list[str], concurrency: int, seconds: float, cookies: dict[str, str], host: str | None
) -> dict[str, object]:
    latencies: list[float] = []
    statuses: dict[int, int] = {}
    errors = 0
    error_kinds: dict[str, int] = {}
    headers = {"host": host} if host else {}
    # Idle connections are dropped before the server's keep-alive timeout (uvicorn: 5 s) would
    # close them under the client's feet, which would count as an error of the portal's.
    limits = httpx.Limits(
        max_connections=concurrency, max_keepalive_connections=concurrency, keepalive_expiry=2
    )
    async with httpx.AsyncClient(
        cookies=cookies, headers=headers, limits=limits, timeout=30
    ) as client:
        end = time.perf_counter() + seconds

        async def worker(n: int) -> None:
            nonlocal errors
            i = n
            while time.perf_counter() < end:
                url = urls[i % len(urls)]
                i += 1
                started = time.perf_counter()
                try:
                    answer = await client.get(url)
                    statuses[answer.status_code] = statuses.get(answer.status_code, 0) + 1
                except httpx.HTTPError as exc:
                    errors += 1
                    kind = type(exc).__name__
                    error_kinds[kind] = error_kinds.get(kind, 0) + 1
                    continue
                latencies.append(time.perf_counter() - started)

        started = time.perf_counter()
        await asyncio.gather(*(worker(n) for n in range(concurrency)))
        elapsed = time.perf_counter() - started
    return {
        "requests": len(latencies),
        "rps": round(len(latencies) / elapsed, 1),
        "p50_ms": round(percentile(latencies, 50) * 1000, 1),
        "p95_ms": round(percentile(latencies, 95) * 1000, 1),
        "p99_ms": round(percentile(latencies, 99) * 1000, 1),
        "statuses": statuses,
        "errors": errors,
        "error_kinds": error_kinds,
    }


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("urls", nargs="+")
    parser.add_argument("--concurrency", type=int, default=50)
    parser.add_argument("--seconds", type=float, default=10)
    parser.add_argument("--cookie", action="append", default=[])
    parser.add_argument("--host")
    args = parser.parse_args()
    cookies = dict(c.split("=", 1) for c in args.cookie)
    result = asyncio.run(run(args.urls, args.concurrency, args.seconds, cookies, args.host))
    print(json.dumps(result))


if __name__ == "__main__":
    main()
