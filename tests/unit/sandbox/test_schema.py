"""The sandbox's parameter schemas, derived from the installed SDK: every endpoint of the API
table has one, and checking against them answers as Stripe does."""

from __future__ import annotations

import ast
import importlib
from pathlib import Path
from typing import Any

import pytest
import stripe
from stripe.params import CustomerCreateParams
from stripe.params.checkout import SessionCreateParams

from stripe_sandbox import preview, schema
from stripe_sandbox.app import API
from stripe_sandbox.config import DEFAULT_API_VERSION
from stripe_sandbox.errors import StripeError

GA = stripe.api_version
PREVIEW = preview.PREVIEW_VERSION


@pytest.fixture(scope="module")
def validator() -> schema.Validator:
    return schema.build_validator((method, path) for method, path, _ in API)


def refusal(validator: schema.Validator, label: str, params: Any, version: str = GA) -> Any:
    with pytest.raises(StripeError) as caught:
        validator.check(label, params, version)
    return caught.value.body()["error"]


def test_customer_creation_is_derived_from_customer_create_params() -> None:
    assert schema.params_class("POST", "/v1/customers") is CustomerCreateParams
    assert schema.params_class("POST", "/v1/checkout/sessions") is SessionCreateParams


def test_placeholder_names_do_not_matter() -> None:
    # The sandbox says {tax_id}, the SDK {id}.
    assert schema.route_key("GET", "/v1/customers/{customer}/tax_ids/{tax_id}") == (
        "GET",
        "/v1/customers/{}/tax_ids/{}",
    )
    assert schema.params_class("GET", "/v1/customers/{customer}/tax_ids/{tax_id}").__name__ == (
        "CustomerTaxIdRetrieveParams"
    )


@pytest.mark.parametrize(("method", "path"), [(method, path) for method, path, _ in API])
def test_every_endpoint_of_the_api_table_has_a_derived_schema(
    validator: schema.Validator, method: str, path: str
) -> None:
    assert schema.params_class(method, path).__name__.endswith("Params")
    shape = validator.ga[f"{method} {path}"]
    assert shape.fields is not None
    # Stripe's deletions take no parameters at all; everything else takes at least `expand`.
    assert ("expand" in shape.fields) == (method != "DELETE")


def test_an_endpoint_the_sdk_does_not_know_fails_the_build() -> None:
    with pytest.raises(schema.MissingSchema, match="POST /v1/nonsense"):
        schema.build_validator([("POST", "/v1/customers"), ("POST", "/v1/nonsense")])


def test_request_options_are_not_parameters(validator: schema.Validator) -> None:
    fields = validator.ga["POST /v1/customers"].fields or {}
    assert "email" in fields
    assert not {"api_key", "idempotency_key", "stripe_version", "headers"} & fields.keys()


def test_removed_parameter_is_refused_like_stripe(validator: schema.Validator) -> None:
    error = refusal(
        validator, "POST /v1/checkout/sessions", {"mode": "setup", "payment_method_types": []}
    )
    assert error == {
        "type": "invalid_request_error",
        "code": "parameter_unknown",
        "param": "payment_method_types",
        "message": "Received unknown parameter: payment_method_types",
        "doc_url": "https://stripe.com/docs/error-codes/parameter-unknown",
    }


def test_unknown_nested_keys_are_named_in_full(validator: schema.Validator) -> None:
    assert refusal(validator, "POST /v1/customers", {"address": {"foo": "x"}})["param"] == (
        "address[foo]"
    )
    in_list = {"tax_id_data": [{"type": "eu_vat", "value": "DE1", "colour": "red"}]}
    error = refusal(validator, "POST /v1/customers", in_list)
    assert error["param"] == "tax_id_data[0][colour]"
    assert error["message"] == "Received unknown parameter: tax_id_data[0][colour]"


def test_several_unknown_parameters_are_listed(validator: schema.Validator) -> None:
    error = refusal(validator, "POST /v1/customers", {"colour": "red", "size": "xl"})
    assert error["message"] == "Received unknown parameters: colour, size"
    assert error["param"] == "colour"


def test_enum_values_are_checked(validator: schema.Validator) -> None:
    error = refusal(validator, "POST /v1/customers", {"tax_exempt": "sometimes"})
    assert error == {
        "type": "invalid_request_error",
        "param": "tax_exempt",
        "message": "Invalid tax_exempt: must be one of exempt, none, or reverse",
    }
    two = refusal(validator, "POST /v1/invoices", {"collection_method": "by_post"})
    assert two["message"] == (
        "Invalid collection_method: must be one of charge_automatically or send_invoice"
    )
    nested = refusal(validator, "POST /v1/customers", {"tax_id_data": [{"type": "xx_vat"}]})
    assert nested["param"] == "tax_id_data[0][type]"


def test_metadata_expand_and_unsetting_stay_accepted(validator: schema.Validator) -> None:
    validator.check(
        "POST /v1/customers/{customer}",
        {"metadata": {"any key": "v", "0": "w"}, "expand": ["tax_ids"], "address": "",
         "tax_exempt": "", "invoice_settings": {"default_payment_method": "pm_1"}},
        GA,
    )  # fmt: skip
    validator.check("GET /v1/invoices", {"created": {"gte": "1"}, "limit": "3"}, GA)


def test_preview_parameters_need_a_preview_version(validator: schema.Validator) -> None:
    plan = {"customer": "cus_1", "amounts_due": [{"amount": "100", "days_until_due": "3"}]}
    assert refusal(validator, "POST /v1/invoices", plan)["param"] == "amounts_due"
    validator.check("POST /v1/invoices", plan, PREVIEW)
    validator.check("POST /v1/invoices/{invoice}", {"amounts_due": ""}, PREVIEW)
    wrong = {"amounts_due": [{"amount": "100", "percent": "5"}]}
    assert refusal(validator, "POST /v1/invoices", wrong, PREVIEW)["param"] == (
        "amounts_due[0][percent]"
    )


def test_preview_table_holds_only_what_the_ga_sdk_lacks() -> None:
    resources = {"invoice": stripe.Invoice}
    for feature in preview.FEATURES:
        for (method, path), params in feature.params.items():
            declared = schema.compile_typeddict(schema.params_class(method, path)).fields or {}
            assert not params.keys() & declared.keys(), f"{feature.name}: now GA in the SDK"
        for object_type, fields in feature.fields.items():
            assert not set(fields) & set(resources[object_type].__annotations__)


def test_the_sandbox_pins_the_sdks_version() -> None:
    assert stripe.api_version == DEFAULT_API_VERSION


def test_preview_versions_are_recognised() -> None:
    assert preview.is_preview("2026-10-28.preview")
    assert not preview.is_preview(GA)
    assert not preview.is_preview(None)
    assert PREVIEW == "2026-10-28.preview"


def _names_read_from_params(tree: ast.Module) -> set[str]:
    """Top-level parameter names a module reads: get_*(params, "x"), params.get("x"),
    "x" in params."""
    names = set()
    for node in ast.walk(tree):
        if isinstance(node, ast.Call) and node.args:
            func = node.func
            if (  # get_str(params, "x"), require_int(params, "x"), apply_metadata(..., params)
                len(node.args) >= 2
                and isinstance(node.args[0], ast.Name)
                and node.args[0].id == "params"
                and isinstance(node.args[1], ast.Constant)
                and isinstance(node.args[1].value, str)
            ):
                names.add(node.args[1].value)
            if (  # params.get("x")
                isinstance(func, ast.Attribute)
                and func.attr == "get"
                and isinstance(func.value, ast.Name)
                and func.value.id == "params"
                and isinstance(node.args[0], ast.Constant)
                and isinstance(node.args[0].value, str)
            ):
                names.add(node.args[0].value)
        if (  # "x" in params
            isinstance(node, ast.Compare)
            and isinstance(node.left, ast.Constant)
            and isinstance(node.left.value, str)
            and any(isinstance(c, ast.Name) and c.id == "params" for c in node.comparators)
        ):
            names.add(node.left.value)
    return names


def test_handlers_read_no_parameter_the_sdk_does_not_define(validator: schema.Validator) -> None:
    accepted: dict[str, set[str]] = {}
    for method, path, handler in API:
        fields = validator.previews[f"{method} {path}"].fields or {}
        accepted.setdefault(handler.__module__, set()).update(fields)
        # listing.py pages every list endpoint, not only the searches it handles itself.
        if method == "GET":
            accepted.setdefault("stripe_sandbox.listing", set()).update(fields)
    extra = {}
    for module_name, fields in accepted.items():
        source = Path(importlib.import_module(module_name).__file__ or "").read_text()
        unknown = _names_read_from_params(ast.parse(source)) - fields
        if unknown:
            extra[module_name] = sorted(unknown)
    assert extra == {}
