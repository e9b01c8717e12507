"""Languages: the six catalogs, the request's locale, and Babel formatting.

Catalogs are read from the `.po` files in `locales/` and compiled in memory when the process
starts, so a translation can never be stale against a forgotten compile step. The locale of the
current request lives in a ContextVar, set by `LocaleMiddleware`, which `gettext` and the Jinja
i18n extension read.
"""

from __future__ import annotations

import io
from collections.abc import Iterable, Iterator
from contextlib import contextmanager
from contextvars import ContextVar
from functools import cache
from typing import Any

from babel import Locale
from babel.messages.mofile import write_mo
from babel.messages.pofile import read_po
from babel.support import Translations
from starlette.types import ASGIApp, Receive, Scope, Send

from portal.resources import LOCALES

SUPPORTED: tuple[str, ...] = ("de", "en", "nl", "es", "pl", "hr")
DEFAULT = "en"
DOMAIN = "messages"

_current: ContextVar[str] = ContextVar("locale", default=DEFAULT)
# The visitor picked the language (the switcher's cookie): it wins over the customer's in Stripe.
_chosen: ContextVar[bool] = ContextVar("locale_chosen", default=False)


@cache
def translations(locale: str) -> Translations:
    po_path = LOCALES / locale / "LC_MESSAGES" / f"{DOMAIN}.po"
    with po_path.open("rb") as po:
        catalog = read_po(po, locale=locale, domain=DOMAIN)
    compiled = io.BytesIO()
    write_mo(compiled, catalog, use_fuzzy=False)
    compiled.seek(0)
    return Translations(compiled, domain=DOMAIN)


def current_locale() -> str:
    return _current.get()


def chosen_by_visitor() -> bool:
    """Whether this request's language is the visitor's own choice (see `LocaleMiddleware`)."""
    return _chosen.get()


def set_locale(locale: str) -> None:
    _current.set(locale if locale in SUPPORTED else DEFAULT)


@contextmanager
def use_locale(locale: str) -> Iterator[None]:
    """Speak `locale` for the block (e-mails are rendered in the recipient's language)."""
    token = _current.set(locale if locale in SUPPORTED else DEFAULT)
    try:
        yield
    finally:
        _current.reset(token)


def gettext(message: str, **variables: Any) -> str:
    text = translations(current_locale()).ugettext(message)
    return text % variables if variables else text


def ngettext(singular: str, plural: str, n: int, **variables: Any) -> str:
    text = translations(current_locale()).ungettext(singular, plural, n)
    return text % ({"num": n} | variables)


_ = gettext


def negotiate(accept_language: str | None) -> str | None:
    """The best of our languages for an `Accept-Language` header, or None."""
    if not accept_language:
        return None
    preferences = []
    for position, item in enumerate(accept_language.split(",")):
        tag, _sep, params = item.strip().partition(";")
        quality = 1.0
        if params.strip().startswith("q="):
            try:
                quality = float(params.strip()[2:])
            except ValueError:
                continue
        if tag and quality > 0:
            preferences.append((-quality, position, tag.strip()))
    for *_rank, tag in sorted(preferences):
        match = first_supported([tag])
        if match:
            return match
    return None


def first_supported(tags: Iterable[str]) -> str | None:
    """The first of `tags` (e.g. Stripe's `preferred_locales`, "de-AT") that we speak."""
    for tag in tags:
        language = tag.replace("_", "-").split("-")[0].lower()
        if language in SUPPORTED:
            return language
    return None


def locale_name(locale: str) -> str:
    """A language's own name for itself, e.g. "Deutsch", "polski"."""
    return str(Locale.parse(locale).get_display_name(locale)).capitalize()


class LocaleMiddleware:
    """Sets the request's language: an explicit choice (cookie), then the browser's wish.

    Signed-in customers' Stripe `preferred_locales` come in between once they are known; the
    views that know the customer call `set_locale` themselves.
    """

    def __init__(self, app: ASGIApp, cookie: str) -> None:
        self.app = app
        self.cookie = cookie

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] in ("http", "websocket"):
            headers = {k.decode("latin-1"): v.decode("latin-1") for k, v in scope["headers"]}
            chosen = _cookie(headers.get("cookie", ""), self.cookie)
            _chosen.set(bool(first_supported([chosen] if chosen else [])))
            set_locale(
                first_supported([chosen] if chosen else [])
                or negotiate(headers.get("accept-language"))
                or DEFAULT
            )
        await self.app(scope, receive, send)


def _cookie(header: str, name: str) -> str | None:
    for part in header.split(";"):
        key, _sep, value = part.strip().partition("=")
        if key == name:
            return value
    return None
