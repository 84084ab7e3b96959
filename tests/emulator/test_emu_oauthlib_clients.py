"""requests-oauthlib, unmodified, against the fake providers' desktop clients."""

from __future__ import annotations

from urllib.parse import parse_qs, urlsplit

import pytest
import requests
from requests_oauthlib import OAuth1Session, OAuth2Session
from requests_oauthlib.oauth1_session import TokenRequestDenied

from backendless_auth.emulator import Emulator

LOOPBACK = "http://127.0.0.1:53682/callback"  # any port: the desktop client is RFC 8252


@pytest.fixture(autouse=True)
def _http_allowed(monkeypatch: pytest.MonkeyPatch) -> None:
    # requests-oauthlib refuses plain http unless told; the emulator is loopback only.
    monkeypatch.setenv("OAUTHLIB_INSECURE_TRANSPORT", "1")


def choose(url: str, account_id: str) -> str:
    """Play the person: pick the account on the sign-in page; return the loopback redirect."""
    http = requests.Session()
    assert http.get(url, timeout=10).status_code == 200
    resp = http.post(
        url, data={"action": "choose", "account": account_id}, allow_redirects=False, timeout=10
    )
    assert resp.status_code == 302, resp.text
    return resp.headers["Location"]


@pytest.mark.parametrize("provider", ["google", "facebook", "github", "linkedin"])
@pytest.mark.parametrize("public", [True, False])
def test_oauth2_session_with_pkce(emu: Emulator, provider: str, public: bool) -> None:
    ep = emu.oauth2_endpoints(provider)
    acct = emu.add_account(provider, email=f"{provider}@example.com", name="Pat Doe")
    session = OAuth2Session(
        ep.client_id, redirect_uri=LOOPBACK, scope=ep.scope.replace(",", " ").split(), pkce="S256"
    )
    url, state = session.authorization_url(ep.authorize_url)
    redirect = choose(url, acct.id)
    assert redirect.startswith(LOOPBACK + "?")
    assert parse_qs(urlsplit(redirect).query)["state"] == [state]
    token = session.fetch_token(
        ep.token_url,
        authorization_response=redirect,
        client_secret=None if public else ep.client_secret,
        include_client_id=True,
    )
    assert token["token_type"] == "Bearer"
    profile = session.get(ep.userinfo_url, timeout=10).json()
    assert profile["email"] == f"{provider}@example.com"
    assert profile["name"] == "Pat Doe"
    id_field = {"google": "sub", "linkedin": "sub", "facebook": "id", "github": "id"}[provider]
    assert str(profile[id_field]) == acct.id
    # The token logs into Backendless like a provider SDK's token would.
    user = requests.post(
        f"{emu.base_url}/users/oauth/{provider}/login",
        json={"accessToken": token["access_token"]},
        timeout=10,
    ).json()
    assert user["email"] == f"{provider}@example.com"


def test_oauth2_pkce_is_enforced(emu: Emulator) -> None:
    ep = emu.oauth2_endpoints("google")
    acct = emu.accounts("google")[0]
    no_pkce = OAuth2Session(ep.client_id, redirect_uri=LOOPBACK, scope=["openid"])
    url, _state = no_pkce.authorization_url(ep.authorize_url)
    answer = requests.get(url, allow_redirects=False, timeout=10)
    assert answer.status_code == 302
    assert parse_qs(urlsplit(answer.headers["Location"]).query)["error"] == ["invalid_request"]

    pkce = OAuth2Session(ep.client_id, redirect_uri=LOOPBACK, scope=["openid"], pkce="S256")
    url, _state = pkce.authorization_url(ep.authorize_url)
    code = parse_qs(urlsplit(choose(url, acct.id)).query)["code"][0]
    wrong = requests.post(
        ep.token_url,
        data={
            "grant_type": "authorization_code",
            "code": code,
            "redirect_uri": LOOPBACK,
            "client_id": ep.client_id,
            "code_verifier": "x" * 50,
        },
        timeout=10,
    )
    assert wrong.status_code == 400
    assert wrong.json()["error"] == "invalid_grant"


def test_loopback_redirect_any_port_but_not_elsewhere(emu: Emulator) -> None:
    ep = emu.oauth2_endpoints("github")
    for redirect in ("http://localhost:1/cb", "http://[::1]:65000/", "http://127.0.0.1:8080/x"):
        s = OAuth2Session(ep.client_id, redirect_uri=redirect, pkce="S256")
        url, _ = s.authorization_url(ep.authorize_url)
        assert requests.get(url, timeout=5).status_code == 200
    s = OAuth2Session(ep.client_id, redirect_uri="http://example.com:80/cb", pkce="S256")
    url, _ = s.authorization_url(ep.authorize_url)
    assert requests.get(url, timeout=5, allow_redirects=False).status_code == 400


def test_userinfo_needs_a_valid_token(emu: Emulator) -> None:
    ep = emu.oauth2_endpoints("google")
    resp = requests.get(ep.userinfo_url, headers={"Authorization": "Bearer nope"}, timeout=5)
    assert resp.status_code == 401
    assert "invalid_token" in resp.headers["WWW-Authenticate"]


def test_oauth1_session_three_legged(emu: Emulator) -> None:
    ep = emu.oauth1_endpoints("twitter")
    acct = emu.add_account("twitter", email="bird@example.com", name="Bird Person")
    session = OAuth1Session(
        ep.consumer_key, client_secret=ep.consumer_secret, callback_uri=LOOPBACK
    )
    request_token = session.fetch_request_token(ep.request_token_url)
    assert request_token["oauth_callback_confirmed"] == "true"
    url = session.authorization_url(ep.authorize_url)
    redirect = choose(url, acct.id)
    assert redirect.startswith(LOOPBACK + "?")
    session.parse_authorization_response(redirect)
    tokens = session.fetch_access_token(ep.access_token_url)
    profile = session.get(ep.verify_credentials_url, timeout=10).json()
    assert profile["id_str"] == acct.id
    assert profile["screen_name"] == "bird"
    assert profile["email"] == "bird@example.com"
    user = requests.post(
        f"{emu.domain_url}/users/oauth/twitter/login",
        json={
            "accessToken": tokens["oauth_token"],
            "accessTokenSecret": tokens["oauth_token_secret"],
        },
        timeout=10,
    ).json()
    assert user["name"] == "Bird Person"
    # A wrong consumer secret fails the signature check.
    bad = OAuth1Session(ep.consumer_key, client_secret="wrong", callback_uri=LOOPBACK)
    with pytest.raises(TokenRequestDenied, match="401"):
        bad.fetch_request_token(ep.request_token_url)
    # A bad token at verify_credentials is refused.
    forged = OAuth1Session(
        ep.consumer_key,
        client_secret=ep.consumer_secret,
        resource_owner_key=tokens["oauth_token"],
        resource_owner_secret="wrong",
    )
    assert forged.get(ep.verify_credentials_url, timeout=10).status_code == 401


def test_provider_endpoints_shapes(emu: Emulator) -> None:
    google = emu.provider_endpoints("google")
    twitter = emu.provider_endpoints("twitter")
    assert google.as_dict()["token_url"] == f"{emu.url}/_providers/google/token"
    assert twitter.as_dict()["request_token_url"].startswith(emu.url)
    assert "client_secret" not in repr(google)
    with pytest.raises(ValueError, match="myspace"):
        emu.provider_endpoints("myspace")
