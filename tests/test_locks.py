"""The lock (requirements/*.txt) against pyproject.toml and against the commands that use it: a
range widened, a dependency added or a command that installs around the lock fails here, before
a fresh machine takes whatever is newest."""

from __future__ import annotations

import re
import tomllib
from collections.abc import Callable
from pathlib import Path

import pytest
from packaging.requirements import Requirement
from packaging.utils import canonicalize_name

ROOT = Path(__file__).parents[1]
PYPROJECT = tomllib.loads((ROOT / "pyproject.toml").read_text())
# The development tools' distribution (the sandbox, the demo, the bench): in dev.txt only.
DEVTOOLS = tomllib.loads((ROOT / "devtools" / "pyproject.toml").read_text())


def _pins(name: str) -> dict[str, str]:
    """Package -> exact version, and every pin carries at least one hash."""
    text = (ROOT / "requirements" / f"{name}.txt").read_text()
    pins: dict[str, str] = {}
    for block in re.split(r"\n(?=\S)", text):
        first = block.split("\\", 1)[0].strip()
        if not first or first.startswith("#"):
            continue
        match = re.match(r"([A-Za-z0-9_.\-]+)==([^\s;]+)", first)
        assert match, f"{name}.txt: not an exact pin: {first}"
        assert "--hash=sha256:" in block, f"{name}.txt: {first} has no hash"
        pins[canonicalize_name(match.group(1))] = match.group(2)
    return pins


def _requirements(*groups: list[str]) -> list[Requirement]:
    return [Requirement(line) for group in groups for line in group]


def _portal_requirements() -> list[Requirement]:
    return _requirements(PYPROJECT["project"]["dependencies"])


def _test_requirements() -> list[Requirement]:
    return _requirements(PYPROJECT["project"]["optional-dependencies"]["test"])


def _build_requirements() -> list[Requirement]:
    return _requirements(PYPROJECT["build-system"]["requires"])


def _devtools_requirements() -> list[Requirement]:
    return _requirements(DEVTOOLS["project"]["dependencies"], DEVTOOLS["build-system"]["requires"])


def _dev_requirements() -> list[Requirement]:
    return (
        _portal_requirements()
        + _test_requirements()
        + _build_requirements()
        + _devtools_requirements()
    )


@pytest.mark.parametrize(
    ("lock", "wanted"),
    [("dev", _dev_requirements), ("portal", _portal_requirements), ("build", _build_requirements)],
)
def test_each_lock_pins_what_pyproject_asks_for_within_its_ranges(
    lock: str, wanted: Callable[[], list[Requirement]]
) -> None:
    pins = _pins(lock)
    for requirement in wanted():
        name = canonicalize_name(requirement.name)
        assert name in pins, f"{requirement.name} is not in requirements/{lock}.txt"
        assert requirement.specifier.contains(pins[name], prereleases=True), (
            f"requirements/{lock}.txt pins {name}=={pins[name]} outside {requirement}"
        )


def test_the_locks_agree_on_every_version_and_production_has_no_test_tools() -> None:
    dev = _pins("dev")
    for lock in ("portal", "build"):
        for name, version in _pins(lock).items():
            assert dev.get(name) == version, f"{lock}.txt and dev.txt disagree on {name}"
    production = _pins("portal")
    for requirement in _test_requirements() + _build_requirements():
        assert canonicalize_name(requirement.name) not in production, requirement.name


def test_production_has_neither_the_mailbox_server_nor_the_pdf_renderer() -> None:
    # The development mailbox (aiosmtpd) and the sandbox's PDFs (fpdf2) are devtools' alone.
    production = _pins("portal")
    for name in ("aiosmtpd", "fpdf2"):
        assert name not in production, name
        assert name in _pins("dev"), name
    for requirement in _portal_requirements():
        assert canonicalize_name(requirement.name) not in {"aiosmtpd", "fpdf2"}, requirement


def _readme_command(heading: str) -> str:
    readme = (ROOT / "README.md").read_text()
    section = readme.split(heading, 1)[1]
    match = re.search(r"```sh\n(.+?)\n```", section, re.S)
    assert match
    return match.group(1).strip()


def test_readme_commands_install_only_from_the_lock() -> None:
    for heading in ("## Try it: one command", "## Run the tests: one command"):
        command = _readme_command(heading)
        assert "pip install --require-hashes -r requirements/dev.txt" in command
        # The portal and its development tools go in without resolving anything (nothing
        # unlocked is fetched).
        assert "pip install --no-deps --no-build-isolation -e . -e ./devtools" in command
        assert re.search(r"pip install (?!--require-hashes|--no-deps)", command) is None


def test_ci_runs_the_readmes_test_command_word_for_word() -> None:
    ci = (ROOT / ".ci" / "run").read_text()
    assert _readme_command("## Run the tests: one command") in ci


def test_the_image_installs_from_the_lock() -> None:
    dockerfile = (ROOT / "Dockerfile").read_text()
    installs = re.findall(r"pip (?:install|wheel) [^\n]+", dockerfile)
    assert installs
    for line in installs:
        assert "--require-hashes -r" in line or "--no-deps" in line, line
    assert "requirements/portal.txt" in dockerfile
    assert "requirements/build.txt" in dockerfile
