"""The gateway's invoice PDFs, through Stripe's redirect to its file storage and streamed,
against the sandbox over HTTP."""

from __future__ import annotations

import dataclasses
from collections.abc import Iterator

import pytest
import stripe
from starlette.applications import Starlette
from starlette.requests import Request
from starlette.responses import RedirectResponse, Response
from starlette.routing import Route

from portal.stripe.errors import GatewayError, StripeUnavailable
from portal.stripe.gateway import StripeGateway
from portal.stripe.models import Invoice
from portal.stripe.pdfs import PDF_REDIRECTS, InvoicePdf
from tests.conftest import SANDBOX_KEY
from tests.functional.stripe.stripe_support import customer_with_card, open_invoice
from tests.support.servers import serve_in_thread

pytestmark = pytest.mark.anyio


@pytest.fixture(scope="module")
def hops() -> Iterator[str]:
    """Redirects of our own on another loopback port: `/hop/N?to=URL` redirects N times in
    all, the last one to `to`."""

    async def hop(request: Request) -> Response:
        left = int(request.path_params["n"])
        target = request.query_params["to"]
        if left <= 1:
            return RedirectResponse(target, 302)
        return RedirectResponse(f"/hop/{left - 1}?to={target}", 307)

    app = Starlette(routes=[Route("/hop/{n:int}", hop)])
    with serve_in_thread(app) as url:
        yield url


async def read(pdf: InvoicePdf) -> bytes:
    return b"".join([chunk async for chunk in pdf.chunks()])


async def finalized(gateway: StripeGateway, sdk: stripe.StripeClient) -> Invoice:
    customer_id, _ = customer_with_card(sdk)
    return await gateway.get_invoice(open_invoice(sdk, customer_id))


async def test_the_pdf_arrives_through_stripes_redirect_to_another_origin(
    gateway: StripeGateway, sdk: stripe.StripeClient
) -> None:
    # The sandbox, like Stripe, answers `invoice_pdf` with a redirect to its files origin.
    invoice = await finalized(gateway, sdk)
    assert invoice.invoice_pdf
    pdf = await gateway.open_invoice_pdf(invoice)
    assert (await read(pdf)).startswith(b"%PDF")


async def test_several_redirects_are_followed_and_the_pdf_streamed_in_chunks(
    gateway: StripeGateway, sdk: stripe.StripeClient, hops: str
) -> None:
    invoice = await finalized(gateway, sdk)
    through = dataclasses.replace(
        invoice, invoice_pdf=f"{hops}/hop/{PDF_REDIRECTS - 1}?to={invoice.invoice_pdf}"
    )
    pdf = await gateway.open_invoice_pdf(through)
    chunks = [chunk async for chunk in pdf.chunks()]
    assert b"".join(chunks).startswith(b"%PDF")


async def test_more_redirects_than_the_limit_are_not_followed(
    gateway: StripeGateway, sdk: stripe.StripeClient, hops: str
) -> None:
    invoice = await finalized(gateway, sdk)
    endless = dataclasses.replace(
        invoice, invoice_pdf=f"{hops}/hop/{PDF_REDIRECTS + 2}?to={invoice.invoice_pdf}"
    )
    with pytest.raises(StripeUnavailable, match="more than"):
        await gateway.open_invoice_pdf(endless)


async def test_a_redirect_to_plain_http_elsewhere_is_not_followed(
    gateway: StripeGateway, sdk: stripe.StripeClient, hops: str
) -> None:
    # Over HTTPS anywhere (Stripe picks its storage); plain http only to the configured
    # sandbox's host, here 127.0.0.1: "localhost" is another host.
    invoice = await finalized(gateway, sdk)
    elsewhere = str(invoice.invoice_pdf).replace("127.0.0.1", "localhost")
    redirected = dataclasses.replace(invoice, invoice_pdf=f"{hops}/hop/1?to={elsewhere}")
    with pytest.raises(StripeUnavailable, match="redirected to"):
        await gateway.open_invoice_pdf(redirected)


async def test_the_first_address_must_be_stripes(
    gateway: StripeGateway, sdk: stripe.StripeClient
) -> None:
    invoice = await finalized(gateway, sdk)
    foreign = dataclasses.replace(invoice, invoice_pdf="https://files.example.org/invoice.pdf")
    with pytest.raises(GatewayError, match="unexpected PDF host"):
        await gateway.open_invoice_pdf(foreign)


async def test_redirects_from_stripe_itself_must_be_https(sandbox_url: str) -> None:
    real = StripeGateway(api_key=SANDBOX_KEY, max_network_retries=0)
    try:
        assert real._may_follow("https://files.stripe.com/links/abc")
        assert real._may_follow("https://s3.eu-west-1.amazonaws.com/x.pdf")
        assert not real._may_follow("http://files.stripe.com/links/abc")
        assert not real._may_follow(f"{sandbox_url}/files/x.pdf")
        assert not real._may_follow("file:///etc/passwd")
    finally:
        await real.aclose()
