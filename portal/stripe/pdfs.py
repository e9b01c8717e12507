"""The gateway's file section: an invoice's or a credit note's PDF, streamed from Stripe's file
storage.

The PDF's URL comes from Stripe (`invoice_pdf`, a credit note's `pdf`) and answers with a
redirect to wherever Stripe keeps the file; `destinations.may_send_to` says which hosts the
portal follows there.
"""

from __future__ import annotations

from collections.abc import AsyncIterator
from urllib.parse import urljoin, urlsplit

import httpx

from portal.stripe.client import Connection
from portal.stripe.destinations import may_send_to
from portal.stripe.errors import GatewayError, NotFound, StripeUnavailable
from portal.stripe.models import CreditNote, Invoice

# Redirects followed from an invoice's `invoice_pdf` to the file (Stripe uses one).
PDF_REDIRECTS = 5


class InvoicePdf:
    """An invoice's PDF on its way from Stripe's file storage: read it once, in chunks."""

    def __init__(self, response: httpx.Response) -> None:
        self._response = response

    @property
    def size(self) -> int | None:
        """The file's length in bytes when the storage said so (and sent it unencoded, so that
        it is also the length passed on): lets the browser show progress and notice a cut."""
        length = self._response.headers.get("content-length")
        encoded = self._response.headers.get("content-encoding", "identity") != "identity"
        return int(length) if length and length.isdigit() and not encoded else None

    async def chunks(self) -> AsyncIterator[bytes]:
        try:
            async for chunk in self._response.aiter_bytes():
                yield chunk
        except httpx.HTTPError as exc:
            # The status line is sent by now: raising aborts the connection, so the browser
            # reports a failed download instead of saving a truncated PDF; the log says why.
            raise StripeUnavailable(f"PDF download broke off: {exc}") from exc
        finally:
            await self._response.aclose()

    async def aclose(self) -> None:
        """Give the connection back when the chunks were never read (idempotent)."""
        await self._response.aclose()


class InvoicePdfs(Connection):
    """Invoice and credit note PDFs, opened here and read by the caller."""

    async def open_invoice_pdf(self, invoice: Invoice) -> InvoicePdf:
        """Stripe's PDF of a finalized invoice, opened but not read: the caller streams it to
        the customer (`InvoicePdf.chunks`), so a large PDF is never held whole in memory.

        `invoice_pdf` (https://pay.stripe.com/invoice/.../pdf) answers with a redirect to the
        file's storage; up to `PDF_REDIRECTS` of them are followed, each over HTTPS. Everything
        that can go wrong does so here, before the first byte, where the view can still show
        its error page. The caller has checked whose invoice it is.
        """
        if not invoice.invoice_pdf:
            raise NotFound(f"invoice {invoice.id} has no PDF")
        return await self._open_pdf(invoice.invoice_pdf, f"invoice {invoice.id}")

    async def open_credit_note_pdf(self, note: CreditNote) -> InvoicePdf:
        """Stripe's PDF of a credit note, opened as `open_invoice_pdf` opens an invoice's. The
        caller has checked whose credit note it is."""
        if not note.pdf:
            raise NotFound(f"credit note {note.id} has no PDF")
        return await self._open_pdf(note.pdf, f"credit note {note.id}")

    async def _open_pdf(self, url: str, what: str) -> InvoicePdf:
        if not self._is_stripe_url(url):
            # The URL comes from Stripe; refusing any other host keeps the portal from being
            # turned into a fetcher of arbitrary URLs should that ever not hold.
            raise GatewayError(f"unexpected PDF host in {url!r}")
        for _hop in range(PDF_REDIRECTS + 1):
            response = await self._open_file(url)
            if not response.is_redirect:
                break
            await response.aclose()
            url = urljoin(url, response.headers.get("location", ""))
            if not self._may_follow(url):
                raise StripeUnavailable(f"PDF download redirected to {url!r}")
        else:
            raise StripeUnavailable(f"PDF download redirected more than {PDF_REDIRECTS} times")
        if response.status_code == 200:
            return InvoicePdf(response)
        await response.aclose()
        if response.status_code == 404:
            raise NotFound(f"no PDF for {what}")
        raise StripeUnavailable(f"PDF download answered {response.status_code}")

    async def _open_file(self, url: str) -> httpx.Response:
        try:
            return await self._files.send(self._files.build_request("GET", url), stream=True)
        except httpx.HTTPError as exc:
            raise StripeUnavailable(str(exc)) from exc

    def _may_follow(self, url: str) -> bool:
        return may_send_to(url, self._api_base)

    def _is_stripe_url(self, url: str) -> bool:
        host = urlsplit(url).hostname or ""
        if urlsplit(url).scheme == "https" and (
            host == "stripe.com" or host.endswith(".stripe.com")
        ):
            return True
        return host == urlsplit(self._api_base).hostname
