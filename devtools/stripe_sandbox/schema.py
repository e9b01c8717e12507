"""Which parameters each /v1 endpoint accepts, derived from the installed `stripe` SDK.

Stripe answers an unknown or removed parameter with 400 `parameter_unknown`, and an enumerated
parameter's unknown value with 400 "Invalid <param>: must be one of ...". The sandbox does the
same, from the SDK's own definitions for the API version it pins rather than from a hand-kept
list, so upgrading the SDK updates the sandbox: each `*_service.py` method calls
`self._request("post", "/v1/customers", params=...)` with `params` annotated as one TypedDict of
`stripe.params` (`CustomerCreateParams`); the service modules are read with `ast` (not imported)
and each TypedDict is compiled once into a small `Shape` tree that per-request checking walks.

Preview parameters (not in the GA SDK) come from `preview.py` and are accepted only when the
request's `Stripe-Version` is a `.preview` version.
"""

from __future__ import annotations

import ast
import decimal
import functools
import importlib
import re
import sys
import types
import typing
from collections.abc import Iterable, Mapping
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import stripe
import typing_extensions
from stripe._request_options import RequestOptions

from stripe_sandbox import preview
from stripe_sandbox.api import ApiRequest, Handler
from stripe_sandbox.errors import StripeError, invalid_request
from stripe_sandbox.store import JSON, current_request

_PLACEHOLDER = re.compile(r"\{[^}]*\}")
# The SDK's per-request options (api_key, idempotency_key, ...) are a base class of every
# params TypedDict but travel as headers, never as parameters.
_OPTIONS = frozenset(RequestOptions.__annotations__)
# The SDK spells these with typing_extensions, which may differ from typing's.
_WRAPPERS = frozenset(
    {typing.NotRequired, typing.Required, typing.Annotated, typing_extensions.NotRequired,
     typing_extensions.Required, typing_extensions.Annotated}
)  # fmt: skip
_LITERALS = frozenset({typing.Literal, typing_extensions.Literal})
_SCALARS: tuple[type, ...] = (str, int, float, bool, decimal.Decimal)


@dataclass(frozen=True, slots=True)
class Shape:
    """What one parameter (or the whole request) may hold."""

    fields: Mapping[str, Shape] | None = None  # a hash with exactly these keys
    items: Shape | None = None  # a list of these
    choices: frozenset[str] = frozenset()  # an enumerated string: only these values
    text: bool = False  # a free string
    number: bool = False  # an integer, decimal or boolean (sent as a string)
    free: bool = False  # anything: free-form hashes such as `metadata`


def route_key(method: str, template: str) -> tuple[str, str]:
    """(METHOD, path) with placeholders blanked: `/v1/customers/{customer}` and the SDK's
    `/v1/customers/{id}` are the same endpoint."""
    return method.upper(), _PLACEHOLDER.sub("{}", template)


# -- derivation: endpoint -> TypedDict -----------------------------------------------------------


@functools.cache
def sdk_endpoints() -> dict[tuple[str, str], tuple[str, str]]:
    """Every /v1 endpoint the SDK's services call: route key -> (module, TypedDict name).

    Cached per process: the installed SDK cannot change under a running interpreter.
    """
    found: dict[tuple[str, str], tuple[str, str]] = {}
    root = Path(stripe.__file__).parent
    for path in sorted(root.rglob("*_service.py")):
        source = path.read_text(encoding="utf-8")
        if '"/v1/' in source:
            for key, target in _service_endpoints(ast.parse(source)):
                found.setdefault(key, target)
    return found


def _service_endpoints(tree: ast.Module) -> Iterable[tuple[tuple[str, str], tuple[str, str]]]:
    imported = {
        alias.asname or alias.name: node.module
        for node in ast.walk(tree)
        if isinstance(node, ast.ImportFrom) and node.module and node.module.startswith("stripe.")
        for alias in node.names
    }
    for node in ast.walk(tree):
        if not isinstance(node, ast.FunctionDef):
            continue
        params_type = _params_annotation(node)
        request = _request_call(node)
        if params_type is None or request is None or params_type not in imported:
            continue
        method, template = request
        if template.startswith("/v1/"):
            yield route_key(method, template), (imported[params_type], params_type)


def _params_annotation(function: ast.FunctionDef) -> str | None:
    """`params: Optional["CustomerCreateParams"]` -> "CustomerCreateParams"."""
    arguments = function.args
    for argument in (*arguments.posonlyargs, *arguments.args, *arguments.kwonlyargs):
        if argument.arg == "params" and argument.annotation is not None:
            names = [
                leaf.value
                for leaf in ast.walk(argument.annotation)
                if isinstance(leaf, ast.Constant) and isinstance(leaf.value, str)
            ]
            names += [
                leaf.id
                for leaf in ast.walk(argument.annotation)
                if isinstance(leaf, ast.Name) and leaf.id.endswith("Params")
            ]
            return names[0] if names else None
    return None


def _request_call(function: ast.FunctionDef) -> tuple[str, str] | None:
    """The ("post", "/v1/customers/{customer}") of the method's `self._request(...)` call."""
    for node in ast.walk(function):
        if not (
            isinstance(node, ast.Call)
            and isinstance(node.func, ast.Attribute)
            and node.func.attr == "_request"
            and len(node.args) >= 2
        ):
            continue
        method, path = node.args[0], node.args[1]
        # "/v1/customers/{customer}".format(customer=sanitize_id(customer))
        if isinstance(path, ast.Call) and isinstance(path.func, ast.Attribute):
            path = path.func.value
        if (
            isinstance(method, ast.Constant)
            and isinstance(method.value, str)
            and isinstance(path, ast.Constant)
            and isinstance(path.value, str)
        ):
            return method.value, path.value
    return None


def params_class(method: str, template: str) -> type:
    """The SDK's params TypedDict for an endpoint; KeyError if the SDK has none."""
    module_name, class_name = sdk_endpoints()[route_key(method, template)]
    cls: type = getattr(importlib.import_module(module_name), class_name)
    return cls


# -- compiling TypedDicts into shapes ------------------------------------------------------------


@functools.cache
def compile_typeddict(cls: type) -> Shape:
    # Only the parameters are resolved: the request options' annotations name a class the SDK
    # imports for type checkers only.
    own = {k: v for k, v in cls.__annotations__.items() if k not in _OPTIONS}
    holder = types.SimpleNamespace(__annotations__=own)
    module = sys.modules[cls.__module__].__dict__
    hints = typing.get_type_hints(holder, globalns=module, include_extras=True)
    return Shape(fields={name: compile_type(hint) for name, hint in hints.items()})


def compile_type(hint: Any) -> Shape:
    parts = _Parts()
    parts.add(hint)
    return parts.shape()


@dataclass
class _Parts:
    """The members of a (possibly nested) Union, merged into one Shape."""

    fields: dict[str, Shape] | None = None
    items: list[Shape] = field(default_factory=list)
    choices: set[str] = field(default_factory=set)
    text: bool = False
    number: bool = False
    free: bool = False

    def add(self, hint: Any) -> None:
        origin = typing.get_origin(hint)
        args = typing.get_args(hint)
        if origin in _WRAPPERS:
            self.add(args[0])
        elif origin in (typing.Union, types.UnionType):
            for arg in args:
                self.add(arg)
        elif origin in _LITERALS:
            # `Literal['']` is how the SDK spells "send an empty string to unset".
            self.choices.update(str(arg) for arg in args if arg != "")
            self.text = self.text or "" in args
        elif origin in (list, tuple, set, frozenset):
            self.items.append(compile_type(args[0]) if args else Shape(free=True))
        elif typing_extensions.is_typeddict(hint):
            self.fields = {**(self.fields or {}), **_fields_of(compile_typeddict(hint))}
        elif hint is str:
            self.text = True
        elif isinstance(hint, type) and issubclass(hint, _SCALARS):
            self.number = True
        else:
            # Dict[str, str], UntypedStripeObject, Any: free-form, as Stripe treats metadata.
            self.free = True

    def shape(self) -> Shape:
        items = None
        if self.items:
            items = self.items[0] if len(self.items) == 1 else _merge(self.items)
        return Shape(
            fields=self.fields,
            items=items,
            choices=frozenset(self.choices),
            text=self.text,
            number=self.number,
            free=self.free,
        )


def _fields_of(shape: Shape) -> Mapping[str, Shape]:
    return shape.fields or {}


def _merge(shapes: list[Shape]) -> Shape:
    fields: dict[str, Shape] = {}
    for shape in shapes:
        fields.update(_fields_of(shape))
    return Shape(
        fields=fields if any(s.fields is not None for s in shapes) else None,
        items=next((s.items for s in shapes if s.items is not None), None),
        choices=frozenset().union(*(s.choices for s in shapes)),
        text=any(s.text for s in shapes),
        number=any(s.number for s in shapes),
        free=any(s.free for s in shapes),
    )


def with_extra(shape: Shape, extra: Mapping[str, Any]) -> Shape:
    """A request shape with more top-level parameters (the preview ones)."""
    added = {name: compile_type(hint) for name, hint in extra.items()}
    return Shape(fields={**_fields_of(shape), **added})


# -- checking a request --------------------------------------------------------------------------


def check(shape: Shape, params: Mapping[str, Any]) -> None:
    """Raise Stripe's error for the first unknown parameter or invalid enum value in params."""
    _check_hash(shape, params, "")


def _check(shape: Shape, value: Any, name: str) -> None:
    if shape.free:
        return
    if isinstance(value, str):
        _check_string(shape, value, name)
    elif isinstance(value, dict):
        if shape.fields is not None:
            _check_hash(shape, value, name)
        elif shape.items is not None:
            # Lists sent with sparse indexes decode as hashes keyed by the index.
            for key, item in value.items():
                _check(shape.items, item, f"{name}[{key}]")
    elif isinstance(value, list) and shape.items is not None:
        for index, item in enumerate(value):
            _check(shape.items, item, f"{name}[{index}]")


def _check_hash(shape: Shape, value: Mapping[str, Any], prefix: str) -> None:
    fields = _fields_of(shape)
    if not fields.keys() >= value.keys():
        unknown = [key for key in value if key not in fields]
        raise unknown_parameters([_name(prefix, key) for key in unknown])
    for key, item in value.items():
        inner = fields[key]
        # Most parameters are plain strings: checked here without building their full name.
        if isinstance(item, str):
            if _refused(inner, item):
                raise invalid_choice(_name(prefix, key), sorted(inner.choices))
        elif not inner.free:
            _check(inner, item, _name(prefix, key))


def _name(prefix: str, key: str) -> str:
    return f"{prefix}[{key}]" if prefix else key


def _check_string(shape: Shape, value: str, name: str) -> None:
    if _refused(shape, value):
        raise invalid_choice(name, sorted(shape.choices))


def _refused(shape: Shape, value: str) -> bool:
    # The SDK types enums as `Literal[...] | str` so that new values do not break old clients;
    # the API itself still refuses values outside the enum. Numbers and "" (unset) pass.
    return bool(shape.choices) and not shape.number and value != "" and value not in shape.choices


def unknown_parameters(names: list[str]) -> StripeError:
    # Stripe names one unknown parameter in the singular and several in a comma list.
    if len(names) == 1:
        message = f"Received unknown parameter: {names[0]}"
    else:
        message = f"Received unknown parameters: {', '.join(names)}"
    return invalid_request(message, param=names[0], code="parameter_unknown")


def invalid_choice(name: str, choices: list[str]) -> StripeError:
    # Stripe's wording, e.g. "Invalid usage: must be one of reusable or single_use"
    # (stripe/stripe-dotnet#1092) and "..., automatic_async, or manual" for longer lists.
    if len(choices) <= 2:
        listed = " or ".join(choices)
    else:
        listed = f"{', '.join(choices[:-1])}, or {choices[-1]}"
    return invalid_request(f"Invalid {name}: must be one of {listed}", param=name)


# -- the validator the app uses ----------------------------------------------------------------


@dataclass(frozen=True)
class Validator:
    """Per endpoint label ("POST /v1/customers"): the GA shape and the preview one."""

    ga: Mapping[str, Shape]
    previews: Mapping[str, Shape]

    def check(self, label: str, params: Mapping[str, Any], api_version: str | None) -> None:
        shapes = self.previews if preview.is_preview(api_version) else self.ga
        shape = shapes.get(label)
        if shape is not None:
            check(shape, params)


class MissingSchema(LookupError):
    """An endpoint of the sandbox's API table that the installed SDK does not define."""


def build_validator(endpoints: Iterable[tuple[str, str]]) -> Validator:
    """Shapes for every (method, path template); MissingSchema if the SDK lacks one."""
    ga: dict[str, Shape] = {}
    previews: dict[str, Shape] = {}
    missing = []
    for method, template in endpoints:
        label = f"{method} {template}"
        try:
            shape = compile_typeddict(params_class(method, template))
        except KeyError:
            missing.append(label)
            continue
        ga[label] = shape
        extra = preview.params_for(method, template)
        previews[label] = with_extra(shape, extra) if extra else shape
    if missing:
        raise MissingSchema(f"no params TypedDict in the stripe SDK for: {', '.join(missing)}")
    return Validator(ga, previews)


def guarded(validator: Validator, method: str, template: str, handler: Handler) -> Handler:
    """The handler, behind the check of its request's parameters (before any state changes)."""
    label = f"{method} {template}"

    def checked(call: ApiRequest) -> JSON:
        info = current_request.get()
        validator.check(label, call.params, info.api_version if info else None)
        return handler(call)

    checked.__name__ = getattr(handler, "__name__", "handler")
    return checked
