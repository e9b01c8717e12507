"""Jinja2 set-up: autoescaping on, templates from `templates/`, URLs only through `url_for`."""

from __future__ import annotations

from typing import Any

import jinja2
from babel.dates import format_time
from starlette.requests import Request
from starlette.responses import HTMLResponse

from portal import i18n
from portal.resources import TEMPLATES
from portal.services import services


def create_environment() -> jinja2.Environment:
    env = jinja2.Environment(
        loader=jinja2.FileSystemLoader(TEMPLATES),
        autoescape=jinja2.select_autoescape(default=True, default_for_string=True),
        undefined=jinja2.StrictUndefined,
        trim_blocks=True,
        lstrip_blocks=True,
        enable_async=False,
        extensions=["jinja2.ext.i18n"],
    )
    env.install_gettext_callables(i18n.gettext, i18n.ngettext, newstyle=True)  # type: ignore[attr-defined]
    env.globals["format_time"] = lambda value: format_time(
        value, format="medium", locale=i18n.current_locale()
    )
    return env


def render(
    request: Request, template: str, context: dict[str, Any] | None = None, *, status: int = 200
) -> HTMLResponse:
    svc = services(request)
    page = svc.templates.get_template(template)
    html = page.render(
        request=request,
        url_for=request.url_for,
        settings=svc.settings,
        demo=svc.mailbox is not None,
        lang=i18n.current_locale(),
        **(context or {}),
    )
    return HTMLResponse(html, status_code=status)
