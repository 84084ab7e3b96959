"""Faults injected by the emulator's fault mode, met by the SDK over real HTTP.

Slow answers beyond a short client timeout, connections reset mid-answer, 502/503 from a
gateway, and a server that is not there. Requests are counted at the emulator (each fault's
``fired``, and the users a guest login creates), to prove that a GET is retried and that a login
POST that may have reached the server is never sent twice. Each error must say what happened,
and the session held before the fault must survive it.
"""

from __future__ import annotations

import re
import socket
import threading
import time
from collections.abc import Iterator
from typing import Any

import pytest
import requests

from backendless_auth import (
    ApiError,
    Backendless,
    BackendlessUser,
    MemoryTokenStore,
    NetworkError,
    RequestTimeout,
    StoredSession,
    Timeout,
    TransportError,
)
from backendless_auth.emulator import Emulator

_FIGURES = {"faults injected": 0, "requests counted at the emulator": 0, "sessions lost": 0}


@pytest.fixture(scope="module", autouse=True)
def _report() -> Iterator[None]:
    yield
    detail = ", ".join(f"{name}: {n}" for name, n in _FIGURES.items())
    print(f"\n[figures] faults: {detail}")


READ = 1.5
DELAY = 2 * READ


@pytest.fixture
def app(emu: Emulator) -> Iterator[Backendless]:
    emu.clear_faults()
    # A read timeout that a delay fault (DELAY) outlasts, so that it is "forever" to the client,
    # and that a real answer never does, even on a busy machine (CI runs three suites at once).
    with emu.app(timeout=Timeout(connect=2.0, read=READ), token_store=MemoryTokenStore()) as a:
        yield a
    emu.clear_faults()


def _guest(app: Backendless) -> BackendlessUser:
    user = app.users.login_as_guest(stay_logged_in=True)
    assert user.user_token is not None
    return user


def _guest_count(emu: Emulator) -> int:
    return sum(1 for user in emu.users() if user.get("userStatus") == "GUEST")


def _assert_session_kept(app: Backendless, before: BackendlessUser) -> None:
    stored = app.users.token_store.load(app.namespace)
    kept = (
        app.users.user_token == before.user_token
        and app.users.current_user_id == before.object_id
        and stored is not None
        and stored.user_token == before.user_token
    )
    _FIGURES["sessions lost"] += int(not kept)
    assert kept


def _fired(fault: Any) -> int:
    _FIGURES["faults injected"] += fault.fired
    _FIGURES["requests counted at the emulator"] += fault.fired
    return int(fault.fired)


def _wait_until_idle(emu: Emulator, guests: int, *, limit: float = 3.0) -> int:
    """Wait for a delayed request to finish on the server, then count the guests."""
    deadline = time.monotonic() + limit
    while _guest_count(emu) < guests and time.monotonic() < deadline:
        time.sleep(0.05)
    return _guest_count(emu)


# --- delays ------------------------------------------------------------------------------------


@pytest.mark.both_services
def test_default_timeouts_are_finite() -> None:
    app = Backendless(app_id="APP", api_key="KEY")
    assert 0 < app.timeout.connect < float("inf")
    assert 0 < app.timeout.read < float("inf")


def test_every_request_carries_the_timeout() -> None:
    seen: list[object] = []

    class Recording(requests.Session):
        def request(self, method: str, url: str, *args: Any, **kwargs: Any) -> Any:  # type: ignore[override]
            seen.append(kwargs.get("timeout"))
            raise requests.ConnectionError("offline")

    app = Backendless(app_id="APP", api_key="KEY", session=Recording(), timeout=(1.5, 2.5))
    with pytest.raises(NetworkError):
        app.users.login_as_guest()
    assert seen
    assert all(timeout == (1.5, 2.5) for timeout in seen)


@pytest.mark.both_services
def test_slow_login_post_times_out_and_is_sent_once(emu: Emulator, app: Backendless) -> None:
    before = _guest(app)
    guests = _guest_count(emu)
    fault = emu.set_fault("delay", path="register/guest", method="POST", count=None, delay=DELAY)
    started = time.monotonic()
    with pytest.raises(RequestTimeout) as caught:
        app.users.login_as_guest()
    waited = time.monotonic() - started
    emu.clear_faults()
    assert "did not answer in time" in str(caught.value)
    assert "login_as_guest" in str(caught.value)
    assert _fired(fault) == 1  # never re-sent
    _assert_session_kept(app, before)
    # The server finished the login the client gave up on: one orphan session, nothing sent twice.
    assert _wait_until_idle(emu, guests + 1) == guests + 1
    print(f"\n[figures] slow POST gave up after {waited:.2f} s (read timeout {READ} s)")


@pytest.mark.both_services
def test_slow_get_is_retried_then_times_out(emu: Emulator, app: Backendless) -> None:
    before = _guest(app)
    fault = emu.set_fault("delay", path="isvalidusertoken", method="GET", count=None, delay=DELAY)
    with pytest.raises(RequestTimeout) as caught:
        app.users.is_valid_login()
    emu.clear_faults()
    assert "did not answer in time" in str(caught.value)
    assert before.user_token is not None
    assert before.user_token not in str(caught.value)
    assert _fired(fault) == 3  # the first try and two retries
    _assert_session_kept(app, before)


@pytest.mark.both_services
def test_one_slow_get_is_retried_and_succeeds(emu: Emulator, app: Backendless) -> None:
    before = _guest(app)
    fault = emu.set_fault("delay", path="isvalidusertoken", method="GET", count=1, delay=DELAY)
    assert app.users.is_valid_login() is True
    assert _fired(fault) == 1
    _assert_session_kept(app, before)


# --- connections reset mid-answer ----------------------------------------------------------


@pytest.mark.both_services
def test_reset_login_post_is_not_resent(emu: Emulator, app: Backendless) -> None:
    before = _guest(app)
    guests = _guest_count(emu)
    fault = emu.set_fault("reset", path="register/guest", method="POST", count=None)
    with pytest.raises(NetworkError) as caught:
        app.users.login_as_guest(stay_logged_in=True)
    emu.clear_faults()
    assert "connection broke before a full answer" in str(caught.value)
    assert _fired(fault) == 1
    # The fault answers in the server's place: nothing created, and nothing sent a second time.
    assert _guest_count(emu) == guests
    _assert_session_kept(app, before)


@pytest.mark.both_services
def test_reset_oauth_login_post_is_not_resent(emu: Emulator, app: Backendless) -> None:
    before = _guest(app)
    account = emu.add_account("google", email="reset@example.com", name="Reset")
    token = emu.provider_token("google", account)
    fault = emu.set_fault("reset", path="oauth/google/login", method="POST", count=None)
    with pytest.raises(NetworkError):
        app.users.login_with_oauth2("google", token, stay_logged_in=True)
    emu.clear_faults()
    assert _fired(fault) == 1
    _assert_session_kept(app, before)
    # The provider token still works: the caller can simply try again.
    assert app.users.login_with_oauth2("google", token).email == "reset@example.com"


@pytest.mark.both_services
def test_reset_get_is_retried_and_succeeds(emu: Emulator, app: Backendless) -> None:
    before = _guest(app)
    fault = emu.set_fault("reset", path=f"data/Users/{before.object_id}", method="GET", count=2)
    user = app.users.get_current_user(reload=True)
    assert user is not None
    assert user.object_id == before.object_id
    assert _fired(fault) == 2
    _assert_session_kept(app, before)


@pytest.mark.both_services
def test_reset_logout_keeps_the_session(emu: Emulator, app: Backendless) -> None:
    before = _guest(app)
    fault = emu.set_fault("reset", path="users/logout", method="GET", count=None)
    with pytest.raises(NetworkError):
        app.users.logout()
    emu.clear_faults()
    assert _fired(fault) == 3
    _assert_session_kept(app, before)
    app.users.logout()
    assert app.users.user_token is None


# --- 502 / 503 ---------------------------------------------------------------------------------


@pytest.mark.both_services
@pytest.mark.parametrize("status", [502, 503])
def test_gateway_error_on_get_is_retried(emu: Emulator, app: Backendless, status: int) -> None:
    before = _guest(app)
    fault = emu.set_fault("error", path="isvalidusertoken", status=status, count=2)
    assert app.users.is_valid_login() is True
    assert _fired(fault) == 2
    _assert_session_kept(app, before)


@pytest.mark.both_services
@pytest.mark.parametrize("status", [502, 503])
def test_gateway_error_on_get_gives_up_after_three(
    emu: Emulator, app: Backendless, status: int
) -> None:
    before = _guest(app)
    fault = emu.set_fault("error", path=f"data/Users/{before.object_id}", status=status, count=None)
    with pytest.raises(ApiError) as caught:
        app.users.get_current_user(reload=True)
    emu.clear_faults()
    assert caught.value.status == status
    assert f"HTTP {status}" in str(caught.value)
    assert _fired(fault) == 3
    _assert_session_kept(app, before)


@pytest.mark.both_services
@pytest.mark.parametrize("status", [502, 503])
def test_gateway_error_on_login_post_is_not_resent(
    emu: Emulator, app: Backendless, status: int
) -> None:
    before = _guest(app)
    guests = _guest_count(emu)
    fault = emu.set_fault("error", path="register/guest", method="POST", status=status, count=None)
    with pytest.raises(ApiError) as caught:
        app.users.login_as_guest(stay_logged_in=True)
    emu.clear_faults()
    assert caught.value.status == status
    assert _fired(fault) == 1
    # The gateway answered for the server: nothing was created, nothing sent again.
    assert _guest_count(emu) == guests
    _assert_session_kept(app, before)


# --- no server at all --------------------------------------------------------------------------


def _closed_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


@pytest.mark.both_services
@pytest.mark.parametrize("call", ["login_as_guest", "is_valid_login", "logout"])
def test_no_server_says_could_not_connect(call: str) -> None:
    store = MemoryTokenStore()
    app = Backendless(
        app_id="APP",
        api_key="SECRET-API-KEY-42",
        server_url=f"http://127.0.0.1:{_closed_port()}",
        token_store=store,
        timeout=2,
    )
    store.save(app.namespace, StoredSession(user_token="KEPT-TOKEN-123456", user_id="U"))
    with pytest.raises(TransportError) as caught:
        getattr(app.users, call)()
    _FIGURES["faults injected"] += 1
    assert "could not connect to the server" in str(caught.value)
    assert app.users.user_token == "KEPT-TOKEN-123456"
    assert "SECRET-API-KEY-42" not in str(caught.value)
    assert "KEPT-TOKEN-123456" not in str(caught.value)


# --- the browser login ---------------------------------------------------------------------------


def _scripted_browser(url: str) -> None:
    """Walk the emulator's sign-in page with plain requests, in the background, as a browser."""

    def walk() -> None:
        with requests.Session() as http:
            page = http.get(url, timeout=10)
            chosen = re.search(r"name='account' value='([^']+)'", page.text)
            assert chosen is not None
            answer = http.post(
                page.url,
                data={"action": "choose", "account": chosen.group(1)},
                allow_redirects=False,
                timeout=10,
            )
            while answer.is_redirect:
                answer = http.get(answer.headers["location"], allow_redirects=False, timeout=30)

    threading.Thread(target=walk, daemon=True).start()


@pytest.mark.both_services
def test_browser_login_retries_the_user_load(emu: Emulator, app: Backendless) -> None:
    _guest(app)
    fault = emu.set_fault("reset", path="/data/Users/", method="GET", count=1)
    user = app.users.login_with_browser("google", opener=_scripted_browser, timeout=20)
    assert app.users.user_token == user.user_token
    assert _fired(fault) == 1  # reset once, then retried


@pytest.mark.both_services
def test_browser_login_request_url_not_resent(emu: Emulator, app: Backendless) -> None:
    before = _guest(app)
    fault = emu.set_fault("error", path="request_url", method="POST", status=503, count=None)
    opened: list[str] = []
    with pytest.raises(ApiError) as caught:
        app.users.login_with_browser("google", opener=opened.append, timeout=5)
    emu.clear_faults()
    assert caught.value.status == 503
    assert opened == []  # nothing to open: no URL came back
    assert _fired(fault) == 1
    _assert_session_kept(app, before)
