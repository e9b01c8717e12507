"""The development tools (devtools/: the Stripe sandbox, the demo, the benchmark, the development
mailbox) live apart from the product: the portal imports nothing of them, the sandbox nothing of
the portal, their commands exist only where devtools is installed (the `portal.commands` entry
points), and the image carries none of them."""

from __future__ import annotations

import ast
import tomllib
from pathlib import Path

import pytest

from portal import cli

ROOT = Path(__file__).parents[1]
DEVTOOLS = ROOT / "devtools"
TOOLS = ("stripe_sandbox", "portal_dev")


def _imported(folder: Path) -> dict[str, set[str]]:
    """File -> the top-level packages it imports, anywhere in it (functions and
    TYPE_CHECKING blocks too)."""
    found: dict[str, set[str]] = {}
    for path in folder.rglob("*.py"):
        names = found.setdefault(path.relative_to(ROOT).as_posix(), set())
        for node in ast.walk(ast.parse(path.read_text())):
            if isinstance(node, ast.Import):
                names.update(alias.name.split(".")[0] for alias in node.names)
            elif isinstance(node, ast.ImportFrom) and node.module and node.level == 0:
                names.add(node.module.split(".")[0])
    return found


def test_the_portal_imports_nothing_of_the_development_tools() -> None:
    found = {path: names & set(TOOLS) for path, names in _imported(ROOT / "portal").items()}
    assert {path: names for path, names in found.items() if names} == {}


def test_the_sandbox_imports_nothing_of_the_portal() -> None:
    found = _imported(DEVTOOLS / "stripe_sandbox")
    assert found
    wrong = {path: names & {"portal", "portal_dev"} for path, names in found.items()}
    assert {path: names for path, names in wrong.items() if names} == {}


def test_demo_bench_and_sandbox_are_commands_of_the_development_tools() -> None:
    from portal_dev import commands

    parser = cli.build_parser()
    assert parser.parse_args(["demo"]).func is commands.cmd_demo
    assert parser.parse_args(["bench"]).func is commands.cmd_bench
    assert parser.parse_args(["sandbox"]).func is commands.cmd_sandbox
    entries = tomllib.loads((DEVTOOLS / "pyproject.toml").read_text())["project"]["entry-points"]
    assert set(entries[cli.COMMANDS]) == {"demo", "bench", "sandbox"}


def test_bench_scale_names_its_measurements_and_refuses_others(
    capsys: pytest.CaptureFixture[str],
) -> None:
    parser = cli.build_parser()
    assert parser.parse_args(["bench", "--scale"]).scale == []  # all of them
    assert parser.parse_args(["bench", "--scale", "invoices"]).scale == ["invoices"]
    args = parser.parse_args(["bench", "--scale", "invoices", "speed"])
    assert args.func(args) == 2
    assert "--scale: unknown speed (choose from invoices, customers, reminders, webhooks)" in (
        capsys.readouterr().err
    )


def test_without_the_development_tools_there_is_no_demo_command(
    monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    monkeypatch.setattr(cli, "entry_points", lambda group: [])
    parser = cli.build_parser()
    for command in ("demo", "bench", "sandbox"):
        with pytest.raises(SystemExit):
            parser.parse_args([command])
        assert "invalid choice" in capsys.readouterr().err
    assert parser.parse_args(["migrate"]).func is cli.cmd_migrate


def test_the_image_and_the_portals_wheel_carry_no_development_tool() -> None:
    dockerfile = (ROOT / "Dockerfile").read_text()
    for line in dockerfile.splitlines():
        if line.startswith(("COPY", "RUN", "ADD")):
            assert "devtools" not in line, line
            assert "requirements/dev.txt" not in line, line
    pyproject = tomllib.loads((ROOT / "pyproject.toml").read_text())
    assert pyproject["tool"]["hatch"]["build"]["targets"]["wheel"]["packages"] == ["portal"]
    assert set(pyproject["tool"]["mypy"]["packages"]) >= {"portal", *TOOLS}  # still checked
