"""The only door to Stripe.

Every Stripe call the portal makes goes through `StripeGateway`, which uses the official SDK's
`StripeClient` with its async HTTPX client, the configured `api_base`, a timeout and the SDK's own
network retries (extended to Stripe's 429s), with at most a configured number of calls under way
per process (`_StripeHttp`). It hands back the portal's typed values (`portal.billing.models`) and turns
Stripe's exceptions into the few `GatewayError`s below, each with one meaning the views can act
on. No other module imports `stripe` (a test checks that).

Money-moving calls take a mandatory `idempotency_key`: the SDK reuses it on its own retries, and
the caller stores it per payment attempt so that a resubmitted form repeats, rather than
repeats the charge (https://docs.stripe.com/api/idempotent_requests).
"""

from __future__ import annotations

import asyncio
import contextlib
import dataclasses
from collections.abc import AsyncIterator, Mapping
from datetime import UTC, datetime
from typing import Any, cast
from urllib.parse import quote, urljoin, urlsplit

import httpx
import stripe

from portal.billing.models import (
    Address,
    CheckoutSession,
    Customer,
    Installment,
    Invoice,
    InvoiceLine,
    InvoicePayment,
    Page,
    PaymentIntent,
    PaymentMethod,
    TaxId,
    WebhookEvent,
)
from portal.settings import STRIPE_INVOICE_API_VERSION, STRIPE_MAX_CONCURRENT_REQUESTS

# Stripe's tolerance for webhook timestamps (stripe.Webhook.DEFAULT_TOLERANCE).
WEBHOOK_TOLERANCE_SECONDS = 300

# Redirects followed from an invoice's `invoice_pdf` to the file (Stripe uses one).
PDF_REDIRECTS = 5


# --- errors ----------------------------------------------------------------------------------


class GatewayError(Exception):
    """Something went wrong talking to Stripe; subclasses say what the portal can do about it."""

    def __init__(self, message: str = "", *, request_id: str | None = None) -> None:
        super().__init__(message)
        self.request_id = request_id


class StripeUnavailable(GatewayError):
    """Stripe could not be reached or failed on its side: try again later, change nothing."""


class StripeRateLimited(StripeUnavailable):
    """Stripe asked us to slow down (HTTP 429)."""


class NotFound(GatewayError):
    """The object does not exist (or is not visible with this key)."""


class InvalidRequest(GatewayError):
    """Stripe refused the request's parameters; `code` and `param` say which and why."""

    def __init__(
        self,
        message: str = "",
        *,
        code: str | None,
        param: str | None,
        request_id: str | None = None,
    ) -> None:
        super().__init__(message, request_id=request_id)
        self.code = code
        self.param = param


class PaymentDeclined(GatewayError):
    """The payment method was declined; `decline_code` (or `code`) explains it to the customer."""

    def __init__(
        self,
        message: str = "",
        *,
        code: str | None,
        decline_code: str | None,
        payment_intent_id: str | None = None,
        request_id: str | None = None,
    ) -> None:
        super().__init__(message, request_id=request_id)
        self.code = code
        self.decline_code = decline_code
        self.payment_intent_id = payment_intent_id


class IdempotencyConflict(GatewayError):
    """The same idempotency key was used with different parameters: a bug on our side."""


class StripeMisconfigured(GatewayError):
    """The API key is wrong or lacks a permission: an operator has to fix the settings."""


class WebhookSignatureInvalid(GatewayError):
    """A webhook's body or `Stripe-Signature` header did not verify."""


class WebhookMalformed(GatewayError):
    """A correctly signed webhook whose body is not an event (a leaked secret, a test tool)."""


def _translate(exc: stripe.StripeError) -> GatewayError:
    request_id = exc.request_id
    message = str(exc.user_message or exc)
    error = exc.error
    code = exc.code
    if isinstance(exc, stripe.CardError):
        pi = getattr(error, "payment_intent", None) if error else None
        return PaymentDeclined(
            message,
            code=code,
            decline_code=getattr(error, "decline_code", None) if error else None,
            payment_intent_id=_id(pi),
            request_id=request_id,
        )
    if isinstance(exc, stripe.RateLimitError):
        return StripeRateLimited(message, request_id=request_id)
    if isinstance(exc, stripe.APIConnectionError | stripe.APIError):
        return StripeUnavailable(message, request_id=request_id)
    if isinstance(exc, stripe.AuthenticationError | stripe.PermissionError):
        return StripeMisconfigured(message, request_id=request_id)
    if isinstance(exc, stripe.IdempotencyError):
        return IdempotencyConflict(message, request_id=request_id)
    if isinstance(exc, stripe.InvalidRequestError):
        if code == "resource_missing" or exc.http_status == 404:
            return NotFound(message, request_id=request_id)
        return InvalidRequest(message, code=code, param=exc.param, request_id=request_id)
    if exc.http_status is not None and exc.http_status >= 500:
        return StripeUnavailable(message, request_id=request_id)
    return GatewayError(message, request_id=request_id)


@contextlib.asynccontextmanager
async def _stripe_errors() -> AsyncIterator[None]:
    try:
        yield
    except stripe.StripeError as exc:
        raise _translate(exc) from exc


# --- conversions from Stripe's JSON to the portal's values ------------------------------------


def _time(value: Any) -> datetime | None:
    return datetime.fromtimestamp(int(value), UTC) if value is not None else None


def _address(data: Mapping[str, Any] | None) -> Address | None:
    if not data:
        return None
    return Address(
        line1=data.get("line1"),
        line2=data.get("line2"),
        postal_code=data.get("postal_code"),
        city=data.get("city"),
        state=data.get("state"),
        country=data.get("country"),
    )


def _id(value: Any) -> str | None:
    """An expandable field: either an id or the expanded object."""
    if value is None or isinstance(value, str):
        return value
    if isinstance(value, Mapping):
        return cast(str, value["id"])
    return cast(str | None, getattr(value, "id", None))  # a StripeObject (not a Mapping)


def customer_from_stripe(data: Mapping[str, Any]) -> Customer:
    settings = data.get("invoice_settings") or {}
    return Customer(
        id=data["id"],
        email=data.get("email"),
        name=data.get("name"),
        phone=data.get("phone"),
        address=_address(data.get("address")),
        preferred_locales=tuple(data.get("preferred_locales") or ()),
        default_payment_method_id=_id(settings.get("default_payment_method")),
    )


def line_from_stripe(data: Mapping[str, Any], currency: str) -> InvoiceLine:
    return InvoiceLine(
        id=data["id"],
        description=data.get("description"),
        quantity=data.get("quantity"),
        amount=data["amount"],
        currency=data.get("currency", currency),
    )


def invoice_from_stripe(data: Mapping[str, Any]) -> Invoice:
    lines = data.get("lines") or {}
    transitions = data.get("status_transitions") or {}
    total_taxes = data.get("total_taxes")
    tax = sum(t.get("amount", 0) for t in total_taxes) if total_taxes else int(data.get("tax") or 0)
    return Invoice(
        id=data["id"],
        customer_id=cast(str, _id(data["customer"])),
        number=data.get("number"),
        status=data["status"],
        currency=data["currency"],
        collection_method=data.get("collection_method") or "charge_automatically",
        created=cast(datetime, _time(data["created"])),
        due_date=_time(data.get("due_date")),
        amount_due=data["amount_due"],
        amount_paid=data["amount_paid"],
        amount_remaining=data["amount_remaining"],
        subtotal=data.get("subtotal", 0),
        tax=tax,
        total=data.get("total", 0),
        description=data.get("description"),
        customer_name=data.get("customer_name"),
        customer_email=data.get("customer_email"),
        hosted_invoice_url=data.get("hosted_invoice_url"),
        invoice_pdf=data.get("invoice_pdf"),
        finalized_at=_time(transitions.get("finalized_at")),
        paid_at=_time(transitions.get("paid_at")),
        voided_at=_time(transitions.get("voided_at")),
        lines=tuple(line_from_stripe(line, data["currency"]) for line in lines.get("data", ())),
        lines_complete=not lines.get("has_more", False),
        # `amounts_due` is a preview field the SDK does not type: read it as a plain key.
        installments=tuple(
            Installment(
                index=i,
                amount=part["amount"],
                amount_paid=part.get("amount_paid", 0),
                amount_remaining=part.get("amount_remaining", part["amount"]),
                due_date=_time(part.get("due_date")),
                description=part.get("description"),
                status=part.get("status", "open"),
                paid_at=_time(part.get("paid_at")),
            )
            for i, part in enumerate(data.get("amounts_due") or ())
        ),
    )


def invoice_payment_from_stripe(data: Mapping[str, Any]) -> InvoicePayment:
    payment = data.get("payment") or {}
    transitions = data.get("status_transitions") or {}
    return InvoicePayment(
        id=data["id"],
        invoice_id=cast(str, _id(data["invoice"])),
        amount_requested=data["amount_requested"],
        amount_paid=data.get("amount_paid"),
        currency=data["currency"],
        status=data["status"],
        is_default=bool(data.get("is_default")),
        payment_intent_id=_id(payment.get("payment_intent")),
        created=cast(datetime, _time(data["created"])),
        paid_at=_time(transitions.get("paid_at")),
    )


def payment_method_from_stripe(data: Mapping[str, Any]) -> PaymentMethod:
    kind = data["type"]
    details = data.get(kind) or {}
    return PaymentMethod(
        id=data["id"],
        type=kind,
        brand=details.get("display_brand") or details.get("brand"),
        last4=details.get("last4"),
        exp_month=details.get("exp_month"),
        exp_year=details.get("exp_year"),
        bank_code=details.get("bank_code"),
        country=details.get("country"),
        customer_id=_id(data.get("customer")),
    )


def payment_intent_from_stripe(data: Mapping[str, Any]) -> PaymentIntent:
    action = data.get("next_action") or {}
    redirect = action.get("redirect_to_url") or {}
    error = data.get("last_payment_error") or {}
    return PaymentIntent(
        id=data["id"],
        status=data["status"],
        amount=data["amount"],
        currency=data["currency"],
        action_url=redirect.get("url"),
        decline_code=error.get("decline_code") or error.get("code"),
        payment_method_id=_id(data.get("payment_method")),
        created=_time(data.get("created")),
    )


def checkout_session_from_stripe(data: Mapping[str, Any]) -> CheckoutSession:
    intent = data.get("setup_intent")
    return CheckoutSession(
        id=data["id"],
        customer_id=_id(data.get("customer")),
        mode=data["mode"],
        status=data.get("status") or "open",
        payment_method_id=_id(intent.get("payment_method"))
        if isinstance(intent, Mapping)
        else None,
        url=data.get("url"),
    )


def tax_id_from_stripe(data: Mapping[str, Any]) -> TaxId:
    verification = data.get("verification") or {}
    return TaxId(
        id=data["id"],
        type=data["type"],
        value=data["value"],
        country=data.get("country"),
        verification_status=verification.get("status"),
        verified_name=verification.get("verified_name"),
    )


def may_send_to(url: str, api_base: str) -> bool:
    """Where Stripe may send the portal or a customer on to: a file download's redirect (Stripe
    chooses its file storage), Checkout (possibly on the account's own domain), 3-D Secure and
    the bank behind it. Any host over HTTPS; plain HTTP only to the host of a configured
    non-Stripe API base, for the local sandbox, which serves those on other ports of loopback."""
    parts = urlsplit(url)
    if parts.scheme == "https":
        return bool(parts.hostname)
    api = urlsplit(api_base)
    return (
        api.hostname != "api.stripe.com"
        and bool(parts.hostname)
        and (parts.scheme, parts.hostname) == (api.scheme, api.hostname)
    )


def _plain(obj: Any) -> dict[str, Any]:
    return cast(dict[str, Any], obj.to_dict() if hasattr(obj, "to_dict") else dict(obj))


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


# --- the HTTP client under the SDK ------------------------------------------------------------


class _StripeHttp(stripe.HTTPXClient):
    """The SDK's HTTPX client, with two things Stripe's rate limits ask for
    (https://docs.stripe.com/rate-limits):

    - at most `max_in_flight` requests under way at once; the others wait their turn here
      rather than be refused by Stripe's concurrency limiter. A retry waits for its backoff
      without holding a place;
    - a 429 is retried with the SDK's backoff (0.5 s doubling, with jitter), like a 5xx. The
      SDK itself retries a 429 only when Stripe adds `Stripe-Should-Retry: true` (lock
      timeouts), not for `rate_limit`. Repeating is safe: Stripe refused the request before
      doing anything, and a repeated POST carries the same idempotency key.
    """

    def __init__(self, *, timeout: float, max_in_flight: int) -> None:
        super().__init__(timeout=timeout)
        self._slots = asyncio.Semaphore(max_in_flight)

    async def request_async(
        self, method: str, url: str, headers: Mapping[str, str], post_data: Any = None
    ) -> tuple[bytes, int, Mapping[str, str]]:
        async with self._slots:
            return await super().request_async(method, url, headers, post_data)

    def _should_retry(
        self,
        response: tuple[Any, int, Mapping[str, str] | None] | None,
        api_connection_error: stripe.APIConnectionError | None,
        num_retries: int,
        max_network_retries: int | None,
    ) -> bool:
        if response is not None and response[1] == 429 and num_retries < (max_network_retries or 0):
            headers = response[2] or {}
            return headers.get("stripe-should-retry") != "false"
        return bool(
            super()._should_retry(response, api_connection_error, num_retries, max_network_retries)
        )


# --- the gateway -----------------------------------------------------------------------------


class StripeGateway:
    """Async access to the Stripe account behind the portal."""

    def __init__(
        self,
        *,
        api_key: str,
        api_base: str = "https://api.stripe.com",
        timeout: float = 10.0,
        max_network_retries: int = 2,
        invoice_api_version: str = STRIPE_INVOICE_API_VERSION,
        max_concurrent_requests: int = STRIPE_MAX_CONCURRENT_REQUESTS,
    ) -> None:
        self._api_base = api_base.rstrip("/")
        # Sent with every read of invoices (see `_invoice_reads`); the rest of the requests go
        # with the version the SDK pins and types, so writes never meet preview behaviour.
        self._invoice_version = invoice_api_version
        self._http = _StripeHttp(timeout=timeout, max_in_flight=max_concurrent_requests)
        self._client = stripe.StripeClient(
            api_key,
            # The sandbox (and any Stripe-compatible server) answers for all three hosts.
            base_addresses={
                "api": self._api_base,
                "files": self._api_base,
                "connect": self._api_base,
            }
            if self._api_base != "https://api.stripe.com"
            else None,
            http_client=self._http,
            max_network_retries=max_network_retries,
        )
        self._files = httpx.AsyncClient(timeout=timeout, follow_redirects=False)

    async def aclose(self) -> None:
        await self._files.aclose()
        close: Any = self._http.close_async  # untyped in the SDK
        await close()

    @classmethod
    def sharing(cls, other: StripeGateway) -> StripeGateway:
        """A plain gateway on `other`'s connections (closing `other` closes them)."""
        plain = cls.__new__(cls)
        plain._api_base, plain._http = other._api_base, other._http
        plain._client, plain._files = other._client, other._files
        plain._invoice_version = other._invoice_version
        return plain

    def uncached(self) -> StripeGateway:
        """Reads straight from Stripe (see `portal.stripe_cache`): for webhooks, which must act
        on the object as it is now."""
        return self

    async def changed(self, customer_id: str) -> None:
        """The portal learned that this customer's data at Stripe changed (no cache: nothing)."""

    def _invoice_reads(self) -> stripe.RequestOptions:
        """Per-request options for reading invoices: with the preview API version, without
        which Stripe leaves out payment plans (`amounts_due`) and `automatically_finalizes_at`
        (https://docs.stripe.com/sdks/set-version)."""
        return {"stripe_version": self._invoice_version}

    async def _get(self, path: str, **params: Any) -> dict[str, Any]:
        """A read through the SDK's raw request: the same requestor (key, retries, errors),
        without building StripeObjects, which costs about a millisecond per invoice, the largest
        share of a page's own time. `path` ids are quoted (they may come from a form)."""
        async with _stripe_errors():
            response = await self._client.raw_request_async("get", path, **params)
        return cast(dict[str, Any], response.data)

    # --- customers ---

    async def get_customer(self, customer_id: str) -> Customer:
        data = await self._get(f"/v1/customers/{quote(customer_id, safe='')}")
        if data.get("deleted"):
            raise NotFound(f"customer {customer_id} is deleted")
        return customer_from_stripe(data)

    async def get_customers(self, customer_ids: tuple[str, ...]) -> list[Customer]:
        """Several customers at once, concurrently (one round trip's time), in the given order."""
        return list(await asyncio.gather(*(self.get_customer(c) for c in customer_ids)))

    async def find_customers_by_email(self, email: str) -> list[Customer]:
        """Every customer whose e-mail is `email`, ignoring case.

        Stripe's list filter is exact and case-sensitive, so the address as typed and its
        lower-case form are listed; search finds other spellings ("Anna.Schmidt@Example.de") but
        is eventually consistent and not offered in every region, so it only adds to the lists.
        All three run concurrently: one round trip.
        """
        variants = list(dict.fromkeys([email, email.lower()]))
        quoted = email.replace("\\", "\\\\").replace("'", "\\'")
        # Raw reads (no StripeObjects): the sign-in answer must take the same time whether or
        # not the address has customers, and building objects for them would show.
        listed, searched = await asyncio.gather(
            asyncio.gather(*(self._get("/v1/customers", email=v, limit=100) for v in variants)),
            self._search_customers(f"email:'{quoted}'"),
        )
        found: dict[str, Customer] = {}
        for item in [*(i for page in listed for i in page["data"]), *searched]:
            customer = customer_from_stripe(_plain(item))
            if (customer.email or "").lower() == email.lower():
                found.setdefault(customer.id, customer)
        return list(found.values())

    async def _search_customers(self, query: str) -> list[dict[str, Any]]:
        try:
            result = await self._get("/v1/customers/search", query=query, limit=100)
        except (InvalidRequest, NotFound):
            return []  # search is not available for this account: the lists still answer
        return list(result["data"])

    async def find_customers(self, text: str) -> list[Customer]:
        """Staff search: by customer id, e-mail address, invoice number or (part of a) name,
        all asked at once."""
        text = text.strip()
        quoted = text.replace("\\", "\\\\").replace("'", "\\'")

        async def by_id() -> list[Customer]:
            if not text.startswith("cus_"):
                return []
            try:
                return [await self.get_customer(text)]
            except NotFound:
                return []

        async def by_email() -> list[Customer]:
            return await self.find_customers_by_email(text) if "@" in text else []

        async def by_invoice_number() -> list[Customer]:
            async with _stripe_errors():
                try:
                    found = await self._client.v1.invoices.search_async(
                        {"query": f"number:'{quoted}'", "limit": 10}
                    )
                except stripe.InvalidRequestError:
                    return []
            ids = tuple(dict.fromkeys(str(_id(i.customer)) for i in found.data))
            return await self.get_customers(ids)

        async def by_name() -> list[Customer]:
            if len(text) < 3:  # Stripe's substring search needs three characters
                return []
            async with _stripe_errors():
                found = await self._search_customers(f"name~'{quoted}'")
            return [customer_from_stripe(_plain(item)) for item in found]

        groups = await asyncio.gather(by_id(), by_email(), by_invoice_number(), by_name())
        unique: dict[str, Customer] = {}
        for customer in (c for group in groups for c in group):
            unique.setdefault(customer.id, customer)
        return list(unique.values())

    # --- invoices ---

    async def list_invoices(
        self,
        customer_id: str,
        *,
        status: str | None = None,
        limit: int = 100,
        starting_after: str | None = None,
    ) -> Page[Invoice]:
        params: dict[str, Any] = {"customer": customer_id, "limit": limit}
        if status:
            params["status"] = status
        if starting_after:
            params["starting_after"] = starting_after
        page = await self._get("/v1/invoices", **params, **self._invoice_reads())
        return Page(
            items=tuple(invoice_from_stripe(item) for item in page["data"]),
            has_more=bool(page.get("has_more")),
        )

    async def all_open_invoices(self) -> list[Invoice]:
        """Every open invoice of the account, all customers, page by page (for reminders)."""
        found: list[Invoice] = []
        params: stripe.params.InvoiceListParams = {"status": "open", "limit": 100}
        async with _stripe_errors():
            while True:
                page = await self._client.v1.invoices.list_async(params, self._invoice_reads())
                found += [invoice_from_stripe(_plain(item)) for item in page.data]
                if not page.has_more or not page.data:
                    return found
                params["starting_after"] = page.data[-1].id

    async def get_invoice(self, invoice_id: str) -> Invoice:
        path = f"/v1/invoices/{quote(invoice_id, safe='')}"
        return invoice_from_stripe(await self._get(path, **self._invoice_reads()))

    async def get_invoice_with_lines(self, invoice_id: str) -> Invoice:
        """An invoice with every line, even when Stripe sent only the first page of them."""
        invoice = await self.get_invoice(invoice_id)
        if invoice.lines_complete:
            return invoice
        lines: list[InvoiceLine] = []
        cursor: str | None = None
        async with _stripe_errors():
            while True:
                params: stripe.params.InvoiceLineItemListParams = {"limit": 100}
                if cursor:
                    params["starting_after"] = cursor
                page = await self._client.v1.invoices.line_items.list_async(invoice_id, params)
                lines.extend(line_from_stripe(_plain(i), invoice.currency) for i in page.data)
                if not page.has_more or not page.data:
                    break
                cursor = page.data[-1].id
        return dataclasses.replace(invoice, lines=tuple(lines), lines_complete=True)

    async def invoice_page(self, invoice_id: str) -> tuple[Invoice, list[InvoicePayment]]:
        """An invoice with its lines and its payments, read at the same time. The caller checks
        that the invoice is the customer's before showing any of it."""
        invoice, payments = await asyncio.gather(
            self.get_invoice_with_lines(invoice_id), self.list_invoice_payments(invoice_id)
        )
        return invoice, payments

    async def list_invoice_payments(self, invoice_id: str) -> list[InvoicePayment]:
        page = await self._get("/v1/invoice_payments", invoice=invoice_id, limit=100)
        return [invoice_payment_from_stripe(item) for item in page["data"]]

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
        if not self._is_stripe_url(invoice.invoice_pdf):
            # The URL comes from Stripe; refusing any other host keeps the portal from being
            # turned into a fetcher of arbitrary URLs should that ever not hold.
            raise GatewayError(f"unexpected PDF host in {invoice.invoice_pdf!r}")
        url = invoice.invoice_pdf
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
            raise NotFound(f"no PDF for invoice {invoice.id}")
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

    # --- payment methods ---

    async def list_payment_methods(self, customer_id: str) -> list[PaymentMethod]:
        page = await self._get(
            f"/v1/customers/{quote(customer_id, safe='')}/payment_methods", limit=100
        )
        return [payment_method_from_stripe(item) for item in page["data"]]

    async def set_default_payment_method(self, customer_id: str, payment_method_id: str) -> None:
        """The method Stripe charges for this customer's invoices by default."""
        async with _stripe_errors():
            await self._client.v1.customers.update_async(
                customer_id, {"invoice_settings": {"default_payment_method": payment_method_id}}
            )

    async def detach_payment_method(self, customer_id: str, payment_method_id: str) -> None:
        """Remove one of `customer_id`'s payment methods (the id says whose data changes)."""
        async with _stripe_errors():
            await self._client.v1.payment_methods.detach_async(payment_method_id)

    async def start_adding_payment_method(
        self,
        customer_id: str,
        *,
        success_url: str,
        cancel_url: str,
        locale: str,
        for_currency: str = "eur",
    ) -> CheckoutSession:
        """A Checkout Session in setup mode, hosted by Stripe, so card data never touches the
        portal; its `url` is where to send the customer. SEPA Direct Debit is offered only when
        the method is for euro payments, the only currency it can pay.

        `payment_method_types` is gone from Checkout since 2026-09-30.endive: the account's
        payment method settings decide, and `allowed_payment_method_types` only narrows them
        (a type the account has not turned on is not offered even when listed)."""
        params: stripe.params.checkout.SessionCreateParams = {
            "mode": "setup",
            "customer": customer_id,
            "currency": for_currency,
            "allowed_payment_method_types": ["card", "sepa_debit"]
            if for_currency == "eur"
            else ["card"],
            "success_url": success_url,
            "cancel_url": cancel_url,
            "locale": locale,
        }
        async with _stripe_errors():
            session = await self._client.v1.checkout.sessions.create_async(params)
        if not session.url:
            raise GatewayError("Checkout returned no URL")
        return checkout_session_from_stripe(_plain(session))

    async def get_checkout_session(self, session_id: str) -> CheckoutSession:
        async with _stripe_errors():
            data = _plain(
                await self._client.v1.checkout.sessions.retrieve_async(
                    session_id, {"expand": ["setup_intent"]}
                )
            )
        return checkout_session_from_stripe(data)

    async def added_payment_method(self, session_id: str, customer_id: str) -> str | None:
        """The payment method a completed setup Checkout Session saved for this customer."""
        session = await self.get_checkout_session(session_id)
        if session.customer_id != customer_id or session.status != "complete":
            return None
        return session.payment_method_id

    async def get_payment_method(self, payment_method_id: str) -> PaymentMethod:
        async with _stripe_errors():
            data = await self._client.v1.payment_methods.retrieve_async(payment_method_id)
        return payment_method_from_stripe(_plain(data))

    async def get_invoice_payment(self, invoice_payment_id: str) -> InvoicePayment:
        async with _stripe_errors():
            data = await self._client.v1.invoice_payments.retrieve_async(invoice_payment_id)
        return invoice_payment_from_stripe(_plain(data))

    async def get_tax_id(self, customer_id: str, tax_id: str) -> TaxId:
        async with _stripe_errors():
            data = await self._client.v1.customers.tax_ids.retrieve_async(customer_id, tax_id)
        return tax_id_from_stripe(_plain(data))

    async def update_billing_details(
        self, customer_id: str, *, name: str, address: Address, phone: str | None
    ) -> Customer:
        """Name, address and phone for future invoices (issued ones keep theirs: Stripe froze
        them at finalization). Empty optional fields are cleared with Stripe's empty string."""
        params: stripe.params.CustomerUpdateParams = {
            "name": name,
            "phone": phone or "",
            "address": {
                "line1": address.line1 or "",
                "line2": address.line2 or "",
                "postal_code": address.postal_code or "",
                "city": address.city or "",
                "state": address.state or "",
                "country": address.country or "",
            },
        }
        async with _stripe_errors():
            data = await self._client.v1.customers.update_async(customer_id, params)
        return customer_from_stripe(_plain(data))

    async def set_email(self, customer_id: str, email: str) -> None:
        async with _stripe_errors():
            await self._client.v1.customers.update_async(customer_id, {"email": email})

    async def set_preferred_locales(self, customer_id: str, locales: list[str]) -> None:
        """The languages Stripe uses for this customer's own e-mails and PDFs, first first."""
        async with _stripe_errors():
            await self._client.v1.customers.update_async(
                customer_id, {"preferred_locales": locales}
            )

    async def add_tax_id(self, customer_id: str, *, type: str, value: str) -> TaxId:
        params: stripe.params.CustomerTaxIdCreateParams = {"type": type, "value": value}
        async with _stripe_errors():
            data = await self._client.v1.customers.tax_ids.create_async(customer_id, params)
        return tax_id_from_stripe(_plain(data))

    async def delete_tax_id(self, customer_id: str, tax_id: str) -> None:
        async with _stripe_errors():
            await self._client.v1.customers.tax_ids.delete_async(customer_id, tax_id)

    async def list_tax_ids(self, customer_id: str) -> list[TaxId]:
        page = await self._get(f"/v1/customers/{quote(customer_id, safe='')}/tax_ids", limit=100)
        return [tax_id_from_stripe(item) for item in page["data"]]

    # --- money ---

    async def pay_invoice(
        self, invoice_id: str, *, payment_method_id: str, idempotency_key: str
    ) -> Invoice:
        """Pay an invoice's whole remaining amount with a saved payment method."""
        async with _stripe_errors():
            data = await self._client.v1.invoices.pay_async(
                invoice_id,
                # The customer pressed "Pay": on-session, so a bank that wants 3-D Secure
                # gets it (the error names the invoice's PaymentIntent to confirm) rather
                # than an off-session exemption being asked for.
                {"payment_method": payment_method_id, "off_session": False},
                {"idempotency_key": idempotency_key},
            )
        return invoice_from_stripe(_plain(data))

    async def pay_part_of_invoice(
        self,
        *,
        invoice_id: str,
        customer_id: str,
        currency: str,
        amount: int,
        payment_method_id: str,
        idempotency_key: str,
        return_url: str,
    ) -> PaymentIntent:
        """Pay `amount` of an invoice (installments): a PaymentIntent attached to the invoice.

        The PaymentIntent is attached before it is confirmed, so that a charge that succeeds is
        always counted on the invoice, even if the portal stops between the two calls. Each step
        has its own key derived from `idempotency_key`, so a retry of the whole sequence repeats
        nothing. The customer is present, so the confirmation is on-session with a `return_url`:
        a bank that wants 3-D Secure gets a redirect (`action_url`) instead of a decline.
        """
        if amount <= 0:
            raise ValueError("amount must be positive")
        async with _stripe_errors():
            intent = await self._client.v1.payment_intents.create_async(
                {
                    "amount": amount,
                    "currency": currency,
                    "customer": customer_id,
                    "payment_method": payment_method_id,
                    "metadata": {"invoice": invoice_id},
                },
                {"idempotency_key": f"{idempotency_key}:create"},
            )
            await self._client.v1.invoices.attach_payment_async(
                invoice_id,
                {"payment_intent": intent.id},
                {"idempotency_key": f"{idempotency_key}:attach"},
            )
            confirmed = await self._client.v1.payment_intents.confirm_async(
                intent.id,
                {"payment_method": payment_method_id, "return_url": return_url},
                {"idempotency_key": f"{idempotency_key}:confirm"},
            )
        return payment_intent_from_stripe(_plain(confirmed))

    async def authenticate_payment(
        self, payment_intent_id: str, *, return_url: str, idempotency_key: str
    ) -> PaymentIntent:
        """Ask Stripe for the page where the customer confirms a payment with their bank: an
        invoice's PaymentIntent left in `requires_action` by `invoices.pay` is confirmed again
        with a `return_url`, which makes its next action a redirect."""
        async with _stripe_errors():
            confirmed = await self._client.v1.payment_intents.confirm_async(
                payment_intent_id,
                {"return_url": return_url},
                {"idempotency_key": idempotency_key},
            )
        return payment_intent_from_stripe(_plain(confirmed))

    async def get_payment_intent(self, payment_intent_id: str) -> PaymentIntent:
        async with _stripe_errors():
            data = await self._client.v1.payment_intents.retrieve_async(payment_intent_id)
        return payment_intent_from_stripe(_plain(data))

    # --- webhooks ---

    def verify_webhook(self, payload: bytes, signature: str | None, secret: str) -> WebhookEvent:
        """Check `Stripe-Signature` over the raw body (Stripe's 300 s tolerance) and parse it."""
        try:
            event = self._client.construct_event(
                payload, signature, secret, WEBHOOK_TOLERANCE_SECONDS
            )
        except (stripe.SignatureVerificationError, ValueError) as exc:
            raise WebhookSignatureInvalid(str(exc)) from exc
        except (AttributeError, TypeError, KeyError) as exc:  # signed, but not an object
            raise WebhookMalformed(str(exc)) from exc
        try:
            return _event_from_stripe(event)
        except (AttributeError, TypeError, KeyError, ValueError) as exc:
            raise WebhookMalformed(str(exc)) from exc


def _event_from_stripe(event: Any) -> WebhookEvent:
    """The parts of an event the portal acts on; anything else in its shape is an error."""
    obj = _plain(event.data.object)
    object_type = obj.get("object", "")
    customer = obj.get("id") if object_type == "customer" else _id(obj.get("customer"))
    if customer is None:  # a detached payment method names its customer only as it was
        before = _plain(getattr(event.data, "previous_attributes", None) or {})
        customer = _id(before.get("customer"))
    if not isinstance(event.id, str) or not isinstance(event.type, str):
        raise ValueError("an event has a string id and type")
    created = _time(event.created)
    if created is None:
        raise ValueError("an event has a creation time")
    return WebhookEvent(
        id=event.id,
        type=event.type,
        object_type=object_type,
        object_id=obj.get("id"),
        customer_id=customer,
        created=created,
    )
