"""The framework's floor: a bare Starlette + Jinja2 app serving pages of the same size and shape
as the portal's (a header with navigation and a sign-out form, a table with as many rows as the
portal's page, as many forms with a CSRF-like hidden input, a footer with a language form), and
doing only what a framework page minimally does: request -> Jinja2 render (autoescape on, rows
from data, template inheritance) -> HTMLResponse. No database, no Stripe, no middleware.

The runner measures the portal's pages first (`shape_of`), then starts this app with those
shapes in BENCH_FLOOR_PAGES (`{"overview": {"rows": 11, "forms": 3, "filler": 640}, ...}`),
each page at /<name>; `filler` is text that brings the page to the portal's size
(`matching`)."""

from __future__ import annotations

import json
import os
import re
from dataclasses import asdict, dataclass
from typing import Any

from jinja2 import DictLoader, Environment, Template
from starlette.applications import Starlette
from starlette.requests import Request
from starlette.responses import HTMLResponse
from starlette.routing import Route

PAGES_ENV = "BENCH_FLOOR_PAGES"
CSRF_TOKEN = "5f0c" * 16  # as long as the portal's; constant, since nothing checks it here
FILLER = (
    "Lorem ipsum dolor sit amet, consectetur adipiscing elit. "  # nothing to escape: 1 byte each
)

TEMPLATES = {
    "base.html": """<!doctype html>
<html lang="en">
<head>
  <meta charset="utf-8">
  <meta name="viewport" content="width=device-width, initial-scale=1">
  <title>{% block title %}{% endblock %} · Billing</title>
  <link rel="stylesheet" href="/static/css/site.css">
</head>
<body>
  <header class="site-header">
    <a class="brand" href="/">Billing</a>
    <nav class="site-nav" aria-label="Main">
      {% for link in nav %}<a href="{{ link.href }}">{{ link.label }}</a>
      {% endfor %}
      <form method="post" action="/sign-out" class="inline-form">
        <input type="hidden" name="csrf_token" value="{{ csrf_token }}">
        <button type="submit" class="link-button">Sign out</button>
      </form>
    </nav>
    <p class="account-line">Signed in as {{ account }}</p>
  </header>
  <main id="main" class="content">
{% block main %}{% endblock %}
  </main>
  <footer class="site-footer">
    <form method="post" action="/language" class="language-form">
      <input type="hidden" name="csrf_token" value="{{ csrf_token }}">
      <select name="lang">
        {% for code, name in languages %}<option value="{{ code }}">{{ name }}</option>{% endfor %}
      </select>
      <button type="submit" class="button">Change</button>
    </form>
  </footer>
</body>
</html>
""",
    "page.html": """{% extends "base.html" %}
{% block title %}{{ title }}{% endblock %}
{% block main %}
<h1>{{ title }}</h1>
<p class="lead">{{ filler }}</p>
<table class="table">
  <thead>
    <tr><th scope="col">Invoice</th><th scope="col">Date</th><th scope="col">Status</th><th scope="col" class="num">Amount</th><th></th></tr>
  </thead>
  <tbody>
    {% for row in rows %}
    <tr>
      <td><a href="/invoices/{{ row.id }}">{{ row.number }}</a></td>
      <td data-label="Date">{{ row.date }}</td>
      <td><span class="badge badge--{{ row.status }}">{{ row.status_label }}</span></td>
      <td class="num" data-label="Amount">{{ row.amount }}</td>
      <td class="num">{% if row.payable %}<form method="post" action="/invoices/{{ row.id }}/pay"><input type="hidden" name="csrf_token" value="{{ csrf_token }}"><input type="hidden" name="what" value="whole"><button type="submit" class="button">Pay<span class="visually-hidden"> {{ row.number }}</span></button></form>{% else %}<a href="/invoices/{{ row.id }}/pdf">PDF<span class="visually-hidden"> {{ row.number }}</span></a>{% endif %}</td>
    </tr>
    {% endfor %}
  </tbody>
</table>
{% endblock %}
""",
}

ENVIRONMENT = Environment(loader=DictLoader(TEMPLATES), autoescape=True)
NAV = [
    {"href": "/", "label": "Invoices"},
    {"href": "/payment-methods", "label": "Payment methods"},
    {"href": "/account", "label": "Billing details"},
]
LANGUAGES = [
    ("de", "Deutsch"),
    ("en", "English"),
    ("nl", "Nederlands"),
    ("es", "Español"),
    ("pl", "Polski"),
    ("hr", "Hrvatski"),
]


@dataclass(frozen=True)
class PageShape:
    """What makes a page's work and size: its table rows, its forms, its bytes."""

    rows: int
    forms: int
    size: int


@dataclass(frozen=True)
class FloorPage:
    rows: int
    forms: int
    filler: int  # characters of text added to reach the portal page's size


def shape_of(html: str) -> PageShape:
    """The rows of a page's tables (header rows not counted), the forms in its main content,
    and its size in bytes."""
    main = html[html.find("<main") : html.find("</main>")]
    rows = len(re.findall(r"<tr[\s>]", html)) - len(re.findall(r"<thead[\s>]", html))
    return PageShape(
        rows=max(rows, 0), forms=len(re.findall(r"<form[\s>]", main)), size=len(html.encode())
    )


def _rows(page: FloorPage) -> list[dict[str, Any]]:
    statuses = [("open", "Open"), ("overdue", "Overdue"), ("paid", "Paid")]
    return [
        {
            "id": f"in_{n:024d}",
            "number": f"DEMO-{n:04d}",
            "date": f"{1 + n % 28} Nov 2026",
            "status": statuses[n % 3][0],
            "status_label": statuses[n % 3][1],
            "amount": f"£{n * 37:,}.00",
            "payable": n <= page.forms,
        }
        for n in range(1, page.rows + 1)
    ]


def _context(page: FloorPage) -> dict[str, Any]:
    return {
        "title": "Your invoices",
        "nav": NAV,
        "languages": LANGUAGES,
        "account": "Bennett & Hale Architects Ltd",
        "csrf_token": CSRF_TOKEN,
        "rows": _rows(page),
        "filler": (FILLER * (page.filler // len(FILLER) + 1))[: page.filler],
    }


def render(page: FloorPage) -> str:
    return ENVIRONMENT.get_template("page.html").render(_context(page))


def matching(shape: PageShape) -> FloorPage:
    """A floor page with the shape's rows and forms, its filler chosen so that its size is
    the shape's (when the portal's page is smaller than the bare rows, no filler)."""
    bare = FloorPage(rows=shape.rows, forms=min(shape.forms, shape.rows), filler=0)
    missing = shape.size - len(render(bare).encode())
    return FloorPage(bare.rows, bare.forms, max(missing, 0))  # the filler is ASCII, unescaped


def encode_pages(pages: dict[str, FloorPage]) -> str:
    return json.dumps({name: asdict(page) for name, page in pages.items()})


def decode_pages(text: str) -> dict[str, FloorPage]:
    return {name: FloorPage(**fields) for name, fields in json.loads(text).items()}


def _endpoint(template: Template, page: FloorPage) -> Any:
    context = _context(page)  # the rows are data, made once, as the portal's cache keeps them

    async def endpoint(request: Request) -> HTMLResponse:
        return HTMLResponse(template.render(context))

    return endpoint


async def _ready(request: Request) -> HTMLResponse:
    return HTMLResponse("floor")


def create_app(pages: dict[str, FloorPage] | None = None) -> Starlette:
    """The floor (`uvicorn --factory portal_dev.bench.bare:create_app`): its pages from
    BENCH_FLOOR_PAGES unless given."""
    if pages is None:
        pages = decode_pages(os.environ.get(PAGES_ENV, "{}"))
    template = ENVIRONMENT.get_template("page.html")
    routes = [Route("/", _ready)]
    routes += [Route(f"/{name}", _endpoint(template, page)) for name, page in pages.items()]
    return Starlette(routes=routes)
