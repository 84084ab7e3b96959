"""What the official SDKs call beside the user service: app info, the legacy social routes, CORS."""

from __future__ import annotations

import json
import re
from html import unescape
from urllib.parse import parse_qs, urlsplit

import pytest
import requests
from emu_helpers import Client, assert_error
from hypothesis import given, settings
from hypothesis import strategies as st

from backendless_auth.emulator import ConfigError, Emulator
from backendless_auth.emulator.cors import ALLOWED_HEADERS, normalize_origin


def _query(url: str) -> dict[str, str]:
    return {k: v[0] for k, v in parse_qs(urlsplit(url).query).items()}


# --- app info -----------------------------------------------------------------------------------


def test_app_info_in_both_url_forms(client: Client) -> None:
    answer = client.get("info")
    assert answer.status_code == 200
    info = answer.json()
    assert info["appId"] == client.emu.app_id
    assert info["apiKey"] == client.emu.api_key
    # The JS SDK's Logging reads loggers as a list of {name, level}.
    assert info["loggers"] == []


def test_app_info_with_a_wrong_key_is_2002(emu: Emulator) -> None:
    c = Client(emu, f"{emu.url}/{emu.app_id}/WRONG-KEY")
    assert_error(c.get("info"), 2002)


def test_app_info_ignores_a_dead_user_token(client: Client) -> None:
    # The JS SDK sends its stored user-token with every request, info included.
    assert client.get("info", headers={"user-token": "DEAD"}).status_code == 200


# --- users/social/<p>/sdk/login -----------------------------------------------------------------


@pytest.mark.parametrize(("code", "provider"), [("facebook", "facebook"), ("googleplus", "google")])
def test_sdk_login_exchanges_a_provider_token(client: Client, code: str, provider: str) -> None:
    emu = client.emu
    account = emu.add_account(provider, email=f"{code}@example.com", name="Sdk Person")
    token = emu.oauth2_token(provider, account)
    answer = client.post(
        f"users/social/{code}/sdk/login",
        json={"accessToken": token, "fieldsMapping": {"email": "email", "name": "name"}},
    )
    assert answer.status_code == 200, answer.text
    user = answer.json()
    assert user["email"] == f"{code}@example.com"
    assert user["socialAccount"] == provider.upper()
    assert client.get(f"users/isvalidusertoken/{user['user-token']}").json() is True
    # The same person through the OAuth2 route is the same user.
    again = client.post(f"users/oauth/{provider}/login", json={"accessToken": token}).json()
    assert again["objectId"] == user["objectId"]


def test_sdk_login_refuses_a_bad_token_and_a_missing_one(client: Client) -> None:
    assert_error(client.post("users/social/facebook/sdk/login", json={"accessToken": "no"}), 3060)
    assert_error(client.post("users/social/facebook/sdk/login", json={}), 8007)
    assert_error(client.post("users/social/nosuch/sdk/login", json={"accessToken": "x"}), 8007)


# --- the popup flow: users/social/oauth/<p>/request_url -----------------------------------------


def _walk_popup(c: Client, provider: str, origin: str | None, **body: object) -> requests.Response:
    headers = {"Origin": origin} if origin else {}
    answer = c.post(
        f"users/social/oauth/{provider}/request_url",
        json={"fieldsMapping": {}, "permissions": [], **body},
        headers=headers,
    )
    assert answer.status_code == 200, answer.text  # the URL itself, never a redirect
    url = answer.text
    assert url.startswith(f"{c.emu.url}/_providers/")
    account = c.emu.accounts({"googleplus": "google"}.get(provider, provider))[0].id
    chosen = c.http.post(
        url, data={"action": "choose", "account": account}, allow_redirects=False, timeout=10
    )
    assert chosen.status_code == 302, chosen.text
    return c.http.get(chosen.headers["Location"], allow_redirects=False, timeout=10)


def _posted(page: str) -> tuple[dict[str, object], str] | None:
    match = re.search(r"postMessage\((\".*?\"),(\"[^\"]*\")\)", page)
    if match is None:
        return None
    return json.loads(json.loads(match.group(1))), json.loads(match.group(2))


@pytest.mark.parametrize("provider", ["googleplus", "facebook", "twitter"])
def test_popup_flow_posts_the_user_to_the_page_that_started_it(
    client: Client, provider: str
) -> None:
    origin = "http://localhost:5173"
    page = _walk_popup(client, provider, origin)
    assert page.status_code == 200
    posted = _posted(page.text)
    assert posted is not None, page.text
    user, target = posted
    assert target == origin
    token = user["user-token"]
    assert isinstance(token, str)
    assert client.get(f"users/isvalidusertoken/{token}").json() is True
    assert token not in unescape(page.text.split("<script>")[0])  # only inside the message


def test_popup_flow_posts_nothing_without_an_allowed_origin(client: Client) -> None:
    for origin in (None, "https://evil.example", "null"):
        page = _walk_popup(client, "googleplus", origin)
        assert page.status_code == 200
        assert "postMessage" not in page.text
        assert "user-token" not in page.text


def test_popup_flow_permissions_list_becomes_the_scope(client: Client) -> None:
    for provider, expected in (("googleplus", "openid email"), ("facebook", "email,user_birthday")):
        perms = expected.replace(",", " ").split()
        answer = client.post(
            f"users/social/oauth/{provider}/request_url", json={"permissions": perms}
        )
        assert _query(answer.text)["scope"] == expected


def test_popup_flow_denied_posts_a_fault(client: Client) -> None:
    answer = client.post(
        "users/social/oauth/facebook/request_url",
        json={"permissions": []},
        headers={"Origin": "http://127.0.0.1:3000"},
    )
    denied = client.http.post(answer.text, data={"action": "deny"}, allow_redirects=False)
    page = client.http.get(denied.headers["Location"], allow_redirects=False)
    posted = _posted(page.text)
    assert posted is not None
    assert "denied" in str(posted[0]["fault"])
    assert posted[1] == "http://127.0.0.1:3000"


def test_popup_page_script_cannot_be_broken_out_of(emu: Emulator) -> None:
    from backendless_auth.emulator.pages import popup_page

    hostile = {"name": "</script><script>alert(1)</script>\u2028&", "user-token": "T"}
    page = popup_page(hostile, "http://localhost:5173")
    assert page.count("</script>") == 1
    posted = _posted(page)
    assert posted is not None
    assert posted[0] == hostile


# --- CORS -----------------------------------------------------------------------------------------

SDK_HEADERS = "content-type,user-token"


def _preflight(
    emu: Emulator, path: str, origin: str, headers: str = SDK_HEADERS
) -> requests.Response:
    return requests.options(
        f"{emu.url}{path}",
        headers={
            "Origin": origin,
            "Access-Control-Request-Method": "POST",
            "Access-Control-Request-Headers": headers,
        },
        timeout=5,
    )


@pytest.mark.parametrize(
    "origin",
    ["http://localhost:5173", "http://127.0.0.1:8080", "https://localhost", "http://[::1]:3000"],
)
def test_preflight_from_a_loopback_origin(emu: Emulator, origin: str) -> None:
    answer = _preflight(emu, "/api/users/register/guest", origin)
    assert answer.status_code == 204
    assert answer.headers["Access-Control-Allow-Origin"] == origin
    assert answer.headers["Access-Control-Allow-Credentials"] == "true"
    assert "Origin" in answer.headers["Vary"]
    allowed = {h.strip() for h in answer.headers["Access-Control-Allow-Headers"].split(",")}
    assert {"content-type", "user-token", "application-type"} <= allowed
    assert "POST" in answer.headers["Access-Control-Allow-Methods"]
    # The request itself carries the same answer headers.
    real = requests.post(
        f"{emu.domain_url}/users/register/guest", headers={"Origin": origin}, timeout=5
    )
    assert real.headers["Access-Control-Allow-Origin"] == origin
    assert "Origin" in real.headers["Vary"]


@pytest.mark.parametrize(
    "origin",
    [
        "https://evil.example",
        "null",
        "http://localhost.evil.example",
        "http://127.0.0.1.evil.example:80",
        "http://evil.example\\@127.0.0.1",
        "http://user@127.0.0.1",
        "http://127.0.0.1/path",
        "file://",
        "",
    ],
)
def test_no_cors_for_other_origins(emu: Emulator, origin: str) -> None:
    answer = _preflight(emu, "/api/users/register/guest", origin)
    assert answer.status_code == 403
    assert not [h for h in answer.headers if h.lower().startswith("access-control-")]
    real = requests.post(
        f"{emu.domain_url}/users/register/guest", headers={"Origin": origin}, timeout=5
    )
    assert "Access-Control-Allow-Origin" not in real.headers
    assert "Origin" in real.headers["Vary"]


def test_errors_carry_cors_headers_too(emu: Emulator) -> None:
    origin = "http://localhost:5173"
    for method, path in (
        ("GET", "/api/users/logout"),
        ("GET", "/api/nosuch"),
        ("PUT", "/api/info"),
    ):
        answer = requests.request(method, f"{emu.url}{path}", headers={"Origin": origin}, timeout=5)
        assert answer.status_code >= 400
        assert answer.headers["Access-Control-Allow-Origin"] == origin


def test_admin_and_provider_routes_never_answer_cors(emu: Emulator) -> None:
    origin = "http://localhost:5173"
    for path in ("/_emulator/users", "/_emulator/reset", "/_providers/google/authorize"):
        answer = _preflight(emu, path, origin, "x-admin-token")
        assert "Access-Control-Allow-Origin" not in answer.headers
        real = requests.get(
            f"{emu.url}{path}",
            headers={"Origin": origin, "X-Admin-Token": emu.admin_token},
            timeout=5,
        )
        assert "Access-Control-Allow-Origin" not in real.headers


def test_a_preflight_never_consumes_a_fault(emu: Emulator) -> None:
    emu.set_fault("error", path="register/guest")
    assert _preflight(emu, "/api/users/register/guest", "http://localhost:1").status_code == 204
    assert emu.faults()[0].fired == 0


def test_configured_origins_replace_the_loopback_default() -> None:
    with Emulator(cors_origins=["https://app.example.com"]) as emu:
        assert _preflight(emu, "/api/info", "https://app.example.com").status_code == 204
        assert _preflight(emu, "/api/info", "https://APP.example.com:443").status_code == 204
        assert _preflight(emu, "/api/info", "http://localhost:5173").status_code == 403
    with Emulator(cors_origins=[]) as emu:
        assert _preflight(emu, "/api/info", "http://localhost:5173").status_code == 403
    with Emulator(config={"corsOrigins": ["loopback", "https://x.example"]}) as emu:
        assert _preflight(emu, "/api/info", "https://x.example").status_code == 204
        assert _preflight(emu, "/api/info", "http://localhost:9").status_code == 204
    for bad in (["*"], ["https://x.example/path"], "loopback", [3]):
        with pytest.raises(ConfigError):
            Emulator(config={"corsOrigins": bad})


def test_the_allowed_headers_cover_the_js_sdk() -> None:
    assert {"user-token", "content-type"} <= set(ALLOWED_HEADERS)


@settings(max_examples=300, deadline=None, database=None)
@given(
    scheme=st.sampled_from(["http", "https", "HTTP", "ftp", "javascript", ""]),
    host=st.sampled_from(
        ["127.0.0.1", "localhost", "[::1]", "LOCALHOST", "evil.example", "127.0.0.1.evil", ""]
    ),
    port=st.sampled_from(["", ":0", ":5173", ":65535", ":99999", ":x"]),
    tail=st.sampled_from(["", "/", "/x", "?q", "#f", "@evil.example", "\\@evil.example", " "]),
)
def test_normalize_origin_accepts_only_plain_origins(
    scheme: str, host: str, port: str, tail: str
) -> None:
    origin = f"{scheme}://{host}{port}{tail}"
    normal = normalize_origin(origin)
    if normal is None:
        return
    assert tail == ""
    assert scheme.lower() in ("http", "https")
    assert host
    assert normal == normal.lower()
    assert urlsplit(normal).hostname == host.lower().strip("[]")
