"""The Backendless side of the emulator, over HTTP with plain requests."""

from __future__ import annotations

import time

import pytest
from emu_helpers import Client, assert_error

from backendless_auth.emulator import Emulator

USER_KEYS = {
    "___class",
    "objectId",
    "ownerId",
    "email",
    "name",
    "userStatus",
    "created",
    "updated",
    "lastLogin",
    "socialAccount",
    "accountType",
    "oAuthIdentities",
    "blUserLocale",
}

OAUTH2 = ["google", "facebook", "github", "linkedin"]


def test_guest_login(client: Client) -> None:
    resp = client.post("users/register/guest")
    assert resp.status_code == 200
    user = resp.json()
    assert set(user) >= USER_KEYS
    assert user["___class"] == "Users"
    assert user["userStatus"] == "GUEST"
    assert user["ownerId"] == user["objectId"]
    assert isinstance(user["created"], int)
    assert user["user-token"]
    assert "password" not in user
    assert [u["objectId"] for u in client.emu.users()] == [user["objectId"]]
    assert "user-token" not in client.emu.users()[0]


@pytest.mark.parametrize("provider", OAUTH2)
@pytest.mark.parametrize("kind", ["oauth", "social"])
def test_oauth2_login_with_fields_mapping(client: Client, provider: str, kind: str) -> None:
    emu = client.emu
    acct = emu.add_account(provider, email="ann@corp.example", name="Ann Lee")
    token = emu.provider_token(provider, acct)
    mapping = {"email": "work_email", "name": "display_name"}
    resp = client.post(
        f"users/{kind}/{provider}/login", json={"accessToken": token, "fieldsMapping": mapping}
    )
    assert resp.status_code == 200, resp.text
    user = resp.json()
    assert user["work_email"] == "ann@corp.example"
    assert user["display_name"] == "Ann Lee"
    assert user["userStatus"] == "ENABLED"
    assert user["user-token"]
    assert user["oAuthIdentities"] == [{"providerCode": provider, "providerUserId": acct.id}]
    # The same identity logs into the same user.
    again = client.post(f"users/oauth/{provider}/login", json={"accessToken": token}).json()
    assert again["objectId"] == user["objectId"]
    assert again["user-token"] != user["user-token"]
    assert again["email"] == "ann@corp.example"  # the default mapping: email -> email
    assert len(emu.users()) == 1


def test_provider_specific_fields_can_be_mapped(keyed: Client) -> None:
    emu = keyed.emu
    acct = emu.add_account("github", email="gh@example.com", name="Git Hub")
    token = emu.provider_token("github", acct)
    user = keyed.post(
        "users/oauth/github/login",
        json={"accessToken": token, "fieldsMapping": {"login": "nick", "avatar_url": "avatar"}},
    ).json()
    assert user["nick"] == "gh"
    assert user["avatar"].endswith(f"/github/{acct.id}.png")
    assert user["email"] == "gh@example.com"
    assert user["name"] == "Git Hub"


def test_twitter_login_needs_token_and_secret(client: Client) -> None:
    emu = client.emu
    acct = emu.add_account("twitter", email="tw@example.com", name="Tweety")
    token, secret = emu.provider_token("twitter", acct)
    ok = client.post(
        "users/oauth/twitter/login",
        json={
            "accessToken": token,
            "accessTokenSecret": secret,
            "fieldsMapping": {"screen_name": "handle"},
        },
    )
    assert ok.status_code == 200, ok.text
    assert ok.json()["handle"] == "tw"
    assert ok.json()["email"] == "tw@example.com"
    missing = client.post("users/oauth/twitter/login", json={"accessToken": token})
    assert "accessTokenSecret" in assert_error(missing, 8007)["message"]
    wrong = client.post(
        "users/oauth/twitter/login", json={"accessToken": token, "accessTokenSecret": "nope"}
    )
    assert_error(wrong, 3060)


def test_guest_upgrade_keeps_object_id(client: Client) -> None:
    emu = client.emu
    guest = client.post("users/register/guest").json()
    acct = emu.add_account("google", email="up@example.com", name="Up Graded")
    token = emu.provider_token("google", acct)
    resp = client.post("users/oauth/google/login", json={"accessToken": token, "guestUser": guest})
    assert resp.status_code == 200, resp.text
    user = resp.json()
    assert user["objectId"] == guest["objectId"]
    assert user["userStatus"] == "ENABLED"
    assert user["email"] == "up@example.com"
    assert len(emu.users()) == 1
    # No longer a guest: a second upgrade with it is refused.
    other = emu.provider_token("github", emu.add_account("github", email="o@example.com"))
    again = client.post("users/oauth/github/login", json={"accessToken": other, "guestUser": guest})
    assert "guest" in assert_error(again, 8007)["message"]


def test_unknown_guest_is_refused(keyed: Client) -> None:
    token = keyed.emu.provider_token("google", keyed.emu.accounts("google")[0])
    resp = keyed.post(
        "users/oauth/google/login",
        json={"accessToken": token, "guestUser": {"objectId": "NOPE", "___class": "Users"}},
    )
    assert_error(resp, 8007)


def test_same_email_links_to_existing_user(keyed: Client) -> None:
    emu = keyed.emu
    g = emu.provider_token("google", emu.add_account("google", email="same@example.com"))
    f = emu.provider_token("facebook", emu.add_account("facebook", email="same@example.com"))
    one = keyed.post("users/oauth/google/login", json={"accessToken": g}).json()
    two = keyed.post("users/oauth/facebook/login", json={"accessToken": f}).json()
    assert one["objectId"] == two["objectId"]
    assert {i["providerCode"] for i in two["oAuthIdentities"]} == {"google", "facebook"}


@pytest.mark.parametrize(
    ("body", "code", "needle"),
    [
        ({}, 8007, "accessToken"),
        ({"accessToken": ""}, 8007, "accessToken"),
        ({"accessToken": 42}, 8007, "accessToken"),
        ({"accessToken": "x", "fieldsMapping": "email"}, 8007, "fieldsMapping"),
        ({"accessToken": "x", "fieldsMapping": {"email": 1}}, 8007, "fieldsMapping"),
        ({"accessToken": "x", "guestUser": "abc"}, 8007, "guestUser"),
        ({"accessToken": "not-a-google-token"}, 3060, "google"),
    ],
)
def test_login_errors(client: Client, body: dict[str, object], code: int, needle: str) -> None:
    resp = client.post("users/oauth/google/login", json=body)
    assert needle in assert_error(resp, code)["message"]


def test_mapping_onto_reserved_column_is_refused(keyed: Client) -> None:
    token = keyed.emu.provider_token("google", keyed.emu.accounts("google")[0])
    resp = keyed.post(
        "users/oauth/google/login",
        json={"accessToken": token, "fieldsMapping": {"sub": "objectId"}},
    )
    assert "objectId" in assert_error(resp, 8007)["message"]


def test_token_of_another_provider_is_rejected(keyed: Client) -> None:
    token = keyed.emu.provider_token("github", keyed.emu.accounts("github")[0])
    assert_error(keyed.post("users/oauth/google/login", json={"accessToken": token}), 3060)


@pytest.mark.parametrize(
    "raw",
    [b"{", b"not json", b"\xff\xfe", b'{"accessToken": "x"', b"[1, 2]", b'"text"', b"null "],
)
def test_malformed_bodies_are_4xx_json(keyed: Client, raw: bytes) -> None:
    for route in ("users/oauth/google/login", "users/oauth/google/request_url"):
        resp = keyed.post(route, data=raw, headers={"Content-Type": "application/json"})
        if raw.strip() == b"null":
            # No body at all: login lacks accessToken; request_url answers a redirect.
            assert resp.status_code in (302, 400)
            continue
        assert_error(resp, 8002)


def test_unknown_provider(client: Client) -> None:
    resp = client.post("users/oauth/myspace/login", json={"accessToken": "x"})
    assert "myspace" in assert_error(resp, 8007)["message"]
    resp = client.post("users/oauth/myspace/request_url", json={"redirect": False})
    assert "myspace" in assert_error(resp, 8007)["message"]


def test_disabled_provider() -> None:
    with Emulator(disabled_providers=["facebook"]) as emu:
        c = Client(emu, emu.base_url)
        token = emu.provider_token("facebook", emu.accounts("facebook")[0])
        resp = c.post("users/oauth/facebook/login", json={"accessToken": token})
        assert "facebook" in assert_error(resp, 3060)["message"]
        resp = c.post("users/oauth/facebook/request_url", json={"redirect": False})
        assert "facebook" in assert_error(resp, 3060)["message"]
        emu.enable_provider("facebook")
        assert c.post("users/oauth/facebook/login", json={"accessToken": token}).ok
        emu.disable_provider("google")
        t2 = emu.provider_token("google", emu.accounts("google")[0])
        assert_error(c.post("users/oauth/google/login", json={"accessToken": t2}), 3060)


def test_wrong_app_id_or_key(emu: Emulator) -> None:
    c = Client(emu, f"{emu.url}/{emu.app_id}/WRONG-KEY")
    assert_error(c.post("users/register/guest"), 2002)
    c = Client(emu, f"{emu.url}/WRONG-ID/{emu.api_key}")
    assert_error(c.get("users/isvalidusertoken/x"), 2002)
    # The ids are case-insensitive, like Backendless's.
    c = Client(emu, f"{emu.url}/{emu.app_id.lower()}/{emu.api_key.lower()}")
    assert c.post("users/register/guest").status_code == 200


def test_logout_and_token_validity(client: Client) -> None:
    token = client.post("users/register/guest").json()["user-token"]
    assert client.get(f"users/isvalidusertoken/{token}").json() is True
    out = client.get("users/logout", headers={"user-token": token})
    assert out.status_code == 200
    assert out.content == b""
    assert out.headers["Content-Length"] == "0"
    assert client.get(f"users/isvalidusertoken/{token}").json() is False
    assert_error(client.get("users/logout", headers={"user-token": token}), 3064)
    assert_error(client.get("users/logout"), 3064)


def test_isvalidusertoken_unknown(client: Client) -> None:
    resp = client.get("users/isvalidusertoken/NOT-A-TOKEN")
    assert resp.status_code == 200
    assert resp.headers["Content-Type"].startswith("application/json")
    assert resp.json() is False


def test_load_user(client: Client) -> None:
    user = client.post("users/register/guest").json()
    token = user.pop("user-token")
    loaded = client.get(f"data/Users/{user['objectId']}", headers={"user-token": token})
    assert loaded.status_code == 200
    assert loaded.json() == user
    assert client.get(f"data/Users/{user['objectId']}").json() == user
    bad = client.get(f"data/Users/{user['objectId']}", headers={"user-token": "EXPIRED"})
    assert_error(bad, 3064)
    assert_error(client.get("data/Users/NO-SUCH-ID"), 1000, status=404)


def test_session_expiry_by_ttl() -> None:
    with Emulator(session_ttl=0.3) as emu:
        c = Client(emu, emu.base_url)
        user = c.post("users/register/guest").json()
        token = user["user-token"]
        assert c.get(f"users/isvalidusertoken/{token}").json() is True
        time.sleep(0.4)
        assert c.get(f"users/isvalidusertoken/{token}").json() is False
        bad = c.get(f"data/Users/{user['objectId']}", headers={"user-token": token})
        assert_error(bad, 3064)
        assert_error(c.get("users/logout", headers={"user-token": token}), 3064)


def test_expire_sessions_helper(keyed: Client) -> None:
    one = keyed.post("users/register/guest").json()["user-token"]
    two = keyed.post("users/register/guest").json()["user-token"]
    assert keyed.emu.expire_sessions(one) == 1
    assert keyed.get(f"users/isvalidusertoken/{one}").json() is False
    assert keyed.get(f"users/isvalidusertoken/{two}").json() is True
    keyed.emu.expire_sessions()
    assert keyed.get(f"users/isvalidusertoken/{two}").json() is False


def test_unknown_routes_and_methods(emu: Emulator, keyed: Client) -> None:
    import requests

    for url in (
        f"{emu.url}/",
        f"{emu.url}/nope",
        f"{emu.url}/api/users/no/such/route",
        f"{emu.base_url}/x",
    ):
        assert_error(requests.get(url, timeout=5), 404, status=404)
    assert_error(keyed.get("users/register/guest"), 405, status=405)
    resp = keyed.post("users/logout")
    assert_error(resp, 405, status=405)
    assert "GET" in resp.headers["Allow"]
    assert_error(requests.delete(f"{emu.domain_url}/users/oauth/google/login", timeout=5), 405, 405)


def test_reset_forgets_users(keyed: Client) -> None:
    keyed.post("users/register/guest")
    assert keyed.emu.users()
    keyed.emu.reset()
    assert keyed.emu.users() == []
    assert len(keyed.emu.accounts("google")) == 2  # re-seeded


def test_keep_alive_and_content_length(keyed: Client) -> None:
    first = keyed.post("users/register/guest")
    assert first.headers["Content-Length"] == str(len(first.content))
    assert "close" not in first.headers.get("Connection", "").lower()
    # Two requests on one connection: keep-alive works, and an unread body does not leak
    # into the next request.
    import http.client
    from urllib.parse import urlsplit

    parts = urlsplit(keyed.emu.url)
    conn = http.client.HTTPConnection(parts.hostname or "127.0.0.1", parts.port, timeout=5)
    try:
        conn.request("POST", "/nope", body=b'{"ignored": true}')
        resp = conn.getresponse()
        assert resp.status == 404
        resp.read()
        sock = conn.sock
        conn.request("POST", "/api/users/register/guest")
        resp = conn.getresponse()
        assert resp.status == 200
        assert resp.read()
        assert conn.sock is sock
    finally:
        conn.close()


def test_only_oauth_and_social_route_kinds(keyed: Client) -> None:
    token = keyed.emu.oauth2_token("google", keyed.emu.accounts("google")[0])
    assert_error(keyed.post("users/other/google/login", json={"accessToken": token}), 404, 404)


def test_users_stay_oldest_first_after_updates(keyed: Client) -> None:
    emu = keyed.emu
    guest = keyed.post("users/register/guest").json()
    second = keyed.post("users/register/guest").json()
    token = emu.oauth2_token("google", emu.accounts("google")[0])
    keyed.post("users/oauth/google/login", json={"accessToken": token, "guestUser": guest})
    assert [u["objectId"] for u in emu.users()] == [guest["objectId"], second["objectId"]]


def test_typed_token_helpers(emu: Emulator) -> None:
    token, secret = emu.oauth1_token("twitter", emu.accounts("twitter")[0])
    assert token
    assert secret
    with pytest.raises(ValueError, match="OAuth1"):
        emu.oauth2_token("twitter", emu.accounts("twitter")[0])
    with pytest.raises(ValueError, match="not an OAuth1"):
        emu.oauth1_token("google", emu.accounts("google")[0])
    with pytest.raises(ValueError, match="No google account"):
        emu.provider_token("google", "no-such-account")
