"""The import contract (pyproject.toml, `[tool.importlinter]`): portal/'s layers and no cycle
between its packages, checked by import-linter, and shown to catch a new cycle on a copy of the
portal with one deliberately broken import."""

from __future__ import annotations

import re
import shutil
import subprocess
import sys
import tomllib
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[1]
LINT_IMPORTS = Path(sys.executable).parent / "lint-imports"


def lint_imports(root: Path) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [str(LINT_IMPORTS), "--config", str(root / "pyproject.toml"), "--no-cache"],
        cwd=root,
        # The copy's `portal` first on the path, ahead of the installed (editable) one.
        env={"PYTHONPATH": str(root), "PATH": "/usr/bin:/bin", "NO_COLOR": "1"},
        capture_output=True,
        text=True,
        timeout=120,
        check=False,
    )


def test_the_portal_keeps_its_layers_and_has_no_cycle() -> None:
    run = lint_imports(ROOT)
    assert run.returncode == 0, run.stdout + run.stderr
    assert "2 kept, 0 broken" in run.stdout


@pytest.fixture
def copy(tmp_path: Path) -> Path:
    shutil.copytree(
        ROOT / "portal", tmp_path / "portal", ignore=shutil.ignore_patterns("__pycache__")
    )
    shutil.copy(ROOT / "pyproject.toml", tmp_path / "pyproject.toml")
    return tmp_path


def _add_import(module: Path, line: str) -> None:
    text = module.read_text()
    head, sep, rest = text.partition("from __future__ import annotations\n")
    assert sep, module
    module.write_text(head + sep + line + "\n" + rest)


def test_the_copy_passes_as_it_is(copy: Path) -> None:
    run = lint_imports(copy)
    assert run.returncode == 0, run.stdout + run.stderr


LAYERS = "composition, features"  # how the two contracts' names begin
NO_CYCLE = "no cycle"


@pytest.mark.parametrize(
    ("module", "line", "broken"),
    [
        # A cycle through a type-only import: the Stripe package naming billing's types.
        (
            "stripe/models.py",
            "from typing import TYPE_CHECKING\nif TYPE_CHECKING:\n    from portal.billing import invoices",
            {LAYERS, NO_CYCLE},
        ),
        # Two of the customer's areas depending on each other's views.
        ("auth/views.py", "from portal.billing import views", {LAYERS}),
        # The Stripe package reaching up into the pages (which read Stripe's data: a cycle too).
        ("stripe/gateway.py", "from portal import templating", {LAYERS, NO_CYCLE}),
        # The settings, at the bottom, using a layer above them.
        ("settings.py", "from portal import signing", {LAYERS}),
        # A cycle inside one package: two modules of the Stripe package importing each other.
        ("stripe/models.py", "from portal.stripe import gateway", {NO_CYCLE}),
    ],
)
def test_a_new_cycle_or_an_import_upwards_breaks_the_contract(
    copy: Path, module: str, line: str, broken: set[str]
) -> None:
    _add_import(copy / "portal" / module, line)
    run = lint_imports(copy)
    assert run.returncode != 0, run.stdout
    verdicts = [
        line.rstrip()
        for line in run.stdout.splitlines()
        if line.rstrip().endswith(("KEPT", "BROKEN"))
    ]
    found = {
        name
        for name in (LAYERS, NO_CYCLE)
        for v in verdicts
        if v.startswith(name) and v.endswith("BROKEN")
    }
    assert found == broken, run.stdout


def _top_level() -> set[str]:
    names = {p.stem for p in (ROOT / "portal").glob("*.py") if p.name != "__init__.py"}
    names |= {p.parent.name for p in (ROOT / "portal").glob("*/__init__.py")}
    return names


def test_every_module_has_a_layer() -> None:
    """A new top-level module or package goes into the contract (and so into a layer)."""
    config = tomllib.loads((ROOT / "pyproject.toml").read_text())["tool"]["importlinter"]
    layers = next(c for c in config["contracts"] if c["type"] == "layers")["layers"]
    layered = {name.strip() for layer in layers for name in re.split(r"[|:]", layer)}
    assert layered == {f"portal.{name}" for name in _top_level()}


def test_the_readme_layout_table_names_every_module() -> None:
    readme = (ROOT / "README.md").read_text()
    table = readme.split("## How the code is laid out", 1)[1].split("\n## ", 1)[0]
    missing = sorted(
        name
        for name in _top_level()
        if f"`portal/{name}.py`" not in table and f"`portal/{name}/`" not in table
    )
    assert missing == []
