"""The invoice PDF when Stripe's file storage (where `invoice_pdf` redirects) cannot be reached:
the customer gets the portal's "Stripe unavailable" page, not a broken download."""

from __future__ import annotations

import re
import uuid
from collections.abc import Iterator
from pathlib import Path

import pytest

from stripe_sandbox.app import SandboxConfig, create_sandbox_app
from tests.functional.portal_support import Portal, serve_portal
from tests.support.servers import free_port, serve_in_thread


@pytest.fixture(scope="module")
def portal_without_files(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Portal]:
    # A sandbox whose files origin is a port nobody listens on.
    dead = f"http://127.0.0.1:{free_port()}"
    with (
        serve_in_thread(create_sandbox_app(SandboxConfig(files_url=dead))) as sandbox,
        serve_portal(Path(tmp_path_factory.mktemp("nofiles")), sandbox) as portal,
    ):
        yield portal


def test_unreachable_file_storage_gives_the_unavailable_page(portal_without_files: Portal) -> None:
    portal = portal_without_files
    email = f"pdf-{uuid.uuid4().hex[:8]}@example.de"
    customer = portal.customer(email=email)
    invoice = portal.invoice(customer)
    browser = portal.browser()
    assert browser.sign_in(email).status_code == 303
    answer = browser.get(f"/invoices/{invoice.id}/pdf")
    assert answer.status_code == 503
    assert answer.headers["content-type"].startswith("text/html")
    assert "content-disposition" not in answer.headers
    assert '<html lang="de">' in answer.text
    assert re.search(r"<code>[0-9a-f]{16}</code>", answer.text)  # the request id for support
