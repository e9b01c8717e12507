"""The gateway's boundary: only the Stripe package imports the SDK."""

from __future__ import annotations

import ast
from pathlib import Path

import portal

PACKAGE = Path(portal.__file__).parent


def test_only_the_stripe_package_imports_stripe() -> None:
    importers = []
    for path in PACKAGE.rglob("*.py"):
        for node in ast.walk(ast.parse(path.read_text())):
            names = []
            if isinstance(node, ast.Import):
                names = [a.name for a in node.names]
            elif isinstance(node, ast.ImportFrom) and node.module and node.level == 0:
                names = [node.module]
            if any(n == "stripe" or n.startswith("stripe.") for n in names):
                importers.append(path.relative_to(PACKAGE).as_posix())
    # (The sandbox, which reads the SDK's parameter definitions, lives in devtools/.)
    assert "stripe/client.py" in importers  # the test sees the gateway's own imports
    assert sorted({p for p in importers if not p.startswith("stripe/")}) == []
