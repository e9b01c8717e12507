"""Jinja2 set-up: autoescaping on, templates from `templates/`, URLs only through `url_for`."""

from __future__ import annotations

import functools
from collections.abc import Callable
from datetime import UTC, datetime
from typing import Any

import jinja2
from markupsafe import Markup
from starlette.requests import Request
from starlette.responses import HTMLResponse

from portal import formatting, i18n, taxes
from portal.assets import Assets
from portal.csrf import csrf_token
from portal.resources import TEMPLATES
from portal.services import services
from portal.state import request_state
from portal.stripe.brands import brand_logo, brand_name, method_name
from portal.stripe.cache import stale_since


def create_environment(assets: Assets) -> jinja2.Environment:
    env = jinja2.Environment(
        loader=jinja2.FileSystemLoader(TEMPLATES),
        # Plain-text e-mails (.txt) are not HTML: escaping there would print "&amp;" to the reader.
        autoescape=jinja2.select_autoescape(
            enabled_extensions=("html",), disabled_extensions=("txt",), default=True
        ),
        undefined=jinja2.StrictUndefined,
        enable_async=False,
        # Templates ship with the code: no need to look at their files' times on every render.
        auto_reload=False,
        extensions=["jinja2.ext.i18n"],
    )
    env.install_gettext_callables(i18n.gettext, i18n.ngettext, newstyle=True)  # type: ignore[attr-defined]
    # Jinja's own newstyle `gettext` builds Markup and formats it on every call, slots or not;
    # a page calls it a hundred times. Same results, the variable-free ones made once.
    env.globals["gettext"] = _gettext  # `_` resolves "gettext" through the context
    env.globals["ngettext"] = _ngettext
    # Dates, times and amounts in the request's format locale ("en_GB", "de_AT"), not just its
    # language: `i18n.format_locale()`.
    env.globals["format_time"] = lambda value: formatting.format_time(value, i18n.format_locale())
    env.globals["static_url"] = assets.url_path
    env.globals["language_name"] = i18n.locale_name
    env.globals["languages"] = i18n.SUPPORTED
    env.globals["country_name"] = lambda code: formatting.country_name(code, i18n.current_locale())
    env.globals["brand_name"] = brand_name
    env.globals["method_name"] = method_name
    env.globals["brand_logo"] = brand_logo
    env.globals["tax_id_name"] = taxes.tax_id_name
    env.filters["money"] = lambda amount, currency: formatting.format_money(
        amount, currency, i18n.format_locale()
    )
    # An amount as a banking app's amount field takes it: no symbol, no grouping ("1234,50").
    env.filters["plain_amount"] = lambda amount, currency: formatting.format_plain_amount(
        amount, currency, i18n.format_locale()
    )
    env.filters["iban"] = formatting.grouped_iban
    env.filters["moment"] = lambda value: formatting.format_moment(value, i18n.format_locale())
    env.filters["date"] = lambda value, format="medium": formatting.format_date(
        value, i18n.format_locale(), format=format
    )
    return env


@functools.lru_cache(maxsize=16_384)
def _safe_translation(locale: str, message: str) -> Markup:
    # The catalogs ship with the code and are checked like templates (tests/unit/test_i18n.py).
    return Markup(i18n.translations(locale).ugettext(message))  # noqa: S704


@jinja2.pass_context
def _gettext(context: jinja2.runtime.Context, message: str, /, **variables: Any) -> str:
    """`{% trans %}` and `_()` in templates, as Jinja's newstyle gettext: a translation is
    markup (the catalogs' own tags stay), the values put into it are escaped."""
    name = i18n.catalog_name(i18n.format_locale())
    if context.eval_ctx.autoescape:
        translated: str = _safe_translation(name, message)
    else:
        translated = i18n.translations(name).ugettext(message)
    if not variables and "%" not in translated:
        return translated
    return i18n.interpolate(translated, variables)


@jinja2.pass_context
def _ngettext(
    context: jinja2.runtime.Context, singular: str, plural: str, num: int, /, **variables: Any
) -> str:
    """`{% trans %}...{% pluralize %}` in templates: as `_gettext`, with every variable of the
    sentence (not only its number) put in by `i18n.interpolate`."""
    translated = i18n.translations(i18n.catalog_name(i18n.format_locale())).ungettext(
        singular, plural, num
    )
    if context.eval_ctx.autoescape:
        translated = Markup(translated)  # noqa: S704 (the catalogs are checked like templates)
    return i18n.interpolate(translated, {"num": num} | variables)


# Paths kept for `url_for`, each a short text and its key (under half a kilobyte), all
# forgotten beyond it: a few megabytes at most, however many customers and invoices.
PATHS = 8_192


def _url_for(request: Request) -> Callable[..., str]:
    """Links in pages: paths on this site (the same host), built once per route and parameters
    (Starlette walks the whole route table for each URL, which a page with many links feels)."""
    router = request.app.router
    cache: dict[tuple[str, tuple[tuple[str, Any], ...]], str] = router.__dict__.setdefault(
        "portal_paths", {}
    )

    def url_for(name: str, /, **params: Any) -> str:
        key = (name, tuple(sorted(params.items())))
        found = cache.get(key)
        if found is None:
            if len(cache) >= PATHS:  # ids in paths: keep the cache bounded
                cache.clear()
            found = cache[key] = str(router.url_path_for(name, **params))
        return found

    return url_for


def render(
    request: Request,
    template: str,
    context: dict[str, Any] | None = None,
    *,
    status: int = 200,
    keep: bool = False,
) -> HTMLResponse:
    """The page `template` made from `context`. With `keep`, a repeat view made from the same
    (`portal.pages`) is the page kept from before, not rendered again; `context` must then be
    all the page depends on besides what the key below names."""
    svc = services(request)
    found = request_state(request).visitor
    # A page acting through an invoice link shows nothing of a sign-in in the same
    # browser: the link's page, not the session's.
    session = found.shown_session if found is not None else None
    impersonation = found.impersonation if found is not None else None
    stale = stale_since()
    token = csrf_token(request)
    lang = i18n.current_locale()
    # Support's view says how long it lasts, a stale page since when: made each time.
    keeping = keep and status == 200 and impersonation is None and stale is None
    if keeping:
        scope = request.scope
        key = (template, scope["path"], scope["query_string"], lang, i18n.format_locale(), token)
        made_from = (session, context)
        if (kept := svc.pages.get(key, made_from)) is not None:
            return HTMLResponse(kept, status_code=status)
    html = svc.templates.get_template(template).render(
        request=request,
        url_for=_url_for(request),
        settings=svc.settings,
        demo=svc.demo,
        lang=lang,
        csrf_token=token,
        session=session,
        impersonation=impersonation,
        rendered_at=datetime.now(UTC),
        stale_since=stale,
        **(context or {}),
    )
    if keeping:
        svc.pages.put(key, made_from, html)
    return HTMLResponse(html, status_code=status)
