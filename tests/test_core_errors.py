"""Error answers: each Backendless code to its class, answers that are not Backendless's, 3xx."""

from __future__ import annotations

import json
from collections.abc import Iterator
from typing import Any

import pytest
import responses

import backendless_auth
from backendless_auth import (
    AccountDisabledError,
    AccountLockedError,
    ApiError,
    Backendless,
    BackendlessError,
    EmailNotConfirmedError,
    InvalidCredentialsError,
    InvalidParameterError,
    LoginRejectedError,
    ProviderError,
    SessionExpiredError,
    UnexpectedResponseError,
    UnknownApplicationError,
    UserAlreadyExistsError,
)
from backendless_auth.exceptions import ERROR_CODES, api_error_for

# Each test runs through UserService and AsyncUserService (tests/drivers.py).
pytestmark = pytest.mark.both_services(http="responses")

APP_ID = "APP-ID-0001"
API_KEY = "REST-KEY-secret-0002"
BASE = f"https://api.backendless.com/{APP_ID}/{API_KEY}/"
GUEST = BASE + "users/register/guest"
ACCESS_TOKEN = "provider-access-token-0003"
GUEST_TOKEN = "guest-session-token-0005"


@pytest.fixture
def rsps() -> Iterator[responses.RequestsMock]:
    with responses.RequestsMock(assert_all_requests_are_fired=False) as mock:
        yield mock


@pytest.fixture
def app() -> Iterator[Backendless]:
    with Backendless(app_id=APP_ID, api_key=API_KEY) as app:
        yield app


def test_the_code_table_is_what_the_contract_names() -> None:
    contract = {
        2002: UnknownApplicationError,
        3000: LoginRejectedError,
        3003: LoginRejectedError,
        3004: LoginRejectedError,
        3022: LoginRejectedError,
        3034: LoginRejectedError,
        3036: LoginRejectedError,
        3044: LoginRejectedError,
        3087: LoginRejectedError,
        3090: LoginRejectedError,
        3048: SessionExpiredError,
        3064: SessionExpiredError,
        3091: SessionExpiredError,
        3060: ProviderError,
        3080: ProviderError,
        8002: InvalidParameterError,
        8004: InvalidParameterError,
        8007: InvalidParameterError,
        8008: InvalidParameterError,
    }
    # The login codes of accounts with passwords have classes of their own, under the same one.
    for code, cls in contract.items():
        assert issubclass(ERROR_CODES[code], cls), code
    for code, cls in {
        3003: InvalidCredentialsError,
        3036: AccountLockedError,
        3087: EmailNotConfirmedError,
        3090: AccountDisabledError,
        3033: UserAlreadyExistsError,
    }.items():
        assert ERROR_CODES[code] is cls, code


@pytest.mark.parametrize("status", [400, 401, 403, 404, 500])
@pytest.mark.parametrize("code", sorted(ERROR_CODES))
def test_each_code_maps_to_its_class(
    app: Backendless, rsps: responses.RequestsMock, code: int, status: int
) -> None:
    body = {"code": code, "message": f"message for {code}", "errorData": {"x": 1}}
    rsps.post(GUEST, status=status, json=body)

    with pytest.raises(ApiError) as info:
        app.users.login_as_guest()

    error = info.value
    assert type(error) is ERROR_CODES[code]
    assert isinstance(error, BackendlessError)
    assert error.status == status
    assert error.code == code
    assert error.message == f"message for {code}"
    assert error.body == body
    assert str(error) == f"message for {code} (code {code}, HTTP {status})"
    assert repr(error) == (
        f"{type(error).__name__}(status={status}, code={code}, message='message for {code}')"
    )


@pytest.mark.parametrize(
    ("body", "code", "message"),
    [
        ({"code": 1000, "message": "unknown"}, 1000, "unknown"),
        ({"code": "3003", "message": "as a string"}, 3003, "as a string"),
        ({"code": None, "message": "no code"}, None, "no code"),
        (
            {"code": 3003},
            3003,
            "the identity or the password is wrong (Backendless does not say which)",
        ),
        (
            {"code": 3003, "message": ""},
            3003,
            "the identity or the password is wrong (Backendless does not say which)",
        ),
        (
            {"code": None, "message": "\u00a0"},
            None,
            "Backendless refused the request without saying why (HTTP 400)",
        ),
        ({"code": True, "message": "bool is no code"}, None, "bool is no code"),
        ({"message": "only a message"}, None, "only a message"),
    ],
)
def test_odd_error_bodies(
    app: Backendless,
    rsps: responses.RequestsMock,
    body: dict[str, Any],
    code: int | None,
    message: str,
) -> None:
    rsps.post(GUEST, status=400, json=body)

    with pytest.raises(ApiError) as info:
        app.users.login_as_guest()

    assert info.value.code == code
    assert info.value.message == message
    expected = ERROR_CODES.get(code, ApiError) if code is not None else ApiError
    assert type(info.value) is expected


def test_api_error_for_is_the_one_table() -> None:
    for code, cls in ERROR_CODES.items():
        error = api_error_for(400, {"code": code, "message": "m"})
        assert type(error) is cls
        assert isinstance(error, getattr(backendless_auth, cls.__name__))


@pytest.mark.parametrize(
    ("status", "body", "content_type"),
    [
        (200, "<!doctype html><html><body>Sign in to the proxy</body></html>", "text/html"),
        (200, "not json at all", "text/plain"),
        (200, "", "application/json"),
        (200, "   ", "application/json"),
        (200, "[]", "application/json"),
        (200, '"a string"', "application/json"),
        (200, "null", "application/json"),
        (200, json.dumps({"objectId": 5, "user-token": GUEST_TOKEN}), "application/json"),
        (200, json.dumps({"userStatus": "GUEST", "user-token": GUEST_TOKEN}), "application/json"),
        (200, json.dumps({"objectId": "g", "userStatus": "GUEST"}), "application/json"),
        (200, json.dumps({"objectId": "g", "created": "today", "user-token": "t" * 12}), "x/y"),
        (201, b"\xff\xfe\x00garbage", "application/octet-stream"),
        (400, "<html><body>400 Bad Request</body></html>", "text/html"),
        (404, "", "text/plain"),
        (404, "Not Found", "text/plain"),
        (500, "Internal Server Error", "text/plain"),
        (502, "<html>Bad Gateway</html>", "text/html"),
        (400, "[1, 2]", "application/json"),
        (400, json.dumps({"error": "not the Backendless shape"}), "application/json"),
        (400, "{broken", "application/json"),
    ],
)
def test_answers_that_are_not_backendless(
    app: Backendless,
    rsps: responses.RequestsMock,
    status: int,
    body: str | bytes,
    content_type: str,
) -> None:
    rsps.post(GUEST, status=status, body=body, content_type=content_type)

    with pytest.raises(UnexpectedResponseError) as info:
        app.users.login_as_guest()

    assert info.value.status == status
    assert GUEST_TOKEN not in str(info.value)
    assert GUEST_TOKEN not in repr(info.value)
    assert API_KEY not in str(info.value)
    assert app.users.user_token is None


def test_unexpected_response_keeps_the_start_of_the_body(
    app: Backendless, rsps: responses.RequestsMock
) -> None:
    page = "<html>" + "x" * 10_000 + "</html>"
    rsps.post(GUEST, status=502, body=page, content_type="text/html")

    with pytest.raises(UnexpectedResponseError) as info:
        app.users.login_as_guest()

    assert info.value.body == page.encode()[:2048]
    assert "HTML" in str(info.value)


@pytest.mark.parametrize("status", [301, 302, 303, 307, 308])
@pytest.mark.parametrize("call", ["guest", "oauth2", "logout-after-guest"])
def test_redirects_are_errors_and_not_followed(
    app: Backendless, rsps: responses.RequestsMock, status: int, call: str
) -> None:
    elsewhere = "https://evil.example.com/steal"
    rsps.get(elsewhere, body="stolen")
    rsps.post(elsewhere, body="stolen")
    if call == "logout-after-guest":
        rsps.post(GUEST, json={"objectId": "g", "userStatus": "GUEST", "user-token": GUEST_TOKEN})
        app.users.login_as_guest()
        rsps.get(BASE + "users/logout", status=status, headers={"Location": elsewhere})
        before = 1
    else:
        path = GUEST if call == "guest" else BASE + "users/oauth/google/login"
        rsps.post(path, status=status, headers={"Location": elsewhere})
        before = 0

    def send() -> object:
        if call == "guest":
            return app.users.login_as_guest()
        if call == "oauth2":
            return app.users.login_with_oauth2("google", ACCESS_TOKEN)
        return app.users.logout()

    with pytest.raises(UnexpectedResponseError) as info:
        send()

    assert info.value.status == status
    assert "redirect" in str(info.value)
    assert len(rsps.calls) == before + 1
    assert all("evil.example.com" not in str(c.request.url) for c in rsps.calls)
    if call == "logout-after-guest":
        assert app.users.user_token == GUEST_TOKEN


def test_server_message_echoing_a_secret_is_masked(
    app: Backendless, rsps: responses.RequestsMock
) -> None:
    rsps.post(
        BASE + "users/oauth/google/login",
        status=400,
        json={"code": 3060, "message": f"Could not approve token {ACCESS_TOKEN}"},
    )

    with pytest.raises(ProviderError) as info:
        app.users.login_with_oauth2("google", ACCESS_TOKEN)

    error = info.value
    for text in (str(error), repr(error), error.message, repr(error.args), repr(error.body)):
        assert ACCESS_TOKEN not in text
    assert "Could not approve token" in error.message


def test_errors_are_value_errors_only_for_arguments() -> None:
    assert issubclass(backendless_auth.InvalidArgumentError, ValueError)
    assert issubclass(backendless_auth.ConfigurationError, ValueError)
    for cls in (
        ApiError,
        backendless_auth.TransportError,
        UnexpectedResponseError,
        backendless_auth.TokenStoreError,
        backendless_auth.LoginFlowError,
    ):
        assert issubclass(cls, BackendlessError)
        assert not issubclass(cls, ValueError)
    assert issubclass(backendless_auth.NetworkError, backendless_auth.TransportError)
    assert issubclass(backendless_auth.RequestTimeout, backendless_auth.TransportError)
    assert not issubclass(backendless_auth.RequestTimeout, TimeoutError)
    assert not issubclass(backendless_auth.NetworkError, ConnectionError)
    assert issubclass(backendless_auth.LoginCancelledError, backendless_auth.LoginFlowError)
    assert issubclass(backendless_auth.LoginTimeoutError, backendless_auth.LoginFlowError)


def test_login_flow_error_carries_code() -> None:
    error = backendless_auth.LoginFlowError("denied", code=3060)

    assert error.code == 3060
    assert str(error) == "denied"
    assert backendless_auth.LoginFlowError("x").code is None
