"""KeyringTokenStore and AutoTokenStore with test keyring backends (the fast suite)."""

from __future__ import annotations

import logging
import os
import subprocess
import sys
import textwrap
import threading
import time
from pathlib import Path

import keyring.backends.fail
import keyring.backends.null
import keyring.errors
import pytest
from keyring.backend import KeyringBackend

from backendless_auth import (
    AutoTokenStore,
    FileTokenStore,
    InvalidArgumentError,
    KeyringTokenStore,
    StoredSession,
    TokenStore,
    TokenStoreError,
)
from backendless_auth.testing import MemoryKeyring

SESSION = StoredSession(user_token="tok-KKKK", user_id="user-1", stay_logged_in=True, saved_at=3.0)
OTHER = StoredSession(user_token="tok-LLLL", user_id="user-2", stay_logged_in=True, saved_at=4.0)
NS = "Backendless_APP-ONE"
# Generous: these tests prove "an answer within the limit", not how fast it comes.
LIMIT = 0.5


class HangingKeyring(MemoryKeyring):
    """A keyring that blocks, like a Secret Service waiting on an unlock prompt."""

    def __init__(self) -> None:
        super().__init__()
        self.release = threading.Event()

    def get_password(self, service: str, username: str) -> str | None:
        self.release.wait(30)
        return super().get_password(service, username)

    def set_password(self, service: str, username: str, password: str) -> None:
        self.release.wait(30)
        super().set_password(service, username, password)


class LockedKeyring(MemoryKeyring):
    """A keyring whose collection is locked, as keyring's SecretService backend reports it."""

    def get_password(self, service: str, username: str) -> str | None:
        raise keyring.errors.KeyringLocked("Failed to unlock the collection!")

    def set_password(self, service: str, username: str, password: str) -> None:
        raise keyring.errors.KeyringLocked("Failed to unlock the collection!")


class EchoingKeyring(MemoryKeyring):
    """A keyring whose error message repeats what it was given."""

    def set_password(self, service: str, username: str, password: str) -> None:
        raise keyring.errors.PasswordSetError(f"cannot store {password}")


@pytest.fixture
def backend() -> MemoryKeyring:
    return MemoryKeyring()


@pytest.fixture
def store(backend: MemoryKeyring) -> KeyringTokenStore:
    return KeyringTokenStore(keyring_backend=backend)


def test_is_a_token_store(store: KeyringTokenStore) -> None:
    assert isinstance(store, TokenStore)


def test_round_trip_save_load_clear(store: KeyringTokenStore, backend: MemoryKeyring) -> None:
    assert store.load(NS) is None
    store.save(NS, SESSION)
    assert backend.entries == {("backendless-auth", NS): SESSION.to_json()}
    assert store.load(NS) == SESSION
    store.save(NS, OTHER)
    assert store.load(NS) == OTHER
    store.clear(NS)
    assert store.load(NS) is None
    store.clear(NS)  # no error when there is nothing


def test_the_service_name_files_the_entries(backend: MemoryKeyring) -> None:
    KeyringTokenStore("my-tool", keyring_backend=backend).save(NS, SESSION)
    assert list(backend.entries) == [("my-tool", NS)]
    assert KeyringTokenStore(keyring_backend=backend).load(NS) is None


def test_namespaces_never_mix(store: KeyringTokenStore) -> None:
    store.save("Backendless_APP-ONE", SESSION)
    store.save("Backendless_APP-TWO", OTHER)
    store.clear("Backendless_APP-ONE")
    assert store.load("Backendless_APP-TWO") == OTHER
    assert store.load("Backendless_APP-ONE") is None


def test_a_corrupt_entry_counts_as_none_with_a_warning(
    store: KeyringTokenStore, backend: MemoryKeyring, caplog: pytest.LogCaptureFixture
) -> None:
    backend.entries[("backendless-auth", NS)] = "{not json"
    with caplog.at_level(logging.WARNING, logger="backendless_auth"):
        assert store.load(NS) is None
    assert "does not hold a session" in caplog.text
    store.save(NS, SESSION)
    assert store.load(NS) == SESSION


@pytest.mark.parametrize(
    ("build", "argument"),
    [
        (lambda: KeyringTokenStore(""), "service"),
        (lambda: KeyringTokenStore(timeout=0), "timeout"),
        (lambda: AutoTokenStore(probe_timeout=-1), "probe_timeout"),
        (lambda: AutoTokenStore(timeout=float("nan")), "timeout"),
    ],
)
def test_bad_arguments_are_refused(build: object, argument: str) -> None:
    with pytest.raises(InvalidArgumentError) as info:
        build()  # type: ignore[operator]
    assert info.value.argument == argument


def test_construction_touches_no_keyring() -> None:
    hanging = HangingKeyring()
    started = time.monotonic()
    store = KeyringTokenStore(keyring_backend=hanging, timeout=LIMIT)
    assert hanging.calls == 0
    assert "KeyringTokenStore" in repr(store)
    assert time.monotonic() - started < LIMIT


@pytest.mark.parametrize(
    "backend_class",
    [keyring.backends.fail.Keyring, keyring.backends.null.Keyring],
    ids=["fail", "null"],
)
def test_no_usable_backend_raises_token_store_error_saying_what_to_do(
    backend_class: type[KeyringBackend],
) -> None:
    store = KeyringTokenStore(keyring_backend=backend_class())
    for call in (lambda: store.load(NS), lambda: store.save(NS, SESSION), lambda: store.clear(NS)):
        with pytest.raises(TokenStoreError) as info:
            call()
        message = str(info.value)
        assert "no usable keyring" in message
        assert "FileTokenStore" in message
        assert "install" in message


def test_a_locked_keyring_raises_token_store_error(caplog: pytest.LogCaptureFixture) -> None:
    store = KeyringTokenStore(keyring_backend=LockedKeyring())
    with pytest.raises(TokenStoreError, match="unlock it, or use FileTokenStore") as info:
        store.save(NS, SESSION)
    assert "KeyringLocked" in str(info.value)
    assert "tok-KKKK" not in str(info.value)
    with pytest.raises(TokenStoreError):
        store.load(NS)


def test_an_error_message_never_repeats_the_session() -> None:
    store = KeyringTokenStore(keyring_backend=EchoingKeyring())
    with pytest.raises(TokenStoreError) as info:
        store.save(NS, SESSION)
    assert "tok-KKKK" not in str(info.value)
    assert "PasswordSetError" in str(info.value)


def test_a_hanging_keyring_gives_token_store_error_within_the_time_limit() -> None:
    hanging = HangingKeyring()
    store = KeyringTokenStore(keyring_backend=hanging, timeout=LIMIT)
    try:
        started = time.monotonic()
        with pytest.raises(TokenStoreError, match="did not answer within"):
            store.load(NS)
        # Waited for the limit, not for the 30 s the backend would block.
        assert time.monotonic() - started < 10
        # While that call is still blocked, the next ones fail at once instead of queueing.
        with pytest.raises(TokenStoreError, match="still blocked"):
            store.save(NS, SESSION)
    finally:
        hanging.release.set()
    # Once the keyring answers again, the store works again.
    deadline = time.monotonic() + 10
    while True:
        try:
            store.save(NS, SESSION)
            break
        except TokenStoreError:
            if time.monotonic() > deadline:
                raise
            time.sleep(0.01)
    assert store.load(NS) == SESSION


def test_threads_sharing_one_store(store: KeyringTokenStore) -> None:
    sessions = [StoredSession(user_token=f"tok-{i}", user_id=f"u{i}") for i in range(6)]
    errors: list[object] = []

    def work(index: int) -> None:
        for _ in range(50):
            store.save(f"NS{index % 2}", sessions[index])
            loaded = store.load(f"NS{index % 2}")
            if loaded not in sessions:
                errors.append(loaded)

    threads = [threading.Thread(target=work, args=(i,)) for i in range(6)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    assert errors == []


# --- the automatic store ----------------------------------------------------------------------


def test_auto_picks_a_working_keyring_and_says_so(
    backend: MemoryKeyring, tmp_path: Path, caplog: pytest.LogCaptureFixture
) -> None:
    with caplog.at_level(logging.INFO, logger="backendless_auth"):
        store = AutoTokenStore(keyring_backend=backend, path=tmp_path / "files")
    assert store.backend_name == "keyring"
    assert isinstance(store.store, KeyringTokenStore)
    assert "MemoryKeyring" in store.reason
    assert "keyring" in repr(store)
    lines = [r for r in caplog.records if r.name.startswith("backendless_auth")]
    assert len(lines) == 1
    assert lines[0].levelno == logging.INFO
    assert "keyring" in lines[0].getMessage()
    assert backend.entries == {}  # the probe entry is gone
    store.save(NS, SESSION)
    assert store.load(NS) == SESSION
    assert ("backendless-auth", NS) in backend.entries
    assert not (tmp_path / "files").exists()
    store.clear(NS)
    assert store.load(NS) is None


@pytest.mark.parametrize(
    ("make_backend", "why"),
    [
        (keyring.backends.fail.Keyring, "no backend"),
        (LockedKeyring, "KeyringLocked"),
        (HangingKeyring, "did not answer"),
    ],
    ids=["fail", "locked", "hanging"],
)
def test_auto_falls_back_to_files_and_says_why(
    make_backend: type[KeyringBackend],
    why: str,
    tmp_path: Path,
    caplog: pytest.LogCaptureFixture,
) -> None:
    backend = make_backend()
    try:
        with caplog.at_level(logging.INFO, logger="backendless_auth"):
            store = AutoTokenStore(
                keyring_backend=backend, path=tmp_path / "files", probe_timeout=LIMIT
            )
    finally:
        if isinstance(backend, HangingKeyring):
            backend.release.set()
    assert store.backend_name == "file"
    assert isinstance(store.store, FileTokenStore)
    assert why in store.reason
    lines = [r for r in caplog.records if r.name.startswith("backendless_auth")]
    assert len(lines) == 1
    assert lines[0].levelno == logging.INFO
    assert "file" in lines[0].getMessage()
    assert why in lines[0].getMessage()
    store.save(NS, SESSION)
    assert FileTokenStore(tmp_path / "files").load(NS) == SESSION


AUTO_WITHOUT_KEYRING = textwrap.dedent(
    """
    import logging, sys
    logging.basicConfig(level=logging.INFO, format="%(levelname)s %(name)s %(message)s")
    from backendless_auth import default_token_store
    store = default_token_store()
    print("CHOSEN", store.backend_name, type(store.store).__name__)
    """
)


def test_default_store_on_a_machine_without_keyring_uses_files(tmp_path: Path) -> None:
    env = dict(os.environ)
    env.update(
        PYTHON_KEYRING_BACKEND="keyring.backends.fail.Keyring",
        HOME=str(tmp_path / "home"),
        XDG_DATA_HOME=str(tmp_path / "data"),
        XDG_CONFIG_HOME=str(tmp_path / "config"),
    )
    env.pop("DBUS_SESSION_BUS_ADDRESS", None)
    result = subprocess.run(
        [sys.executable, "-c", AUTO_WITHOUT_KEYRING],
        env=env,
        capture_output=True,
        text=True,
        timeout=60,
        check=True,
    )
    assert "CHOSEN file FileTokenStore" in result.stdout
    assert "INFO backendless_auth.stores sessions are kept in the file store" in result.stderr
    assert str(tmp_path / "data") in result.stderr


IMPORT_CHECK = textwrap.dedent(
    """
    import sys
    import backendless_auth
    heavy = sorted(m for m in ("keyring", "platformdirs", "filelock") if m in sys.modules)
    print("LOADED", heavy)
    backendless_auth.KeyringTokenStore()
    print("AFTER", sorted(m for m in ("keyring",) if m in sys.modules))
    """
)


def test_importing_the_package_imports_no_store_dependency() -> None:
    result = subprocess.run(
        [sys.executable, "-c", IMPORT_CHECK], capture_output=True, text=True, timeout=60, check=True
    )
    assert "LOADED []" in result.stdout
    # Building a keyring store does not import keyring either: the first call does.
    assert "AFTER []" in result.stdout
