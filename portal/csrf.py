"""CSRF protection for every state-changing form.

The token is an HMAC of the browser's id cookie under the secret key: it needs no storage, and a
page on another site can neither read the cookie nor compute the token. Every POST is also
checked for an `Origin` (or `Referer`) from the portal's own base URL when the browser sends one.
"""

from __future__ import annotations

import functools
from urllib.parse import urlsplit

from starlette.datastructures import FormData
from starlette.requests import Request

from portal.cookies import browser_id
from portal.services import services
from portal.signing import Purpose, mac, same

FIELD = "csrf_token"


class CsrfFailed(Exception):
    """The form did not come from one of our own pages in this browser."""


def csrf_token(request: Request) -> str:
    return _token(services(request).settings.secret_key, browser_id(request))


@functools.lru_cache(maxsize=4096)
def _token(secret: str, browser: str) -> str:
    # Every page carries the token: browsers come back, their tokens are made once.
    return mac(secret, Purpose.CSRF, browser)


def _same_origin(request: Request) -> bool:
    base = urlsplit(services(request).settings.base_url)
    source = request.headers.get("origin") or request.headers.get("referer")
    if source is None:
        return True  # older browsers and privacy settings omit both; the token still holds
    parts = urlsplit(source)
    return (parts.scheme, parts.netloc) == (base.scheme, base.netloc)


async def verified_form(request: Request) -> FormData:
    """The request's form, once its CSRF token and origin check out."""
    form = await request.form()
    sent = form.get(FIELD)
    if not isinstance(sent, str) or not same(sent, csrf_token(request)):
        raise CsrfFailed("missing or wrong CSRF token")
    if not _same_origin(request):
        raise CsrfFailed("cross-origin form post")
    return form
