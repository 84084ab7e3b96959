"""The requests transport: failures become TransportError, what is retried and what never is.

Most tests mock the requests layer with ``responses``; a few talk to a tiny HTTP server on
127.0.0.1 (port 0) so that real sockets, real timeouts and urllib3's own logging are exercised.
"""

from __future__ import annotations

import json
import logging
import socket
import threading
import time
from collections.abc import Callable, Iterator
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any

import pytest
import requests
import responses
import urllib3.exceptions

from backendless_auth import (
    ApiError,
    Backendless,
    NetworkError,
    ProviderError,
    RequestTimeout,
    TransportError,
    UnexpectedResponseError,
)

# Each test runs through UserService and AsyncUserService (tests/drivers.py).
pytestmark = pytest.mark.both_services(http="responses")

APP_ID = "APP-ID-0001"
API_KEY = "REST-KEY-secret-0002"
BASE = f"https://api.backendless.com/{APP_ID}/{API_KEY}/"
GUEST = BASE + "users/register/guest"
LOGIN = BASE + "users/oauth/google/login"
ACCESS_TOKEN = "provider-access-token-0003"
TOKEN_SECRET = "provider-token-secret-0004"
USER_TOKEN = "user-session-token-0006"
CHECK = BASE + f"users/isvalidusertoken/{USER_TOKEN}"
USER = {"objectId": "user-1", "userStatus": "ENABLED", "user-token": USER_TOKEN}


@pytest.fixture(autouse=True)
def _no_retry_wait(monkeypatch: pytest.MonkeyPatch) -> None:
    # The waits between attempts are private and fixed; zero them so the suite stays fast.
    monkeypatch.setattr("backendless_auth._transport._RETRY_DELAYS", (0.0, 0.0))


@pytest.fixture
def rsps() -> Iterator[responses.RequestsMock]:
    with responses.RequestsMock(assert_all_requests_are_fired=False) as mock:
        yield mock


@pytest.fixture
def app() -> Iterator[Backendless]:
    with Backendless(app_id=APP_ID, api_key=API_KEY) as app:
        yield app


@pytest.fixture
def logged_in(app: Backendless, rsps: responses.RequestsMock) -> Backendless:
    rsps.post(LOGIN, json=USER)
    app.users.login_with_oauth2("google", ACCESS_TOKEN)
    rsps.calls.reset()
    return app


def refused_connection() -> requests.exceptions.ConnectionError:
    """What requests raises when nothing listens: the request never reached a server."""
    reason = urllib3.exceptions.NewConnectionError(None, "Connection refused")  # type: ignore[arg-type]
    return requests.exceptions.ConnectionError(
        urllib3.exceptions.MaxRetryError(None, "/", reason)  # type: ignore[arg-type]
    )


def assert_no_secret(error: BaseException) -> None:
    for text in (str(error), repr(error)):
        for secret in (API_KEY, ACCESS_TOKEN, USER_TOKEN, TOKEN_SECRET):
            assert secret not in text


# --- GET: retried on 502/503/504 and on network failures -------------------------------------


@pytest.mark.parametrize("status", [502, 503, 504])
def test_get_retried_on_gateway_errors(
    logged_in: Backendless, rsps: responses.RequestsMock, status: int
) -> None:
    rsps.get(CHECK, status=status, body="<html>busy</html>", content_type="text/html")
    rsps.get(CHECK, status=status, body="<html>busy</html>", content_type="text/html")
    rsps.get(CHECK, json=True)

    assert logged_in.users.is_valid_login() is True
    assert len(rsps.calls) == 3


def test_get_gives_up_after_three_attempts(
    logged_in: Backendless, rsps: responses.RequestsMock
) -> None:
    rsps.get(CHECK, status=503, body="<html>busy</html>", content_type="text/html")

    with pytest.raises(UnexpectedResponseError) as info:
        logged_in.users.is_valid_login()

    assert info.value.status == 503
    assert len(rsps.calls) == 3
    assert logged_in.users.user_token == USER_TOKEN


def test_get_not_retried_on_other_errors(
    logged_in: Backendless, rsps: responses.RequestsMock
) -> None:
    rsps.get(CHECK, status=500, json={"code": 1000, "message": "internal"})

    with pytest.raises(ApiError):
        logged_in.users.is_valid_login()

    assert len(rsps.calls) == 1


@pytest.mark.parametrize(
    "failure",
    [
        requests.exceptions.ConnectionError("connection reset by peer"),
        requests.exceptions.ChunkedEncodingError("broken chunk"),
        refused_connection(),
    ],
)
def test_get_retried_on_network_failures(
    logged_in: Backendless, rsps: responses.RequestsMock, failure: Exception
) -> None:
    rsps.get(CHECK, body=failure)
    rsps.get(CHECK, json=True)

    assert logged_in.users.is_valid_login() is True
    assert len(rsps.calls) == 2


@pytest.mark.parametrize(
    ("failure", "error"),
    [
        (requests.exceptions.ConnectionError("connection reset by peer"), NetworkError),
        (requests.exceptions.ReadTimeout("read timed out"), RequestTimeout),
        (requests.exceptions.ConnectTimeout("connect timed out"), RequestTimeout),
        (refused_connection(), NetworkError),
    ],
)
def test_get_failing_three_times(
    logged_in: Backendless,
    rsps: responses.RequestsMock,
    failure: Exception,
    error: type[TransportError],
) -> None:
    rsps.get(CHECK, body=failure)

    with pytest.raises(error) as info:
        logged_in.users.is_valid_login()

    assert len(rsps.calls) == 3
    assert str(info.value).startswith("GET is_valid_login: ")
    assert "{}" not in str(info.value)
    assert_no_secret(info.value)
    assert info.value.__cause__ is None
    assert info.value.__suppress_context__
    assert logged_in.users.user_token == USER_TOKEN


# --- POST: sent once, unless the connection could not even be opened -------------------------


@pytest.mark.parametrize("status", [502, 503, 504])
def test_post_not_retried_on_gateway_errors(
    app: Backendless, rsps: responses.RequestsMock, status: int
) -> None:
    rsps.post(LOGIN, status=status, body="<html>busy</html>", content_type="text/html")
    rsps.post(LOGIN, json=USER)

    with pytest.raises(UnexpectedResponseError):
        app.users.login_with_oauth2("google", ACCESS_TOKEN)

    assert len(rsps.calls) == 1
    assert app.users.user_token is None


@pytest.mark.parametrize(
    ("failure", "error"),
    [
        (requests.exceptions.ConnectionError("connection reset by peer"), NetworkError),
        (requests.exceptions.ChunkedEncodingError("broken chunk"), NetworkError),
        (requests.exceptions.ReadTimeout("read timed out"), RequestTimeout),
        (requests.exceptions.SSLError("certificate verify failed"), NetworkError),
    ],
)
def test_post_never_resent_once_it_may_have_arrived(
    app: Backendless,
    rsps: responses.RequestsMock,
    failure: Exception,
    error: type[TransportError],
) -> None:
    rsps.post(LOGIN, body=failure)
    rsps.post(LOGIN, json=USER)

    with pytest.raises(error) as info:
        app.users.login_with_oauth2("google", ACCESS_TOKEN)

    assert len(rsps.calls) == 1
    assert str(info.value).startswith("POST login_with_oauth2: ")
    assert "{}" not in str(info.value)
    assert_no_secret(info.value)
    assert app.users.user_token is None


@pytest.mark.parametrize(
    "failure",
    [refused_connection(), requests.exceptions.ConnectTimeout("connect timed out")],
)
def test_post_retried_when_the_connection_was_not_opened(
    app: Backendless, rsps: responses.RequestsMock, failure: Exception
) -> None:
    rsps.post(LOGIN, body=failure)
    rsps.post(LOGIN, json=USER)

    user = app.users.login_with_oauth2("google", ACCESS_TOKEN)

    assert user.user_token == USER_TOKEN
    assert len(rsps.calls) == 2
    assert [json.loads(call.request.body) for call in rsps.calls] == [
        {"accessToken": ACCESS_TOKEN},
        {"accessToken": ACCESS_TOKEN},
    ]


def test_post_refused_three_times(app: Backendless, rsps: responses.RequestsMock) -> None:
    rsps.post(GUEST, body=refused_connection())

    with pytest.raises(NetworkError, match="could not connect"):
        app.users.login_as_guest()

    assert len(rsps.calls) == 3


def test_tls_failure_says_so(app: Backendless, rsps: responses.RequestsMock) -> None:
    rsps.post(GUEST, body=requests.exceptions.SSLError("certificate verify failed"))

    with pytest.raises(NetworkError, match="TLS"):
        app.users.login_as_guest()


def test_other_request_errors_are_network_errors(
    app: Backendless, rsps: responses.RequestsMock
) -> None:
    rsps.post(GUEST, body=requests.exceptions.TooManyRedirects("loop"))

    with pytest.raises(NetworkError):
        app.users.login_as_guest()


def test_programming_errors_are_not_wrapped(app: Backendless, rsps: responses.RequestsMock) -> None:
    rsps.post(GUEST, body=RuntimeError("a bug"))

    with pytest.raises(RuntimeError, match="a bug"):
        app.users.login_as_guest()


# --- a real socket on 127.0.0.1 --------------------------------------------------------------


class _Server:
    def __init__(self) -> None:
        self.requests: list[tuple[str, str, dict[str, str], bytes]] = []
        self.delay = 0.0
        self.lock = threading.Lock()

    def answer(self, method: str, path: str) -> tuple[int, Any]:
        prefix = f"/{APP_ID}/{API_KEY}/"
        if not path.startswith(prefix):
            return 404, {"code": 2002, "message": "unknown app"}
        path = path[len(prefix) :]
        if path in ("users/oauth/google/login", "users/oauth/twitter/login"):
            return 200, USER
        if path == "users/oauth/github/login":
            return 400, {"code": 3060, "message": f"could not approve {ACCESS_TOKEN}"}
        if path == f"users/isvalidusertoken/{USER_TOKEN}":
            return 200, True
        if path == "data/Users/user-1":
            return 200, {"objectId": "user-1", "userStatus": "ENABLED"}
        if path == "users/logout":
            return 200, None
        if path == "users/register/guest":
            return 200, {"objectId": "g", "userStatus": "GUEST", "user-token": USER_TOKEN}
        return 404, {"code": 8002, "message": "no such call"}


@pytest.fixture
def server() -> Iterator[tuple[_Server, str]]:
    state = _Server()

    class Handler(BaseHTTPRequestHandler):
        def _serve(self) -> None:
            length = int(self.headers.get("Content-Length") or 0)
            body = self.rfile.read(length)
            with state.lock:
                state.requests.append((self.command, self.path, dict(self.headers), body))
            if state.delay:
                time.sleep(state.delay)
            status, data = state.answer(self.command, self.path)
            payload = b"" if data is None else json.dumps(data).encode()
            try:
                self.send_response(status)
                self.send_header("Content-Type", "application/json")
                self.send_header("Content-Length", str(len(payload)))
                self.end_headers()
                self.wfile.write(payload)
            except OSError:
                pass  # the client gave up (timeout test)

        do_GET = do_POST = _serve

        def log_message(self, format: str, *args: Any) -> None:
            pass

    httpd = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
    httpd.daemon_threads = True
    thread = threading.Thread(target=httpd.serve_forever, args=(0.01,), daemon=True)
    thread.start()
    try:
        yield state, f"http://127.0.0.1:{httpd.server_address[1]}"
    finally:
        httpd.shutdown()
        httpd.server_close()


def test_real_round_trip(server: tuple[_Server, str]) -> None:
    state, url = server
    with Backendless(app_id=APP_ID, api_key=API_KEY, server_url=url) as app:
        user = app.users.login_with_oauth2("Google", ACCESS_TOKEN, fields_mapping={"e": "email"})
        assert user.user_token == USER_TOKEN
        assert app.users.is_valid_login() is True
        app.users.logout()

    login, check, logout = state.requests
    assert login[:2] == ("POST", f"/{APP_ID}/{API_KEY}/users/oauth/google/login")
    assert login[2]["Content-Type"] == "application/json"
    assert json.loads(login[3]) == {"accessToken": ACCESS_TOKEN, "fieldsMapping": {"e": "email"}}
    for method, _path, headers, body in (check, logout):
        assert method == "GET"
        assert headers["user-token"] == USER_TOKEN
        assert "Content-Type" not in headers
        assert body == b""


def test_real_guest_login_sends_no_content_type(server: tuple[_Server, str]) -> None:
    state, url = server
    with Backendless(app_id=APP_ID, api_key=API_KEY, server_url=url) as app:
        app.users.login_as_guest()

    ((method, _path, headers, body),) = state.requests
    assert method == "POST"
    assert "Content-Type" not in headers
    assert body == b""
    assert not any(name.lower().startswith("application-") for name in headers)


def _closed_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        port: int = sock.getsockname()[1]
    return port


@pytest.mark.parametrize(
    "call",
    [
        lambda users: users.login_as_guest(),
        lambda users: users.login_with_oauth2("google", ACCESS_TOKEN),
    ],
)
def test_real_connection_refused(call: Callable[[Any], object]) -> None:
    url = f"http://127.0.0.1:{_closed_port()}"
    with (
        Backendless(app_id=APP_ID, api_key=API_KEY, server_url=url) as app,
        pytest.raises(NetworkError, match="could not connect") as info,
    ):
        call(app.users)

    assert_no_secret(info.value)


def test_real_read_timeout_post_sent_once(server: tuple[_Server, str]) -> None:
    state, url = server
    state.delay = 1.0
    with Backendless(app_id=APP_ID, api_key=API_KEY, server_url=url, timeout=(2, 0.2)) as app:
        with pytest.raises(RequestTimeout) as info:
            app.users.login_with_oauth2("google", ACCESS_TOKEN)
        assert app.users.user_token is None

    assert len(state.requests) == 1
    assert_no_secret(info.value)


def test_real_read_timeout_get_retried(server: tuple[_Server, str]) -> None:
    state, url = server
    with Backendless(app_id=APP_ID, api_key=API_KEY, server_url=url, timeout=(2, 0.2)) as app:
        app.users.login_with_oauth2("google", ACCESS_TOKEN)
        state.delay = 0.5
        with pytest.raises(RequestTimeout):
            app.users.is_valid_login()
        assert app.users.user_token == USER_TOKEN

    checks = [r for r in state.requests if r[0] == "GET"]
    assert len(checks) == 3


SECRETS = (API_KEY, ACCESS_TOKEN, TOKEN_SECRET, USER_TOKEN)


def test_real_logs_never_hold_secrets(
    server: tuple[_Server, str], caplog: pytest.LogCaptureFixture
) -> None:
    _state, url = server
    caplog.set_level(logging.DEBUG, logger="backendless_auth")
    caplog.set_level(logging.DEBUG, logger="urllib3")
    caplog.set_level(logging.DEBUG, logger="httpx")
    caplog.set_level(logging.DEBUG, logger="httpcore")

    with Backendless(app_id=APP_ID, api_key=API_KEY, server_url=url) as app:
        app.users.login_with_oauth2("google", ACCESS_TOKEN)
        app.users.login_with_oauth1("twitter", ACCESS_TOKEN, TOKEN_SECRET)
        assert app.users.is_valid_login() is True
        app.users.get_current_user(reload=True)
        with pytest.raises(ProviderError) as info:
            app.users.login_with_oauth2("github", ACCESS_TOKEN)
        app.users.logout()

    assert_no_secret(info.value)
    # urllib3 for the blocking transport, httpx and httpcore for the async one.
    from_urllib3 = [r for r in caplog.records if r.name.startswith(("urllib3", "httpx"))]
    ours = [r for r in caplog.records if r.name.startswith("backendless_auth")]
    assert from_urllib3, "urllib3 logged nothing: the test would prove nothing"
    assert ours
    assert any("[redacted]" in r.getMessage() for r in from_urllib3)
    for record in caplog.records:
        text = record.getMessage()
        for secret in SECRETS:
            assert secret not in text, (record.name, text)
    for secret in SECRETS:
        assert secret not in caplog.text
