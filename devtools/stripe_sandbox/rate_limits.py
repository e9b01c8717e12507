"""Stripe's rate limits, off unless asked for: a global requests-per-second limit and the Search
API's own, answered with 429 as Stripe answers them.

Stripe: 25 requests/s in test mode, 100/s live, 20/s for search (https://docs.stripe.com/rate-limits).
The SDKs do not retry a 429 on their own (stripe-node#1110: by design), so the caller's code has
to cope with it. Windows are one second of real time, not the sandbox clock: a limit is about
how fast requests arrive.
"""

from __future__ import annotations

import json
import time
from collections import deque

from starlette.responses import Response

from stripe_sandbox import ids
from stripe_sandbox.errors import rate_limited
from stripe_sandbox.store import Store

WINDOW_S = 1.0


def check(store: Store, label: str) -> Response | None:
    """None when the request may go on; else the 429 to answer with. A refused request does
    not count towards the window, so backing off lets requests through again."""
    if store.rate_limit is None:
        return None
    now = time.monotonic()
    if _full(store.recent_requests, store.rate_limit, now):
        return _refusal(store, "global-rate")
    is_search = label.endswith("/search")
    if is_search and _full(store.recent_searches, store.search_rate_limit, now):
        return _refusal(store, "endpoint-rate")
    store.recent_requests.append(now)
    if is_search:
        store.recent_searches.append(now)
    return None


def _full(window: deque[float], limit: float, now: float) -> bool:
    while window and window[0] <= now - WINDOW_S:
        window.popleft()
    return len(window) >= limit


def _refusal(store: Store, reason: str) -> Response:
    error = rate_limited()
    headers = {
        "Request-Id": ids.request_id(),
        "Stripe-Version": store.config.api_version,
        # Which limiter refused the request (Stripe names it in this header).
        "Stripe-Rate-Limited-Reason": reason,
    }
    body = json.dumps(error.body(), separators=(",", ":")).encode()
    return Response(body, 429, headers, media_type="application/json")
