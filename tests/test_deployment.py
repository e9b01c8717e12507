"""What can be checked of the deployment without building the image or reaching Fly.io: the
files the Dockerfile copies, the command it runs, and fly.toml against the code."""

from __future__ import annotations

import json
import re
import shlex
import tomllib
from pathlib import Path

import pytest

from portal import asgi, cli
from portal.assets import Assets
from portal.routes import routes
from tests.unit.test_settings import VALID

ROOT = Path(__file__).parents[1]
DOCKERFILE = (ROOT / "Dockerfile").read_text()
FLY = tomllib.loads((ROOT / "fly.toml").read_text())


def test_the_dockerfile_copies_files_that_exist() -> None:
    for line in DOCKERFILE.splitlines():
        if line.startswith("COPY") and "--from" not in line:
            *sources, _target = shlex.split(line)[1:]
            for source in sources:
                assert (ROOT / source).exists(), source


def test_the_image_runs_the_asgi_factory_on_the_port_fly_sends_to() -> None:
    cmd = re.search(r"^CMD (\[.*\])$", DOCKERFILE, re.M)
    assert cmd
    argv = json.loads(cmd.group(1))  # the exec form is a JSON array
    assert argv[0] == "uvicorn"
    assert argv[argv.index("--factory") + 1] == "portal.asgi:application"
    assert callable(asgi.application)
    port = int(argv[argv.index("--port") + 1])
    assert f"EXPOSE {port}" in DOCKERFILE
    assert FLY["http_service"]["internal_port"] == port
    assert FLY["checks"]["alive"]["port"] == port
    assert "USER portal" in DOCKERFILE  # not root


def test_fly_checks_and_commands_exist_in_the_code() -> None:
    paths = {getattr(r, "path", None) for r in routes(assets=Assets(), demo=False)}
    assert FLY["checks"]["alive"]["path"] == "/healthz"
    assert FLY["http_service"]["checks"][0]["path"] == "/readyz"
    assert {"/healthz", "/readyz"} <= paths
    parser = cli.build_parser()
    for command in (FLY["deploy"]["release_command"], FLY["processes"]["reminders"]):
        argv = shlex.split(command)
        assert argv[0] == "portal"
        parser.parse_args(argv[1:])  # exits (fails the test) on an unknown command or option


def test_the_readme_names_every_secret_fly_expects() -> None:
    readme = (ROOT / "README.md").read_text()
    comment = (ROOT / "fly.toml").read_text().split("app =", 1)[0]
    for secret in re.findall(r"PORTAL_[A-Z_]+", comment):
        assert secret in readme, secret


def test_the_asgi_factory_builds_the_app_or_says_what_is_missing(
    monkeypatch: pytest.MonkeyPatch, tmp_path: Path
) -> None:
    for key, value in VALID.items():
        monkeypatch.setenv(key, value)
    monkeypatch.setenv("PORTAL_DATA_DIR", str(tmp_path))
    assert asgi.application() is not None
    monkeypatch.delenv("PORTAL_SECRET_KEY")
    with pytest.raises(SystemExit) as stopped:
        asgi.application()
    assert stopped.value.code == 2


def test_only_the_proxys_own_header_names_the_client() -> None:
    # uvicorn's --forwarded-allow-ips '*' believes the left-most X-Forwarded-For entry, which
    # the client writes; the portal reads the header Fly's proxy sets instead.
    cmd = re.search(r"^CMD (\[.*\])$", DOCKERFILE, re.M)
    assert cmd
    argv = json.loads(cmd.group(1))
    assert "--forwarded-allow-ips" not in argv
    assert "--no-proxy-headers" in argv
    assert FLY["env"]["PORTAL_CLIENT_IP_HEADER"] == "Fly-Client-IP"


def test_the_image_sends_answers_at_once_with_several_workers() -> None:
    """With `--workers` uvicorn's connections lack TCP_NODELAY (Kludex/uvicorn#3149): the
    image names the protocol class that sets it, and that class is uvicorn's h11 one."""
    from uvicorn.importer import import_from_string
    from uvicorn.protocols.http.h11_impl import H11Protocol

    cmd = re.search(r"^CMD (\[.*\])$", DOCKERFILE, re.M)
    assert cmd
    argv = json.loads(cmd.group(1))
    assert int(argv[argv.index("--workers") + 1]) > 1
    protocol = import_from_string(argv[argv.index("--http") + 1])
    assert issubclass(protocol, H11Protocol)
