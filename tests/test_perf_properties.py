"""Correctness properties behind the performance figures: keep-alive and lazy imports."""

from __future__ import annotations

import json
import subprocess
import sys
import threading
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path

import pytest

sys.path.insert(0, str(Path(__file__).resolve().parents[1] / "benchmarks"))

from instant_server import InstantServer

from backendless_auth import Backendless, HttpResponse, MemoryTokenStore, StoredSession


@pytest.mark.both_services
def test_sequential_calls_share_one_connection() -> None:
    with InstantServer() as server:
        app = Backendless(app_id="APP", api_key="KEY", server_url=server.url)
        app.users.login_as_guest()
        for _ in range(25):
            assert app.users.is_valid_login() is True
            app.users.login_with_oauth2("google", "provider-token")
        app.close()
        assert server.accepts == 1


@pytest.mark.both_services
def test_apps_do_not_share_connections_with_each_other() -> None:
    with InstantServer() as server:
        first = Backendless(app_id="APP", api_key="KEY", server_url=server.url)
        second = Backendless(app_id="APP", api_key="KEY", server_url=server.url)
        first.users.login_as_guest()
        second.users.login_as_guest()
        first.users.login_as_guest()
        assert server.accepts == 2


@pytest.mark.parametrize(
    "module",
    [
        *("keyring", "oauthlib", "requests_oauthlib", "werkzeug", "platformdirs", "filelock"),
        *("requests", "httpx", "anyio", "trio"),
    ],
)
def test_import_does_not_load_optional_heavy_modules(module: str) -> None:
    code = "import json, sys, backendless_auth; print(json.dumps(sorted(m for m in sys.modules)))"
    out = subprocess.run(
        [sys.executable, "-c", code], check=True, capture_output=True, text=True
    ).stdout
    loaded = json.loads(out)
    assert not [name for name in loaded if name == module or name.startswith(module + ".")]


class _MeetingTransport:
    """Answers only once ``parties`` requests are in flight together."""

    def __init__(self, parties: int) -> None:
        self.barrier = threading.Barrier(parties, timeout=10)

    def send(
        self, method: str, url: str, *, headers: object, body: bytes | None, label: str
    ) -> HttpResponse:
        self.barrier.wait()  # raises BrokenBarrierError if the calls were serialised
        if label == "is_valid_login":
            return HttpResponse(200, {"content-type": "application/json"}, b"true")
        user = {"objectId": "U1", "user-token": "TOKEN-123456", "userStatus": "ENABLED"}
        return HttpResponse(200, {"content-type": "application/json"}, json.dumps(user).encode())

    def close(self) -> None:
        pass


@pytest.mark.parametrize("calls", [("login", "login"), ("login", "check"), ("check", "check")])
def test_no_lock_is_held_while_a_request_is_in_flight(calls: tuple[str, str]) -> None:
    transport = _MeetingTransport(parties=2)
    store = MemoryTokenStore()  # a session from an earlier run: every call goes out
    store.save("Backendless_APP", StoredSession(user_token="TOKEN-000000", user_id="U0"))
    users = Backendless(app_id="APP", api_key="KEY", transport=transport, token_store=store).users
    with ThreadPoolExecutor(max_workers=2) as pool:
        futures = [
            pool.submit(
                (lambda: users.login_with_oauth2("google", "provider-token"))
                if call == "login"
                else users.is_valid_login
            )
            for call in calls
        ]
        results = [future.result(timeout=30) for future in futures]

    assert len(results) == 2
