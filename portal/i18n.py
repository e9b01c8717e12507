"""Languages: the six catalogs, the request's language and the region its formats follow.

Catalogs are read from the `.po` files in `locales/` and compiled in memory when the process
starts, so a translation can never be stale against a forgotten compile step. The request's
locale lives in two ContextVars, set by `use_request_locale` and, for a known customer, by the
route guard: the catalog language (`current_locale()`, "de"), which `gettext` and the Jinja i18n
extension read, and the format locale (`format_locale()`, the CLDR locale "de_AT"), which every
date, time, amount and number is written in. A region that `REGIONS` does not list falls back to
the language's default region: the formats are always those of a real CLDR locale we tested.

The region picks words too, not only formats: Swiss German writes "MWST" and no "ß", British
English "instalment" and "postcode". A region's catalog is its language's with the region's
spelling rule (`SPELLING`) applied and its own entries (`locales/de_CH/...`, only those that
differ) laid over it; regions that write as another one share its words (`SAME_WORDS`).
"""

from __future__ import annotations

import io
from collections.abc import Callable, Iterable, Iterator, Mapping
from contextlib import contextmanager
from contextvars import ContextVar
from functools import cache
from typing import Any

from babel import Locale
from babel.messages.mofile import write_mo
from babel.messages.pofile import read_po
from babel.support import Translations

from portal.resources import LOCALES

SUPPORTED: tuple[str, ...] = ("de", "en", "nl", "es", "pl", "hr")
DEFAULT = "en"
DOMAIN = "messages"

# The regional variants whose formats we write, per language, as CLDR locales; the first is the
# language's default, for a plain "de" and for a region not listed ("de-IT" writes as de_DE).
# Plain English is British: CLDR's "en" is American (month first, "3/7/26" for 3 July, 12-hour
# clock), which a European business reader misreads; en_GB writes "3 Jul 2026" and 14:30. Only
# an explicit en-US (browser or Stripe) gets American dates.
REGIONS: dict[str, tuple[str, ...]] = {
    "de": ("de_DE", "de_AT", "de_CH", "de_LI", "de_LU", "de_BE"),
    "en": ("en_GB", "en_IE", "en_US", "en_CA", "en_AU", "en_NZ"),
    "nl": ("nl_NL", "nl_BE"),
    "es": ("es_ES", "es_MX", "es_AR", "es_CO", "es_CL", "es_US", "es_419"),
    "pl": ("pl_PL",),
    "hr": ("hr_HR", "hr_BA"),
}

_current: ContextVar[str] = ContextVar("locale", default=DEFAULT)
_format: ContextVar[str] = ContextVar("format_locale", default=REGIONS[DEFAULT][0])
# The visitor picked the language (the switcher's cookie): it wins over the customer's in Stripe.
_chosen: ContextVar[bool] = ContextVar("locale_chosen", default=False)
# The browser's Accept-Language, best first: where a region comes from when nothing else says.
_browser: ContextVar[tuple[str, ...]] = ContextVar("browser_locales", default=())


# Regions whose business writing uses another region's words: Ireland, Australia and New
# Zealand spell as Britain does; Liechtenstein writes as Switzerland (MWST, no "ß").
SAME_WORDS: dict[str, str] = {
    "en_IE": "en_GB",
    "en_AU": "en_GB",
    "en_NZ": "en_GB",
    "de_LI": "de_CH",
}
# Spelling rules of a whole region: Swiss Standard German has no "ß" (it writes "ss").
SPELLING: dict[str, Callable[[str], str]] = {"de_CH": lambda text: text.replace("ß", "ss")}


def _po(tag: str) -> Any:
    with (LOCALES / tag / "LC_MESSAGES" / f"{DOMAIN}.po").open("rb") as po:
        return read_po(po, locale=tag, domain=DOMAIN)


@cache
def translations(locale: str) -> Translations:
    """The compiled catalog of a language ("de") or of a region that has words of its own
    ("de_CH", see `catalog_name`)."""
    language = locale.split("_")[0]
    catalog = _po(language)
    if locale != language:
        spell = SPELLING.get(locale)
        if spell is not None:
            for message in catalog:
                if message.id:
                    message.string = (
                        tuple(spell(s) for s in message.string)
                        if isinstance(message.string, tuple)
                        else spell(message.string)
                    )
        if (LOCALES / locale).is_dir():
            for message in _po(locale):
                # Only rewordings of the language's entries (tests/unit/test_glossary.py).
                found = catalog.get(message.id) if message.id else None
                if found is not None:
                    found.string = message.string
    compiled = io.BytesIO()
    write_mo(compiled, catalog, use_fuzzy=False)
    compiled.seek(0)
    return Translations(compiled, domain=DOMAIN)


@cache
def catalog_name(format_locale: str) -> str:
    """The catalog a format locale reads: its region's where the region has words of its own
    ("de_CH", also for "de_LI"), else its language's ("de" for "de_AT")."""
    region = SAME_WORDS.get(format_locale, format_locale)
    if region in SPELLING or (LOCALES / region).is_dir():
        return region
    return format_locale.split("_")[0]


def catalog() -> Translations:
    """The request's catalog: its language, in its region's words."""
    return translations(catalog_name(_format.get()))


def interpolate(text: str, variables: Mapping[str, Any]) -> str:
    """`text % variables`, without a doubled full stop where a value ends in one and the
    sentence ends right after it: a company's "sp. z o.o.", a Croatian date ("6. 12. 2026.")."""
    for name, value in variables.items():
        if isinstance(value, str) and value.endswith("."):
            text = text.replace(f"%({name})s.", f"%({name})s")
    return text % variables


def current_locale() -> str:
    """The catalog language: one of `SUPPORTED`."""
    return _current.get()


def format_locale() -> str:
    """The CLDR locale dates, times, amounts and numbers are written in: one of `REGIONS`."""
    return _format.get()


def chosen_by_visitor() -> bool:
    """Whether this request's language is the visitor's own choice (see `use_request_locale`)."""
    return _chosen.get()


def _parts(tag: str) -> tuple[str, str | None]:
    """A BCP 47 or CLDR tag's language and region: "de-AT" -> ("de", "AT"); also "es-419",
    "sr-Latn-RS", "en_GB"."""
    language, *subtags = tag.strip().replace("_", "-").split("-")
    for subtag in subtags:
        if (len(subtag) == 2 and subtag.isalpha()) or (len(subtag) == 3 and subtag.isdigit()):
            return language.lower(), subtag.upper()
        if len(subtag) == 1:  # an extension ("-u-..."): no region in what follows
            break
    return language.lower(), None


def _variant(tag: str) -> str | None:
    """The regional variant `tag` names, if it is one of ours: "en-gb" -> "en_GB"."""
    language, region = _parts(tag)
    found = f"{language}_{region}"
    return found if found in REGIONS.get(language, ()) else None


def _formats_for(language: str, tags: Iterable[str]) -> str:
    """The first of `tags` that names one of `language`'s regions, else its default region."""
    for tag in tags:
        found = _variant(tag)
        if found is not None and found.startswith(f"{language}_"):
            return found
    return REGIONS[language][0]


def _language(tag: str) -> str:
    language = _parts(tag)[0]
    return language if language in SUPPORTED else DEFAULT


def set_locale(locale: str) -> None:
    """Speak `locale` ("de", "de-AT") for the rest of the request: its language, and its
    region's formats if `REGIONS` has it, else the language's default region's."""
    language = _language(locale)
    _current.set(language)
    _format.set(_formats_for(language, [locale]))


def set_customer_locale(preferred: Iterable[str]) -> None:
    """Follow a customer's own languages (Stripe's `preferred_locales`, an invoice link's).

    The first of them that we speak sets the language, unless the visitor chose one with the
    switcher. The formats then follow the first of them that names a region of that language,
    else the region the browser asked for in it, else the language's default: the switcher
    chooses the language, then Stripe, then the browser.
    """
    tags = tuple(preferred)
    language = current_locale() if chosen_by_visitor() else first_supported(tags)
    if language is None:
        return  # none we speak: the browser's language stands, with its region
    _current.set(language)
    _format.set(_formats_for(language, (*tags, *_browser.get())))


@contextmanager
def use_locale(locale: str) -> Iterator[None]:
    """Speak `locale` ("de", "en-GB") for the block: e-mails are rendered in the recipient's
    language and regional formats, whoever's request (or none) sends them. A tag without a
    region of ours writes the language's default region (never the current browser's)."""
    language = _language(locale)
    tokens = _current.set(language), _format.set(_formats_for(language, [locale]))
    try:
        yield
    finally:
        _current.reset(tokens[0])
        _format.reset(tokens[1])


def gettext(message: str, **variables: Any) -> str:
    text = catalog().ugettext(message)
    return interpolate(text, variables) if variables else text


def ngettext(singular: str, plural: str, n: int, **variables: Any) -> str:
    text = catalog().ungettext(singular, plural, n)
    return interpolate(text, {"num": n} | variables)


_ = gettext


def preferences(accept_language: str | None) -> tuple[str, ...]:
    """An `Accept-Language` header's tags, best first (by quality, then as written)."""
    ranked = []
    for position, item in enumerate((accept_language or "").split(",")):
        tag, _sep, params = item.strip().partition(";")
        quality = 1.0
        if params.strip().startswith("q="):
            try:
                quality = float(params.strip()[2:])
            except ValueError:
                continue
        if tag.strip() and quality > 0:
            ranked.append((-quality, position, tag.strip()))
    return tuple(tag for *_rank, tag in sorted(ranked))


def negotiate(accept_language: str | None) -> str | None:
    """The best of our languages for an `Accept-Language` header, or None."""
    return first_supported(preferences(accept_language))


def first_supported(tags: Iterable[str]) -> str | None:
    """The language of the first of `tags` (e.g. Stripe's `preferred_locales`, "de-AT") that
    we speak: "de"."""
    for tag in tags:
        language = _parts(tag)[0]
        if language in SUPPORTED:
            return language
    return None


def first_supported_locale(tags: Iterable[str]) -> str | None:
    """The first of `tags` that we speak, with its region if `REGIONS` has it: "de-AT", "de"
    (for "de-IT"), or None. What to keep for writing to someone later (`use_locale`)."""
    for tag in tags:
        language = _parts(tag)[0]
        if language in SUPPORTED:
            variant = _variant(tag)
            return language if variant is None else variant.replace("_", "-")
    return None


# The supported languages' names for themselves, as Babel gives them (a test compares): every
# page's language menu names all six, and asking Babel would load each language's whole locale
# data into every process, megabytes for languages it may never serve.
OWN_NAMES: dict[str, str] = {
    "de": "Deutsch",
    "en": "English",
    "nl": "Nederlands",
    "es": "Español",
    "pl": "Polski",
    "hr": "Hrvatski",
}


def locale_name(locale: str) -> str:
    """A language's own name for itself, e.g. "Deutsch", "Polski"."""
    found = OWN_NAMES.get(locale)
    if found is None:
        found = str(Locale.parse(locale).get_display_name(locale)).capitalize()
    return found


def use_request_locale(cookie: str | None, accept_language: str | None) -> None:
    """Set the request's language: an explicit choice (the language cookie's value), then the
    browser's wish; and its formats: the browser's region for that language (a Swiss browser
    that asks for de-CH keeps Swiss numbers after choosing German), else the language's
    default region. (Called for every request by `portal.middleware`.)

    Signed-in customers' Stripe `preferred_locales` come in between once they are known; the
    route guard calls `set_customer_locale` when it knows the customer.
    """
    chosen = first_supported([cookie] if cookie else [])
    browser = preferences(accept_language)
    _chosen.set(chosen is not None)
    _browser.set(browser)
    language = chosen or first_supported(browser) or DEFAULT
    _current.set(language)
    _format.set(_formats_for(language, [*([cookie] if cookie else []), *browser]))
