"""The framework's floor for the throughput comparison: Starlette rendering, with Jinja2, a table
as large as the benchmark customer's overview, and nothing else (no database, no Stripe)."""

from __future__ import annotations

from jinja2 import Environment
from starlette.applications import Starlette
from starlette.requests import Request
from starlette.responses import HTMLResponse
from starlette.routing import Route

ROWS = [
    {"number": f"DEMO-{n:04d}", "date": f"{1 + n % 28}. März 2026", "amount": f"{n * 37},00 €"}
    for n in range(1, 31)
]
TEMPLATE = Environment(autoescape=True).from_string(
    "<!doctype html><html lang='de'><head><title>Rechnungen</title></head><body><table>"
    "{% for r in rows %}<tr><td><a href='/invoices/{{ r.number }}'>{{ r.number }}</a></td>"
    "<td>{{ r.date }}</td><td>{{ r.amount }}</td></tr>{% endfor %}</table></body></html>"
)


async def page(request: Request) -> HTMLResponse:
    return HTMLResponse(TEMPLATE.render(rows=ROWS))


app = Starlette(routes=[Route("/", page)])
