"""The door every /v1 call goes through: stats, rate limits, latency, injected faults, API keys
and a restricted key's permissions, form decoding, idempotency, `expand[]`, and Stripe-shaped
errors with a `Request-Id`.

Handlers are plain synchronous functions `(ApiRequest) -> dict` that read and change the store;
they run one at a time under the store's lock, so each call is atomic.
"""

from __future__ import annotations

import asyncio
import base64
import hashlib
import json
import logging
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

from starlette.requests import ClientDisconnect, Request
from starlette.responses import Response

from stripe_sandbox import expand, ids, rate_limits
from stripe_sandbox.errors import StripeError, authentication_failed, injected, invalid_request
from stripe_sandbox.forms import parse_form
from stripe_sandbox.params import Params, get_str_list
from stripe_sandbox.permissions import RESTRICTED_PREFIX, RestrictedKey
from stripe_sandbox.store import JSON, IdempotentResult, RequestInfo, Store, current_request

log = logging.getLogger(__name__)

IDEMPOTENCY_TTL_S = 24 * 60 * 60
# Any secret test key is the account's (full access); restricted keys exist only once made by
# POST /_sandbox/keys, as at Stripe, where an unknown key is refused.
FULL_ACCESS_PREFIX = "sk_test_"


@dataclass
class ApiRequest:
    store: Store
    params: Params
    path: dict[str, str]
    method: str
    url: str  # the request path, e.g. /v1/customers/cus_123

    def path_id(self, name: str) -> str:
        return self.path[name]


Handler = Callable[[ApiRequest], JSON]
Endpoint = Callable[[Request], Any]


def endpoint(store: Store, method: str, template: str, handler: Handler) -> Endpoint:
    label = f"{method} {template}"

    async def serve(request: Request) -> Response:
        return await dispatch(store, label, handler, request, routed=True)

    serve.__name__ = f"api:{label}"
    return serve


def unknown_endpoint(store: Store) -> Endpoint:
    def handler(call: ApiRequest) -> JSON:
        raise invalid_request(
            f"Unrecognized request URL ({call.method}: {call.url}). Please see "
            "https://stripe.com/docs or we can help at https://support.stripe.com/.",
            status=404,
        )

    async def serve(request: Request) -> Response:
        label = f"{request.method} (unknown)"
        return await dispatch(store, label, handler, request, routed=False)

    return serve


async def dispatch(
    store: Store, label: str, handler: Handler, request: Request, *, routed: bool
) -> Response:
    """`routed`: the request matched a route of the API table (whose permission a restricted key
    needs); an unknown URL is answered 404 whatever the key."""
    store.stats[label] += 1
    target = request.url.path + (f"?{request.url.query}" if request.url.query else "")
    store.requests.append((request.method, target, request.headers.get("stripe-version")))
    limited = rate_limits.check(store, label)
    if limited is not None:
        return limited
    key = request.headers.get("idempotency-key") if request.method == "POST" else None
    if key is None:
        return await _dispatch(store, label, handler, request, None, routed)
    # As at Stripe, a request whose key is still being answered is refused at once (409, which
    # the SDK retries), not queued behind the first. The key is claimed before the injected
    # latency, which stands for Stripe's processing time; check and claim happen without an
    # await in between, so two requests cannot both claim it.
    if key in store.idempotency_in_flight:
        headers = {"Request-Id": ids.request_id(), "Stripe-Version": store.config.api_version}
        return _error_response(_key_in_use(key), headers | {"Idempotency-Key": key})
    store.idempotency_in_flight.add(key)
    try:
        return await _dispatch(store, label, handler, request, key, routed)
    finally:
        store.idempotency_in_flight.discard(key)


async def _dispatch(
    store: Store, label: str, handler: Handler, request: Request, key: str | None, routed: bool
) -> Response:
    if store.latency_ms > 0:
        await asyncio.sleep(store.latency_ms / 1000)
    request_id = ids.request_id()
    headers = {"Request-Id": request_id, "Stripe-Version": store.config.api_version}
    try:
        fault = _take_fault(store, label)
        if fault is not None:
            raise injected(fault)
        restricted = _authenticate(store, request)
        if restricted is not None and routed:
            restricted.require_route(label)
        params = await _read_params(request)
    except StripeError as error:
        return _error_response(error, headers)
    except ClientDisconnect:
        # The client left before sending its whole request (a process stopping mid-call):
        # nothing was done, and nobody reads an answer (499: nginx's code for it).
        return Response(status_code=499)

    info = RequestInfo(
        request_id=request_id,
        idempotency_key=key,
        api_version=request.headers.get("stripe-version") or store.config.api_version,
        base_url=str(request.base_url),
    )
    call = ApiRequest(
        store=store,
        params=params,
        path=dict(request.path_params),
        method=request.method,
        url=request.url.path,
    )
    if key is None:
        status, body, _ = await _execute(store, handler, call, info, restricted)
        return _response(status, body, headers)

    headers["Idempotency-Key"] = key
    fingerprint = _fingerprint(request.method, request.url.path, params)
    _forget_expired(store)
    saved = store.idempotency.get(key)
    if saved is not None:
        if saved.fingerprint != fingerprint:
            mismatch = StripeError(
                400,
                "idempotency_error",
                "Keys for idempotent requests can only be used with the same parameters "
                "they were first used with. Try using a key other than "
                f"'{key}' if you meant to execute a different request.",
            )
            return _error_response(mismatch, headers)
        headers["Idempotent-Replayed"] = "true"
        return Response(saved.body, saved.status, headers, media_type="application/json")
    status, body, keep = await _execute(store, handler, call, info, restricted)
    encoded = _encode(body)
    if keep:
        created = store.precise_now()
        store.idempotency[key] = IdempotentResult(fingerprint, status, encoded, created)
    return Response(encoded, status, headers, media_type="application/json")


def _key_in_use(key: str) -> StripeError:
    return StripeError(
        409,
        "invalid_request_error",
        "There is currently another in-progress request using this Idempotent Key (that "
        "probably means you submitted twice, and the other request is still going through): "
        f"{key}. Please try again later.",
        code="idempotency_key_in_use",
    )


async def _execute(
    store: Store,
    handler: Handler,
    call: ApiRequest,
    info: RequestInfo,
    restricted: RestrictedKey | None,
) -> tuple[int, JSON, bool]:
    """Run the handler; returns status, body, and whether an idempotency key may keep them."""
    async with store.lock:
        token = current_request.set(info)
        try:
            store.run_due()
            body = handler(call)
            paths = get_str_list(call.params, "expand") or []
            if paths and restricted is not None:
                # Checked as the objects are expanded: a write asked to expand what the key may
                # not read has already happened when the 403 answers it.
                body = expand.apply(store, body, paths, restricted.require_expansion)
            elif paths:
                body = expand.apply(store, body, paths)
            return 200, body, True
        except StripeError as error:
            return error.status, error.body(), error.store_for_idempotency
        except Exception:
            log.exception("sandbox handler failed")
            failure = StripeError(500, "api_error", "An unknown error occurred in the sandbox.")
            return 500, failure.body(), True
        finally:
            # Follow-up work (settling a debit, verifying a tax ID) happens after the answer was
            # rendered, as it does at Stripe, and its events come after the request's own.
            try:
                store.run_deferred()
            finally:
                current_request.reset(token)


def _take_fault(store: Store, label: str) -> int | None:
    for fault in store.faults:
        if fault.remaining > 0 and (fault.match is None or label.startswith(fault.match)):
            fault.remaining -= 1
            return fault.status
    store.faults[:] = [fault for fault in store.faults if fault.remaining > 0]
    return None


def _authenticate(store: Store, request: Request) -> RestrictedKey | None:
    """The restricted key the request uses (None: a secret key, which may do anything)."""
    header = request.headers.get("authorization", "")
    scheme, _, credentials = header.partition(" ")
    key = ""
    if scheme.lower() == "bearer":
        key = credentials.strip()
    elif scheme.lower() == "basic":
        try:
            key = base64.b64decode(credentials).decode().partition(":")[0]
        except ValueError:
            key = ""
    if not key:
        raise authentication_failed(
            "You did not provide an API key. You need to provide your API key in the "
            "Authorization header, using Bearer auth (e.g. 'Authorization: Bearer "
            "YOUR_SECRET_KEY'). See https://stripe.com/docs/api#authentication for details, "
            "or we can help at https://support.stripe.com/."
        )
    if key.startswith(RESTRICTED_PREFIX):
        restricted = store.restricted_keys.get(key)
        if restricted is None:
            raise _invalid_key(key)
        return restricted
    if not key.startswith(FULL_ACCESS_PREFIX):
        raise _invalid_key(key)
    return None


def _invalid_key(key: str) -> StripeError:
    shown = key[:8] + "*" * max(0, len(key) - 12) + key[-4:] if len(key) > 12 else key
    return authentication_failed(f"Invalid API Key provided: {shown}")


async def _read_params(request: Request) -> Params:
    params = parse_form(request.url.query)
    if request.method in ("POST", "DELETE"):
        body = await request.body()
        if body:
            params.update(parse_form(body))
    return params


def _fingerprint(method: str, path: str, params: Params) -> str:
    text = json.dumps([method, path, params], sort_keys=True)
    return hashlib.sha256(text.encode()).hexdigest()


def _forget_expired(store: Store) -> None:
    """Keys live 24 hours on the sandbox clock, so a test can move past the boundary."""
    cutoff = store.precise_now() - IDEMPOTENCY_TTL_S
    for key in [k for k, v in store.idempotency.items() if v.created <= cutoff]:
        del store.idempotency[key]


def _encode(body: JSON) -> bytes:
    return json.dumps(body, separators=(",", ":")).encode()


def _response(status: int, body: JSON, headers: dict[str, str]) -> Response:
    return Response(_encode(body), status, headers, media_type="application/json")


def _error_response(error: StripeError, headers: dict[str, str]) -> Response:
    return _response(error.status, error.body(), headers)
