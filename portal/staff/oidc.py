"""Staff sign-in with OpenID Connect: authorization code flow with PKCE (S256), `state` and
`nonce`, against the issuer of PORTAL_STAFF_OIDC_ISSUER (its discovery document).

Authlib's OAuth 2 client builds the authorization URL and redeems the code; the ID token is then
checked here with joserfc (Authlib's own JOSE library): the provider's signature (its published
keys), `iss`, `aud` (and `azp`), `exp`/`iat`, the `nonce` this browser was given, and
`auth_time`, which decides whether a sign-in is fresh enough to start viewing as a customer:
when the provider was asked for a new sign-in (`max_age`), `auth_time` must show one, since
a provider may ignore the request and answer with the session it has (OpenID Connect Core
3.1.2.1 leaves that check to the relying party).
"""

from __future__ import annotations

import time
from dataclasses import dataclass
from datetime import UTC, datetime
from typing import TYPE_CHECKING, Any

import httpx

from portal.settings import Settings

if TYPE_CHECKING:  # imported on the first staff sign-in: customers' processes need neither
    from authlib.integrations.httpx_client import AsyncOAuth2Client
    from joserfc.jwk import KeySet

DISCOVERY_TTL = 3600.0
ALGORITHMS = ["RS256", "RS384", "RS512", "PS256", "ES256", "ES384"]
CLOCK_SKEW = 60  # seconds allowed between our clock and the provider's
# Asking for a new sign-in (to start viewing as a customer): none older than the request.
REAUTHENTICATION_MAX_AGE = 0


class SignInFailed(Exception):
    """The provider's answer did not prove who signed in: no session is made."""


@dataclass(frozen=True)
class Provider:
    issuer: str
    authorization_endpoint: str
    token_endpoint: str
    jwks_uri: str


_discovered: dict[str, tuple[float, Provider]] = {}


async def provider(settings: Settings) -> Provider:
    """The issuer's discovery document (cached for an hour per process)."""
    issuer = settings.staff_oidc_issuer
    if issuer is None:
        raise SignInFailed("no staff sign-in configured")
    cached = _discovered.get(issuer)
    if cached and time.monotonic() - cached[0] < DISCOVERY_TTL:
        return cached[1]
    async with httpx.AsyncClient(timeout=10) as http:
        answer = await http.get(f"{issuer.rstrip('/')}/.well-known/openid-configuration")
    answer.raise_for_status()
    meta = answer.json()
    if meta.get("issuer") != issuer:  # OpenID Connect Discovery 1.0, section 4.3
        raise SignInFailed(f"discovery names issuer {meta.get('issuer')!r}, not {issuer!r}")
    found = Provider(
        meta["issuer"], meta["authorization_endpoint"], meta["token_endpoint"], meta["jwks_uri"]
    )
    _discovered[issuer] = (time.monotonic(), found)
    return found


def _client(settings: Settings, redirect_uri: str) -> AsyncOAuth2Client:
    # Imported on the first staff sign-in, not when a process starts: Authlib is about 12 MB
    # of resident memory that a process no staff member signs in through never needs.
    from authlib.integrations.httpx_client import AsyncOAuth2Client

    return AsyncOAuth2Client(
        client_id=settings.staff_oidc_client_id,
        client_secret=settings.staff_oidc_client_secret,
        scope=settings.staff_oidc_scopes,
        redirect_uri=redirect_uri,
        code_challenge_method="S256",
        timeout=10,
    )


async def authorization_url(
    settings: Settings,
    *,
    redirect_uri: str,
    state: str,
    nonce: str,
    code_verifier: str,
    fresh: bool,
) -> str:
    """Where to send the browser. `fresh` asks the provider to make the person sign in again
    (`max_age=0`, `prompt=login`): starting to view as a customer needs a recent sign-in."""
    found = await provider(settings)
    extra: dict[str, Any] = (
        {"max_age": REAUTHENTICATION_MAX_AGE, "prompt": "login"} if fresh else {}
    )
    async with _client(settings, redirect_uri) as client:
        url, _ = client.create_authorization_url(
            found.authorization_endpoint,
            state=state,
            nonce=nonce,
            code_verifier=code_verifier,
            **extra,
        )
    return str(url)


async def redeem(
    settings: Settings, *, redirect_uri: str, code: str, code_verifier: str, nonce: str
) -> dict[str, Any]:
    """The verified ID token's claims for an authorization code."""
    found = await provider(settings)
    try:
        async with _client(settings, redirect_uri) as client:
            token = await client.fetch_token(
                found.token_endpoint, code=code, code_verifier=code_verifier
            )
            keys = (await client.get(found.jwks_uri)).json()
    except (httpx.HTTPError, ValueError) as exc:
        raise SignInFailed(f"token exchange failed: {exc}") from exc
    except Exception as exc:  # Authlib raises its OAuthError for an error answer
        raise SignInFailed(f"token exchange refused: {exc}") from exc
    id_token = token.get("id_token")
    if not id_token:
        raise SignInFailed("the provider sent no ID token")
    from joserfc.jwk import KeySet

    return verify_id_token(
        id_token, KeySet.import_key_set(keys), issuer=found.issuer, settings=settings, nonce=nonce
    )


def verify_id_token(
    id_token: str, keys: KeySet, *, issuer: str, settings: Settings, nonce: str
) -> dict[str, Any]:
    from joserfc import jwt
    from joserfc.errors import JoseError

    client_id = settings.staff_oidc_client_id or ""
    try:
        decoded = jwt.decode(id_token, keys, algorithms=ALGORITHMS)
        jwt.JWTClaimsRegistry(
            leeway=CLOCK_SKEW,
            iss={"essential": True, "value": issuer},
            aud={"essential": True, "value": client_id},
            sub={"essential": True},
            exp={"essential": True},
            iat={"essential": True},
            nonce={"essential": True, "value": nonce},
        ).validate(decoded.claims)
    except (JoseError, ValueError) as exc:
        raise SignInFailed(f"ID token refused: {exc}") from exc
    claims = dict(decoded.claims)
    audiences = claims["aud"] if isinstance(claims["aud"], list) else [claims["aud"]]
    if len(audiences) > 1 and claims.get("azp") != client_id:  # OIDC Core 3.1.3.7, 4-5
        raise SignInFailed("ID token for several audiences without our azp")
    return claims


def auth_time(claims: dict[str, Any]) -> datetime:
    """When the person last signed in at the provider; without the claim, long ago (so that
    viewing as a customer asks for a fresh sign-in, which makes the provider send it)."""
    value = claims.get("auth_time")
    if isinstance(value, (int, float)):
        return datetime.fromtimestamp(value, UTC)
    return datetime.fromtimestamp(0, UTC)


def signed_in_anew(
    claims: dict[str, Any], *, asked_at: datetime, now: datetime, max_age: int
) -> bool:
    """Whether the ID token answers a request for a sign-in no older than `max_age` seconds,
    made at `asked_at`: its `auth_time` is no earlier than that, nor later than `now`, each
    give or take `CLOCK_SKEW`. Without an `auth_time` nothing shows a new sign-in."""
    value = claims.get("auth_time")
    if not isinstance(value, (int, float)) or isinstance(value, bool):
        return False
    earliest = asked_at.timestamp() - max_age - CLOCK_SKEW
    return earliest <= value <= now.timestamp() + CLOCK_SKEW
