"""Where Stripe may send the portal or a customer: one rule for files, Checkout and 3-D Secure.

The PDF download follows Stripe's redirects with it (`pdfs.py`), and the portal's own page before
Stripe's (`portal.continuing`) checks with it where it sends the browser on to.
"""

from __future__ import annotations

from urllib.parse import urlsplit


def may_send_to(url: str, api_base: str) -> bool:
    """Where Stripe may send the portal or a customer on to: a file download's redirect (Stripe
    chooses its file storage), Checkout (possibly on the account's own domain), 3-D Secure and
    the bank behind it. Any host over HTTPS; plain HTTP only to the host of a configured
    non-Stripe API base, for the local sandbox, which serves those on other ports of loopback."""
    parts = urlsplit(url)
    if parts.scheme == "https":
        return bool(parts.hostname)
    api = urlsplit(api_base)
    return (
        api.hostname != "api.stripe.com"
        and bool(parts.hostname)
        and (parts.scheme, parts.hostname) == (api.scheme, api.hostname)
    )
