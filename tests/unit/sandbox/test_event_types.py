"""The sandbox sends only event types Stripe has: the SDK's list (the values a webhook endpoint's
`enabled_events` accepts), so an endpoint can subscribe to every event the sandbox sends."""

from __future__ import annotations

import ast
from pathlib import Path

from stripe.params import WebhookEndpointCreateParams

import stripe_sandbox
from stripe_sandbox import schema


def emitted_types() -> dict[str, str]:
    """Event type -> where it is emitted, for every `….emit("type", …)` in the sandbox."""
    found: dict[str, str] = {}
    for path in sorted(Path(stripe_sandbox.__file__).parent.glob("*.py")):
        for node in ast.walk(ast.parse(path.read_text(encoding="utf-8"))):
            if (
                isinstance(node, ast.Call)
                and isinstance(node.func, ast.Attribute)
                and node.func.attr == "emit"
                and node.args
                and isinstance(node.args[0], ast.Constant)
                and isinstance(node.args[0].value, str)
            ):
                found.setdefault(node.args[0].value, f"{path.name}:{node.lineno}")
    return found


def test_every_event_type_the_sandbox_emits_is_one_stripe_has() -> None:
    shape = schema.compile_typeddict(WebhookEndpointCreateParams).fields or {}
    items = shape["enabled_events"].items
    assert items is not None
    known = items.choices
    emitted = emitted_types()
    assert len(emitted) > 40
    assert {kind: where for kind, where in emitted.items() if kind not in known} == {}
