"""The route table's vocabulary: every route says who it needs, which permission it asks and
whether its form must carry the CSRF token, where it is listed (`portal.routes`).

The guard does those three before the view runs, in that order: a forged form is refused before
anyone is looked up, and a view never runs for someone the table says may not reach it. Views
read the result (`portal.principals.principal`, `visitor`) and still check each object they
touch against it (`portal.permissions.require(..., invoice=...)`).
"""

from __future__ import annotations

from collections.abc import Awaitable, Callable, Sequence
from dataclasses import dataclass
from typing import Any

from starlette.requests import Request
from starlette.responses import Response
from starlette.routing import Route

from portal.csrf import verified_form
from portal.permissions import Action, require
from portal.principals import Access, resolve

Endpoint = Callable[[Request], Awaitable[Response]]
# Which invoice a route's page is about, for `Access.INVOICE` (an invoice link acts only there).
InvoiceOf = Callable[[Request], Awaitable[str | None]]


@dataclass(frozen=True)
class Needs:
    access: Access
    action: Action | None = None
    csrf: bool = False
    invoice: InvoiceOf | None = None


async def invoice_in_path(request: Request) -> str | None:
    return str(request.path_params["invoice_id"])


class PortalRoute(Route):
    """A Starlette route with its `needs`, enforced by a guard around the endpoint."""

    def __init__(
        self,
        path: str,
        endpoint: Endpoint,
        *,
        name: str,
        needs: Needs,
        methods: Sequence[str] = ("GET",),
    ) -> None:
        self.needs = needs
        self.view = endpoint

        async def guarded(request: Request) -> Response:
            if needs.csrf:
                await verified_form(request)  # Starlette keeps the parsed form for the view
            invoice_id = await needs.invoice(request) if needs.invoice is not None else None
            found = await resolve(request, needs.access, invoice_id=invoice_id)
            if needs.action is not None:
                assert found.principal is not None  # resolve raised SignInRequired otherwise
                require(found.principal, needs.action)
            return await endpoint(request)

        guarded.__name__ = getattr(endpoint, "__name__", name)
        guarded.__doc__ = endpoint.__doc__
        super().__init__(path, guarded, methods=list(methods), name=name)


def route(
    path: str,
    endpoint: Endpoint,
    *,
    name: str,
    access: Access,
    action: Action | None = None,
    method: str = "GET",
    csrf: bool | None = None,
    invoice: InvoiceOf | None = None,
) -> PortalRoute:
    """One row of the table. Every POST carries the CSRF token unless it says `csrf=False`
    (only Stripe's signed webhooks do)."""
    if access is Access.INVOICE and invoice is None:
        invoice = invoice_in_path
    if action is not None and access not in (Access.CUSTOMER, Access.INVOICE):
        raise ValueError(f"{name}: a permission needs a principal (Access.CUSTOMER or INVOICE)")
    needs = Needs(
        access=access,
        action=action,
        csrf=(method == "POST") if csrf is None else csrf,
        invoice=invoice,
    )
    return PortalRoute(path, endpoint, name=name, needs=needs, methods=(method,))


def needs_of(route: Any) -> Needs | None:
    return route.needs if isinstance(route, PortalRoute) else None
