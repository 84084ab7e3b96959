"""request_url and the browser flow, walked by a plain requests client through the sign-in page."""

from __future__ import annotations

import re
from html import unescape
from urllib.parse import parse_qs, urlsplit

import pytest
import requests
from emu_helpers import Client, assert_error

from backendless_auth.emulator import Emulator

AFTER = "http://127.0.0.1:8765/after-login"
ACCOUNT_BUTTON = re.compile(
    r"<button[^>]*name='account'[^>]*value='([^']+)'[^>]*id='(account-\d+)'"
)


def query(url: str) -> dict[str, str]:
    return {k: v[0] for k, v in parse_qs(urlsplit(url).query).items()}


def auth_url(c: Client, provider: str = "google", **body: object) -> str:
    resp = c.post(f"users/oauth/{provider}/request_url", json={"redirect": False, **body})
    assert resp.status_code == 200, resp.text
    assert resp.headers["Content-Type"].startswith("text/plain")
    return resp.text


def test_request_url_three_answer_modes(client: Client) -> None:
    body = {"redirectAfterLoginUrl": AFTER, "permissions": "openid email"}
    redirect = client.post("users/oauth/google/request_url", json=body)
    assert redirect.status_code == 302
    location = redirect.headers["Location"]
    assert location.startswith(f"{client.emu.url}/_providers/google/authorize?")
    params = query(location)
    assert params["scope"] == "openid email"
    assert params["response_type"] == "code"
    assert params["code_challenge_method"] == "S256"
    assert params["redirect_uri"].endswith("/users/oauth/google/callback")
    assert params["redirect_uri"].startswith(client.base)

    text = client.post("users/oauth/google/request_url", json={**body, "redirect": True}).headers[
        "Location"
    ]
    assert text.startswith(f"{client.emu.url}/_providers/google/authorize?")

    plain = auth_url(client, **body)
    assert plain.startswith(f"{client.emu.url}/_providers/google/authorize?")
    as_json = client.post(
        "users/oauth/google/request_url",
        json={**body, "redirect": False, "contentType": "application/json"},
    )
    assert as_json.headers["Content-Type"].startswith("application/json")
    assert as_json.json()["url"].startswith(f"{client.emu.url}/_providers/google/authorize?")
    # No body at all: a redirect, like redirect=true.
    assert client.post("users/oauth/github/request_url").status_code == 302


@pytest.mark.parametrize(
    ("body", "code"),
    [
        ({"redirectAfterLoginUrl": "https://evil.example/steal"}, 3080),
        ({"redirectAfterLoginUrl": "javascript:alert(1)"}, 3080),
        ({"callbackUrlDomain": "https://evil.example"}, 3080),
        ({"redirect": "no"}, 8007),
        ({"permissions": [1]}, 8007),
        ({"permissions": ["email", ""]}, 8007),
        ({"permissions": {"email": True}}, 8007),
        ({"fieldsMapping": []}, 8007),
    ],
)
def test_request_url_errors(keyed: Client, body: dict[str, object], code: int) -> None:
    assert_error(keyed.post("users/oauth/google/request_url", json=body), code)


def test_allowed_redirect_list() -> None:
    with Emulator(allowed_redirects=["https://myapp.example/"]) as emu:
        c = Client(emu, emu.base_url)
        ok = c.post(
            "users/oauth/google/request_url",
            json={"redirect": False, "redirectAfterLoginUrl": "https://myapp.example/done"},
        )
        assert ok.status_code == 200
        bad = c.post(
            "users/oauth/google/request_url",
            json={"redirect": False, "redirectAfterLoginUrl": "https://myapp.example.evil/"},
        )
        assert_error(bad, 3080)


def sign_in_page(http: requests.Session, url: str) -> tuple[str, list[str]]:
    page = http.get(url, timeout=10)
    assert page.status_code == 200
    assert page.headers["Content-Type"].startswith("text/html")
    html = page.text
    assert "<script src" not in html
    assert "http://" not in html.split("<body>")[0]  # no external assets
    for marker in ("id='add-account'", "id='email'", "id='name'", "id='add'", "id='deny'"):
        assert marker in html
    return html, [unescape(v) for v, _ in ACCOUNT_BUTTON.findall(html)]


@pytest.mark.parametrize("provider", ["google", "facebook", "github", "linkedin"])
def test_browser_flow_choose_account(client: Client, provider: str) -> None:
    emu = client.emu
    url = auth_url(
        client, provider, redirectAfterLoginUrl=AFTER, fieldsMapping={"email": "contact"}
    )
    http = requests.Session()
    _html, accounts = sign_in_page(http, url)
    assert accounts == [a.id for a in emu.accounts(provider)]
    chosen = emu.accounts(provider)[1]
    to_callback = http.post(
        url, data={"action": "choose", "account": chosen.id}, allow_redirects=False, timeout=10
    )
    assert to_callback.status_code == 302
    callback = to_callback.headers["Location"]
    assert urlsplit(callback).path.endswith(f"/users/oauth/{provider}/callback")
    done = http.get(callback, allow_redirects=False, timeout=10)
    assert done.status_code == 302
    location = done.headers["Location"]
    assert location.startswith(AFTER + "?")
    params = query(location)
    assert set(params) == {"userId", "userToken"}
    assert client.get(f"users/isvalidusertoken/{params['userToken']}").json() is True
    user = client.get(f"data/Users/{params['userId']}").json()
    assert user["contact"] == chosen.email
    assert user["oAuthIdentities"][0]["providerUserId"] == chosen.id
    # A code is good once.
    replay = http.get(callback, allow_redirects=False, timeout=10)
    assert replay.status_code == 400


def test_browser_flow_add_account(keyed: Client) -> None:
    url = auth_url(keyed, "github", redirectAfterLoginUrl=AFTER)
    http = requests.Session()
    done = http.post(
        url,
        data={"action": "add", "email": "new@example.com", "name": "New Person"},
        allow_redirects=False,
        timeout=10,
    )
    done = http.get(done.headers["Location"], allow_redirects=False, timeout=10)
    params = query(done.headers["Location"])
    user = keyed.get(f"data/Users/{params['userId']}").json()
    assert user["email"] == "new@example.com"
    assert user["name"] == "New Person"
    assert "new@example.com" in [a.email for a in keyed.emu.accounts("github")]
    bad = http.post(url, data={"action": "add", "email": "not-an-email"}, timeout=10)
    assert bad.status_code == 400


def test_browser_flow_deny(keyed: Client) -> None:
    url = auth_url(keyed, "facebook", redirectAfterLoginUrl=AFTER)
    http = requests.Session()
    denied = http.post(url, data={"action": "deny"}, allow_redirects=False, timeout=10)
    assert query(denied.headers["Location"])["error"] == "access_denied"
    done = http.get(denied.headers["Location"], allow_redirects=False, timeout=10)
    assert done.status_code == 302
    params = query(done.headers["Location"])
    assert params["code"] == "3060"
    assert "denied" in params["error"]
    assert "userToken" not in params
    assert keyed.emu.users() == []


def test_browser_flow_without_redirect_renders_result_page(keyed: Client) -> None:
    url = auth_url(keyed, "google")
    http = requests.Session()
    page = http.post(
        url, data={"action": "choose", "account": keyed.emu.accounts("google")[0].id}, timeout=10
    )
    assert page.status_code == 200
    assert page.headers["Content-Type"].startswith("text/html")
    assert "id='result'" in page.text
    assert keyed.emu.users()[0]["objectId"] in page.text

    url = auth_url(keyed, "google")
    failed = http.post(url, data={"action": "deny"}, timeout=10)
    assert failed.status_code == 400
    assert "3060" in failed.text


def test_callback_with_unknown_state(keyed: Client) -> None:
    resp = keyed.get("users/oauth/google/callback?state=forged&code=abc")
    assert resp.status_code == 400
    assert "8007" in resp.text


def test_sign_in_page_refuses_unknown_client_and_foreign_redirect(emu: Emulator) -> None:
    base = f"{emu.url}/_providers/google/authorize"
    bad_client = requests.get(
        base,
        params={"response_type": "code", "client_id": "evil", "redirect_uri": AFTER},
        timeout=5,
    )
    assert bad_client.status_code == 400
    desktop = emu.oauth2_endpoints("google")
    foreign = requests.get(
        base,
        params={
            "response_type": "code",
            "client_id": desktop.client_id,
            "redirect_uri": "https://evil.example/cb",
        },
        timeout=5,
        allow_redirects=False,
    )
    assert foreign.status_code == 400
    assert "Location" not in foreign.headers
    unknown = requests.post(base + "?x=1", data={"action": "choose", "account": "x"}, timeout=5)
    assert unknown.status_code == 400


def test_twitter_three_legged_browser_flow(client: Client) -> None:
    emu = client.emu
    url = auth_url(
        client, "twitter", redirectAfterLoginUrl=AFTER, fieldsMapping={"screen_name": "handle"}
    )
    assert url.startswith(f"{emu.url}/_providers/twitter/oauth/authorize?oauth_token=")
    http = requests.Session()
    _html, accounts = sign_in_page(http, url)
    assert accounts == [a.id for a in emu.accounts("twitter")]
    chosen = emu.accounts("twitter")[0]
    back = http.post(
        url, data={"action": "choose", "account": chosen.id}, allow_redirects=False, timeout=10
    )
    callback = back.headers["Location"]
    assert set(query(callback)) == {"oauth_token", "oauth_verifier"}
    done = http.get(callback, allow_redirects=False, timeout=10)
    params = query(done.headers["Location"])
    user = client.get(f"data/Users/{params['userId']}").json()
    assert user["handle"] == "ann"
    assert user["socialAccount"] == "TWITTER"
    # Twitter's "denied" answer.
    url = auth_url(client, "twitter", redirectAfterLoginUrl=AFTER)
    denied = http.post(url, data={"action": "deny"}, allow_redirects=False, timeout=10)
    assert "denied" in query(denied.headers["Location"])
    done = http.get(denied.headers["Location"], allow_redirects=False, timeout=10)
    assert query(done.headers["Location"])["code"] == "3060"


def test_callback_url_domain(keyed: Client) -> None:
    url = auth_url(keyed, "google", callbackUrlDomain=keyed.emu.url, redirectAfterLoginUrl=AFTER)
    assert query(url)["redirect_uri"] == f"{keyed.emu.url}/api/users/oauth/google/callback"
    http = requests.Session()
    back = http.post(
        url,
        data={"action": "choose", "account": keyed.emu.accounts("google")[0].id},
        allow_redirects=False,
        timeout=10,
    )
    done = http.get(back.headers["Location"], allow_redirects=False, timeout=10)
    assert "userToken" in query(done.headers["Location"])
