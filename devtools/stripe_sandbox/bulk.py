"""POST /_sandbox/bulk: many customers and their invoices in one request.

The bench's scale figures need tens of thousands of invoices; made through /v1 one call at a
time, that is minutes of HTTP before anything is measured. Each object here is made by the same
handler as its /v1 endpoint, behind the same check of its parameters against the SDK's
definitions, with the parameters as the form decoder hands them over (strings), so Stripe's
refusals apply as they do there; only the round trip, the request count
and the rate limit are skipped. A refused object answers 400 with Stripe's error and the index
of the customer it belongs to; what was made before it stays.

The body (JSON):

    {"customers": [{"params": {...POST /v1/customers...},
                    "invoices": [{"item": {...POST /v1/invoiceitems, without customer...},
                                  "invoice": {...POST /v1/invoices, without customer...},
                                  "finalize": true, "pay": {...POST .../pay...},
                                  "repeat": 1}]}]}

Each invoice gets its own pending item (the invoice takes it in, `pending_invoice_items_behavior`
"include"); a spec naming `"customer": "cus_..."` instead of `params` adds invoices to that
customer; `pay` pays a finalized one (e.g. `{"paid_out_of_band": true}`); `repeat` makes
that many alike. The answer names what was made, in order:
`{"customers": [{"id": "cus_...", "invoices": ["in_...", ...]}]}`.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from stripe_sandbox.api import ApiRequest, Handler
from stripe_sandbox.errors import StripeError, invalid_request
from stripe_sandbox.ids import request_id
from stripe_sandbox.store import JSON, RequestInfo, Store, current_request

# (method, path template) -> the /v1 handler behind its parameter check (app.py's table)
Handlers = Mapping[tuple[str, str], Handler]


def as_form(value: Any) -> Any:
    """A JSON value as the form decoder hands it to a handler: scalars as strings."""
    if isinstance(value, dict):
        return {key: as_form(item) for key, item in value.items()}
    if isinstance(value, list):
        return [as_form(item) for item in value]
    if isinstance(value, bool):
        return "true" if value else "false"
    if value is None:
        return ""
    return str(value)


def make(store: Store, api: Handlers, body: JSON, base_url: str) -> JSON:
    """Everything `body` asks for (see the module's docstring); the caller holds the lock."""
    specs = body.get("customers")
    if not isinstance(specs, list):
        raise invalid_request("customers: a list is required", param="customers")
    made: list[JSON] = []
    token = current_request.set(RequestInfo(request_id(), None, store.config.api_version, base_url))
    try:
        for index, spec in enumerate(specs):
            try:
                made.append(_customer(store, api, spec))
            except StripeError as error:
                error.extra = {"customer_index": index, "made": made}
                raise
    finally:
        current_request.reset(token)
    return {"customers": made}


def _customer(store: Store, api: Handlers, spec: JSON) -> JSON:
    def post(template: str, params: JSON, **path: str) -> JSON:
        url = template.format(**path)
        call = ApiRequest(store, as_form(params), path, "POST", url)
        return api["POST", template](call)

    if spec.get("customer"):
        customer = store.require("customers", str(spec["customer"]), "customer", "customer")
    else:
        customer = post("/v1/customers", spec.get("params") or {})
    made: list[str] = []
    for wanted in spec.get("invoices") or []:
        for _ in range(int(wanted.get("repeat", 1))):
            item = dict(wanted.get("item") or {}) | {"customer": customer["id"]}
            post("/v1/invoiceitems", item)
            params = dict(wanted.get("invoice") or {})
            params |= {"customer": customer["id"], "pending_invoice_items_behavior": "include"}
            invoice = post("/v1/invoices", params)
            if wanted.get("finalize"):
                post("/v1/invoices/{invoice}/finalize", {}, invoice=invoice["id"])
            if wanted.get("pay") is not None:
                post("/v1/invoices/{invoice}/pay", wanted["pay"], invoice=invoice["id"])
            made.append(invoice["id"])
    return {"id": customer["id"], "invoices": made}
