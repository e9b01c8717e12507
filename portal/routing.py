"""The route table's vocabulary: every route says who it needs, which permission it asks and
whether its form must carry the CSRF token, where it is listed (`portal.routes`).

The guard does those three before the view runs, in that order: a forged form is refused before
anyone is looked up, and a view never runs for someone the table says may not reach it. Views
read the result (`portal.principals.principal`, `visitor`) and still check each object they
touch against it (`portal.permissions.require(..., invoice=...)`).

It also refuses what no view can take, before anyone is looked up: a path parameter that is
not printable ASCII (every id, token and file name in the portal's addresses is; a NUL, or the
U+FFFD that stands for bytes that were not UTF-8, names nothing: 404), and, with the CSRF token,
a form holding a lone surrogate (no browser sends one, and every encoder after it fails on it:
hashing, Stripe's SDK, the databases: 400). A NUL in a query or form value is left to the views,
which explain it next to a field a person types (`portal.text`); one that would reach the
database unchecked is refused there (`portal.storage.database`).
"""

from __future__ import annotations

import re
from collections.abc import Awaitable, Callable, Sequence
from dataclasses import dataclass
from typing import Any

from starlette.datastructures import FormData
from starlette.exceptions import HTTPException
from starlette.requests import Request
from starlette.responses import Response
from starlette.routing import Route

from portal.csrf import verified_form
from portal.permissions import Action, NotFound, require
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
            for value in request.path_params.values():
                if not _in_an_address(value):
                    raise NotFound("a path parameter that no address of ours holds")
            if needs.csrf:
                form = await verified_form(request)  # Starlette keeps it for the view
                if _holds_surrogates(form):
                    raise HTTPException(400, "a lone surrogate in the form")
            invoice_id = await needs.invoice(request) if needs.invoice is not None else None
            found = await resolve(request, needs.access, invoice_id=invoice_id)
            if needs.action is not None:
                assert found.principal is not None  # resolve raised SignInRequired otherwise
                require(found.principal, needs.action)
            return await endpoint(request)

        guarded.__name__ = getattr(endpoint, "__name__", name)
        guarded.__doc__ = endpoint.__doc__
        super().__init__(path, guarded, methods=list(methods), name=name)


_SURROGATE = re.compile("[\ud800-\udfff]")


def _in_an_address(value: object) -> bool:
    return not isinstance(value, str) or (value.isascii() and value.isprintable())


def _holds_surrogates(form: FormData) -> bool:
    """Whether a field's name or text holds a lone surrogate (which only a declared charset
    such as UTF-7 can bring: URL-encoded bytes that are not UTF-8 decode to U+FFFD)."""
    return any(
        _SURROGATE.search(text) is not None
        for key, value in form.multi_items()
        for text in (key, value if isinstance(value, str) else "")
        if not text.isascii()
    )


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
