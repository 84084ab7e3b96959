"""UserService through the public API: the exact requests, validation, and the session state."""

from __future__ import annotations

import json
from collections.abc import Iterator
from typing import Any

import pytest
import requests
import responses
from drivers import DRIVERS, both_drivers

from backendless_auth import (
    Backendless,
    BackendlessUser,
    InvalidArgumentError,
    LoginRejectedError,
    MemoryTokenStore,
    NetworkError,
    SessionExpiredError,
    StoredSession,
    TokenStoreError,
    UnexpectedResponseError,
)

APP_ID = "APP-ID-0001"
API_KEY = "REST-KEY-secret-0002"
BASE = f"https://api.backendless.com/{APP_ID}/{API_KEY}/"
EU_BASE = f"https://eu-api.backendless.com/{APP_ID}/{API_KEY}/"
DOMAIN_BASE = "https://xxxx.backendless.app/api/"
NAMESPACE = f"Backendless_{APP_ID}"

ACCESS_TOKEN = "provider-access-token-0003"
TOKEN_SECRET = "provider-token-secret-0004"
GUEST_TOKEN = "guest-session-token-0005"
USER_TOKEN = "user-session-token-0006"
OTHER_TOKEN = "other-session-token-0007"


def user_json(object_id: str = "user-1", token: str | None = USER_TOKEN, **columns: Any) -> str:
    data: dict[str, Any] = {
        "___class": "Users",
        "objectId": object_id,
        "email": f"{object_id}@example.com",
        "name": "Ada",
        "userStatus": "ENABLED",
        "created": 1_700_000_000_000,
        "updated": None,
        "lastLogin": 1_700_000_100_000,
        "socialAccount": "GOOGLE_PLUS",
    }
    data.update(columns)
    if token is not None:
        data["user-token"] = token
    return json.dumps(data)


def guest_json(object_id: str = "guest-1", token: str | None = GUEST_TOKEN) -> str:
    return json.dumps(
        {"___class": "Users", "objectId": object_id, "userStatus": "GUEST", "user-token": token}
    )


@pytest.fixture
def rsps() -> Iterator[responses.RequestsMock]:
    with responses.RequestsMock(assert_all_requests_are_fired=False) as mock:
        yield mock


@pytest.fixture
def store() -> MemoryTokenStore:
    return MemoryTokenStore()


@pytest.fixture(params=DRIVERS)
def app(store: MemoryTokenStore, request: pytest.FixtureRequest) -> Iterator[Backendless]:
    # The same tests through UserService and (behind a blocking proxy) AsyncUserService.
    with both_drivers(request.param, app_id=APP_ID, api_key=API_KEY, token_store=store) as app:
        yield app


APP_FORMS = {
    "default": ({"app_id": APP_ID, "api_key": API_KEY}, BASE),
    "eu": (
        {"app_id": APP_ID, "api_key": API_KEY, "server_url": "https://eu-api.backendless.com"},
        EU_BASE,
    ),
    "domain": ({"domain": "https://xxxx.backendless.app"}, DOMAIN_BASE),
}


@pytest.fixture(params=sorted(APP_FORMS))
def any_app(request: pytest.FixtureRequest) -> Iterator[tuple[Backendless, str]]:
    kwargs, base = APP_FORMS[request.param]
    with Backendless(**kwargs) as app:
        yield app, base


def sent_json(call: Any) -> Any:
    assert call.request.headers["Content-Type"] == "application/json"
    return json.loads(call.request.body)


def assert_no_body(call: Any) -> None:
    assert "Content-Type" not in call.request.headers
    assert not call.request.body


def login_guest(app: Backendless, rsps: responses.RequestsMock, **kwargs: Any) -> BackendlessUser:
    rsps.post(BASE + "users/register/guest", body=guest_json())
    return app.users.login_as_guest(**kwargs)


# --- request shapes, in every base URL form ---------------------------------------------------


def test_oauth2_login_request(
    any_app: tuple[Backendless, str], rsps: responses.RequestsMock
) -> None:
    app, base = any_app
    rsps.post(base + "users/oauth/google/login", body=user_json())

    user = app.users.login_with_oauth2("Google", ACCESS_TOKEN)

    (call,) = rsps.calls
    assert call.request.method == "POST"
    assert call.request.url == base + "users/oauth/google/login"
    assert sent_json(call) == {"accessToken": ACCESS_TOKEN}
    assert "user-token" not in call.request.headers
    assert not any(name.lower().startswith("application") for name in call.request.headers)
    assert user.object_id == "user-1"
    assert user.user_token == USER_TOKEN


def test_oauth1_login_request(
    any_app: tuple[Backendless, str], rsps: responses.RequestsMock
) -> None:
    app, base = any_app
    rsps.post(base + "users/oauth/twitter/login", body=user_json())

    user = app.users.login_with_oauth1("TWITTER", ACCESS_TOKEN, TOKEN_SECRET)

    (call,) = rsps.calls
    assert call.request.url == base + "users/oauth/twitter/login"
    assert sent_json(call) == {"accessToken": ACCESS_TOKEN, "accessTokenSecret": TOKEN_SECRET}
    assert user.user_token == USER_TOKEN


def test_guest_login_request(
    any_app: tuple[Backendless, str], rsps: responses.RequestsMock
) -> None:
    app, base = any_app
    rsps.post(base + "users/register/guest", body=guest_json())

    user = app.users.login_as_guest()

    (call,) = rsps.calls
    assert call.request.method == "POST"
    assert call.request.url == base + "users/register/guest"
    assert_no_body(call)
    assert user.is_guest
    assert user.user_token == GUEST_TOKEN
    assert app.users.current_user == user


def test_authorization_url_request(
    any_app: tuple[Backendless, str], rsps: responses.RequestsMock
) -> None:
    app, base = any_app
    rsps.post(
        base + "users/oauth/github/request_url",
        body="https://github.com/login/oauth/authorize?client_id=x",
        content_type="text/plain",
    )

    url = app.users.get_authorization_url("GitHub")

    (call,) = rsps.calls
    assert call.request.url == base + "users/oauth/github/request_url"
    assert sent_json(call) == {"redirect": False}
    assert url == "https://github.com/login/oauth/authorize?client_id=x"


def test_logout_and_token_check_requests(
    any_app: tuple[Backendless, str], rsps: responses.RequestsMock
) -> None:
    app, base = any_app
    rsps.post(base + "users/register/guest", body=guest_json())
    rsps.get(base + f"users/isvalidusertoken/{GUEST_TOKEN}", json=True)
    rsps.get(base + "users/logout", body="")
    app.users.login_as_guest()

    assert app.users.is_valid_login() is True
    app.users.logout()

    check, logout = rsps.calls[1:]
    for call in (check, logout):
        assert call.request.method == "GET"
        assert call.request.headers["user-token"] == GUEST_TOKEN
        assert_no_body(call)
    assert check.request.url == base + f"users/isvalidusertoken/{GUEST_TOKEN}"
    assert logout.request.url == base + "users/logout"
    assert app.users.current_user is None
    assert app.users.user_token is None


# --- login options: every combination --------------------------------------------------------

GUEST_WIRE = {
    "___class": "Users",
    "objectId": "guest-1",
    "userStatus": "GUEST",
    "user-token": GUEST_TOKEN,
    "created": 1_700_000_000_000,
    "myColumn": "kept",
}


@pytest.mark.parametrize("oauth1", [False, True], ids=["oauth2", "oauth1"])
@pytest.mark.parametrize("guest", [None, "user", "mapping"])
@pytest.mark.parametrize("mapping", [None, {"email": "email", "my_name": "name"}])
@pytest.mark.parametrize("stay", [None, False, True])
def test_oauth_login_options(
    app: Backendless,
    store: MemoryTokenStore,
    rsps: responses.RequestsMock,
    oauth1: bool,
    guest: str | None,
    mapping: dict[str, str] | None,
    stay: bool | None,
) -> None:
    provider = "twitter" if oauth1 else "facebook"
    rsps.post(BASE + f"users/oauth/{provider}/login", body=user_json("guest-1"))
    kwargs: dict[str, Any] = {}
    if guest == "user":
        kwargs["guest_user"] = BackendlessUser.from_wire(GUEST_WIRE)
    elif guest == "mapping":
        kwargs["guest_user"] = dict(GUEST_WIRE)
    if mapping is not None:
        kwargs["fields_mapping"] = mapping
    if stay is not None:
        kwargs["stay_logged_in"] = stay

    if oauth1:
        user = app.users.login_with_oauth1(provider, ACCESS_TOKEN, TOKEN_SECRET, **kwargs)
    else:
        user = app.users.login_with_oauth2(provider, ACCESS_TOKEN, **kwargs)

    expected: dict[str, Any] = {"accessToken": ACCESS_TOKEN}
    if oauth1:
        expected["accessTokenSecret"] = TOKEN_SECRET
    if mapping is not None:
        expected["fieldsMapping"] = mapping
    if guest is not None:
        expected["guestUser"] = GUEST_WIRE
    (call,) = rsps.calls
    assert sent_json(call) == expected
    assert app.users.current_user == user
    assert app.users.user_token == USER_TOKEN
    assert app.users.current_user_id == "guest-1"
    stored = store.load(NAMESPACE)
    if stay:
        assert stored is not None
        assert (stored.user_token, stored.user_id, stored.stay_logged_in) == (
            USER_TOKEN,
            "guest-1",
            True,
        )
    else:
        assert stored is None


def test_login_sends_current_session_token(app: Backendless, rsps: responses.RequestsMock) -> None:
    guest = login_guest(app, rsps)
    rsps.post(BASE + "users/oauth/google/login", body=user_json("guest-1"))

    app.users.login_with_oauth2("google", ACCESS_TOKEN, guest_user=guest)

    call = rsps.calls[-1]
    assert call.request.headers["user-token"] == GUEST_TOKEN
    assert sent_json(call)["guestUser"]["user-token"] == GUEST_TOKEN


def test_guest_login_sends_current_session_token(
    app: Backendless, rsps: responses.RequestsMock
) -> None:
    login_guest(app, rsps)
    rsps.post(BASE + "users/register/guest", body=guest_json("guest-2", OTHER_TOKEN))

    second = app.users.login_as_guest()

    assert rsps.calls[-1].request.headers["user-token"] == GUEST_TOKEN
    assert_no_body(rsps.calls[-1])
    assert app.users.current_user == second
    assert app.users.user_token == OTHER_TOKEN


def test_guest_user_without_token_gets_the_session_token(
    app: Backendless, rsps: responses.RequestsMock
) -> None:
    login_guest(app, rsps)
    rsps.post(BASE + "users/oauth/google/login", body=user_json("guest-1"))

    app.users.login_with_oauth2(
        "google", ACCESS_TOKEN, guest_user={"objectId": "guest-1", "userStatus": "GUEST"}
    )

    assert sent_json(rsps.calls[-1])["guestUser"] == {
        "___class": "Users",
        "objectId": "guest-1",
        "userStatus": "GUEST",
        "user-token": GUEST_TOKEN,
    }


def test_hand_built_guest_user_is_sent_whole(
    app: Backendless, rsps: responses.RequestsMock
) -> None:
    rsps.post(BASE + "users/oauth/google/login", body=user_json("guest-9"))
    guest = BackendlessUser(object_id="guest-9", user_status="GUEST", user_token=GUEST_TOKEN)

    app.users.login_with_oauth2("google", ACCESS_TOKEN, guest_user=guest)

    assert sent_json(rsps.calls[-1])["guestUser"] == {
        "___class": "Users",
        "objectId": "guest-9",
        "userStatus": "GUEST",
        "user-token": GUEST_TOKEN,
    }


def test_empty_fields_mapping_is_left_out(app: Backendless, rsps: responses.RequestsMock) -> None:
    rsps.post(BASE + "users/oauth/google/login", body=user_json())

    app.users.login_with_oauth2("google", ACCESS_TOKEN, fields_mapping={})

    assert sent_json(rsps.calls[0]) == {"accessToken": ACCESS_TOKEN}


@pytest.mark.parametrize("stay", [False, True])
def test_guest_login_stay_logged_in(
    app: Backendless, store: MemoryTokenStore, rsps: responses.RequestsMock, stay: bool
) -> None:
    user = login_guest(app, rsps, stay_logged_in=stay)

    stored = store.load(NAMESPACE)
    if stay:
        assert stored is not None
        assert stored.user_token == GUEST_TOKEN
        assert stored.user_id == user.object_id
        assert stored.stay_logged_in is True
    else:
        assert stored is None


@pytest.mark.parametrize("provider", ["google", "Google", "my_custom-provider.v2", "X9"])
def test_provider_code_is_lowercased(
    app: Backendless, rsps: responses.RequestsMock, provider: str
) -> None:
    rsps.post(BASE + f"users/oauth/{provider.lower()}/login", body=user_json())

    app.users.login_with_oauth2(provider, ACCESS_TOKEN)

    assert rsps.calls[0].request.path_url.endswith(f"/users/oauth/{provider.lower()}/login")


# --- the authorization URL -------------------------------------------------------------------

PROVIDER_URL = "https://accounts.google.com/o/oauth2/auth?client_id=abc&state=s"


@pytest.mark.parametrize(
    ("kwargs", "expected"),
    [
        ({}, {}),
        ({"fields_mapping": {"email": "email"}}, {"fieldsMapping": {"email": "email"}}),
        ({"scope": "email profile"}, {"permissions": "email profile"}),
        ({"scope": "email,profile"}, {"permissions": "email,profile"}),
        ({"scope": ["email", "profile"]}, {"permissions": "email profile"}),
        ({"scope": ("email", "profile", "openid")}, {"permissions": "email profile openid"}),
        (
            {"scope": ["user:email", "read:user"], "scope_separator": ","},
            {"permissions": "user:email,read:user"},
        ),
        ({"scope": "a b", "scope_separator": ","}, {"permissions": "a b"}),
        ({"scope": []}, {}),
        (
            {"redirect_after_login_url": "http://127.0.0.1:8765/callback"},
            {"redirectAfterLoginUrl": "http://127.0.0.1:8765/callback"},
        ),
        ({"callback_url_domain": "auth.example.com"}, {"callbackUrlDomain": "auth.example.com"}),
        (
            {
                "fields_mapping": {"email": "email", "name": "name"},
                "scope": ["openid", "email"],
                "scope_separator": "+",
                "redirect_after_login_url": "https://app.example.com/done",
                "callback_url_domain": "auth.example.com",
            },
            {
                "fieldsMapping": {"email": "email", "name": "name"},
                "permissions": "openid+email",
                "redirectAfterLoginUrl": "https://app.example.com/done",
                "callbackUrlDomain": "auth.example.com",
            },
        ),
    ],
)
def test_authorization_url_options(
    app: Backendless,
    rsps: responses.RequestsMock,
    kwargs: dict[str, Any],
    expected: dict[str, Any],
) -> None:
    rsps.post(BASE + "users/oauth/google/request_url", body=PROVIDER_URL)

    url = app.users.get_authorization_url("google", **kwargs)

    assert url == PROVIDER_URL
    assert sent_json(rsps.calls[0]) == {"redirect": False, **expected}


@pytest.mark.parametrize(
    ("body", "content_type"),
    [
        (PROVIDER_URL, "text/plain"),
        (PROVIDER_URL + "\n", "text/plain; charset=utf-8"),
        (json.dumps(PROVIDER_URL), "application/json"),
        (json.dumps(PROVIDER_URL), "text/plain"),
        (json.dumps({"url": PROVIDER_URL}), "application/json"),
        (json.dumps({"url": PROVIDER_URL}), "application/json; charset=utf-8"),
        (json.dumps({"url": PROVIDER_URL}), "text/plain"),
    ],
)
def test_authorization_url_answer_forms(
    app: Backendless, rsps: responses.RequestsMock, body: str, content_type: str
) -> None:
    rsps.post(BASE + "users/oauth/google/request_url", body=body, content_type=content_type)

    assert app.users.get_authorization_url("google") == PROVIDER_URL


@pytest.mark.parametrize(
    ("body", "content_type"),
    [
        ("", "text/plain"),
        ("   ", "text/plain"),
        ("not a url", "text/plain"),
        ("ftp://example.com/x", "text/plain"),
        ("<html><body>Bad gateway</body></html>", "text/html"),
        ("{not json", "application/json"),
        (json.dumps({"link": PROVIDER_URL}), "application/json"),
        (json.dumps({"url": 42}), "application/json"),
        (json.dumps({"url": "javascript:alert(1)"}), "application/json"),
        (json.dumps([PROVIDER_URL]), "application/json"),
        ("null", "application/json"),
    ],
)
def test_authorization_url_bad_answers(
    app: Backendless, rsps: responses.RequestsMock, body: str, content_type: str
) -> None:
    rsps.post(BASE + "users/oauth/google/request_url", body=body, content_type=content_type)

    with pytest.raises(UnexpectedResponseError) as info:
        app.users.get_authorization_url("google")

    assert info.value.status == 200


def test_authorization_url_sends_session_token(
    app: Backendless, rsps: responses.RequestsMock
) -> None:
    login_guest(app, rsps)
    rsps.post(BASE + "users/oauth/google/request_url", body=PROVIDER_URL)

    app.users.get_authorization_url("google")

    assert rsps.calls[-1].request.headers["user-token"] == GUEST_TOKEN


# --- validation: refused before any request --------------------------------------------------

BAD_PROVIDERS: list[Any] = [
    "",
    None,
    42,
    b"google",
    "goo gle",
    "google/../x",
    "google/login",
    "..",
    ".",
    "...",
    "google\n",
    "gööglé",
    "google?x=1",
    "%2e%2e",
]


def _refused(rsps: responses.RequestsMock, argument: str, call: Any) -> InvalidArgumentError:
    with pytest.raises(InvalidArgumentError) as info:
        call()
    assert info.value.argument == argument
    assert argument in str(info.value)
    assert len(rsps.calls) == 0
    return info.value


@pytest.mark.parametrize("provider", BAD_PROVIDERS)
def test_bad_provider_code_is_refused_everywhere(
    app: Backendless, rsps: responses.RequestsMock, provider: Any
) -> None:
    users = app.users
    _refused(rsps, "provider_code", lambda: users.login_with_oauth2(provider, ACCESS_TOKEN))
    _refused(
        rsps,
        "provider_code",
        lambda: users.login_with_oauth1(provider, ACCESS_TOKEN, TOKEN_SECRET),
    )
    _refused(rsps, "provider_code", lambda: users.get_authorization_url(provider))


BAD_SECRETS: list[Any] = ["", "   ", None, 42, b"token", ["token"]]


@pytest.mark.parametrize("token", BAD_SECRETS)
def test_bad_access_token_is_refused(
    app: Backendless, rsps: responses.RequestsMock, token: Any
) -> None:
    users = app.users
    _refused(rsps, "access_token", lambda: users.login_with_oauth2("google", token))
    _refused(rsps, "access_token", lambda: users.login_with_oauth1("twitter", token, TOKEN_SECRET))


@pytest.mark.parametrize("secret", BAD_SECRETS)
def test_bad_access_token_secret_is_refused(
    app: Backendless, rsps: responses.RequestsMock, secret: Any
) -> None:
    _refused(
        rsps,
        "access_token_secret",
        lambda: app.users.login_with_oauth1("twitter", ACCESS_TOKEN, secret),
    )


BAD_MAPPINGS: list[Any] = [
    "email",
    ["email", "email"],
    [("email", "email")],
    {"email": 1},
    {1: "email"},
    {"email": None},
    {"": "email"},
    {"email": ""},
    {"email": b"email"},
]


@pytest.mark.parametrize("mapping", BAD_MAPPINGS)
def test_bad_fields_mapping_is_refused_everywhere(
    app: Backendless, rsps: responses.RequestsMock, mapping: Any
) -> None:
    users = app.users
    _refused(
        rsps,
        "fields_mapping",
        lambda: users.login_with_oauth2("google", ACCESS_TOKEN, fields_mapping=mapping),
    )
    _refused(
        rsps,
        "fields_mapping",
        lambda: users.login_with_oauth1(
            "twitter", ACCESS_TOKEN, TOKEN_SECRET, fields_mapping=mapping
        ),
    )
    _refused(
        rsps,
        "fields_mapping",
        lambda: users.get_authorization_url("google", fields_mapping=mapping),
    )


BAD_GUESTS: list[Any] = [
    BackendlessUser.from_wire({"objectId": "u1", "userStatus": "ENABLED"}),
    BackendlessUser(object_id="u1"),
    {"objectId": "u1", "userStatus": "ENABLED"},
    {"objectId": "u1"},
    {"userStatus": "GUEST"},
    {"objectId": 5, "userStatus": "GUEST"},
    {"objectId": "g1", "userStatus": "GUEST", "created": "yesterday"},
    "guest-1",
    ["guest-1"],
    42,
]


@pytest.mark.parametrize("guest", BAD_GUESTS)
def test_non_guest_user_is_refused(
    app: Backendless, rsps: responses.RequestsMock, guest: Any
) -> None:
    users = app.users
    _refused(
        rsps,
        "guest_user",
        lambda: users.login_with_oauth2("google", ACCESS_TOKEN, guest_user=guest),
    )
    _refused(
        rsps,
        "guest_user",
        lambda: users.login_with_oauth1("twitter", ACCESS_TOKEN, TOKEN_SECRET, guest_user=guest),
    )


@pytest.mark.parametrize("stay", [None, 1, 0, "yes", "False"])
def test_non_bool_stay_logged_in_is_refused(
    app: Backendless, rsps: responses.RequestsMock, stay: Any
) -> None:
    users = app.users
    _refused(
        rsps,
        "stay_logged_in",
        lambda: users.login_with_oauth2("google", ACCESS_TOKEN, stay_logged_in=stay),
    )
    _refused(
        rsps,
        "stay_logged_in",
        lambda: users.login_with_oauth1("twitter", ACCESS_TOKEN, TOKEN_SECRET, stay_logged_in=stay),
    )
    _refused(rsps, "stay_logged_in", lambda: users.login_as_guest(stay_logged_in=stay))


@pytest.mark.parametrize(
    ("kwargs", "argument"),
    [
        ({"scope": 42}, "scope"),
        ({"scope": ["email", 42]}, "scope"),
        ({"scope": ["email", ""]}, "scope"),
        ({"scope": {"email", "profile"}}, "scope"),
        ({"scope": b"email"}, "scope"),
        ({"scope": ["email"], "scope_separator": None}, "scope_separator"),
        ({"scope": ["email"], "scope_separator": 1}, "scope_separator"),
        ({"scope": ["email", "profile"], "scope_separator": ""}, "scope_separator"),
        ({"scope_separator": 1}, "scope_separator"),
        ({"scope": "email", "scope_separator": None}, "scope_separator"),
        ({"redirect_after_login_url": "127.0.0.1:8765/cb"}, "redirect_after_login_url"),
        ({"redirect_after_login_url": "javascript:alert(1)"}, "redirect_after_login_url"),
        ({"redirect_after_login_url": ""}, "redirect_after_login_url"),
        ({"redirect_after_login_url": 42}, "redirect_after_login_url"),
        ({"callback_url_domain": ""}, "callback_url_domain"),
        ({"callback_url_domain": 42}, "callback_url_domain"),
    ],
)
def test_bad_authorization_url_options_are_refused(
    app: Backendless, rsps: responses.RequestsMock, kwargs: dict[str, Any], argument: str
) -> None:
    _refused(rsps, argument, lambda: app.users.get_authorization_url("google", **kwargs))


def test_bad_reload_is_refused(app: Backendless, rsps: responses.RequestsMock) -> None:
    _refused(rsps, "reload", lambda: app.users.get_current_user(reload=1))  # type: ignore[arg-type]


def test_validation_errors_do_not_repeat_secrets(
    app: Backendless, rsps: responses.RequestsMock
) -> None:
    error = _refused(
        rsps,
        "fields_mapping",
        lambda: app.users.login_with_oauth2("google", ACCESS_TOKEN, fields_mapping={"a": 1}),
    )
    assert ACCESS_TOKEN not in str(error)
    assert ACCESS_TOKEN not in repr(error)


# --- session state ---------------------------------------------------------------------------


def test_fresh_service_has_no_session(app: Backendless, rsps: responses.RequestsMock) -> None:
    assert app.users.current_user is None
    assert app.users.current_user_id is None
    assert app.users.user_token is None
    assert app.users.get_current_user() is None
    assert app.users.is_valid_login() is False
    assert len(rsps.calls) == 0


def test_login_replaces_current_user(app: Backendless, rsps: responses.RequestsMock) -> None:
    guest = login_guest(app, rsps, stay_logged_in=True)
    rsps.post(BASE + "users/oauth/google/login", body=user_json("user-2", OTHER_TOKEN))

    user = app.users.login_with_oauth2("google", ACCESS_TOKEN)

    assert user != guest
    assert app.users.current_user == user
    assert app.users.current_user_id == "user-2"
    assert app.users.user_token == OTHER_TOKEN
    assert app.users.get_current_user() == user
    assert len(rsps.calls) == 2


def test_non_stay_login_wipes_stored_session(
    app: Backendless, store: MemoryTokenStore, rsps: responses.RequestsMock
) -> None:
    login_guest(app, rsps, stay_logged_in=True)
    assert store.load(NAMESPACE) is not None
    rsps.post(BASE + "users/oauth/google/login", body=user_json())

    app.users.login_with_oauth2("google", ACCESS_TOKEN)

    assert store.load(NAMESPACE) is None
    assert app.users.user_token == USER_TOKEN


def test_stay_login_replaces_stored_session(
    app: Backendless, store: MemoryTokenStore, rsps: responses.RequestsMock
) -> None:
    login_guest(app, rsps, stay_logged_in=True)
    rsps.post(BASE + "users/oauth/google/login", body=user_json("user-2", OTHER_TOKEN))

    app.users.login_with_oauth2("google", ACCESS_TOKEN, stay_logged_in=True)

    stored = store.load(NAMESPACE)
    assert stored is not None
    assert (stored.user_token, stored.user_id) == (OTHER_TOKEN, "user-2")


FAILURES: dict[str, dict[str, Any]] = {
    "api-error": {"status": 400, "json": {"code": 3003, "message": "Invalid login or password"}},
    "disabled": {"status": 400, "json": {"code": 3090, "message": "User account is disabled"}},
    "network": {"body": requests.exceptions.ConnectionError("connection reset")},
    "timeout": {"body": requests.exceptions.ReadTimeout("read timed out")},
    "html": {"status": 200, "body": "<html>proxy login</html>", "content_type": "text/html"},
    "no-token": {"status": 200, "body": user_json(token=None)},
    "not-a-user": {"status": 200, "json": {"hello": "world"}},
    "empty": {"status": 200, "body": ""},
    "server-error": {"status": 500, "body": "Internal Server Error"},
}


@pytest.mark.parametrize("failure", sorted(FAILURES))
@pytest.mark.parametrize("call", ["oauth2", "oauth1", "guest"])
def test_failed_login_keeps_previous_session(
    app: Backendless,
    store: MemoryTokenStore,
    rsps: responses.RequestsMock,
    failure: str,
    call: str,
) -> None:
    guest = login_guest(app, rsps, stay_logged_in=True)
    stored_before = store.load(NAMESPACE)
    path = {
        "oauth2": "users/oauth/google/login",
        "oauth1": "users/oauth/twitter/login",
        "guest": "users/register/guest",
    }[call]
    rsps.replace(responses.POST, BASE + "users/register/guest", **FAILURES[failure])
    if call != "guest":
        rsps.post(BASE + path, **FAILURES[failure])

    def login() -> BackendlessUser:
        if call == "oauth2":
            return app.users.login_with_oauth2("google", ACCESS_TOKEN, stay_logged_in=True)
        if call == "oauth1":
            return app.users.login_with_oauth1("twitter", ACCESS_TOKEN, TOKEN_SECRET)
        return app.users.login_as_guest()

    with pytest.raises(Exception) as info:
        login()

    assert not isinstance(info.value, InvalidArgumentError)
    assert app.users.current_user == guest
    assert app.users.user_token == GUEST_TOKEN
    assert app.users.current_user_id == guest.object_id
    assert store.load(NAMESPACE) == stored_before


def test_failed_login_keeps_previous_session_across_restart(
    store: MemoryTokenStore, rsps: responses.RequestsMock
) -> None:
    with Backendless(app_id=APP_ID, api_key=API_KEY, token_store=store) as first:
        login_guest(first, rsps, stay_logged_in=True)
    rsps.post(BASE + "users/oauth/google/login", status=400, json={"code": 3004, "message": "x"})

    with Backendless(app_id=APP_ID, api_key=API_KEY, token_store=store) as second:
        with pytest.raises(LoginRejectedError):
            second.users.login_with_oauth2("google", ACCESS_TOKEN)
        assert rsps.calls[-1].request.headers["user-token"] == GUEST_TOKEN
        assert second.users.user_token == GUEST_TOKEN
    stored = store.load(NAMESPACE)
    assert stored is not None
    assert stored.user_token == GUEST_TOKEN


@pytest.mark.parametrize("code", [3023, 3048, 3064, 3090, 3091])
def test_logout_treats_session_gone_as_done(
    app: Backendless, store: MemoryTokenStore, rsps: responses.RequestsMock, code: int
) -> None:
    login_guest(app, rsps, stay_logged_in=True)
    rsps.get(BASE + "users/logout", status=400, json={"code": code, "message": "gone"})

    app.users.logout()

    assert app.users.current_user is None
    assert app.users.user_token is None
    assert app.users.current_user_id is None
    assert store.load(NAMESPACE) is None


def test_logout_clears_memory_and_store(
    app: Backendless, store: MemoryTokenStore, rsps: responses.RequestsMock
) -> None:
    login_guest(app, rsps, stay_logged_in=True)
    rsps.get(BASE + "users/logout", body="")

    app.users.logout()

    assert app.users.current_user is None
    assert store.load(NAMESPACE) is None
    assert app.users.get_current_user() is None
    assert len(rsps.calls) == 2


def test_logout_without_session_sends_nothing(
    app: Backendless, rsps: responses.RequestsMock
) -> None:
    app.users.logout()

    assert len(rsps.calls) == 0
    assert app.users.user_token is None


@pytest.mark.parametrize(
    "failure",
    [
        {"status": 400, "json": {"code": 3000, "message": "cannot"}},
        {"status": 500, "json": {"code": 1000, "message": "internal"}},
        {"status": 403, "json": {"code": 2002, "message": "unknown app"}},
        {"body": requests.exceptions.ConnectionError("connection reset")},
        {"status": 502, "body": "<html>bad gateway</html>", "content_type": "text/html"},
    ],
)
def test_logout_other_errors_keep_session(
    app: Backendless, store: MemoryTokenStore, rsps: responses.RequestsMock, failure: Any
) -> None:
    guest = login_guest(app, rsps, stay_logged_in=True)
    rsps.get(BASE + "users/logout", **failure)

    with pytest.raises(Exception) as info:
        app.users.logout()

    assert not isinstance(info.value, SessionExpiredError)
    assert app.users.current_user == guest
    assert app.users.user_token == GUEST_TOKEN
    assert store.load(NAMESPACE) is not None


def _dead_session(method: str, path: str) -> dict[str, Any]:
    return {
        "method": method,
        "url": BASE + path,
        "status": 401,
        "json": {"code": 3064, "message": "Not existing user token"},
    }


@pytest.mark.parametrize(
    ("method", "path", "call"),
    [
        ("POST", "users/oauth/google/login", lambda u: u.login_with_oauth2("google", ACCESS_TOKEN)),
        (
            "POST",
            "users/oauth/twitter/login",
            lambda u: u.login_with_oauth1("twitter", ACCESS_TOKEN, TOKEN_SECRET),
        ),
        ("POST", "users/oauth/google/request_url", lambda u: u.get_authorization_url("google")),
    ],
)
def test_3064_from_any_call_clears_session(
    app: Backendless,
    store: MemoryTokenStore,
    rsps: responses.RequestsMock,
    method: str,
    path: str,
    call: Any,
) -> None:
    login_guest(app, rsps, stay_logged_in=True)
    rsps.add(**_dead_session(method, path))

    with pytest.raises(SessionExpiredError) as info:
        call(app.users)

    assert info.value.code == 3064
    assert app.users.current_user is None
    assert app.users.user_token is None
    assert store.load(NAMESPACE) is None


@pytest.mark.parametrize("restart", [False, True])
def test_get_current_user_after_expiry_is_none_and_clears_session(
    store: MemoryTokenStore, rsps: responses.RequestsMock, restart: bool
) -> None:
    # The one documented pattern ("if get_current_user() is None: log in") covers expiry too:
    # in the same process (reload) and in a new one that finds the dead session in the store.
    with Backendless(app_id=APP_ID, api_key=API_KEY, token_store=store) as app:
        login_guest(app, rsps, stay_logged_in=True)
    rsps.add(**_dead_session("GET", "data/Users/guest-1"))
    with Backendless(app_id=APP_ID, api_key=API_KEY, token_store=store) as app:
        if not restart:
            login_guest(app, rsps, stay_logged_in=True)
        assert app.users.get_current_user(reload=not restart) is None
        assert app.users.current_user is None
        assert app.users.user_token is None
        assert store.load(NAMESPACE) is None
        # Seen dead once: no further request, still nobody.
        calls = len(rsps.calls)
        assert app.users.get_current_user() is None
        assert len(rsps.calls) == calls


def test_guest_login_3064_clears_session(
    app: Backendless, store: MemoryTokenStore, rsps: responses.RequestsMock
) -> None:
    login_guest(app, rsps, stay_logged_in=True)
    dead = _dead_session("POST", "users/register/guest")
    rsps.replace(dead.pop("method"), dead.pop("url"), **dead)

    with pytest.raises(SessionExpiredError):
        app.users.login_as_guest()

    assert app.users.user_token is None
    assert store.load(NAMESPACE) is None


def test_3064_does_not_clear_a_newer_session(
    store: MemoryTokenStore, rsps: responses.RequestsMock
) -> None:
    """A dead-session answer to an old request must not clear a login that happened meanwhile.

    Sync only: the login happens inside the answer, which the blocking proxy over the async app
    cannot nest; tests/test_async_service.py has the async twin.
    """
    app = Backendless(app_id=APP_ID, api_key=API_KEY, token_store=store)
    login_guest(app, rsps)

    def answer(request: Any) -> tuple[int, dict[str, str], str]:
        rsps.post(BASE + "users/oauth/google/login", body=user_json("user-2", OTHER_TOKEN))
        app.users.login_with_oauth2("google", ACCESS_TOKEN)
        return 400, {}, json.dumps({"code": 3064, "message": "dead"})

    rsps.add_callback(responses.GET, BASE + "data/Users/guest-1", callback=answer)

    user = app.users.get_current_user(reload=True)

    assert user is not None
    assert user.object_id == "user-2"
    assert app.users.user_token == OTHER_TOKEN
    assert app.users.current_user_id == "user-2"


@pytest.mark.parametrize(
    ("answer", "expected"),
    [
        ({"json": True}, True),
        ({"json": False}, False),
        ({"status": 400, "json": {"code": 3064, "message": "dead"}}, False),
        ({"status": 400, "json": {"code": 3048, "message": "timeout"}}, False),
    ],
)
def test_is_valid_login(
    app: Backendless, rsps: responses.RequestsMock, answer: dict[str, Any], expected: bool
) -> None:
    login_guest(app, rsps)
    rsps.get(BASE + f"users/isvalidusertoken/{GUEST_TOKEN}", **answer)

    assert app.users.is_valid_login() is expected


def test_is_valid_login_false_keeps_session_dead_code_clears(
    app: Backendless, rsps: responses.RequestsMock
) -> None:
    login_guest(app, rsps)
    check = BASE + f"users/isvalidusertoken/{GUEST_TOKEN}"
    rsps.get(check, json=False)
    assert app.users.is_valid_login() is False
    assert app.users.user_token == GUEST_TOKEN

    rsps.replace(responses.GET, check, status=400, json={"code": 3064, "message": "dead"})
    assert app.users.is_valid_login() is False
    assert app.users.user_token is None


@pytest.mark.parametrize(
    "answer",
    [
        {"json": "true"},
        {"json": {"valid": True}},
        {"body": ""},
        {"body": "<html>captive portal</html>", "content_type": "text/html"},
    ],
)
def test_is_valid_login_bad_answers(
    app: Backendless, rsps: responses.RequestsMock, answer: dict[str, Any]
) -> None:
    login_guest(app, rsps)
    rsps.get(BASE + f"users/isvalidusertoken/{GUEST_TOKEN}", **answer)

    with pytest.raises(UnexpectedResponseError):
        app.users.is_valid_login()
    assert app.users.user_token == GUEST_TOKEN


def test_token_check_quotes_the_token(app: Backendless, rsps: responses.RequestsMock) -> None:
    odd = "tok/en?with=odd#chars"
    rsps.post(BASE + "users/register/guest", body=guest_json(token=odd))
    rsps.get(BASE + "users/isvalidusertoken/tok%2Fen%3Fwith%3Dodd%23chars", json=True)
    app.users.login_as_guest()

    assert app.users.is_valid_login() is True
    assert rsps.calls[-1].request.headers["user-token"] == odd


# --- the current user, in memory and after a restart -----------------------------------------


def test_get_current_user_in_memory_makes_no_request(
    app: Backendless, rsps: responses.RequestsMock
) -> None:
    guest = login_guest(app, rsps)

    assert app.users.get_current_user() is guest
    assert len(rsps.calls) == 1


def test_get_current_user_reload(app: Backendless, rsps: responses.RequestsMock) -> None:
    login_guest(app, rsps)
    rsps.get(
        BASE + "data/Users/guest-1",
        body=user_json("guest-1", token=None, userStatus="GUEST", score=7),
    )

    user = app.users.get_current_user(reload=True)

    assert user is not None
    (call,) = rsps.calls[1:]
    assert call.request.method == "GET"
    assert call.request.headers["user-token"] == GUEST_TOKEN
    assert_no_body(call)
    assert user["score"] == 7
    assert user.user_token == GUEST_TOKEN
    assert app.users.current_user == user
    assert app.users.get_current_user() is user
    assert len(rsps.calls) == 2


@pytest.mark.parametrize("form", sorted(APP_FORMS))
def test_restore_after_restart(rsps: responses.RequestsMock, form: str) -> None:
    kwargs, base = APP_FORMS[form]
    store = MemoryTokenStore()
    with Backendless(**kwargs, token_store=store) as first:
        rsps.post(base + "users/oauth/google/login", body=user_json("user-1"))
        first.users.login_with_oauth2("google", ACCESS_TOKEN, stay_logged_in=True)

    with Backendless(**kwargs, token_store=store) as second:
        assert second.users.user_token == USER_TOKEN
        assert second.users.current_user_id == "user-1"
        assert second.users.current_user is None
        assert len(rsps.calls) == 1
        rsps.get(base + "data/Users/user-1", body=user_json("user-1", token=None, score=3))

        user = second.users.get_current_user()

        assert user is not None
        assert user.object_id == "user-1"
        assert user.user_token == USER_TOKEN
        assert user["score"] == 3
        call = rsps.calls[-1]
        assert call.request.url == base + "data/Users/user-1"
        assert call.request.headers["user-token"] == USER_TOKEN
        assert second.users.current_user == user
        assert second.users.get_current_user() is user
        assert len(rsps.calls) == 2


def test_restart_sees_nothing_after_non_stay_login(rsps: responses.RequestsMock) -> None:
    store = MemoryTokenStore()
    with Backendless(app_id=APP_ID, api_key=API_KEY, token_store=store) as first:
        login_guest(first, rsps)

    with Backendless(app_id=APP_ID, api_key=API_KEY, token_store=store) as second:
        assert second.users.user_token is None
        assert second.users.get_current_user() is None


def test_restart_session_dead_on_load(rsps: responses.RequestsMock) -> None:
    store = MemoryTokenStore()
    store.save(NAMESPACE, StoredSession(user_token=USER_TOKEN, user_id="user-1"))
    rsps.add(**_dead_session("GET", "data/Users/user-1"))

    with Backendless(app_id=APP_ID, api_key=API_KEY, token_store=store) as app:
        assert app.users.get_current_user() is None
        assert app.users.user_token is None
    assert store.load(NAMESPACE) is None


def test_restart_load_failure_keeps_session(rsps: responses.RequestsMock) -> None:
    store = MemoryTokenStore()
    store.save(NAMESPACE, StoredSession(user_token=USER_TOKEN, user_id="user-1"))
    rsps.get(BASE + "data/Users/user-1", body=requests.exceptions.ConnectionError("reset"))

    with Backendless(app_id=APP_ID, api_key=API_KEY, token_store=store) as app:
        with pytest.raises(NetworkError):
            app.users.get_current_user()
        assert app.users.user_token == USER_TOKEN
    assert store.load(NAMESPACE) is not None


def test_restart_logout(rsps: responses.RequestsMock) -> None:
    store = MemoryTokenStore()
    store.save(NAMESPACE, StoredSession(user_token=USER_TOKEN, user_id="user-1"))
    rsps.get(BASE + "users/logout", body="")

    with Backendless(app_id=APP_ID, api_key=API_KEY, token_store=store) as app:
        app.users.logout()
        assert app.users.user_token is None

    assert rsps.calls[0].request.headers["user-token"] == USER_TOKEN
    assert store.load(NAMESPACE) is None


def test_apps_do_not_share_sessions(rsps: responses.RequestsMock) -> None:
    store = MemoryTokenStore()
    with Backendless(app_id=APP_ID, api_key=API_KEY, token_store=store) as first:
        login_guest(first, rsps, stay_logged_in=True)
    with Backendless(app_id="OTHER-APP", api_key=API_KEY, token_store=store) as other:
        assert other.users.user_token is None
    with Backendless(domain="https://xxxx.backendless.app", token_store=store) as domain_app:
        assert domain_app.users.user_token is None


def test_namespace_names(store: MemoryTokenStore) -> None:
    assert Backendless(app_id=APP_ID, api_key=API_KEY).namespace == NAMESPACE
    assert (
        Backendless(domain="https://a.example.com").namespace
        != Backendless(domain="https://b.example.com").namespace
    )


# --- a failing token store -------------------------------------------------------------------


class FailingStore(MemoryTokenStore):
    """A store whose writes can be made to fail, as a full disk or a locked keyring would."""

    def __init__(self) -> None:
        super().__init__()
        self.fail_save = False
        self.fail_clear = False

    def save(self, namespace: str, session: StoredSession) -> None:
        if self.fail_save:
            raise TokenStoreError("disk full")
        super().save(namespace, session)

    def clear(self, namespace: str) -> None:
        if self.fail_clear:
            raise TokenStoreError("keyring locked")
        super().clear(namespace)


def test_store_save_failure_never_leaves_the_previous_users_session(
    rsps: responses.RequestsMock,
) -> None:
    store = FailingStore()
    with Backendless(app_id=APP_ID, api_key=API_KEY, token_store=store) as app:
        login_guest(app, rsps, stay_logged_in=True)
        store.fail_save = True
        rsps.post(BASE + "users/oauth/google/login", body=user_json("user-2", OTHER_TOKEN))

        with pytest.raises(TokenStoreError, match="disk full"):
            app.users.login_with_oauth2("google", ACCESS_TOKEN, stay_logged_in=True)

        assert app.users.user_token == OTHER_TOKEN
        assert app.users.current_user_id == "user-2"
    # A restart must not bring back the guest: the store holds the new session or none.
    assert store.load(NAMESPACE) is None


def test_store_clear_failure_on_login_is_reported(rsps: responses.RequestsMock) -> None:
    store = FailingStore()
    with Backendless(app_id=APP_ID, api_key=API_KEY, token_store=store) as app:
        store.fail_clear = True
        rsps.post(BASE + "users/register/guest", body=guest_json())

        with pytest.raises(TokenStoreError, match="keyring locked"):
            app.users.login_as_guest()

        assert app.users.user_token == GUEST_TOKEN


def test_dead_session_is_reported_even_when_the_store_cannot_clear(
    rsps: responses.RequestsMock, caplog: pytest.LogCaptureFixture
) -> None:
    store = FailingStore()
    with Backendless(app_id=APP_ID, api_key=API_KEY, token_store=store) as app:
        login_guest(app, rsps, stay_logged_in=True)
        store.fail_clear = True
        rsps.add(**_dead_session("GET", "data/Users/guest-1"))

        assert app.users.get_current_user(reload=True) is None

        assert app.users.user_token is None
    assert "keyring locked" in caplog.text


def test_logout_reports_a_store_that_cannot_clear(rsps: responses.RequestsMock) -> None:
    store = FailingStore()
    with Backendless(app_id=APP_ID, api_key=API_KEY, token_store=store) as app:
        login_guest(app, rsps, stay_logged_in=True)
        store.fail_clear = True
        rsps.get(BASE + "users/logout", body="")

        with pytest.raises(TokenStoreError):
            app.users.logout()

        assert app.users.user_token is None


def test_logout_after_dead_session_still_clears_the_store(rsps: responses.RequestsMock) -> None:
    """3064 on logout: the first clear fails (logged), logout's own clear must try again."""
    store = FailingStore()
    with Backendless(app_id=APP_ID, api_key=API_KEY, token_store=store) as app:
        login_guest(app, rsps, stay_logged_in=True)
        store.fail_clear = True
        rsps.add(**_dead_session("GET", "users/logout"))

        with pytest.raises(TokenStoreError):
            app.users.logout()
        store.fail_clear = False
        app.users.logout()

        assert app.users.user_token is None
    assert store.load(NAMESPACE) is None
