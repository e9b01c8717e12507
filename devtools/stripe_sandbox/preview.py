"""Stripe's public-preview features the sandbox speaks, and only to `.preview` API versions.

Preview parameters and fields are not in the GA SDK (`stripe.params`, `stripe/_invoice.py`), so
`schema.py` cannot derive them: they are declared here, one small table with its sources. A
request whose `Stripe-Version` ends in `.preview` (e.g. `2026-10-28.preview`) may send them and
sees them on objects; with a GA version they are `parameter_unknown` and absent from objects, as
at Stripe (docs: the invoice object at `?api-version=2025-07-30.preview`).

Events are rendered once, when they happen, at the API version of the request that caused them
(the event's `api_version`), so a payload never shows preview fields under a GA version.
Renderings outside any API request (the hosted invoice page, the PDF) show everything: they are
Stripe's own pages.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any, Literal, NotRequired, TypedDict

from stripe_sandbox.config import DEFAULT_API_VERSION
from stripe_sandbox.store import JSON, Store, current_request

PREVIEW_SUFFIX = ".preview"
# The preview release matching the SDK's pinned GA version (`2026-10-28.endive` ->
# `2026-10-28.preview`), for callers that need one (the sandbox's tests).
PREVIEW_VERSION = DEFAULT_API_VERSION.rsplit(".", 1)[0] + PREVIEW_SUFFIX


class InvoiceAmountsDueParam(TypedDict):
    """One installment of `amounts_due` on invoice create/update (stripe-java beta,
    `InvoiceUpdateParams.AmountsDue`)."""

    amount: int
    days_until_due: NotRequired[int]
    description: NotRequired[str]
    due_date: NotRequired[int]


AmountsDueParam = Literal[""] | list[InvoiceAmountsDueParam]


@dataclass(frozen=True)
class PreviewFeature:
    name: str
    source: str
    # (METHOD, path template) -> {parameter: its type, as a params TypedDict would declare it}
    params: Mapping[tuple[str, str], Mapping[str, Any]]
    # object type -> top-level fields only shown to preview versions
    fields: Mapping[str, tuple[str, ...]]


FEATURES: tuple[PreviewFeature, ...] = (
    PreviewFeature(
        name="Invoice payment plans (installments)",
        source="shared/stripe/README.md (Payment plans); Stripe docs, invoice object under "
        "`.preview` API versions; stripe-java beta `Invoice.AmountsDue`",
        params={
            ("POST", "/v1/invoices"): {"amounts_due": AmountsDueParam},
            ("POST", "/v1/invoices/{invoice}"): {"amounts_due": AmountsDueParam},
        },
        fields={"invoice": ("amounts_due",)},
    ),
    # Scheduled finalization (`automatically_finalizes_at`) is listed as preview in
    # shared/stripe/README.md, but the GA SDK 16.x declares it on `Invoice` and on the invoice
    # create/update params, so it is derived from the SDK like any GA parameter.
)


def is_preview(api_version: str | None) -> bool:
    return bool(api_version) and str(api_version).endswith(PREVIEW_SUFFIX)


def params_for(method: str, template: str) -> dict[str, Any]:
    extra: dict[str, Any] = {}
    for feature in FEATURES:
        extra.update(feature.params.get((method, template), {}))
    return extra


def fields_for(object_type: str) -> tuple[str, ...]:
    return tuple(name for f in FEATURES for name in f.fields.get(object_type, ()))


def rendering_version(store: Store) -> str | None:
    """The API version objects are rendered for now; None outside any API request."""
    info = current_request.get()
    if info is None:
        return None
    return info.api_version or store.config.api_version


def hide(store: Store, object_type: str, body: JSON) -> JSON:
    """Drop the preview fields from a rendered object unless a preview version asked for it."""
    hidden = fields_for(object_type)
    if hidden:
        version = rendering_version(store)
        if version is not None and not is_preview(version):
            for name in hidden:
                body.pop(name, None)
    return body
