"""One UserService shared by many threads: tokens are never mixed, state is never half-set."""

from __future__ import annotations

import json
import random
import re
import threading
import time
from collections.abc import Callable, Iterator
from typing import Any

import pytest
import responses

from backendless_auth import Backendless, BackendlessUser, MemoryTokenStore, StoredSession

APP_ID = "APP-ID-0001"
API_KEY = "REST-KEY-secret-0002"
BASE = f"https://api.backendless.com/{APP_ID}/{API_KEY}/"
NAMESPACE = f"Backendless_{APP_ID}"
THREADS = 12
LOGINS = 25
ACCESS = re.compile(r"access-(\d+)-(\d+)-token")


def token_for(user_id: str) -> str:
    return f"session-of-{user_id}-0000"


def stays(user_id: str) -> bool:
    """Every other login asks to stay logged in, so the store is both written and wiped."""
    return int(user_id.rsplit("-", 1)[1]) % 2 == 0


def _login_answer(request: Any) -> tuple[int, dict[str, str], str]:
    match = ACCESS.fullmatch(json.loads(request.body)["accessToken"])
    assert match is not None
    user_id = f"user-{match[1]}-{match[2]}"
    body = {"objectId": user_id, "userStatus": "ENABLED", "user-token": token_for(user_id)}
    return 200, {"Content-Type": "application/json"}, json.dumps(body)


def _guest_answer(request: Any) -> tuple[int, dict[str, str], str]:
    user_id = f"guest-{threading.get_ident()}-{id(request) % 1000}"
    body = {"objectId": user_id, "userStatus": "GUEST", "user-token": token_for(user_id)}
    return 200, {"Content-Type": "application/json"}, json.dumps(body)


@pytest.fixture
def rsps() -> Iterator[responses.RequestsMock]:
    with responses.RequestsMock(assert_all_requests_are_fired=False) as mock:
        mock.add_callback(
            responses.POST, re.compile(re.escape(BASE) + r"users/oauth/\w+/login"), _login_answer
        )
        mock.add_callback(responses.POST, BASE + "users/register/guest", _guest_answer)
        mock.get(BASE + "users/logout", body="")
        yield mock


class SlowStore(MemoryTokenStore):
    """A store that takes its time, as a file or keyring store does: races get room to show."""

    def save(self, namespace: str, session: StoredSession) -> None:
        time.sleep(random.uniform(0, 0.001))
        super().save(namespace, session)

    def clear(self, namespace: str) -> None:
        time.sleep(random.uniform(0, 0.001))
        super().clear(namespace)


def check_user(user: BackendlessUser | None) -> None:
    if user is not None:
        assert user.user_token == token_for(user.object_id), "token of another user"


def check_reads(app: Backendless) -> None:
    """Whatever another thread does meanwhile, each read is one whole session."""
    users = app.users
    check_user(users.current_user)
    token = users.user_token
    user_id = users.current_user_id
    assert token is None or token.startswith("session-of-")
    assert user_id is None or user_id.startswith(("user-", "guest-"))
    check_user(users.get_current_user())


def run_threads(work: Callable[[int], None]) -> None:
    barrier = threading.Barrier(THREADS)
    errors: list[BaseException] = []

    def run(number: int) -> None:
        try:
            barrier.wait()
            work(number)
        except BaseException as exc:  # handed to the main thread
            errors.append(exc)

    threads = [threading.Thread(target=run, args=(n,)) for n in range(THREADS)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(timeout=60)
    assert not any(thread.is_alive() for thread in threads)
    if errors:
        raise errors[0]


def assert_store_matches_memory(app: Backendless, store: MemoryTokenStore) -> None:
    users = app.users
    user = users.current_user
    stored = store.load(NAMESPACE)
    if user is None:
        assert users.user_token is None
        assert stored is None
        return
    check_user(user)
    assert users.user_token == user.user_token
    assert users.current_user_id == user.object_id
    # Guests always log in with stay_logged_in=True in these tests.
    if user.is_guest or stays(user.object_id):
        assert stored is not None
        assert (stored.user_token, stored.user_id) == (user.user_token, user.object_id)
        assert stored.stay_logged_in is True
    else:
        assert stored is None


def test_concurrent_logins_never_mix_tokens(rsps: responses.RequestsMock) -> None:
    store = SlowStore()
    app = Backendless(app_id=APP_ID, api_key=API_KEY, token_store=store)
    returned: list[BackendlessUser] = []
    lock = threading.Lock()

    mismatches: list[str] = []

    def check_quiescent() -> None:
        # Runs while every thread waits at the barrier: the state must be whole and in step.
        try:
            assert_store_matches_memory(app, store)
        except AssertionError as exc:
            mismatches.append(str(exc))

    rounds = threading.Barrier(THREADS, action=check_quiescent)

    def login_once(number: int, login: int) -> None:
        user_id = f"user-{number}-{login}"
        if login % 3 == 2:
            user = app.users.login_with_oauth1(
                "twitter",
                f"access-{number}-{login}-token",
                "secret-of-the-token",
                stay_logged_in=stays(user_id),
            )
        else:
            user = app.users.login_with_oauth2(
                "google", f"access-{number}-{login}-token", stay_logged_in=stays(user_id)
            )
        assert user.object_id == user_id
        assert user.user_token == token_for(user_id)
        with lock:
            returned.append(user)
        check_reads(app)

    def work(number: int) -> None:
        # Rounds: all threads log in at once, then wait for each other, and the state is checked.
        for login in range(LOGINS):
            login_once(number, login)
            rounds.wait()

    run_threads(work)

    assert mismatches == []
    assert len(rsps.calls) == THREADS * LOGINS
    assert len(returned) == THREADS * LOGINS
    assert len({user.user_token for user in returned}) == THREADS * LOGINS
    for call in rsps.calls:
        sent = call.request.headers.get("user-token")
        assert sent is None or sent.startswith("session-of-user-")
    assert_store_matches_memory(app, store)
    restarted = Backendless(app_id=APP_ID, api_key=API_KEY, token_store=store)
    stored = store.load(NAMESPACE)
    assert restarted.users.user_token == (stored.user_token if stored else None)


def test_concurrent_logins_logouts_and_reads(rsps: responses.RequestsMock) -> None:
    store = SlowStore()
    app = Backendless(app_id=APP_ID, api_key=API_KEY, token_store=store)

    def work(number: int) -> None:
        for step in range(LOGINS):
            kind = (number + step) % 4
            if kind == 0:
                user_id = f"user-{number}-{step}"
                app.users.login_with_oauth2(
                    "google", f"access-{number}-{step}-token", stay_logged_in=stays(user_id)
                )
            elif kind == 1:
                check_user(app.users.login_as_guest(stay_logged_in=True))
            elif kind == 2:
                app.users.logout()
            check_reads(app)

    run_threads(work)

    assert_store_matches_memory(app, store)
    for call in rsps.calls:
        if call.request.url == BASE + "users/logout":
            assert call.request.headers["user-token"].startswith("session-of-")


def test_concurrent_restore_reads_the_store_once(rsps: responses.RequestsMock) -> None:
    loads: list[str] = []

    class Counting(MemoryTokenStore):
        def load(self, namespace: str) -> StoredSession | None:
            loads.append(namespace)
            return super().load(namespace)

    store = Counting()
    store.save(NAMESPACE, StoredSession(user_token=token_for("user-7-0"), user_id="user-7-0"))
    app = Backendless(app_id=APP_ID, api_key=API_KEY, token_store=store)
    seen: list[tuple[str | None, str | None]] = []

    def work(number: int) -> None:
        seen.append((app.users.user_token, app.users.current_user_id))

    run_threads(work)

    assert loads == [NAMESPACE]
    assert set(seen) == {(token_for("user-7-0"), "user-7-0")}
