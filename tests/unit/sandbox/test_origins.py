"""Which origin may serve which of the sandbox's surfaces, and that the config is documented."""

from __future__ import annotations

import dataclasses
from pathlib import Path

import pytest

from stripe_sandbox.config import SandboxConfig, on_own_ports
from stripe_sandbox.origins import OriginGuard, origin_of, surface_of

API, HOOKS, CHECKOUT, FILES = (f"http://127.0.0.1:{port}" for port in (9000, 9001, 9002, 9003))


def _guard(config: SandboxConfig) -> OriginGuard:
    async def app(scope: object, receive: object, send: object) -> None:
        raise AssertionError("not called")

    return OriginGuard(app, config)


def test_origins_ignore_default_ports_and_case() -> None:
    assert origin_of("HTTPS://Hooks.Stripe.com:443/3ds/x") == "https://hooks.stripe.com"
    assert origin_of("http://127.0.0.1:80/") == "http://127.0.0.1"
    assert origin_of("http://127.0.0.1:8002") == "http://127.0.0.1:8002"


@pytest.mark.parametrize(
    ("path", "surface"),
    [("/3ds/pi_1", "hooks"), ("/c/pay/cs_1", "checkout"), ("/files/invoices/in_1.pdf", "files"),
     ("/v1/customers", "api"), ("/invoice/in_1/pdf", "api"), ("/i/in_1", "api"),
     ("/_sandbox/healthz", "api")],
)  # fmt: skip
def test_paths_belong_to_surfaces(path: str, surface: str) -> None:
    assert surface_of(path) == surface


def test_each_surface_only_on_its_own_origin() -> None:
    guard = _guard(SandboxConfig(hooks_url=HOOKS, checkout_url=CHECKOUT, files_url=FILES))
    assert guard.allows("/3ds/pi_1", HOOKS)
    assert not guard.allows("/3ds/pi_1", API)
    assert not guard.allows("/3ds/pi_1", CHECKOUT)
    assert guard.allows("/c/pay/cs_1", CHECKOUT)
    assert not guard.allows("/c/pay/cs_1", API)
    assert guard.allows("/files/invoices/in_1.pdf", FILES)
    assert not guard.allows("/files/invoices/in_1.pdf", API)
    assert guard.allows("/v1/customers", API)
    assert guard.allows("/v1/customers", "http://localhost:9000")  # the API's origin is open
    for other in (HOOKS, CHECKOUT, FILES):
        assert not guard.allows("/v1/customers", other)
        assert not guard.allows("/invoice/in_1/pdf", other)


def test_without_surface_urls_everything_is_one_origin() -> None:
    guard = _guard(SandboxConfig())
    assert guard.origins == {}
    assert guard.allows("/3ds/pi_1", API)


def test_a_surface_on_the_public_url_is_part_of_the_api() -> None:
    guard = _guard(SandboxConfig(public_url=API, hooks_url=API + "/", checkout_url=CHECKOUT))
    assert guard.origins == {"checkout": CHECKOUT}
    assert guard.allows("/3ds/pi_1", API)
    assert guard.allows("/v1/customers", API)


def test_own_ports_follow_the_api_port() -> None:
    config = on_own_ports(SandboxConfig(), "127.0.0.1", 12111)
    assert config.surface_urls() == {
        "hooks": "http://127.0.0.1:12112",
        "checkout": "http://127.0.0.1:12113",
        "files": "http://127.0.0.1:12114",
    }


def test_every_config_field_is_documented() -> None:
    doc = (Path(__file__).parents[3] / "docs" / "sandbox.md").read_text()
    missing = [f.name for f in dataclasses.fields(SandboxConfig) if f"`{f.name}`" not in doc]
    assert missing == []
