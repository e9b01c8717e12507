"""Response headers every page gets, and the Host check.

The Content-Security-Policy is written as data (as Warehouse's `csp.py` does): no inline script
anywhere, no plugins, no <base>, no framing.

`form-action` is `'self'` and nothing else. Chromium and WebKit apply it not only to where a
form posts but to every redirect that follows the submission
(https://www.w3.org/TR/CSP3/#directive-form-action), and a payment's answer leads off-site to
origins the portal cannot list once and for all: Checkout (checkout.stripe.com), 3-D Secure
(hooks.stripe.com) and from there the customer's bank. So no form's answer leaves the site: a
POST that has to send the customer to Stripe redirects to a GET page of the portal's own
(`portal.continuing`), which names the target and goes on with a plain link and a
`<meta http-equiv="refresh">`, a new navigation that `form-action` does not govern. That page
reads its target server-side (the payment's PaymentIntent, the customer's Checkout Session at
Stripe), never from the request, so it is no open redirect.
"""

from __future__ import annotations

from urllib.parse import urlsplit

from starlette.responses import PlainTextResponse, RedirectResponse, Response
from starlette.types import Scope

from portal.i18n import _
from portal.settings import Settings

CSP: dict[str, list[str]] = {
    "default-src": ["'none'"],
    "script-src": ["'self'"],
    "style-src": ["'self'"],
    "img-src": ["'self'", "data:"],
    "font-src": ["'self'"],
    "connect-src": ["'self'"],
    # Only the portal: see the module's docstring for how customers reach Stripe's pages.
    "form-action": ["'self'"],
    "frame-ancestors": ["'none'"],
    "base-uri": ["'none'"],
    "object-src": ["'none'"],
}


def csp_header(policy: dict[str, list[str]] = CSP) -> str:
    return "; ".join(f"{name} {' '.join(values)}" for name, values in policy.items())


def security_headers(settings: Settings) -> list[tuple[bytes, bytes]]:
    headers = {
        "content-security-policy": csp_header(),
        "x-content-type-options": "nosniff",
        "x-frame-options": "DENY",
        # No URL leaves the site in a Referer. Within it the origin is kept, because with
        # `no-referrer` browsers send `Origin: null` on every form post, and the CSRF check
        # relies on a real Origin. The one URL that carries a token sets `no-referrer` itself.
        "referrer-policy": "same-origin",
        "cross-origin-opener-policy": "same-origin",
        "permissions-policy": "camera=(), microphone=(), geolocation=(), payment=()",
    }
    if settings.is_https:
        headers["strict-transport-security"] = "max-age=63072000; includeSubDomains"
    return [(k.encode(), v.encode()) for k, v in headers.items()]


def served_host(settings: Settings) -> str:
    """The one Host the portal answers to (its base URL's); any other is refused."""
    return urlsplit(settings.base_url).netloc.lower()


def wrong_host(settings: Settings, scope: Scope, host: str) -> Response:
    """The answer to a request for another Host than `served_host`."""
    # On a developer's machine "localhost" and "127.0.0.1" name the same portal: send the
    # visitor to the configured one rather than leave them at an error.
    if not settings.is_https and host.split(":")[0] in ("localhost", "127.0.0.1", "[::1]"):
        path = scope.get("raw_path", b"/").decode("latin-1") or "/"
        query = scope.get("query_string", b"").decode("latin-1")
        target = settings.base_url + path + (f"?{query}" if query else "")
        return RedirectResponse(target, status_code=307)
    return PlainTextResponse(_("This portal is not served at this address."), status_code=421)
