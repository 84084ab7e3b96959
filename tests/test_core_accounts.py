"""Accounts with passwords through the public API of both services, mocked with ``responses``.

Every call's exact request (the JS SDK v8's unit tests are the reference: paths, bodies,
headers, the find-by-role query string), its result, the argument rules those tests list
(each refused before any request, naming the argument), the session rules (a login replaces
the session, an update of the current user refreshes it, a guest's token goes along on
registration, an adopted token), and the error classes of the account codes.
"""

from __future__ import annotations

import json
import logging
from collections.abc import Iterator
from typing import Any
from urllib.parse import quote

import pytest
import responses
from drivers import DRIVERS, both_drivers
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from backendless_auth import (
    AccountDisabledError,
    AccountLockedError,
    ApiError,
    Backendless,
    BackendlessUser,
    EmailNotConfirmedError,
    InvalidArgumentError,
    InvalidCredentialsError,
    InvalidEmailError,
    InvalidUserDataError,
    LoginRejectedError,
    MemoryTokenStore,
    NotAllowedError,
    NotLoggedInError,
    PasswordPolicyError,
    RoleNotFoundError,
    SessionExpiredError,
    StoredSession,
    UnexpectedResponseError,
    UserAlreadyExistsError,
    UserNotFoundError,
    UserProperty,
)
from backendless_auth.exceptions import ERROR_CODES

APP_ID = "APP-ID-0001"
API_KEY = "REST-KEY-secret-0002"
BASE = f"https://api.backendless.com/{APP_ID}/{API_KEY}/"
NAMESPACE = f"Backendless_{APP_ID}"
USER_TOKEN = "user-session-token-0006"
GUEST_TOKEN = "guest-session-token-0005"
PASSWORD = "correct horse battery 0007"

# Values the JS SDK's unit tests pass to refuse (undefined and functions have no Python twin
# that differs from None and object()).
NOT_TEXT = [None, True, False, {}, [], (), 0.5, b"bytes", object()]


def user_json(object_id: str = "user-1", token: str | None = None, **columns: Any) -> str:
    data: dict[str, Any] = {
        "___class": "Users",
        "objectId": object_id,
        "email": f"{object_id}@example.com",
        "name": "Ada",
        "userStatus": "ENABLED",
        **columns,
    }
    if token is not None:
        data["user-token"] = token
    return json.dumps(data)


@pytest.fixture
def rsps() -> Iterator[responses.RequestsMock]:
    with responses.RequestsMock(assert_all_requests_are_fired=False) as mock:
        yield mock


@pytest.fixture
def store() -> MemoryTokenStore:
    return MemoryTokenStore()


@pytest.fixture(params=DRIVERS)
def app(
    store: MemoryTokenStore, request: pytest.FixtureRequest, monkeypatch: pytest.MonkeyPatch
) -> Iterator[Backendless]:
    # No language in the environment unless a test sets one: blUserLocale stays out.
    for variable in ("LANGUAGE", "LC_ALL", "LC_MESSAGES", "LANG"):
        monkeypatch.delenv(variable, raising=False)
    with both_drivers(request.param, app_id=APP_ID, api_key=API_KEY, token_store=store) as app:
        yield app


def sent(call: Any) -> Any:
    assert call.request.headers["Content-Type"] == "application/json"
    return json.loads(call.request.body)


def assert_no_body(call: Any) -> None:
    assert "Content-Type" not in call.request.headers
    assert not call.request.body


def path_of(call: Any) -> str:
    url: str = call.request.url
    assert url.startswith(BASE), url
    return url[len(BASE) :]


def log_in(app: Backendless, rsps: responses.RequestsMock, **kwargs: Any) -> BackendlessUser:
    rsps.post(BASE + "users/login", body=user_json(token=USER_TOKEN))
    return app.users.login("user-1@example.com", PASSWORD, **kwargs)


def refused(app: Backendless, rsps: responses.RequestsMock, argument: str, call: Any) -> None:
    """``call()`` raises InvalidArgumentError naming ``argument`` and sends nothing."""
    before = len(rsps.calls)
    with pytest.raises(InvalidArgumentError) as caught:
        call()
    assert caught.value.argument == argument, caught.value
    assert len(rsps.calls) == before


# --- register -------------------------------------------------------------------------------


def test_register_sends_the_properties_and_does_not_log_in(
    app: Backendless, rsps: responses.RequestsMock, store: MemoryTokenStore
) -> None:
    rsps.post(BASE + "users/register", body=user_json(userStatus="EMAIL_CONFIRMATION_PENDING"))
    properties = {"email": "foo@bar.com", "password": PASSWORD, "name": "Bob Miller"}
    user = app.users.register(properties)
    [call] = rsps.calls
    assert call.request.method == "POST"
    assert path_of(call) == "users/register"
    assert sent(call) == properties
    assert "user-token" not in call.request.headers
    assert user.object_id == "user-1"
    assert user.user_status == "EMAIL_CONFIRMATION_PENDING"
    assert user.user_token is None
    assert app.users.current_user is None
    assert store.load(NAMESPACE) is None


def test_register_a_backendless_user_sends_its_class(
    app: Backendless, rsps: responses.RequestsMock
) -> None:
    rsps.post(BASE + "users/register", body=user_json())
    user = BackendlessUser(
        object_id="guest-9", email="foo@bar.com", properties={"password": PASSWORD, "age": 3}
    )
    app.users.register(user)
    body = sent(rsps.calls[0])
    assert body == {
        "___class": "Users",
        "objectId": "guest-9",
        "email": "foo@bar.com",
        "password": PASSWORD,
        "age": 3,
    }


@pytest.mark.parametrize(
    ("environ", "expected"),
    [
        ({"LANG": "de_DE.UTF-8"}, "de"),
        ({"LANGUAGE": "fr_CA:en", "LANG": "de_DE.UTF-8"}, "fr"),
        ({"LC_ALL": "pt_BR.UTF-8", "LANG": "de_DE"}, "pt"),
        ({"LC_MESSAGES": "ES", "LANG": "de_DE"}, "es"),
        ({"LANG": "C.UTF-8"}, None),
        ({"LANG": "POSIX"}, None),
        ({"LANG": "1x"}, None),
        ({}, None),
    ],
)
def test_register_adds_the_locale_from_the_environment_when_absent(
    app: Backendless,
    rsps: responses.RequestsMock,
    monkeypatch: pytest.MonkeyPatch,
    environ: dict[str, str],
    expected: str | None,
) -> None:
    for variable, value in environ.items():
        monkeypatch.setenv(variable, value)
    rsps.post(BASE + "users/register", body=user_json())
    app.users.register({"email": "foo@bar.com", "password": PASSWORD})
    app.users.register({"email": "foo@bar.com", "password": PASSWORD, "blUserLocale": "MINE"})
    first, second = (sent(call) for call in rsps.calls)
    assert first.get("blUserLocale") == expected
    assert second["blUserLocale"] == "MINE"


def test_register_with_a_guest_logged_in_sends_its_token_and_converts_it(
    app: Backendless, rsps: responses.RequestsMock
) -> None:
    rsps.post(
        BASE + "users/register/guest",
        json={"objectId": "guest-1", "userStatus": "GUEST", "user-token": GUEST_TOKEN},
    )
    app.users.login_as_guest()
    rsps.post(BASE + "users/register", body=user_json("guest-1", token="not-a-session-0009"))
    user = app.users.register({"email": "foo@bar.com", "password": PASSWORD})
    call = rsps.calls[-1]
    assert call.request.headers["user-token"] == GUEST_TOKEN
    assert user.object_id == "guest-1"
    # The guest's session now belongs to the registered user; the answer's token is not kept.
    assert user.user_token == GUEST_TOKEN
    assert app.users.user_token == GUEST_TOKEN
    current = app.users.current_user
    assert current is not None
    assert current.user_status == "ENABLED"


@pytest.mark.parametrize(
    ("properties", "argument"),
    [
        ({"email": "a@b.c"}, "password"),
        ({"email": "a@b.c", "password": ""}, "password"),
        ({"email": "a@b.c", "password": 123456}, "password"),
        ({"email": "a@b.c", "password": None}, "password"),
        ({"email": "a@b.c", "password": "\ud800x"}, "password"),
        ({"password": PASSWORD}, "properties"),
        ({"password": PASSWORD, "blUserLocale": "en"}, "properties"),
        ({"email": "a@b.c", "password": PASSWORD, 3: "x"}, "properties"),
        ({"email": "a@b.c", "password": PASSWORD, "": "x"}, "properties"),
        ({"email": "a@b.c", "password": PASSWORD, "when": object()}, "properties"),
        ({"email": "a@b.c", "password": PASSWORD, "n": float("nan")}, "properties"),
        ("email=a@b.c", "properties"),
        (None, "properties"),
        ([("email", "a@b.c")], "properties"),
    ],
)
def test_register_refuses_before_sending(
    app: Backendless, rsps: responses.RequestsMock, properties: Any, argument: str
) -> None:
    refused(app, rsps, argument, lambda: app.users.register(properties))


def test_register_errors_map_to_their_classes(
    app: Backendless, rsps: responses.RequestsMock
) -> None:
    for code, cls in [
        (3033, UserAlreadyExistsError),
        (3040, InvalidEmailError),
        (3125, PasswordPolicyError),
        (3011, InvalidUserDataError),
        (3009, NotAllowedError),
    ]:
        rsps.post(BASE + "users/register", status=400, json={"code": code, "message": "no"})
        with pytest.raises(cls) as caught:
            app.users.register({"email": "a@b.c", "password": PASSWORD})
        assert caught.value.code == code
        rsps.reset()


# --- login ----------------------------------------------------------------------------------


def test_login_sends_login_and_password_and_replaces_the_session(
    app: Backendless, rsps: responses.RequestsMock, store: MemoryTokenStore
) -> None:
    store.save(NAMESPACE, StoredSession(user_token="old-token-000001", user_id="old"))
    user = log_in(app, rsps, stay_logged_in=True)
    call = rsps.calls[0]
    assert path_of(call) == "users/login"
    assert sent(call) == {"login": "user-1@example.com", "password": PASSWORD}
    # As every login: the known session goes along (the JS SDK sends it too).
    assert call.request.headers["user-token"] == "old-token-000001"
    assert user.user_token == USER_TOKEN
    assert app.users.current_user == user
    stored = store.load(NAMESPACE)
    assert stored is not None
    assert stored.user_token == USER_TOKEN
    assert stored.user_id == "user-1"


def test_login_without_stay_clears_the_store(
    app: Backendless, rsps: responses.RequestsMock, store: MemoryTokenStore
) -> None:
    store.save(NAMESPACE, StoredSession(user_token="old-token-000001", user_id="old"))
    log_in(app, rsps)
    assert store.load(NAMESPACE) is None
    assert app.users.user_token == USER_TOKEN


def test_login_accepts_an_integer_identity(app: Backendless, rsps: responses.RequestsMock) -> None:
    rsps.post(BASE + "users/login", body=user_json(token=USER_TOKEN))
    app.users.login(123456, PASSWORD)
    assert sent(rsps.calls[0]) == {"login": 123456, "password": PASSWORD}


@pytest.mark.parametrize("login", [*NOT_TEXT, "", "   "])
def test_login_refuses_a_bad_login(
    app: Backendless, rsps: responses.RequestsMock, login: Any
) -> None:
    refused(app, rsps, "login", lambda: app.users.login(login, PASSWORD))


@pytest.mark.parametrize("password", [*NOT_TEXT, "", 0, 123])
def test_login_refuses_a_bad_password(
    app: Backendless, rsps: responses.RequestsMock, password: Any
) -> None:
    refused(app, rsps, "password", lambda: app.users.login("foo@bar.com", password))


def test_login_options_are_keyword_only(app: Backendless) -> None:
    with pytest.raises(TypeError):
        app.users.login("foo@bar.com", PASSWORD, True)  # type: ignore[misc]


@pytest.mark.parametrize(
    ("code", "cls"),
    [
        (3003, InvalidCredentialsError),
        (3087, EmailNotConfirmedError),
        (3090, AccountDisabledError),
        (3036, AccountLockedError),
        (3000, LoginRejectedError),
    ],
)
def test_a_failed_login_keeps_the_session_and_raises_its_class(
    app: Backendless,
    rsps: responses.RequestsMock,
    store: MemoryTokenStore,
    code: int,
    cls: type[Exception],
) -> None:
    log_in(app, rsps, stay_logged_in=True)
    rsps.replace(
        responses.POST, BASE + "users/login", status=401, json={"code": code, "message": "no"}
    )
    with pytest.raises(cls) as caught:
        app.users.login("user-1@example.com", "wrong password 01")
    assert isinstance(caught.value, LoginRejectedError)
    assert app.users.user_token == USER_TOKEN
    stored = store.load(NAMESPACE)
    assert stored is not None
    assert stored.user_token == USER_TOKEN


# --- verify password ------------------------------------------------------------------------


def test_verify_password(app: Backendless, rsps: responses.RequestsMock) -> None:
    log_in(app, rsps)
    rsps.post(BASE + "users/verifypassowrd", json={"valid": True})
    assert app.users.verify_password(PASSWORD) is True
    rsps.replace(responses.POST, BASE + "users/verifypassowrd", json={"valid": False})
    assert app.users.verify_password("invalid-password") is False
    first, second = rsps.calls[1], rsps.calls[2]
    assert path_of(first) == "users/verifypassowrd"
    assert sent(first) == {"password": PASSWORD}
    assert sent(second) == {"password": "invalid-password"}
    assert first.request.headers["user-token"] == USER_TOKEN


def test_verify_password_needs_a_login(app: Backendless, rsps: responses.RequestsMock) -> None:
    with pytest.raises(NotLoggedInError):
        app.users.verify_password(PASSWORD)
    assert not rsps.calls


@pytest.mark.parametrize("password", [*NOT_TEXT, "", 0, 123])
def test_verify_password_refuses_a_bad_password(
    app: Backendless, rsps: responses.RequestsMock, password: Any
) -> None:
    refused(app, rsps, "current_password", lambda: app.users.verify_password(password))


@pytest.mark.parametrize("answer", [b"{}", b'{"valid": "yes"}', b"[]", b"null"])
def test_verify_password_refuses_an_answer_without_a_boolean(
    app: Backendless, rsps: responses.RequestsMock, answer: bytes
) -> None:
    log_in(app, rsps)
    rsps.post(BASE + "users/verifypassowrd", body=answer, content_type="application/json")
    with pytest.raises(UnexpectedResponseError):
        app.users.verify_password(PASSWORD)


def test_verify_password_server_error(app: Backendless, rsps: responses.RequestsMock) -> None:
    log_in(app, rsps)
    rsps.post(
        BASE + "users/verifypassowrd",
        status=400,
        json={"code": 3121, "message": "No authenticated user is associated with request"},
    )
    with pytest.raises(NotAllowedError, match="No authenticated user"):
        app.users.verify_password(PASSWORD)


# --- emails ---------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("email", "encoded"),
    [
        ("foo@bar.com", "foo%40bar.com"),
        ("@__test", "%40__test"),
        (":__test", "%3A__test"),
        ("/__test", "%2F__test"),
        ("#__test", "%23__test"),
        ("?__test", "%3F__test"),
        ("=__test", "%3D__test"),
        ("$__test", "%24__test"),
        ("&__test", "%26__test"),
        ("+__test", "%2B__test"),
        ("it's(me)!*~", "it's(me)!*~"),
        ("café", "caf%C3%A9"),
    ],
)
def test_restore_password_encodes_as_encode_uri_component(
    app: Backendless, rsps: responses.RequestsMock, email: str, encoded: str
) -> None:
    rsps.get(BASE + "users/restorepassword/" + encoded)
    assert app.users.restore_password(email) is None
    [call] = rsps.calls
    assert call.request.method == "GET"
    assert path_of(call) == "users/restorepassword/" + encoded
    assert_no_body(call)


@pytest.mark.parametrize("email", [*NOT_TEXT, "", 0, 123, "\udc80"])
def test_restore_password_refuses_a_bad_address(
    app: Backendless, rsps: responses.RequestsMock, email: Any
) -> None:
    refused(app, rsps, "email", lambda: app.users.restore_password(email))


def test_restore_password_unknown_user(app: Backendless, rsps: responses.RequestsMock) -> None:
    rsps.get(
        BASE + "users/restorepassword/x%40y.z", status=400, json={"code": 3020, "message": "?"}
    )
    with pytest.raises(UserNotFoundError):
        app.users.restore_password("x@y.z")


@pytest.mark.parametrize(
    ("identity", "path"),
    [
        ("foo@bar.com", "foo@bar.com"),
        ("username", "username"),
        (123456, "123456"),
        (0, "0"),
        ("a/b?c#d;e f%", "a%2Fb%3Fc%23d%3Be%20f%25"),
    ],
)
@pytest.mark.parametrize(
    ("call", "route"),
    [
        ("resend_email_confirmation", "users/resendconfirmation/"),
        ("create_email_confirmation_url", "users/createEmailConfirmationURL/"),
    ],
)
def test_confirmation_calls_post_the_identity_in_the_path(
    app: Backendless,
    rsps: responses.RequestsMock,
    identity: Any,
    path: str,
    call: str,
    route: str,
) -> None:
    rsps.post(BASE + route + path, json={"confirmationURL": "https://x.example/confirm/1"})
    getattr(app.users, call)(identity)
    [made] = rsps.calls
    assert made.request.method == "POST"
    assert path_of(made) == route + path
    assert_no_body(made)


@pytest.mark.parametrize("identity", [*NOT_TEXT, ""])
@pytest.mark.parametrize("call", ["resend_email_confirmation", "create_email_confirmation_url"])
def test_confirmation_calls_refuse_a_bad_identity(
    app: Backendless, rsps: responses.RequestsMock, identity: Any, call: str
) -> None:
    refused(app, rsps, "identity", lambda: getattr(app.users, call)(identity))


@pytest.mark.parametrize(
    ("body", "content_type"),
    [
        (b'{"confirmationURL": "https://x.example/c/1"}', "application/json"),
        (b'"https://x.example/c/1"', "application/json"),
        (b"https://x.example/c/1", "text/plain"),
    ],
)
def test_create_email_confirmation_url_accepts_every_answer_form(
    app: Backendless, rsps: responses.RequestsMock, body: bytes, content_type: str
) -> None:
    rsps.post(BASE + "users/createEmailConfirmationURL/a@b.c", body=body, content_type=content_type)
    assert app.users.create_email_confirmation_url("a@b.c") == "https://x.example/c/1"


def test_create_email_confirmation_url_without_a_url(
    app: Backendless, rsps: responses.RequestsMock
) -> None:
    rsps.post(BASE + "users/createEmailConfirmationURL/a@b.c", json={"other": 1})
    with pytest.raises(UnexpectedResponseError):
        app.users.create_email_confirmation_url("a@b.c")


# --- update ---------------------------------------------------------------------------------


def test_update_of_another_user_leaves_the_current_one(
    app: Backendless, rsps: responses.RequestsMock
) -> None:
    me = log_in(app, rsps)
    rsps.put(BASE + "users/user-2", body=user_json("user-2", name="Bo"))
    saved = app.users.update({"objectId": "user-2", "name": "Bo", "user-token": "never-sent-1"})
    call = rsps.calls[-1]
    assert call.request.method == "PUT"
    assert sent(call) == {"objectId": "user-2", "name": "Bo"}
    assert call.request.headers["user-token"] == USER_TOKEN
    assert saved.name == "Bo"
    assert saved.user_token is None
    assert app.users.current_user == me


def test_update_of_the_current_user_refreshes_it_and_keeps_the_token(
    app: Backendless, rsps: responses.RequestsMock, store: MemoryTokenStore
) -> None:
    me = log_in(app, rsps, stay_logged_in=True)
    rsps.put(BASE + "users/user-1", body=user_json(name="Grace", age=37))
    saved = app.users.update(attrs_evolve(me, name="Grace"))
    body = sent(rsps.calls[-1])
    assert body["___class"] == "Users"
    assert body["name"] == "Grace"
    assert "user-token" not in body
    assert saved.name == "Grace"
    assert saved.user_token == USER_TOKEN
    assert app.users.current_user == saved
    assert app.users.current_user is not None
    assert app.users.current_user["age"] == 37
    stored = store.load(NAMESPACE)
    assert stored is not None
    assert stored.user_token == USER_TOKEN


def attrs_evolve(user: BackendlessUser, **changes: Any) -> BackendlessUser:
    import attrs

    return attrs.evolve(user, **changes)


@pytest.mark.parametrize(
    "user",
    [
        {"name": "no id"},
        {"objectId": ""},
        {"objectId": 5},
        {"objectId": "u", "when": object()},
        None,
        "user-1",
    ],
)
def test_update_refuses_before_sending(
    app: Backendless, rsps: responses.RequestsMock, user: Any
) -> None:
    refused(app, rsps, "user", lambda: app.users.update(user))


def test_update_errors(app: Backendless, rsps: responses.RequestsMock) -> None:
    for code, cls in [(3018, UserAlreadyExistsError), (3029, NotAllowedError)]:
        rsps.put(BASE + "users/u1", status=400, json={"code": code, "message": "no"})
        with pytest.raises(cls):
            app.users.update({"objectId": "u1", "email": "taken@x.y"})
        rsps.reset()


def test_update_with_a_dead_session_forgets_it(
    app: Backendless, rsps: responses.RequestsMock
) -> None:
    log_in(app, rsps)
    rsps.put(BASE + "users/user-1", status=401, json={"code": 3064, "message": "gone"})
    with pytest.raises(SessionExpiredError):
        app.users.update({"objectId": "user-1", "name": "x"})
    assert app.users.user_token is None


# --- roles ----------------------------------------------------------------------------------


def test_get_user_roles(app: Backendless, rsps: responses.RequestsMock) -> None:
    rsps.get(BASE + "users/userroles", json=["role-1", "role-2"])
    rsps.get(BASE + "users/userroles/user-id", json=["role-3"])
    assert app.users.get_user_roles() == ["role-1", "role-2"]
    assert app.users.get_user_roles("user-id") == ["role-3"]
    first, second = rsps.calls
    assert path_of(first) == "users/userroles"
    assert first.request.method == "GET"
    assert path_of(second) == "users/userroles/user-id"
    assert_no_body(first)


@pytest.mark.parametrize("user_id", [True, {}, [], "", "  "])
def test_get_user_roles_refuses_a_bad_id(
    app: Backendless, rsps: responses.RequestsMock, user_id: Any
) -> None:
    refused(app, rsps, "user_id", lambda: app.users.get_user_roles(user_id))


@pytest.mark.parametrize("answer", [b"{}", b'["a", 1]', b'"AuthenticatedUser"'])
def test_get_user_roles_refuses_an_answer_that_is_not_names(
    app: Backendless, rsps: responses.RequestsMock, answer: bytes
) -> None:
    rsps.get(BASE + "users/userroles", body=answer, content_type="application/json")
    with pytest.raises(UnexpectedResponseError):
        app.users.get_user_roles()


@pytest.mark.parametrize("call", ["assign_role", "unassign_role"])
def test_assign_and_unassign_role(
    app: Backendless, rsps: responses.RequestsMock, call: str
) -> None:
    route = "users/assignRole" if call == "assign_role" else "users/unassignRole"
    rsps.post(BASE + route)
    assert getattr(app.users, call)("test-identity", "test-role") is None
    getattr(app.users, call)(42, "test-role")
    first, second = rsps.calls
    assert path_of(first) == route
    assert first.request.method == "POST"
    assert sent(first) == {"user": "test-identity", "roleName": "test-role"}
    assert sent(second) == {"user": 42, "roleName": "test-role"}


@pytest.mark.parametrize("call", ["assign_role", "unassign_role"])
@pytest.mark.parametrize("identity", [None, False, True, "", {}, [], object()])
def test_role_changes_refuse_a_bad_identity(
    app: Backendless, rsps: responses.RequestsMock, call: str, identity: Any
) -> None:
    refused(app, rsps, "identity", lambda: getattr(app.users, call)(identity, "role"))


@pytest.mark.parametrize("call", ["assign_role", "unassign_role"])
@pytest.mark.parametrize("role", [None, False, True, "", 0, {}, [], object()])
def test_role_changes_refuse_a_bad_role(
    app: Backendless, rsps: responses.RequestsMock, call: str, role: Any
) -> None:
    refused(app, rsps, "role_name", lambda: getattr(app.users, call)("identity", role))


def test_role_errors(app: Backendless, rsps: responses.RequestsMock) -> None:
    for code, cls in [
        (2005, RoleNotFoundError),
        (2011, NotAllowedError),
        (3020, UserNotFoundError),
    ]:
        rsps.post(BASE + "users/assignRole", status=400, json={"code": code, "message": "no"})
        with pytest.raises(cls):
            app.users.assign_role("a@b.c", "Pro")
        rsps.reset()


# --- find by role ---------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("kwargs", "query"),
    [
        ({}, ""),
        ({"load_roles": True}, "loadRoles=true"),
        ({"load_roles": False}, "loadRoles=false"),
        ({"page_size": 50, "offset": 15}, "pageSize=50&offset=15"),
        ({"offset": 0}, ""),
        ({"properties": ["foo", "bar"]}, "property=foo&property=bar"),
        ({"where": "age >= 100"}, "where=age%20%3E%3D%20100"),
        ({"sort_by": "created"}, "sortBy=created"),
        ({"sort_by": ["created DESC", "name"]}, "sortBy=created%20DESC,name"),
        (
            {
                "load_roles": True,
                "where": "name = 'it''s'",
                "properties": ["prop-1", "prop 2"],
                "sort_by": "test-sortby",
                "page_size": 30,
                "offset": 40,
            },
            "loadRoles=true&pageSize=30&offset=40&property=prop-1&property=prop%202"
            "&where=name%20%3D%20'it''s'&sortBy=test-sortby",
        ),
    ],
)
def test_find_by_role_builds_the_js_sdk_query_string(
    app: Backendless, rsps: responses.RequestsMock, kwargs: dict[str, Any], query: str
) -> None:
    url = BASE + "users/role/testRoleName" + (f"?{query}" if query else "")
    rsps.get(url, json=[{"objectId": "14F0E678", "name": "nick", "roles": ["testRoleName"]}])
    [user] = app.users.find_by_role("testRoleName", **kwargs)
    [call] = rsps.calls
    assert call.request.url == url
    assert_no_body(call)
    assert user.object_id == "14F0E678"
    assert user["roles"] == ["testRoleName"]


@pytest.mark.parametrize("role", [None, False, True, "", 0, 123, {}, [], object()])
def test_find_by_role_refuses_a_bad_role(
    app: Backendless, rsps: responses.RequestsMock, role: Any
) -> None:
    refused(app, rsps, "role_name", lambda: app.users.find_by_role(role))


@pytest.mark.parametrize(
    ("kwargs", "argument"),
    [
        ({"load_roles": ""}, "load_roles"),
        ({"load_roles": 0}, "load_roles"),
        ({"load_roles": 123}, "load_roles"),
        ({"load_roles": {}}, "load_roles"),
        ({"load_roles": []}, "load_roles"),
        ({"page_size": 0}, "page_size"),
        ({"page_size": 101}, "page_size"),
        ({"page_size": True}, "page_size"),
        ({"page_size": "10"}, "page_size"),
        ({"offset": -1}, "offset"),
        ({"offset": 1.5}, "offset"),
        ({"properties": "email"}, "properties"),
        ({"properties": [""]}, "properties"),
        ({"properties": [1]}, "properties"),
        ({"properties": b"ab"}, "properties"),
        ({"where": ""}, "where"),
        ({"where": 5}, "where"),
        ({"sort_by": ""}, "sort_by"),
        ({"sort_by": [None]}, "sort_by"),
    ],
)
def test_find_by_role_refuses_bad_options(
    app: Backendless, rsps: responses.RequestsMock, kwargs: dict[str, Any], argument: str
) -> None:
    refused(app, rsps, argument, lambda: app.users.find_by_role("Pro", **kwargs))


def test_find_by_role_options_are_keyword_only(app: Backendless) -> None:
    with pytest.raises(TypeError):
        app.users.find_by_role("Pro", True)  # type: ignore[misc]


@pytest.mark.parametrize("answer", [b"{}", b'[{"name": "no id"}]', b'"users"'])
def test_find_by_role_refuses_an_answer_that_is_not_users(
    app: Backendless, rsps: responses.RequestsMock, answer: bytes
) -> None:
    rsps.get(BASE + "users/role/Pro", body=answer, content_type="application/json")
    with pytest.raises(UnexpectedResponseError):
        app.users.find_by_role("Pro")


_TEXT = st.text(st.characters(exclude_categories=("Cs",)), min_size=1, max_size=30).filter(
    lambda text: text.strip()
)


@settings(max_examples=60, suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(role=_TEXT, where=_TEXT, column=_TEXT)
def test_find_by_role_encodes_whatever_it_is_given(
    app: Backendless, role: str, where: str, column: str
) -> None:
    """Role names go into the path, the rest into the query: nothing leaks into another part."""
    with responses.RequestsMock() as rsps:
        rsps.get(
            BASE + "users/role/" + quote(role, safe="!$&'()*+,=:@"),
            json=[],
            match=[
                responses.matchers.query_string_matcher(
                    f"property={quote(column, safe=chr(33) + '*()' + chr(39))}"
                    f"&where={quote(where, safe=chr(33) + '*()' + chr(39))}"
                )
            ],
        )
        assert app.users.find_by_role(role, where=where, properties=[column]) == []


# --- describe the user class ----------------------------------------------------------------


def test_describe_user_class(app: Backendless, rsps: responses.RequestsMock) -> None:
    columns = [
        {
            "name": "email",
            "type": "STRING",
            "required": False,
            "identity": True,
            "defaultValue": None,
            "relatedTable": None,
            "customRegex": None,
            "autoLoad": False,
            "isPrimaryKey": False,
        },
        {"name": "age", "type": "INT", "required": True, "defaultValue": 18, "extra": "kept"},
    ]
    rsps.get(BASE + "users/userclassprops", json=columns)
    email, age = app.users.describe_user_class()
    [call] = rsps.calls
    assert path_of(call) == "users/userclassprops"
    assert call.request.method == "GET"
    assert_no_body(call)
    assert email == UserProperty(name="email", type="STRING", identity=True)
    assert (age.name, age.type, age.required, age.identity, age.default) == (
        "age",
        "INT",
        True,
        False,
        18,
    )
    assert age.properties["extra"] == "kept"


@pytest.mark.parametrize(
    "answer",
    [b"{}", b'[{"name": "x"}]', b'[{"name": "x", "type": "INT", "required": "yes"}]', b"[1]"],
)
def test_describe_user_class_refuses_what_is_not_columns(
    app: Backendless, rsps: responses.RequestsMock, answer: bytes
) -> None:
    rsps.get(BASE + "users/userclassprops", body=answer, content_type="application/json")
    with pytest.raises(UnexpectedResponseError):
        app.users.describe_user_class()


# --- status ---------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("call", "args", "status"),
    [
        ("disable_user", ("test-user-id",), "DISABLED"),
        ("enable_user", ("test-user-id",), "ENABLED"),
        ("update_user_status", ("test-user-id", "EMAIL_CONFIRMATION_PENDING"), None),
    ],
)
def test_status_calls(
    app: Backendless, rsps: responses.RequestsMock, call: str, args: tuple[Any, ...], status: Any
) -> None:
    rsps.put(BASE + "users/test-user-id/status", json={"foo": 123})
    rsps.put(BASE + "users/123/status", json={"foo": 123})
    assert getattr(app.users, call)(*args) is None
    getattr(app.users, call)(123, *args[1:])
    first, second = rsps.calls
    assert first.request.method == "PUT"
    assert path_of(first) == "users/test-user-id/status"
    assert path_of(second) == "users/123/status"
    assert sent(first) == {"userStatus": status or args[1]}


@pytest.mark.parametrize("user_id", [None, True, False, "", {}, [], object()])
@pytest.mark.parametrize("call", ["enable_user", "disable_user"])
def test_status_calls_refuse_a_bad_user_id(
    app: Backendless, rsps: responses.RequestsMock, user_id: Any, call: str
) -> None:
    refused(app, rsps, "user_id", lambda: getattr(app.users, call)(user_id))


@pytest.mark.parametrize(
    "status", [None, True, False, "", 0, 123, {}, [], "enabled", "GUEST", "BLOCKED"]
)
def test_update_user_status_refuses_a_bad_status(
    app: Backendless, rsps: responses.RequestsMock, status: Any
) -> None:
    refused(app, rsps, "status", lambda: app.users.update_user_status("user-id", status))


def test_status_errors(app: Backendless, rsps: responses.RequestsMock) -> None:
    for code, cls in [(3054, NotAllowedError), (3030, UserNotFoundError)]:
        rsps.put(BASE + "users/u/status", status=400, json={"code": code, "message": "no"})
        with pytest.raises(cls):
            app.users.disable_user("u")
        rsps.reset()


# --- set_current_user_token -----------------------------------------------------------------


def test_set_current_user_token_with_a_user_id_loads_the_user_later(
    app: Backendless, rsps: responses.RequestsMock, store: MemoryTokenStore
) -> None:
    app.users.set_current_user_token("web-token-000001", user_id="user-7", stay_logged_in=True)
    assert not rsps.calls
    assert app.users.user_token == "web-token-000001"
    assert app.users.current_user_id == "user-7"
    assert app.users.current_user is None
    stored = store.load(NAMESPACE)
    assert stored is not None
    assert (stored.user_token, stored.user_id) == ("web-token-000001", "user-7")
    rsps.get(BASE + "data/Users/user-7", body=user_json("user-7"))
    user = app.users.get_current_user()
    assert user is not None
    assert user.object_id == "user-7"
    assert user.user_token == "web-token-000001"
    assert rsps.calls[0].request.headers["user-token"] == "web-token-000001"


def test_set_current_user_token_renews_the_current_session(
    app: Backendless, rsps: responses.RequestsMock, store: MemoryTokenStore
) -> None:
    me = log_in(app, rsps, stay_logged_in=True)
    app.users.set_current_user_token("renewed-token-01")
    assert len(rsps.calls) == 1
    current = app.users.current_user
    assert current is not None
    assert current.object_id == me.object_id
    assert current.user_token == "renewed-token-01"
    # As every login: without stay_logged_in the store is cleared.
    assert store.load(NAMESPACE) is None


def test_set_current_user_token_without_anyone_needs_a_user_id(
    app: Backendless, rsps: responses.RequestsMock
) -> None:
    refused(app, rsps, "user_id", lambda: app.users.set_current_user_token("web-token-000001"))
    assert app.users.user_token is None


@pytest.mark.parametrize(
    "token",
    [None, 5, "", "   ", "tok en", "tok\r\nSet-Cookie: x", "tök-000001", "x" * 4097, "\x00abc"],
)
def test_set_current_user_token_refuses_what_no_header_can_carry(
    app: Backendless, rsps: responses.RequestsMock, token: Any
) -> None:
    log_in(app, rsps)
    with pytest.raises(InvalidArgumentError) as caught:
        app.users.set_current_user_token(token, user_id="user-1")
    assert caught.value.argument == "user_token"
    if isinstance(token, str) and token.strip():
        assert token not in str(caught.value)
    assert app.users.user_token == USER_TOKEN


# --- secrets and codes ----------------------------------------------------------------------


def test_passwords_never_show_in_errors_or_logs(
    app: Backendless, rsps: responses.RequestsMock, caplog: pytest.LogCaptureFixture
) -> None:
    caplog.set_level(logging.DEBUG)
    secret = "pa55-word-never-shown"
    rsps.post(
        BASE + "users/login",
        status=401,
        json={"code": 3003, "message": f"Invalid login or password {secret}"},
    )
    with pytest.raises(InvalidCredentialsError) as caught:
        app.users.login("a@b.c", secret)
    assert secret not in str(caught.value)
    assert secret not in repr(caught.value)
    assert secret not in json.dumps(dict(caught.value.body))
    with pytest.raises(InvalidArgumentError) as bad:
        app.users.register({"email": "a@b.c", "password": secret, "when": object()})
    assert secret not in str(bad.value)
    assert bad.value.__cause__ is None
    assert bad.value.__context__ is None
    assert secret not in caplog.text


@pytest.mark.parametrize(
    ("code", "cls"),
    sorted((code, cls) for code, cls in ERROR_CODES.items() if 1000 <= code < 4000),
)
def test_every_account_code_raises_its_class(
    app: Backendless, rsps: responses.RequestsMock, code: int, cls: type[ApiError]
) -> None:
    rsps.get(BASE + "users/userroles", status=400, json={"code": code, "message": "refused"})
    with pytest.raises(ApiError) as caught:
        app.users.get_user_roles()
    assert type(caught.value) is cls
    assert caught.value.code == code


def test_a_login_after_the_session_died_goes_again_without_it(
    app: Backendless, rsps: responses.RequestsMock, store: MemoryTokenStore
) -> None:
    store.save(NAMESPACE, StoredSession(user_token="dead-token-000001", user_id="old"))
    answers = iter(
        [
            (400, {}, json.dumps({"code": 3064, "message": "Not existing user token"})),
            (200, {}, user_json(token=USER_TOKEN)),
        ]
    )
    rsps.add_callback(responses.POST, BASE + "users/login", callback=lambda _r: next(answers))
    user = app.users.login("user-1@example.com", PASSWORD)
    first, second = rsps.calls
    assert first.request.headers["user-token"] == "dead-token-000001"
    assert "user-token" not in second.request.headers
    assert user.user_token == USER_TOKEN
    assert app.users.user_token == USER_TOKEN


def test_a_login_without_a_session_is_not_sent_twice(
    app: Backendless, rsps: responses.RequestsMock
) -> None:
    rsps.post(BASE + "users/login", status=400, json={"code": 3064, "message": "odd"})
    with pytest.raises(SessionExpiredError):
        app.users.login("user-1@example.com", PASSWORD)
    assert len(rsps.calls) == 1
