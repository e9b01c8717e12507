"""Whose address a request comes from, for per-IP rate limits and the audit trail.

Behind a proxy every connection comes from the proxy, and the client's address travels in a
header; but a client can send any header itself, so only one is believed: the one named by
`PORTAL_CLIENT_IP_HEADER`, which the deployment's proxy sets and overwrites (Fly.io's
`Fly-Client-IP`). For `X-Forwarded-For`, where every proxy appends the address it saw, only the
right-most entry is the nearest proxy's word; entries to its left are the client's own claims
(uvicorn's `--forwarded-allow-ips *` takes the left-most, which is why the image leaves uvicorn's
proxy headers off). A value that is not an IP address is ignored.
"""

from __future__ import annotations

import ipaddress


def client_address(header: str, value: str) -> str | None:
    """The client's IP address in `value` of `header` (lower-case), or None if it holds none."""
    if header == "x-forwarded-for":
        value = value.rsplit(",", 1)[-1]
    candidate = value.strip()
    try:
        return str(ipaddress.ip_address(candidate))
    except ValueError:
        return None
