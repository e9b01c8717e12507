"""Reading typed values out of decoded form parameters, with Stripe's error for each mistake."""

from __future__ import annotations

from typing import Any

from stripe_sandbox.errors import invalid_request, missing_param

Params = dict[str, Any]


def has(params: Params, name: str) -> bool:
    return name in params


def get_str(params: Params, name: str, *, required: bool = False) -> str | None:
    """A string parameter; an empty string (Stripe's way to unset a field) reads as None."""
    value = params.get(name)
    if value is None or value == "":
        if required:
            raise missing_param(name)
        return None
    if not isinstance(value, str):
        raise invalid_request(f"Invalid string: {name}", param=name, code="parameter_invalid")
    return value


def require_str(params: Params, name: str) -> str:
    value = get_str(params, name, required=True)
    assert value is not None
    return value


def get_int(params: Params, name: str, *, required: bool = False) -> int | None:
    value = params.get(name)
    if value is None or value == "":
        if required:
            raise missing_param(name)
        return None
    if isinstance(value, str):
        text = value.strip()
        if text.lstrip("-").isdigit():
            return int(text)
    raise invalid_request(f"Invalid integer: {value}", param=name, code="parameter_invalid")


def require_int(params: Params, name: str) -> int:
    value = get_int(params, name, required=True)
    assert value is not None
    return value


def get_bool(params: Params, name: str, default: bool | None = None) -> bool | None:
    value = params.get(name)
    if value is None or value == "":
        return default
    if value in ("true", "True", "1"):
        return True
    if value in ("false", "False", "0"):
        return False
    raise invalid_request(f"Invalid boolean: {value}", param=name, code="parameter_invalid")


def get_dict(params: Params, name: str) -> dict[str, Any] | None:
    """A hash parameter; `name=` (empty string) reads as an empty dict, the way to unset it."""
    value = params.get(name)
    if value is None:
        return None
    if value == "":
        return {}
    if not isinstance(value, dict):
        raise invalid_request(f"Invalid hash: {name}", param=name, code="parameter_invalid")
    return value


def get_list(params: Params, name: str) -> list[Any] | None:
    value = params.get(name)
    if value is None:
        return None
    if value == "":
        return []
    if isinstance(value, str):
        return [value]
    if isinstance(value, dict):
        # A list sent with non-contiguous or mixed keys decodes to a dict; keep its order.
        return list(value.values())
    if not isinstance(value, list):
        raise invalid_request(f"Invalid array: {name}", param=name, code="parameter_invalid")
    return value


def get_str_list(params: Params, name: str) -> list[str] | None:
    items = get_list(params, name)
    if items is None:
        return None
    if not all(isinstance(item, str) for item in items):
        raise invalid_request(f"Invalid array: {name}", param=name, code="parameter_invalid")
    return [item for item in items if item]


def get_enum(
    params: Params, name: str, allowed: tuple[str, ...], default: str | None = None
) -> str | None:
    value = get_str(params, name)
    if value is None:
        return default
    if value not in allowed:
        raise invalid_request(
            f"Invalid {name}: must be one of {', '.join(allowed)}",
            param=name,
            code="parameter_invalid",
        )
    return value


def apply_metadata(target: dict[str, Any], params: Params, name: str = "metadata") -> None:
    """Merge `metadata[k]=v` into the object's metadata; an empty value deletes the key."""
    if name not in params:
        return
    value = params[name]
    if value == "":
        target[name] = {}
        return
    if not isinstance(value, dict):
        raise invalid_request(f"Invalid hash: {name}", param=name, code="parameter_invalid")
    merged = dict(target.get(name) or {})
    for key, item in value.items():
        if not isinstance(item, str):
            raise invalid_request(f"Invalid metadata value for {key}", param=f"{name}[{key}]")
        if item == "":
            merged.pop(key, None)
        else:
            merged[key] = item
    target[name] = merged


ADDRESS_FIELDS = ("city", "country", "line1", "line2", "postal_code", "state")


def address(value: Any, param: str) -> dict[str, Any] | None:
    if value is None or value == "":
        return None
    if not isinstance(value, dict):
        raise invalid_request(f"Invalid hash: {param}", param=param, code="parameter_invalid")
    return {field: (value.get(field) or None) for field in ADDRESS_FIELDS}
