"""Accounts with passwords over real HTTP: every route, every error code, the options."""

from __future__ import annotations

import re
import time
from collections.abc import Iterator
from typing import Any
from urllib.parse import quote

import pytest
import requests
from emu_helpers import Client, assert_error

from backendless_auth.emulator import AccountSettings, ConfigError, Emulator, PasswordPolicy

PW = "correct horse 1"


@pytest.fixture
def server(emu: Emulator) -> Iterator[Client]:
    """A client on the CloudCode key (server-side code)."""
    c = Client(emu, emu.cloud_code_url)
    yield c
    c.http.close()


def register(c: Client, email: str = "ann@example.com", password: str = PW, **props: Any) -> Any:
    resp = c.post("users/register", json={"email": email, "password": password, **props})
    assert resp.status_code == 200, resp.text
    return resp.json()


def login(c: Client, identity: str = "ann@example.com", password: str = PW) -> Any:
    resp = c.post("users/login", json={"login": identity, "password": password})
    assert resp.status_code == 200, resp.text
    return resp.json()


def token_of(user: dict[str, Any]) -> dict[str, str]:
    return {"user-token": user["user-token"]}


# --- register ------------------------------------------------------------------------------


def test_register_answers_the_user_without_password_or_token(client: Client) -> None:
    user = register(client, name="Ann", age=33, blUserLocale="fr")
    assert user["___class"] == "Users"
    assert user["email"] == "ann@example.com"
    assert user["name"] == "Ann"
    assert user["age"] == 33
    assert user["blUserLocale"] == "fr"
    assert user["userStatus"] == "ENABLED"
    assert "password" not in user
    assert "user-token" not in user
    assert re.fullmatch(r"[0-9A-F-]{36}", user["objectId"])
    # Not logged in by registering: no session exists.
    stored = client.emu.user(user["objectId"])
    assert stored is not None
    assert "password" not in stored
    assert PW not in str(client.emu.users())
    admin = client.admin("GET", "users").text
    assert PW not in admin
    assert "scrypt" not in admin


def test_register_keeps_a_default_locale(keyed: Client) -> None:
    assert register(keyed)["blUserLocale"] == "en"


@pytest.mark.parametrize(
    ("body", "code"),
    [
        ({"email": "a@example.com"}, 3011),
        ({"email": "a@example.com", "password": ""}, 3011),
        ({"email": "a@example.com", "password": 123456}, 3011),
        ({"email": "a@example.com", "password": None}, 3011),
        ({"password": PW}, 3013),
        ({"password": PW, "email": ""}, 3040),
        ({"password": PW, "email": "not-an-email"}, 3040),
        ({"password": PW, "email": "a@example.com", "id": "x"}, 3039),
        ({"password": PW, "email": "a@example.com", "bad name": 1}, 3021),
        ({"password": PW, "email": "a@example.com", "nested": {"a": 1}}, 3021),
        ({"password": PW, "email": "a@example.com", "list": [1]}, 3021),
        ({"password": PW, "email": "a@example.com", "blUserLocale": 5}, 3021),
        ({"password": PW, "email": "a@example.com", "objectId": "NOT-A-GUEST"}, 3021),
        ({}, 3011),
    ],
)
def test_register_refusals(keyed: Client, body: dict[str, Any], code: int) -> None:
    assert_error(keyed.post("users/register", json=body), code)
    assert keyed.emu.users() == []


def test_register_bad_json(keyed: Client) -> None:
    assert_error(keyed.post("users/register", data=b"{", timeout=5), 8002)
    assert_error(keyed.post("users/register", json=[1, 2]), 8002)


def test_identity_is_unique_whatever_the_case(client: Client) -> None:
    register(client, "ann@example.com")
    assert_error(
        client.post("users/register", json={"email": "ANN@example.com", "password": PW}), 3033
    )
    assert len(client.emu.users()) == 1


def test_system_columns_cannot_be_written(keyed: Client) -> None:
    user = register(
        keyed,
        userStatus="DISABLED",
        created=1,
        ownerId="X",
        socialAccount="GOOGLE",
        roles=["Admin"],
        **{"user-token": "mine", "___class": "Other"},
    )
    assert user["userStatus"] == "ENABLED"
    assert user["created"] != 1
    assert user["ownerId"] == user["objectId"]
    assert user["socialAccount"] == "BACKENDLESS"
    assert user["___class"] == "Users"
    assert "user-token" not in user
    assert "roles" not in user


def test_guest_converted_by_registration_keeps_its_object_id(client: Client) -> None:
    guest = client.post("users/register/guest").json()
    user = client.post(
        "users/register", json={"email": "gus@example.com", "password": PW}, headers=token_of(guest)
    ).json()
    assert user["objectId"] == guest["objectId"]
    assert user["created"] == guest["created"]
    assert user["userStatus"] == "ENABLED"
    assert len(client.emu.users()) == 1
    # The guest's session now is the registered user's, and the password works.
    assert client.get(f"users/isvalidusertoken/{guest['user-token']}").json() is True
    assert login(client, "gus@example.com")["objectId"] == guest["objectId"]
    # The objectId in the body, with that guest's own token, is the same conversion.
    other = client.post("users/register/guest").json()
    again = client.post(
        "users/register",
        json={"email": "o@example.com", "password": PW, "objectId": other["objectId"]},
        headers=token_of(other),
    ).json()
    assert again["objectId"] == other["objectId"]


def test_guest_is_not_claimed_by_its_object_id_alone(keyed: Client) -> None:
    guest = keyed.post("users/register/guest").json()
    body = {"email": "x@example.com", "password": PW, "objectId": guest["objectId"]}
    assert_error(keyed.post("users/register", json=body), 3021)
    user = keyed.emu.user(guest["objectId"])
    assert user is not None
    assert user["userStatus"] == "GUEST"


def test_a_logged_in_user_registers_someone_else(keyed: Client) -> None:
    register(keyed, "ann@example.com")
    ann = login(keyed)
    bob = keyed.post(
        "users/register", json={"email": "bob@example.com", "password": PW}, headers=token_of(ann)
    ).json()
    assert bob["objectId"] != ann["objectId"]


def test_a_dead_user_token_is_3064(keyed: Client) -> None:
    headers = {"user-token": "NOPE"}
    assert_error(
        keyed.post(
            "users/register", json={"email": "a@example.com", "password": PW}, headers=headers
        ),
        3064,
    )
    assert_error(keyed.get("users/userroles", headers=headers), 3064)


# --- login ---------------------------------------------------------------------------------


def test_login_answers_user_and_session(client: Client) -> None:
    registered = register(client)
    user = login(client, "ANN@example.com")
    assert user["objectId"] == registered["objectId"]
    assert isinstance(user["user-token"], str)
    assert len(user["user-token"]) >= 32
    assert isinstance(user["lastLogin"], int)
    assert client.get(f"users/isvalidusertoken/{user['user-token']}").json() is True
    assert client.get("users/logout", headers=token_of(user)).status_code == 200
    assert client.get(f"users/isvalidusertoken/{user['user-token']}").json() is False


@pytest.mark.parametrize(
    "body",
    [
        {},
        {"login": "", "password": PW},
        {"login": "ann@example.com"},
        {"login": "ann@example.com", "password": ""},
        {"login": "ann@example.com", "password": 5},
        {"login": None, "password": PW},
        {"login": True, "password": PW},
        {"login": ["ann@example.com"], "password": PW},
    ],
)
def test_login_missing_fields(keyed: Client, body: dict[str, Any]) -> None:
    assert_error(keyed.post("users/login", json=body), 3006)


def test_login_wrong_password_or_unknown_identity_is_3003(keyed: Client) -> None:
    register(keyed)
    wrong = assert_error(
        keyed.post("users/login", json={"login": "ann@example.com", "password": "nope"}), 3003, 401
    )
    unknown = assert_error(
        keyed.post("users/login", json={"login": "who@example.com", "password": PW}), 3003, 401
    )
    assert wrong["message"] == unknown["message"]  # nothing tells them apart
    assert "nope" not in wrong["message"]


def test_guests_and_social_users_have_no_password(keyed: Client) -> None:
    emu = keyed.emu
    token = emu.oauth2_token("google", emu.accounts("google")[0])
    social = keyed.post("users/oauth/google/login", json={"accessToken": token}).json()
    assert_error(
        keyed.post("users/login", json={"login": social["email"], "password": PW}), 3003, 401
    )


def test_login_by_object_id_needs_the_cloud_code_key(keyed: Client, server: Client) -> None:
    user = register(keyed)
    body = {"objectId": user["objectId"]}
    assert_error(keyed.post("users/login", json=body), 2014)
    answer = server.post("users/login", json=body)
    assert answer.status_code == 200, answer.text
    assert answer.json()["objectId"] == user["objectId"]
    assert answer.json()["user-token"]
    assert_error(server.post("users/login", json={"objectId": "NOPE"}), 3003, 401)


def test_disabled_users_are_refused_and_their_sessions_die(keyed: Client, server: Client) -> None:
    user = register(keyed)
    session = login(keyed)
    assert server.http.put(
        f"{server.base}/users/{user['objectId']}/status",
        json={"userStatus": "DISABLED"},
        timeout=10,
    ).ok
    assert keyed.get(f"users/isvalidusertoken/{session['user-token']}").json() is False
    assert_error(keyed.post("users/login", json={"login": "ann@example.com", "password": PW}), 3090)
    assert_error(keyed.get("users/userroles", headers=token_of(session)), 3064)
    assert server.http.put(
        f"{server.base}/users/{user['objectId']}/status", json={"userStatus": "ENABLED"}, timeout=10
    ).ok
    assert login(keyed)["objectId"] == user["objectId"]


def test_a_disabled_social_user_cannot_log_in_with_the_provider(
    keyed: Client, server: Client
) -> None:
    emu = keyed.emu
    account = emu.accounts("github")[0]
    first = keyed.post(
        "users/oauth/github/login", json={"accessToken": emu.oauth2_token("github", account)}
    ).json()
    put = server.http.put(
        f"{server.base}/users/{first['objectId']}/status",
        json={"userStatus": "DISABLED"},
        timeout=10,
    )
    assert put.status_code == 200, put.text
    again = keyed.post(
        "users/oauth/github/login", json={"accessToken": emu.oauth2_token("github", account)}
    )
    assert_error(again, 3090)


def test_lockout_after_failed_logins_then_it_lifts() -> None:
    settings = {"lockout": {"attempts": 2, "seconds": 0.6}}
    with Emulator(users=settings) as emu:
        c = Client(emu, emu.base_url)
        register(c)
        bad = {"login": "ann@example.com", "password": "wrong"}
        assert_error(c.post("users/login", json=bad), 3003, 401)
        login(c)  # a success resets the count
        assert_error(c.post("users/login", json=bad), 3003, 401)
        assert_error(c.post("users/login", json=bad), 3003, 401)
        # Locked: even the right password is refused.
        assert_error(c.post("users/login", json={"login": "ann@example.com", "password": PW}), 3036)
        deadline = time.monotonic() + 30
        while True:
            resp = c.post("users/login", json={"login": "ann@example.com", "password": PW})
            if resp.status_code == 200:
                break
            assert_error(resp, 3036)
            assert time.monotonic() < deadline
            time.sleep(0.2)
        # After the lock lifts the count starts again from zero.
        assert_error(c.post("users/login", json=bad), 3003, 401)
        assert login(c)["email"] == "ann@example.com"


def test_unlimited_failed_logins_by_default(keyed: Client) -> None:
    register(keyed)
    for _ in range(6):
        assert_error(
            keyed.post("users/login", json={"login": "ann@example.com", "password": "x"}),
            3003,
            401,
        )
    login(keyed)


def test_a_configurable_identity_column() -> None:
    with Emulator(users={"identity": "username"}) as emu:
        c = Client(emu, emu.base_url)
        resp = c.post("users/register", json={"username": "ann", "password": PW})
        assert resp.status_code == 200, resp.text
        assert_error(c.post("users/register", json={"username": "ANN", "password": PW}), 3033)
        assert_error(
            c.post("users/register", json={"email": "a@example.com", "password": PW}), 3013
        )
        assert login(c, "ann")["username"] == "ann"
        props = {p["name"]: p for p in c.get("users/userclassprops").json()}
        assert props["username"]["identity"] is True
        assert props["username"]["required"] is True
        assert props["email"]["identity"] is False


# --- password policy ------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("password", "ok"),
    [
        ("Short1!", False),
        ("longenough1!", False),  # no uppercase
        ("LONGENOUGH1!", False),  # no lowercase
        ("LongEnough!!", False),  # no digit
        ("LongEnough11", False),  # no symbol
        ("LongEnough1!", True),
    ],
)
def test_password_policy(password: str, ok: bool) -> None:
    policy = PasswordPolicy(
        min_length=10, lowercase=True, uppercase=True, digits=True, symbols=True
    )
    with Emulator(users=AccountSettings(password_policy=policy)) as emu:
        c = Client(emu, emu.base_url)
        resp = c.post("users/register", json={"email": "a@example.com", "password": password})
        if ok:
            assert resp.status_code == 200, resp.text
        else:
            body = assert_error(resp, 3125)
            assert password not in body["message"]


def test_policy_applies_to_update_too(emu: Emulator) -> None:
    c = Client(emu, emu.base_url)
    user = register(c)
    session = login(c)
    emu.configure_users(passwordPolicy={"minLength": 12})
    resp = c.http.put(
        f"{c.base}/users/{user['objectId']}",
        json={"password": "short"},
        headers=token_of(session),
        timeout=10,
    )
    assert_error(resp, 3125)
    login(c)  # the old password still works


# --- verify password ------------------------------------------------------------------------


def test_verify_password(keyed: Client, server: Client) -> None:
    register(keyed)
    session = login(server)
    url = "users/verifypassowrd"
    assert server.post(url, json={"password": PW}, headers=token_of(session)).json() == {
        "valid": True
    }
    assert server.post(url, json={"password": "nope"}, headers=token_of(session)).json() == {
        "valid": False
    }
    assert server.post(url, json={}, headers=token_of(session)).json() == {"valid": False}
    assert_error(keyed.post(url, json={"password": PW}, headers=token_of(session)), 3122)
    assert_error(server.post(url, json={"password": PW}), 3121)
    assert_error(server.post(url, json={"password": PW}, headers={"user-token": "bad"}), 3064)
    # A failed verification is not a failed login: it never locks the account.
    login(keyed)


# --- emails: restore, resend, create URL ------------------------------------------------------


def test_restore_password_sends_a_reset_email(client: Client) -> None:
    register(client)
    resp = client.get("users/restorepassword/" + quote("ANN@example.com", safe=""))
    assert resp.status_code == 200
    assert resp.content == b""
    [mail] = client.emu.outbox()
    assert mail.kind == "password-reset"
    assert mail.to == "ann@example.com"
    assert mail.link in mail.text
    assert mail.link.startswith(f"{client.emu.url}/api/users/password/reset/")
    assert client.emu.api_key not in mail.link
    assert client.emu.cloud_code_key not in mail.link
    assert_error(client.get("users/restorepassword/who%40example.com"), 3020)


def test_identities_with_url_characters(keyed: Client) -> None:
    with Emulator(users={"identity": "username"}) as emu:
        c = Client(emu, emu.base_url)
        for name in ("a/b", "@__test", "?x=1&y", "#frag", "+plus", "sp ace", "ünï"):
            resp = c.post("users/register", json={"username": name, "email": None, "password": PW})
            assert resp.status_code == 200, (name, resp.text)
            assert login(c, name)["username"] == name
            # no email to send to: a clear 3020, not a crash
            assert_error(c.get("users/restorepassword/" + quote(name, safe="")), 3020)


def test_email_confirmation_flow_over_http() -> None:
    with Emulator(users={"emailConfirmation": True}) as emu:
        c = Client(emu, emu.base_url)
        user = register(c)
        assert user["userStatus"] == "EMAIL_CONFIRMATION_PENDING"
        assert_error(c.post("users/login", json={"login": "ann@example.com", "password": PW}), 3087)
        [mail] = emu.outbox(to="ann@example.com")
        assert mail.kind == "confirmation"
        assert c.post("users/resendconfirmation/ann@example.com").status_code == 200
        assert len(emu.outbox()) == 2
        assert_error(c.post("users/resendconfirmation/who@example.com"), 3104)
        page = requests.get(mail.link, timeout=10)
        assert page.status_code == 200
        assert "Email confirmed" in page.text
        assert page.headers["Cache-Control"] == "no-store"
        assert login(c)["userStatus"] == "ENABLED"
        assert_error(c.post("users/resendconfirmation/ann@example.com"), 3102)
        # A link works once.
        assert requests.get(mail.link, timeout=10).status_code == 400
        # Email is required when confirmation is on.
        with_name = {"email": None, "password": PW}
        assert_error(c.post("users/register", json=with_name), 3013)


def test_resend_needs_the_confirmation_option(keyed: Client) -> None:
    register(keyed)
    assert_error(keyed.post("users/resendconfirmation/ann@example.com"), 3103)


def test_create_email_confirmation_url(client: Client) -> None:
    client.emu.configure_users(emailConfirmation=True)
    register(client)
    resp = client.post("users/createEmailConfirmationURL/ann@example.com")
    assert resp.status_code == 200, resp.text
    url = resp.json()["confirmationURL"]
    assert url.startswith(f"{client.emu.url}/api/users/email/confirm/")
    assert len(client.emu.outbox()) == 1  # only the registration's email: the app sends this one
    assert "Email confirmed" in requests.get(url, timeout=10).text
    assert login(client)["userStatus"] == "ENABLED"
    assert_error(client.post("users/createEmailConfirmationURL/who@example.com"), 3104)


def test_expired_links_are_refused() -> None:
    settings = AccountSettings(email_confirmation=True, confirmation_ttl=0.0)
    with Emulator(users=settings) as emu:
        c = Client(emu, emu.base_url)
        register(c)
        [mail] = emu.outbox()
        assert requests.get(mail.link, timeout=10).status_code == 400
        assert_error(c.post("users/login", json={"login": "ann@example.com", "password": PW}), 3087)


def test_outbox_admin_route(keyed: Client) -> None:
    register(keyed)
    register(keyed, "bob@example.com")
    keyed.get("users/restorepassword/ann%40example.com")
    keyed.get("users/restorepassword/bob%40example.com")
    everything = keyed.admin("GET", "outbox").json()
    assert [m["to"] for m in everything] == ["ann@example.com", "bob@example.com"]
    assert {"id", "to", "kind", "subject", "text", "link", "objectId", "sent"} <= set(everything[0])
    only = keyed.admin("GET", "outbox", params={"to": "BOB@example.com"}).json()
    assert [m["to"] for m in only] == ["bob@example.com"]
    assert keyed.admin("GET", "outbox", params={"kind": "confirmation"}).json() == []
    assert requests.get(f"{keyed.emu.url}/_emulator/outbox", timeout=5).status_code == 401
    assert keyed.admin("DELETE", "outbox").json() == {"deleted": 2}
    assert keyed.emu.outbox() == []


def test_reset_forgets_accounts_roles_and_outbox(emu: Emulator) -> None:
    constructed = emu.user_settings.as_dict()
    emu.configure_users(roles=["Trial"])
    c = Client(emu, emu.base_url)
    s = Client(emu, emu.cloud_code_url)
    user = register(c)
    s.post("users/assignRole", json={"user": "ann@example.com", "roleName": "Trial"})
    c.get("users/restorepassword/ann%40example.com")
    emu.reset()
    assert emu.users() == []
    assert emu.outbox() == []
    register(c)
    again = login(c)
    assert again["objectId"] != user["objectId"]
    assert "Trial" not in emu.roles(again["objectId"])
    # Options changed at run time go back to the constructed ones, like providers do.
    assert emu.user_settings.as_dict() == constructed


# --- update --------------------------------------------------------------------------------


def put(c: Client, route: str, body: Any, **kw: Any) -> requests.Response:
    return c.http.put(f"{c.base}/{route}", json=body, timeout=10, **kw)


def test_update_own_properties_and_password(client: Client) -> None:
    user = register(client)
    session = login(client)
    resp = put(
        client,
        f"users/{user['objectId']}",
        {"name": "Ann B", "phone": "555", "password": "new password 2", "userStatus": "DISABLED"},
        headers=token_of(session),
    )
    assert resp.status_code == 200, resp.text
    updated = resp.json()
    assert updated["name"] == "Ann B"
    assert updated["phone"] == "555"
    assert updated["userStatus"] == "ENABLED"
    assert "password" not in updated
    assert isinstance(updated["updated"], int)
    assert_error(
        client.post("users/login", json={"login": "ann@example.com", "password": PW}), 3003, 401
    )
    login(client, password="new password 2")
    assert client.get(f"users/isvalidusertoken/{session['user-token']}").json() is True


def test_update_rules(keyed: Client, server: Client) -> None:
    ann = register(keyed)
    bob = register(keyed, "bob@example.com")
    session = login(keyed)
    path = f"users/{ann['objectId']}"
    assert_error(put(keyed, path, {"name": "x"}), 3028)
    assert_error(
        put(keyed, f"users/{bob['objectId']}", {"name": "x"}, headers=token_of(session)), 3029
    )
    assert_error(put(keyed, path, {"email": "bob@example.com"}, headers=token_of(session)), 3018)
    assert_error(put(keyed, path, {"email": "BOB@example.com"}, headers=token_of(session)), 3018)
    assert_error(put(keyed, path, {"email": "bad"}, headers=token_of(session)), 3040)
    assert_error(put(keyed, path, {"email": None}, headers=token_of(session)), 3024)
    assert_error(put(keyed, path, {"bad name": 1}, headers=token_of(session)), 3024)
    assert_error(put(keyed, path, {"objectId": bob["objectId"]}, headers=token_of(session)), 3029)
    assert_error(put(keyed, path, {"name": "x"}, headers={"user-token": "dead"}), 3064)
    assert_error(put(keyed, path, {"password": ""}, headers=token_of(session)), 3024)
    assert_error(put(keyed, path, {"password": 5}, headers=token_of(session)), 3024)
    same = put(keyed, path, {"password": None, "name": "Ann"}, headers=token_of(session))
    assert same.status_code == 200, same.text
    login(keyed)  # a null password changes nothing
    assert_error(put(server, "users/NOPE", {"name": "x"}), 3030)
    # The CloudCode key may update anyone.
    resp = put(server, f"users/{bob['objectId']}", {"name": "Bobby"})
    assert resp.status_code == 200
    assert resp.json()["name"] == "Bobby"
    # Changing one's email to a free one works, and it is the new identity.
    ok = put(keyed, path, {"email": "ann2@example.com"}, headers=token_of(session))
    assert ok.status_code == 200, ok.text
    login(keyed, "ann2@example.com")


def test_a_social_user_can_be_updated_and_found_by_role(keyed: Client, server: Client) -> None:
    emu = keyed.emu
    emu.configure_users(roles=["Trial"])
    token = emu.oauth2_token("google", emu.accounts("google")[0])
    social = keyed.post("users/oauth/google/login", json={"accessToken": token}).json()
    resp = put(
        keyed, f"users/{social['objectId']}", {"nickname": "annie"}, headers=token_of(social)
    )
    assert resp.status_code == 200, resp.text
    assert keyed.get("users/userroles", headers=token_of(social)).json() == [
        "AuthenticatedUser",
        "SocialUser",
        "GooglePlusUser",
        "RestUser",
    ]
    assert server.post("users/assignRole", json={"user": social["email"], "roleName": "Trial"}).ok
    found = keyed.get("users/role/Trial").json()
    assert [u["objectId"] for u in found] == [social["objectId"]]
    assert found[0]["nickname"] == "annie"


# --- roles ---------------------------------------------------------------------------------


def test_user_roles(keyed: Client, server: Client) -> None:
    keyed.emu.configure_users(roles=["Trial", "Pro"])
    assert keyed.get("users/userroles").json() == ["NotAuthenticatedUser", "RestUser"]
    assert server.get("users/userroles").json() == ["NotAuthenticatedUser", "ServerCodeUser"]
    user = register(keyed)
    session = login(keyed)
    assert keyed.get("users/userroles", headers=token_of(session)).json() == [
        "AuthenticatedUser",
        "RestUser",
    ]
    guest = keyed.post("users/register/guest").json()
    assert keyed.get("users/userroles", headers=token_of(guest)).json() == ["GuestUser", "RestUser"]
    for role in ("Trial", "Pro"):
        resp = server.post("users/assignRole", json={"user": "ann@example.com", "roleName": role})
        assert resp.status_code == 200
        assert resp.content == b""
    # twice is harmless
    assert server.post("users/assignRole", json={"user": "ann@example.com", "roleName": "Pro"}).ok
    assert keyed.get("users/userroles", headers=token_of(session)).json() == [
        "AuthenticatedUser",
        "Trial",
        "Pro",
        "RestUser",
    ]
    by_id = server.get(f"users/userroles/{user['objectId']}").json()
    assert by_id == ["AuthenticatedUser", "Trial", "Pro"]
    assert_error(keyed.get(f"users/userroles/{user['objectId']}"), 2011)
    assert_error(server.get("users/userroles/NOPE"), 3030)
    assert server.post("users/unassignRole", json={"user": "ann@example.com", "roleName": "Pro"}).ok
    assert server.get(f"users/userroles/{user['objectId']}").json() == [
        "AuthenticatedUser",
        "Trial",
    ]
    assert keyed.emu.roles(user["objectId"]) == ["AuthenticatedUser", "Trial"]


@pytest.mark.parametrize(
    ("op", "body", "code"),
    [
        ("assignRole", {"user": "ann@example.com", "roleName": "AuthenticatedUser"}, 2007),
        ("unassignRole", {"user": "ann@example.com", "roleName": "AuthenticatedUser"}, 2008),
        ("assignRole", {"user": "ann@example.com", "roleName": "Nonexistent"}, 2005),
        ("unassignRole", {"user": "ann@example.com", "roleName": "Nonexistent"}, 2005),
        ("assignRole", {"user": "who@example.com", "roleName": "Trial"}, 3020),
        ("assignRole", {"user": "", "roleName": "Trial"}, 8007),
        ("assignRole", {"user": "ann@example.com", "roleName": ""}, 8007),
        ("assignRole", {"user": "ann@example.com", "roleName": 5}, 8007),
        ("assignRole", {"user": {}, "roleName": "Trial"}, 8007),
    ],
)
def test_role_change_errors(
    keyed: Client, server: Client, op: str, body: dict[str, Any], code: int
) -> None:
    keyed.emu.configure_users(roles=["Trial"])
    register(keyed)
    assert_error(server.post(f"users/{op}", json=body), code)


def test_role_changes_need_the_cloud_code_key(keyed: Client) -> None:
    keyed.emu.configure_users(roles=["Trial"])
    register(keyed)
    body = {"user": "ann@example.com", "roleName": "Trial"}
    assert_error(keyed.post("users/assignRole", json=body), 2011)
    assert_error(keyed.post("users/unassignRole", json=body), 2011)
    assert keyed.get("users/role/Trial").json() == []


def test_roles_seeded_by_config(tmp_path: Any) -> None:
    config = tmp_path / "emu.json"
    config.write_text('{"users": {"roles": ["Trial"]}, "cloudCodeKey": "CC-KEY"}')
    with Emulator(config=config) as emu:
        assert emu.cloud_code_key == "CC-KEY"
        assert emu.user_settings.roles == ["Trial"]
        c = Client(emu, emu.base_url)
        register(c)
        s = Client(emu, f"{emu.url}/{emu.app_id}/CC-KEY")
        assert s.post("users/assignRole", json={"user": "ann@example.com", "roleName": "Trial"}).ok


@pytest.mark.parametrize(
    "bad",
    [
        {"roles": ["AuthenticatedUser"]},
        {"roles": ["bad name"]},
        {"identity": "password"},
        {"identity": "a b"},
        {"lockout": {"attempts": 0}},
        {"lockout": {"attempts": "3"}},
        {"passwordPolicy": {"minLength": 0}},
        {"passwordPolicy": {"digits": "yes"}},
        {"passwordPolicy": {"unknown": 1}},
        {"emailConfirmation": "yes"},
        {"columns": [{"name": "x", "type": "NOPE"}]},
        {"hashCost": 9},
        {"hashCost": 17},
        {"what": 1},
    ],
)
def test_bad_users_settings(bad: dict[str, Any]) -> None:
    with pytest.raises(ConfigError):
        Emulator(users=bad).close()


def test_users_settings_admin_route(keyed: Client) -> None:
    current = keyed.admin("GET", "settings/users").json()
    assert current["identity"] == "email"
    assert current["emailConfirmation"] is False
    assert current["lockout"] == {"attempts": None, "seconds": 900.0}
    patched = keyed.admin(
        "PATCH",
        "settings/users",
        json={"emailConfirmation": True, "lockout": {"attempts": 3, "seconds": 60}},
    ).json()
    assert patched["emailConfirmation"] is True
    assert patched["lockout"]["attempts"] == 3
    assert keyed.emu.user_settings.email_confirmation is True
    assert_error(
        keyed.admin("PATCH", "settings/users", json={"passwordPolicy": {"minLength": -1}}), 8007
    )
    assert keyed.emu.user_settings.lockout_attempts == 3  # a refused change changes nothing
    assert register(keyed)["userStatus"] == "EMAIL_CONFIRMATION_PENDING"


# --- find by role --------------------------------------------------------------------------


@pytest.fixture
def people(keyed: Client, server: Client) -> list[dict[str, Any]]:
    keyed.emu.configure_users(roles=["Member", "Other"])
    rows = [
        ("ann@example.com", "Ann", 31, True),
        ("bob@example.com", "Bob", 25, False),
        ("cat@example.com", "Cat", 40, True),
        ("dan@example.com", "Dan", None, False),
        ("eve@example.com", "O'Eve", 25, True),
    ]
    out = []
    for email, name, age, vip in rows:
        props: dict[str, Any] = {"name": name, "vip": vip}
        if age is not None:
            props["age"] = age
        out.append(register(keyed, email, **props))
        assert server.post("users/assignRole", json={"user": email, "roleName": "Member"}).ok
    register(keyed, "zed@example.com", name="Zed", age=99)  # not a member
    return out


def names(resp: requests.Response) -> list[str]:
    assert resp.status_code == 200, resp.text
    return [u["name"] for u in resp.json()]


def test_find_by_role_default_order_and_paging(keyed: Client, people: Any) -> None:
    assert names(keyed.get("users/role/Member")) == ["Ann", "Bob", "Cat", "Dan", "O'Eve"]
    assert names(keyed.get("users/role/Member", params={"pageSize": 2})) == ["Ann", "Bob"]
    assert names(keyed.get("users/role/Member", params={"pageSize": 2, "offset": 2})) == [
        "Cat",
        "Dan",
    ]
    assert names(keyed.get("users/role/Member", params={"offset": 10})) == []
    assert keyed.get("users/role/Other").json() == []


@pytest.mark.parametrize(
    ("sort", "expected"),
    [
        ("age", ["Dan", "Bob", "O'Eve", "Ann", "Cat"]),
        ("age DESC", ["Cat", "Ann", "Bob", "O'Eve", "Dan"]),
        ("age desc,name", ["Cat", "Ann", "Bob", "O'Eve", "Dan"]),
        ("age,name DESC", ["Dan", "O'Eve", "Bob", "Ann", "Cat"]),
        ("vip DESC,name", ["Ann", "Cat", "O'Eve", "Bob", "Dan"]),
    ],
)
def test_find_by_role_sorting(keyed: Client, people: Any, sort: str, expected: list[str]) -> None:
    assert names(keyed.get("users/role/Member", params={"sortBy": sort})) == expected


@pytest.mark.parametrize(
    ("where", "expected"),
    [
        ("age > 26", ["Ann", "Cat"]),
        ("age >= 25 AND age <= 31", ["Ann", "Bob", "O'Eve"]),
        ("age = 25 OR name = 'Cat'", ["Bob", "Cat", "O'Eve"]),
        ("NOT (age = 25)", ["Ann", "Cat"]),
        ("age IS NULL", ["Dan"]),
        ("age is not null and vip = true", ["Ann", "Cat", "O'Eve"]),
        ("name LIKE 'a%'", ["Ann"]),
        ("name NOT LIKE '%a%'", ["Bob", "O'Eve"]),
        ("name = 'O''Eve'", ["O'Eve"]),
        ("name IN ('Ann', 'Bob')", ["Ann", "Bob"]),
        ("age NOT IN (25, 31)", ["Cat"]),
        ("email LIKE '%@example.com' AND (vip = false OR age > 35)", ["Bob", "Cat", "Dan"]),
        ("`age` <> 25", ["Ann", "Cat"]),
        ("age > '20'", []),  # a number never equals or exceeds a text
        ("", ["Ann", "Bob", "Cat", "Dan", "O'Eve"]),
    ],
)
def test_find_by_role_where(keyed: Client, people: Any, where: str, expected: list[str]) -> None:
    assert names(keyed.get("users/role/Member", params={"where": where})) == expected


@pytest.mark.parametrize(
    "where",
    [
        "age >",
        "age = 1; DROP TABLE users",
        "age = (SELECT 1)",
        "name = 'unterminated",
        "foo(age) = 1",
        "age = 1 AND",
        "(age = 1",
        "age ~ 1",
        'name = "double"',
        "(" * 40 + "age = 1" + ")" * 40,
        "NOT " * 40 + "age = 1",
        "age = 1 OR " * 400 + "age = 2",
    ],
)
def test_find_by_role_refuses_where_outside_the_subset(
    keyed: Client, people: Any, where: str
) -> None:
    assert_error(keyed.get("users/role/Member", params={"where": where}), 1017)
    assert len(keyed.emu.users()) == 6  # nothing happened to the table


def test_find_by_role_props_and_roles(keyed: Client, people: Any) -> None:
    found = keyed.get(
        "users/role/Member", params={"props": "name,age", "pageSize": 1, "loadRoles": "true"}
    ).json()
    assert found == [
        {
            "___class": "Users",
            "objectId": people[0]["objectId"],
            "name": "Ann",
            "age": 31,
            "roles": ["AuthenticatedUser", "Member"],
        }
    ]
    # The JS SDK's repeated property= form, and excludeProps
    resp = keyed.http.get(
        f"{keyed.base}/users/role/Member?property=name&property=vip&pageSize=1", timeout=10
    ).json()
    assert set(resp[0]) == {"___class", "objectId", "name", "vip"}
    excluded = keyed.get(
        "users/role/Member", params={"excludeProps": "email,age", "pageSize": 1}
    ).json()[0]
    assert "email" not in excluded
    assert "age" not in excluded
    assert excluded["name"] == "Ann"
    assert "roles" not in keyed.get("users/role/Member", params={"loadRoles": "false"}).json()[0]


@pytest.mark.parametrize(
    ("params", "code"),
    [
        ({"pageSize": "0"}, 8007),
        ({"pageSize": "101"}, 8007),
        ({"pageSize": "x"}, 8007),
        ({"offset": "-1"}, 8007),
        ({"loadRoles": "yes"}, 8007),
        ({"sortBy": "age sideways"}, 8007),
        ({"sortBy": "a;b"}, 8007),
        ({"props": "na me"}, 8007),
    ],
)
def test_find_by_role_bad_query(
    keyed: Client, people: Any, params: dict[str, str], code: int
) -> None:
    assert_error(keyed.get("users/role/Member", params=params), code)


def test_find_by_role_only_custom_roles(keyed: Client, people: Any) -> None:
    assert_error(keyed.get("users/role/AuthenticatedUser"), 2005)
    assert_error(keyed.get("users/role/Nope"), 2005)


# --- describe ------------------------------------------------------------------------------


def test_user_class_props(keyed: Client) -> None:
    with Emulator(
        users={"columns": [{"name": "phone", "type": "STRING", "required": True}]}
    ) as emu:
        c = Client(emu, emu.base_url)
        assert_error(
            c.post("users/register", json={"email": "a@example.com", "password": PW}), 3012
        )
        register(c, phone="555", location="New York", score=2.5, ok=True)
        props = {p["name"]: p for p in c.get("users/userclassprops").json()}
        for name in ("objectId", "email", "password", "created", "updated", "location", "phone"):
            assert name in props
        assert props["email"]["identity"] is True
        assert props["email"]["required"] is True
        assert props["password"]["required"] is True
        assert props["objectId"]["type"] == "STRING_ID"
        assert props["objectId"]["isPrimaryKey"]
        assert props["phone"]["required"] is True
        assert props["location"]["type"] == "STRING"
        assert props["score"]["type"] == "DOUBLE"
        assert props["ok"]["type"] == "BOOLEAN"
        assert {"name", "required", "type", "defaultValue", "identity", "relatedTable"} <= set(
            props["email"]
        )


# --- status --------------------------------------------------------------------------------


def test_status_rules(keyed: Client, server: Client) -> None:
    user = register(keyed)
    path = f"users/{user['objectId']}/status"
    assert_error(put(keyed, path, {"userStatus": "DISABLED"}), 3054)
    for bad in ({"userStatus": "BANNED"}, {"userStatus": 1}, {}, {"userStatus": "GUEST"}):
        assert_error(put(server, path, bad), 8007)
    assert_error(put(server, "users/NOPE/status", {"userStatus": "DISABLED"}), 3030)
    assert_error(put(server, path, {"userStatus": "EMAIL_CONFIRMATION_PENDING"}), 8007)
    assert put(server, path, {"userStatus": "ENABLED"}).status_code == 200  # no change
    guest = keyed.post("users/register/guest").json()
    assert_error(put(server, f"users/{guest['objectId']}/status", {"userStatus": "ENABLED"}), 8007)


def test_pending_users_can_be_enabled_by_server_code() -> None:
    with Emulator(users={"emailConfirmation": True}) as emu:
        c = Client(emu, emu.base_url)
        s = Client(emu, emu.cloud_code_url)
        user = register(c)
        assert put(s, f"users/{user['objectId']}/status", {"userStatus": "ENABLED"}).ok
        assert login(c)["userStatus"] == "ENABLED"


def test_the_domain_form_is_never_server_side(emu: Emulator) -> None:
    c = Client(emu, emu.domain_url)
    user = register(c)
    assert_error(put(c, f"users/{user['objectId']}/status", {"userStatus": "DISABLED"}), 3054)
    assert_error(c.post("users/login", json={"objectId": user["objectId"]}), 2014)
    # a wrong key is still a wrong key
    bad = Client(emu, f"{emu.url}/{emu.app_id}/{emu.cloud_code_key}X")
    assert_error(bad.get("users/userroles"), 2002)


def test_passwords_are_salted_scrypt_hashes(emu: Emulator) -> None:
    c = Client(emu, emu.base_url)
    a = register(c, "a@example.com")
    b = register(c, "b@example.com")
    db = emu._db  # the storage itself: the hash is salted, the password nowhere
    rows = dict(db.execute("SELECT object_id, hash FROM passwords"))
    assert rows[a["objectId"]].startswith("scrypt$16384$8$1$")
    assert rows[a["objectId"]] != rows[b["objectId"]]
    dump = "\n".join(
        str(r) for t in ("users", "passwords", "outbox") for r in db.execute(f"SELECT * FROM {t}")
    )
    assert PW not in dump


def test_concurrent_registrations_keep_the_identity_unique(emu: Emulator) -> None:
    from concurrent.futures import ThreadPoolExecutor

    def attempt(n: int) -> int:
        body = {"email": "race@example.com", "password": f"{PW}{n}"}
        resp = requests.post(f"{emu.base_url}/users/register", json=body, timeout=30)
        return resp.status_code if resp.status_code == 200 else int(resp.json()["code"])

    with ThreadPoolExecutor(8) as pool:
        results = list(pool.map(attempt, range(8)))
    assert sorted(results) == [200] + [3033] * 7
    assert len(emu.users()) == 1


def test_concurrent_failed_logins_all_count(emu: Emulator) -> None:
    from concurrent.futures import ThreadPoolExecutor

    emu.configure_users(lockout={"attempts": 6, "seconds": 600})
    c = Client(emu, emu.base_url)
    register(c)

    def fail(_: int) -> int:
        body = {"login": "ann@example.com", "password": "wrong"}
        resp = requests.post(f"{emu.base_url}/users/login", json=body, timeout=30)
        return int(resp.json()["code"])

    with ThreadPoolExecutor(6) as pool:
        assert sorted(pool.map(fail, range(6))) == [3003] * 6
    assert_error(c.post("users/login", json={"login": "ann@example.com", "password": PW}), 3036)


def test_a_cheaper_hash_for_test_suites_still_salted_scrypt() -> None:
    with Emulator(users={"hashCost": 10}) as emu:
        c = Client(emu, emu.base_url)
        user = register(c)
        stored = dict(emu._db.execute("SELECT object_id, hash FROM passwords"))
        assert stored[user["objectId"]].startswith("scrypt$1024$8$1$")
        login(c)
        # Raising the cost later keeps old hashes working (each records its own cost).
        emu.configure_users(hashCost=12)
        login(c)
        assert_error(
            c.post("users/login", json={"login": "ann@example.com", "password": "x"}), 3003, 401
        )


def test_accounts_survive_a_restart_on_the_same_file(tmp_path: Any) -> None:
    db = tmp_path / "emu.sqlite"
    with Emulator(db=db, users={"roles": ["Trial"]}) as emu:
        key = emu.cloud_code_key
        c = Client(emu, emu.base_url)
        register(c)
        s = Client(emu, emu.cloud_code_url)
        assert s.post("users/assignRole", json={"user": "ann@example.com", "roleName": "Trial"}).ok
    with Emulator(db=db, users={"roles": ["Trial"]}) as emu:
        assert emu.cloud_code_key == key
        c = Client(emu, emu.base_url)
        user = login(c)
        assert emu.roles(user["objectId"]) == ["AuthenticatedUser", "Trial"]
        assert_error(
            c.post("users/register", json={"email": "ann@example.com", "password": PW}), 3033
        )
