"""The OpenID Connect test provider behaves as the staff sign-in tests assume: a full authorization
code flow with PKCE, state and nonce, ID tokens with the claims the portal reads, re-login on
request, and faults that leave the signature valid."""

from __future__ import annotations

import secrets
import time
from collections.abc import Iterator
from dataclasses import dataclass
from typing import Any
from urllib.parse import parse_qs, urlsplit

import httpx
import pytest
from authlib.common.security import generate_token
from authlib.integrations.httpx_client import OAuth2Client
from joserfc import jwt
from joserfc.jwk import KeySet

from tests.support.oidc_provider import OidcProvider, serve_oidc_provider

# Nothing listens here: log_in hands back the redirect instead of following it.
REDIRECT_URI = "http://127.0.0.1:9/staff/callback"


@dataclass
class SignIn:
    claims: dict[str, Any]
    nonce: str


@pytest.fixture
def provider() -> Iterator[OidcProvider]:
    with serve_oidc_provider(redirect_uris=[REDIRECT_URI]) as provider:
        yield provider


@pytest.fixture
def browser() -> Iterator[httpx.Client]:
    with httpx.Client(timeout=10) as client:
        yield client


def sign_in(
    provider: OidcProvider, browser: httpx.Client, user: str = "anna", **params: object
) -> SignIn:
    """What the portal will do: discovery, authorization URL, the person's login, code exchange,
    then the ID token's signature checked against the provider's published keys."""
    meta = httpx.get(f"{provider.issuer}/.well-known/openid-configuration").json()
    verifier = generate_token(48)
    nonce = secrets.token_urlsafe(16)
    with OAuth2Client(
        client_id=provider.client_id,
        client_secret=provider.client_secret,
        scope="openid email profile groups",
        redirect_uri=REDIRECT_URI,
        code_challenge_method="S256",
        timeout=10,
    ) as rp:
        url, state = rp.create_authorization_url(
            meta["authorization_endpoint"], code_verifier=verifier, nonce=nonce, **params
        )
        location = provider.log_in(browser, url, user)
        assert location.startswith(f"{REDIRECT_URI}?"), location
        answer = parse_qs(urlsplit(location).query)
        assert answer["state"] == [state]
        assert answer["iss"] == [provider.issuer]  # RFC 9207
        token = rp.fetch_token(
            meta["token_endpoint"], code=answer["code"][0], code_verifier=verifier
        )
    keys = KeySet.import_key_set(httpx.get(meta["jwks_uri"]).json())
    decoded = jwt.decode(token["id_token"], keys, algorithms=["RS256"])
    return SignIn(dict(decoded.claims), nonce)


def test_code_flow_with_pkce_gives_an_id_token_with_the_portal_claims(
    provider: OidcProvider, browser: httpx.Client
) -> None:
    before = int(time.time())

    signed_in = sign_in(provider, browser)

    claims = signed_in.claims
    assert claims["iss"] == provider.issuer
    assert claims["aud"] == provider.client_id
    assert claims["nonce"] == signed_in.nonce
    assert claims["sub"] == "anna"
    assert claims["email"] == "anna@example.com"
    assert claims["email_verified"] is True
    assert claims["name"] == "Anna Support"
    assert claims["groups"] == ["billing-support"]
    assert before - 1 <= claims["auth_time"] <= time.time() + 1


def test_refused_consent_comes_back_as_access_denied(
    provider: OidcProvider, browser: httpx.Client
) -> None:
    with OAuth2Client(
        client_id=provider.client_id, redirect_uri=REDIRECT_URI, code_challenge_method="S256"
    ) as rp:
        url, state = rp.create_authorization_url(
            f"{provider.issuer}/auth", code_verifier=generate_token(48), nonce="n", scope="openid"
        )

    location = provider.log_in(browser, url, "anna", consent=False)

    answer = parse_qs(urlsplit(location).query)
    assert answer["error"] == ["access_denied"]
    assert answer["state"] == [state]


def test_faulty_audience_is_signed_by_the_provider_and_only_once(
    provider: OidcProvider, browser: httpx.Client
) -> None:
    provider.fault(aud="someone-else")

    faulty = sign_in(provider, browser)  # jwt.decode checked the signature
    normal = sign_in(provider, browser)

    assert faulty.claims["aud"] == "someone-else"
    assert faulty.claims["nonce"] == faulty.nonce
    assert normal.claims["aud"] == provider.client_id


def test_cleared_fault_is_not_applied(provider: OidcProvider, browser: httpx.Client) -> None:
    provider.fault(nonce=None)
    provider.clear_faults()

    signed_in = sign_in(provider, browser)

    assert signed_in.claims["nonce"] == signed_in.nonce


@pytest.mark.parametrize(
    "fresh",
    [{"max_age": 0}, {"prompt": "login"}, {"max_age": 0, "prompt": "login"}],
    ids=["max_age", "prompt", "both"],
)
def test_fresh_login_is_asked_for_even_with_a_session(
    provider: OidcProvider, browser: httpx.Client, fresh: dict[str, object]
) -> None:
    first = sign_in(provider, browser)
    time.sleep(1.1)  # auth_time has a resolution of one second

    # The session answers at once: no login form, so the user named here is never used.
    again = sign_in(provider, browser, user="mallory")
    fresh_login = sign_in(provider, browser, user="anna", **fresh)

    assert again.claims["sub"] == "anna"
    assert again.claims["auth_time"] == first.claims["auth_time"]
    assert fresh_login.claims["sub"] == "anna"
    assert fresh_login.claims["auth_time"] > first.claims["auth_time"]


def test_a_provider_ignoring_reauthentication_answers_from_its_aged_session(
    provider: OidcProvider, browser: httpx.Client
) -> None:
    """What the portal must catch: asked for a new sign-in, this provider sends back the one it
    has, whose auth_time is the old sign-in's (aged as if 20 minutes had passed there)."""
    first = sign_in(provider, browser)
    provider.age_sessions(20 * 60)
    provider.honour_reauthentication(False)
    try:
        again = sign_in(provider, browser, user="mallory", max_age=0, prompt="login")
    finally:
        provider.honour_reauthentication(True)
        provider.age_sessions(0)

    assert again.claims["sub"] == "anna"  # no login form was shown
    assert again.claims["auth_time"] == first.claims["auth_time"] - 20 * 60
