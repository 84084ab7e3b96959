"""No secret in any repr, str, exception or log record: API key, user and access tokens, secret."""

from __future__ import annotations

import json
import logging
from collections.abc import Callable, Iterator
from typing import Any

import pytest
import requests
import responses

from backendless_auth import (
    ApiError,
    Backendless,
    BackendlessError,
    BackendlessUser,
    MemoryTokenStore,
    StoredSession,
    TokenStoreError,
)

# Each test runs through UserService and AsyncUserService (tests/drivers.py).
pytestmark = pytest.mark.both_services(http="responses")

APP_ID = "APP-ID-0001"
API_KEY = "REST-KEY-secret-0002"
BASE = f"https://api.backendless.com/{APP_ID}/{API_KEY}/"
ACCESS_TOKEN = "provider-access-token-0003"
TOKEN_SECRET = "provider-token-secret-0004"
GUEST_TOKEN = "guest-session-token-0005"
USER_TOKEN = "user-session-token-0006"
SECRETS = (API_KEY, ACCESS_TOKEN, TOKEN_SECRET, GUEST_TOKEN, USER_TOKEN)
NAMESPACE = f"Backendless_{APP_ID}"


def assert_clean(*objects: object) -> None:
    for obj in objects:
        for text in (repr(obj), str(obj), f"{obj!a}"):
            for secret in SECRETS:
                assert secret not in text, (type(obj).__name__, text)


@pytest.fixture
def rsps() -> Iterator[responses.RequestsMock]:
    with responses.RequestsMock(assert_all_requests_are_fired=False) as mock:
        yield mock


def user(object_id: str, token: str | None, status: str = "ENABLED") -> dict[str, Any]:
    data: dict[str, Any] = {"___class": "Users", "objectId": object_id, "userStatus": status}
    if token:
        data["user-token"] = token
    return data


def test_objects_never_show_secrets(rsps: responses.RequestsMock) -> None:
    store = MemoryTokenStore()
    rsps.post(BASE + "users/register/guest", json=user("g1", GUEST_TOKEN, "GUEST"))
    rsps.post(BASE + "users/oauth/twitter/login", json=user("u1", USER_TOKEN))

    with Backendless(app_id=APP_ID, api_key=API_KEY, token_store=store) as app:
        assert_clean(app, app.users, store)
        guest = app.users.login_as_guest(stay_logged_in=True)
        logged = app.users.login_with_oauth1(
            "twitter", ACCESS_TOKEN, TOKEN_SECRET, guest_user=guest, stay_logged_in=True
        )
        stored = store.load(NAMESPACE)
        assert stored is not None
        assert_clean(
            app,
            app.users,
            store,
            guest,
            logged,
            stored,
            app.users.current_user,
            [logged],
            {"user": logged},
            app.timeout,
            app.users.token_store,
        )
        assert logged.user_token == USER_TOKEN  # the token is there, only never shown
    assert_clean(Backendless(domain="https://xxxx.backendless.app"))
    assert_clean(StoredSession(user_token=USER_TOKEN, user_id="u1"))


def test_html_repr_never_shows_secrets() -> None:
    logged = BackendlessUser.from_wire(user("u1", USER_TOKEN))

    assert USER_TOKEN not in logged._repr_html_()


Scenario = Callable[[Backendless, responses.RequestsMock], object]


def _echoing_error(app: Backendless, rsps: responses.RequestsMock) -> object:
    rsps.post(
        BASE + "users/oauth/google/login",
        status=400,
        json={"code": 3060, "message": f"Could not approve {ACCESS_TOKEN} for {API_KEY}"},
    )
    return app.users.login_with_oauth2("google", ACCESS_TOKEN)


def _dead_session(app: Backendless, rsps: responses.RequestsMock) -> object:
    rsps.post(BASE + "users/register/guest", json=user("g1", GUEST_TOKEN, "GUEST"))
    app.users.login_as_guest()
    rsps.get(
        BASE + f"users/isvalidusertoken/{GUEST_TOKEN}",
        status=400,
        json={"code": 3064, "message": f"Not existing user token - {GUEST_TOKEN}"},
    )
    rsps.post(
        BASE + "users/oauth/google/request_url",
        status=400,
        json={"code": 3064, "message": f"Not existing user token - {GUEST_TOKEN}"},
    )
    # get_current_user() answers None to a dead session; this call raises it.
    return app.users.get_authorization_url("google")


def _network(app: Backendless, rsps: responses.RequestsMock) -> object:
    rsps.post(
        BASE + "users/oauth/twitter/login",
        body=requests.exceptions.ConnectionError(f"reset while sending {BASE}"),
    )
    return app.users.login_with_oauth1("twitter", ACCESS_TOKEN, TOKEN_SECRET)


def _timeout(app: Backendless, rsps: responses.RequestsMock) -> object:
    rsps.post(
        BASE + "users/oauth/google/login",
        body=requests.exceptions.ReadTimeout(f"read timed out: {BASE}"),
    )
    return app.users.login_with_oauth2("google", ACCESS_TOKEN)


def _html(app: Backendless, rsps: responses.RequestsMock) -> object:
    rsps.post(
        BASE + "users/oauth/google/login",
        status=200,
        body=f"<html>{ACCESS_TOKEN}</html>",
        content_type="text/html",
    )
    return app.users.login_with_oauth2("google", ACCESS_TOKEN)


def _no_object_id(app: Backendless, rsps: responses.RequestsMock) -> object:
    rsps.post(BASE + "users/oauth/google/login", json={"user-token": USER_TOKEN})
    return app.users.login_with_oauth2("google", ACCESS_TOKEN)


def _no_token(app: Backendless, rsps: responses.RequestsMock) -> object:
    rsps.post(BASE + "users/oauth/google/login", json=user("u1", None))
    return app.users.login_with_oauth2("google", ACCESS_TOKEN)


def _bad_token_type(app: Backendless, rsps: responses.RequestsMock) -> object:
    return app.users.login_with_oauth2("google", ACCESS_TOKEN.encode())  # type: ignore[arg-type]


def _bad_secret_type(app: Backendless, rsps: responses.RequestsMock) -> object:
    return app.users.login_with_oauth1(
        "twitter",
        ACCESS_TOKEN,
        [TOKEN_SECRET],  # type: ignore[arg-type]
    )


def _bad_guest(app: Backendless, rsps: responses.RequestsMock) -> object:
    return app.users.login_with_oauth2(
        "google",
        ACCESS_TOKEN,
        guest_user={"objectId": "g1", "userStatus": "GUEST", "user-token": 5, "x": USER_TOKEN},
    )


def _not_a_guest(app: Backendless, rsps: responses.RequestsMock) -> object:
    return app.users.login_with_oauth2(
        "google", ACCESS_TOKEN, guest_user=BackendlessUser.from_wire(user("u1", USER_TOKEN))
    )


def _bad_mapping(app: Backendless, rsps: responses.RequestsMock) -> object:
    return app.users.login_with_oauth2("google", ACCESS_TOKEN, fields_mapping={"a": 1})  # type: ignore[dict-item]


def _bad_config(app: Backendless, rsps: responses.RequestsMock) -> object:
    return Backendless(app_id=APP_ID, api_key=API_KEY + "/x")


def _store_failure(app: Backendless, rsps: responses.RequestsMock) -> object:
    class Failing(MemoryTokenStore):
        def save(self, namespace: str, session: StoredSession) -> None:
            raise TokenStoreError("disk full")

    rsps.post(BASE + "users/oauth/google/login", json=user("u1", USER_TOKEN))
    with Backendless(app_id=APP_ID, api_key=API_KEY, token_store=Failing()) as other:
        return other.users.login_with_oauth2("google", ACCESS_TOKEN, stay_logged_in=True)


SCENARIOS: dict[str, Scenario] = {
    "echoing-error": _echoing_error,
    "dead-session": _dead_session,
    "network": _network,
    "timeout": _timeout,
    "html": _html,
    "no-object-id": _no_object_id,
    "no-token": _no_token,
    "bad-token-type": _bad_token_type,
    "bad-secret-type": _bad_secret_type,
    "bad-guest": _bad_guest,
    "not-a-guest": _not_a_guest,
    "bad-mapping": _bad_mapping,
    "bad-config": _bad_config,
    "store-failure": _store_failure,
}


@pytest.mark.parametrize("name", sorted(SCENARIOS))
def test_errors_and_logs_never_show_secrets(
    rsps: responses.RequestsMock, caplog: pytest.LogCaptureFixture, name: str
) -> None:
    caplog.set_level(logging.DEBUG, logger="backendless_auth")
    caplog.set_level(logging.DEBUG, logger="urllib3")

    with Backendless(app_id=APP_ID, api_key=API_KEY) as app:
        with pytest.raises(BackendlessError) as info:
            SCENARIOS[name](app, rsps)
        error = info.value
        assert_clean(error, app, app.users)
        assert_clean(*error.args)
        if isinstance(error, ApiError):
            assert_clean(error.body)
        if error.__cause__ is not None:
            assert_clean(error.__cause__)

    for record in caplog.records:
        message = record.getMessage()
        for secret in SECRETS:
            assert secret not in message, (record.name, message)
    for secret in SECRETS:
        assert secret not in caplog.text


def test_successful_calls_log_no_secrets(
    rsps: responses.RequestsMock, caplog: pytest.LogCaptureFixture
) -> None:
    caplog.set_level(logging.DEBUG, logger="backendless_auth")
    caplog.set_level(logging.DEBUG, logger="urllib3")
    store = MemoryTokenStore()
    rsps.post(BASE + "users/register/guest", json=user("g1", GUEST_TOKEN, "GUEST"))
    rsps.post(BASE + "users/oauth/google/login", json=user("g1", USER_TOKEN))
    rsps.post(BASE + "users/oauth/google/request_url", body="https://accounts.example.com/a")
    rsps.get(BASE + f"users/isvalidusertoken/{USER_TOKEN}", json=True)
    rsps.get(BASE + "data/Users/g1", json=user("g1", None))
    rsps.get(BASE + "users/logout", body="")

    with Backendless(app_id=APP_ID, api_key=API_KEY, token_store=store) as app:
        guest = app.users.login_as_guest(stay_logged_in=True)
        app.users.login_with_oauth2("google", ACCESS_TOKEN, guest_user=guest, stay_logged_in=True)
        app.users.get_authorization_url("google", scope=["email"])
        assert app.users.is_valid_login()
    with Backendless(app_id=APP_ID, api_key=API_KEY, token_store=store) as restarted:
        restarted.users.get_current_user()
        restarted.users.logout()

    assert caplog.records, "nothing was logged: the test would prove nothing"
    assert any(record.name == "backendless_auth" for record in caplog.records)
    for secret in SECRETS:
        assert secret not in caplog.text
    body = json.loads(rsps.calls[1].request.body)
    assert body["accessToken"] == ACCESS_TOKEN  # the secrets did travel, only never shown


def test_library_logger_has_a_null_handler() -> None:
    handlers = logging.getLogger("backendless_auth").handlers

    assert any(isinstance(handler, logging.NullHandler) for handler in handlers)
