"""Every store through ``Backendless(..., token_store=...)``: a session survives a restart.

Through both services (``both_services``, tests/drivers.py): a session stored by either is
restored by either the same way.
"""

from __future__ import annotations

import json
from collections.abc import Iterator
from pathlib import Path

import keyring.backends.fail
import keyring.errors
import pytest
import responses

from backendless_auth import (
    AutoTokenStore,
    Backendless,
    FileTokenStore,
    KeyringTokenStore,
    MemoryTokenStore,
    TokenStore,
)
from backendless_auth.testing import MemoryKeyring

pytestmark = pytest.mark.both_services(http="responses")

SERVER = "https://api.backendless.com"
API_KEYS = {"APP-ONE": "KEY-one-5f0c1d2e", "APP-TWO": "KEY-two-9a8b7c6d"}


class Backing:
    """Where a store kind keeps its bytes, and a way to build a fresh store over them."""

    def __init__(self, kind: str, tmp_path: Path) -> None:
        self.kind = kind
        self.folder = tmp_path / "sessions"
        self.keyring = MemoryKeyring()
        self.memory = MemoryTokenStore()

    def new_store(self) -> TokenStore:
        """A store as a new process would build it: a new object over the same backing."""
        if self.kind == "memory":
            return self.memory  # nothing outlives the process: the same object plays it
        if self.kind == "file":
            return FileTokenStore(self.folder)
        if self.kind == "keyring":
            return KeyringTokenStore(keyring_backend=self.keyring)
        if self.kind == "auto-keyring":
            return AutoTokenStore(keyring_backend=self.keyring, path=self.folder)
        assert self.kind == "auto-file"
        return AutoTokenStore(keyring_backend=keyring.backends.fail.Keyring(), path=self.folder)

    def stored_bytes(self) -> bytes:
        """Everything the backing holds, for looking for what must not be there."""
        if self.kind == "memory":
            sessions = [self.memory.load(f"Backendless_{app_id}") for app_id in API_KEYS]
            return b"\n".join(s.to_json().encode() for s in sessions if s is not None)
        parts = [p.read_bytes() for p in self.folder.glob("*")] if self.folder.exists() else []
        parts += [
            json.dumps(list(key)).encode() + v.encode() for key, v in self.keyring.entries.items()
        ]
        return b"\n".join(parts)


KINDS = ["memory", "file", "keyring", "auto-keyring", "auto-file"]


@pytest.fixture(params=KINDS)
def backing(request: pytest.FixtureRequest, tmp_path: Path) -> Backing:
    return Backing(request.param, tmp_path)


@pytest.fixture
def http() -> Iterator[responses.RequestsMock]:
    with responses.RequestsMock(assert_all_requests_are_fired=False) as mock:
        yield mock


def guest_login(http: responses.RequestsMock, app_id: str, user_id: str, token: str) -> None:
    http.add(
        responses.POST,
        f"{SERVER}/{app_id}/{API_KEYS[app_id]}/users/register/guest",
        json={"objectId": user_id, "user-token": token, "userStatus": "GUEST", "___class": "Users"},
    )


def app_for(app_id: str, store: TokenStore) -> Backendless:
    return Backendless(app_id=app_id, api_key=API_KEYS[app_id], token_store=store)


def test_a_stay_logged_in_session_is_restored_after_a_restart(
    backing: Backing, http: responses.RequestsMock
) -> None:
    guest_login(http, "APP-ONE", "user-1", "tok-restored-1")
    with app_for("APP-ONE", backing.new_store()) as first:
        user = first.users.login_as_guest(stay_logged_in=True)
        assert user.user_token == "tok-restored-1"
    with app_for("APP-ONE", backing.new_store()) as restarted:
        assert restarted.users.user_token == "tok-restored-1"
        assert restarted.users.current_user_id == "user-1"
    assert len(http.calls) == 1  # restoring asks nothing of the server
    http.add(
        responses.GET,
        f"{SERVER}/APP-ONE/{API_KEYS['APP-ONE']}/data/Users/user-1",
        json={"objectId": "user-1", "userStatus": "GUEST", "___class": "Users"},
    )
    with app_for("APP-ONE", backing.new_store()) as restarted:
        # Read by a call this time (the async service loads the store off the event loop); the
        # user is loaded with the restored session's token.
        found = restarted.users.get_current_user()
        assert found is not None
        assert (found.object_id, found.user_token) == ("user-1", "tok-restored-1")
    assert http.calls[-1].request.headers["user-token"] == "tok-restored-1"


def test_without_stay_logged_in_nothing_is_restored(
    backing: Backing, http: responses.RequestsMock
) -> None:
    guest_login(http, "APP-ONE", "user-1", "tok-1")
    with app_for("APP-ONE", backing.new_store()) as first:
        first.users.login_as_guest(stay_logged_in=True)
    guest_login(http, "APP-ONE", "user-2", "tok-2")
    with app_for("APP-ONE", backing.new_store()) as second:
        second.users.login_as_guest(stay_logged_in=False)
    with app_for("APP-ONE", backing.new_store()) as third:
        assert third.users.user_token is None


def test_two_apps_over_one_store_never_see_each_others_session(
    backing: Backing, http: responses.RequestsMock
) -> None:
    guest_login(http, "APP-ONE", "user-1", "tok-one")
    guest_login(http, "APP-TWO", "user-2", "tok-two")
    with app_for("APP-ONE", backing.new_store()) as one:
        one.users.login_as_guest(stay_logged_in=True)
    with app_for("APP-TWO", backing.new_store()) as two:
        assert two.users.user_token is None
        two.users.login_as_guest(stay_logged_in=True)
    with app_for("APP-ONE", backing.new_store()) as one_again:
        assert one_again.users.user_token == "tok-one"
        assert one_again.users.current_user_id == "user-1"
    with app_for("APP-TWO", backing.new_store()) as two_again:
        assert two_again.users.user_token == "tok-two"
        assert two_again.users.current_user_id == "user-2"


def test_the_api_key_is_never_stored(backing: Backing, http: responses.RequestsMock) -> None:
    guest_login(http, "APP-ONE", "user-1", "tok-1")
    with app_for("APP-ONE", backing.new_store()) as app:
        app.users.login_as_guest(stay_logged_in=True)
    stored = backing.stored_bytes()
    assert b"tok-1" in stored  # the session is there (so the search below means something)
    assert API_KEYS["APP-ONE"].encode() not in stored


def test_a_domain_app_has_its_own_namespace(tmp_path: Path, http: responses.RequestsMock) -> None:
    store = FileTokenStore(tmp_path)
    http.add(
        responses.POST,
        "https://one.backendless.app/api/users/register/guest",
        json={"objectId": "user-d", "user-token": "tok-domain", "userStatus": "GUEST"},
    )
    with Backendless(domain="https://one.backendless.app", token_store=store) as app:
        app.users.login_as_guest(stay_logged_in=True)
        namespace = app.namespace
    with Backendless(domain="https://two.backendless.app", token_store=store) as other:
        assert other.users.user_token is None
    with Backendless(domain="https://one.backendless.app", token_store=store) as again:
        assert again.users.user_token == "tok-domain"
    assert store.file_for(namespace).exists()
