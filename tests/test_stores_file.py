"""FileTokenStore: round trips, namespacing, permissions, corrupt files, failed saves."""

from __future__ import annotations

import logging
import os
import socket
import stat
import subprocess
import sys
import textwrap
import threading
from pathlib import Path

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from backendless_auth import (
    FileTokenStore,
    InvalidArgumentError,
    StoredSession,
    TokenStore,
    TokenStoreError,
)

SESSION = StoredSession(user_token="tok-AAAA", user_id="user-1", stay_logged_in=True, saved_at=1.5)
OTHER = StoredSession(user_token="tok-BBBB", user_id="user-2", stay_logged_in=True, saved_at=2.5)
NS = "Backendless_APP-ONE"


def mode_of(path: Path) -> int:
    return stat.S_IMODE(path.stat().st_mode)


@pytest.fixture
def folder(tmp_path: Path) -> Path:
    return tmp_path / "store"


@pytest.fixture
def store(folder: Path) -> FileTokenStore:
    return FileTokenStore(folder)


def test_is_a_token_store(store: FileTokenStore) -> None:
    assert isinstance(store, TokenStore)


def test_load_and_clear_of_nothing_create_nothing_on_disk(
    store: FileTokenStore, folder: Path
) -> None:
    # No folder, no lock file: a command that never stored a session leaves no trace.
    assert store.load(NS) is None
    store.clear(NS)
    assert not folder.exists()
    folder.mkdir()
    assert store.load(NS) is None
    store.clear(NS)
    assert list(folder.iterdir()) == []


def test_round_trip_save_load_clear(store: FileTokenStore) -> None:
    store.save(NS, SESSION)
    assert store.load(NS) == SESSION
    store.save(NS, OTHER)
    assert store.load(NS) == OTHER
    store.clear(NS)
    assert store.load(NS) is None
    store.clear(NS)  # no error when there is nothing


def test_a_new_store_over_the_same_folder_reads_the_session(folder: Path) -> None:
    FileTokenStore(folder).save(NS, SESSION)
    assert FileTokenStore(str(folder)).load(NS) == SESSION


def test_the_file_holds_the_session_json_and_nothing_else(store: FileTokenStore) -> None:
    store.save(NS, SESSION)
    assert store.file_for(NS).read_text("utf-8") == SESSION.to_json()


def test_namespaces_never_mix(store: FileTokenStore) -> None:
    store.save("Backendless_APP-ONE", SESSION)
    store.save("Backendless_APP-TWO", OTHER)
    assert store.load("Backendless_APP-ONE") == SESSION
    assert store.load("Backendless_APP-TWO") == OTHER
    store.clear("Backendless_APP-ONE")
    assert store.load("Backendless_APP-TWO") == OTHER


@pytest.mark.parametrize(
    ("first", "second"),
    [
        ("Backendless_abc", "Backendless_ABC"),  # one file on a case-insensitive file system
        ("Backendless_a/b", "Backendless_a_b"),  # same readable part
        ("Backendless_x.app/../..", "Backendless_x.app"),
    ],
)
def test_namespaces_that_look_alike_get_their_own_files(
    store: FileTokenStore, folder: Path, first: str, second: str
) -> None:
    assert store.file_for(first).name.lower() != store.file_for(second).name.lower()
    store.save(first, SESSION)
    store.save(second, OTHER)
    assert store.load(first) == SESSION
    assert store.load(second) == OTHER


@pytest.mark.parametrize(
    "namespace", ["Backendless_https://x.backendless.app/a/../b", "../../etc/passwd", "", "\x00é"]
)
def test_any_namespace_stays_inside_the_folder(
    store: FileTokenStore, folder: Path, namespace: str
) -> None:
    target = store.file_for(namespace)
    assert target.parent == folder
    assert "/" not in target.name
    assert "\x00" not in target.name
    store.save(namespace, SESSION)
    assert store.load(namespace) == SESSION


def test_default_folder_is_the_user_data_dir(
    monkeypatch: pytest.MonkeyPatch, tmp_path: Path
) -> None:
    import platformdirs

    monkeypatch.setenv("XDG_DATA_HOME", str(tmp_path / "data"))
    monkeypatch.setenv("HOME", str(tmp_path / "home"))
    store = FileTokenStore()
    assert store.path == Path(platformdirs.user_data_dir("backendless-auth", appauthor=False))
    store.save(NS, SESSION)
    assert FileTokenStore().load(NS) == SESSION


# --- permissions ------------------------------------------------------------------------------


def test_folder_is_0700_and_files_0600(store: FileTokenStore, folder: Path) -> None:
    old = os.umask(0o022)
    try:
        store.save(NS, SESSION)
    finally:
        os.umask(old)
    assert mode_of(folder) == 0o700
    assert mode_of(store.file_for(NS)) == 0o600
    locks = list(folder.glob("*.lock"))
    assert locks
    assert all(mode_of(lock) == 0o600 for lock in locks)


def test_a_file_readable_by_others_is_tightened_with_a_warning(
    store: FileTokenStore, caplog: pytest.LogCaptureFixture
) -> None:
    store.save(NS, SESSION)
    target = store.file_for(NS)
    os.chmod(target, 0o644)
    with caplog.at_level(logging.WARNING, logger="backendless_auth"):
        assert store.load(NS) == SESSION
    assert mode_of(target) == 0o600
    assert any("tightened to 0600" in r.getMessage() for r in caplog.records)
    assert "tok-AAAA" not in caplog.text


def test_a_too_open_existing_folder_is_warned_about_and_left_alone(
    tmp_path: Path, caplog: pytest.LogCaptureFixture
) -> None:
    shared = tmp_path / "shared"
    shared.mkdir()
    os.chmod(shared, 0o755)
    with caplog.at_level(logging.WARNING, logger="backendless_auth"):
        FileTokenStore(shared).save(NS, SESSION)
    assert mode_of(shared) == 0o755
    assert any("accessible to other users" in r.getMessage() for r in caplog.records)
    assert mode_of(FileTokenStore(shared).file_for(NS)) == 0o600


# --- corrupt files ----------------------------------------------------------------------------


@pytest.mark.parametrize(
    "content",
    [
        b"\x00\xff garbage \x89PNG",
        SESSION.to_json().encode()[:-7],  # truncated
        b'["user-token", "tok"]',  # another shape
        b'{"user-token": 5, "current-user-id": "u"}',  # wrong types
        b"",  # empty
        b"\xc3\x28",  # invalid UTF-8
    ],
    ids=["garbage", "truncated", "list", "wrong-types", "empty", "bad-utf8"],
)
def test_a_corrupt_file_is_moved_aside_with_a_warning_and_counts_as_none(
    store: FileTokenStore, content: bytes, caplog: pytest.LogCaptureFixture
) -> None:
    target = store.file_for(NS)
    store.save(NS, SESSION)
    target.write_bytes(content)
    with caplog.at_level(logging.WARNING, logger="backendless_auth"):
        assert store.load(NS) is None
    aside = target.with_name(target.name + ".corrupt")
    assert aside.read_bytes() == content
    assert not target.exists()
    assert any("moved aside" in r.getMessage() for r in caplog.records)
    store.save(NS, OTHER)
    assert store.load(NS) == OTHER
    assert aside.read_bytes() == content


def test_a_good_file_is_never_moved_aside(store: FileTokenStore, folder: Path) -> None:
    store.save(NS, SESSION)
    for _ in range(3):
        assert store.load(NS) == SESSION
    assert list(folder.glob("*.corrupt")) == []


def test_a_huge_file_is_not_a_session(store: FileTokenStore) -> None:
    store.file_for(NS).parent.mkdir(parents=True, exist_ok=True)
    store.file_for(NS).write_bytes(b" " * (2 << 20))
    assert store.load(NS) is None


# --- OS errors --------------------------------------------------------------------------------


def test_a_folder_that_cannot_be_created_raises_token_store_error(tmp_path: Path) -> None:
    blocker = tmp_path / "a-file"
    blocker.write_text("not a folder")
    store = FileTokenStore(blocker / "store")
    with pytest.raises(TokenStoreError, match="cannot be created") as info:
        store.save(NS, SESSION)
    assert "tok-AAAA" not in str(info.value)


def test_a_path_naming_a_file_is_refused_with_a_message_saying_folder(tmp_path: Path) -> None:
    session_file = tmp_path / "session.json"
    session_file.write_text("{}")
    with pytest.raises(TokenStoreError, match="takes a folder"):
        FileTokenStore(session_file).save(NS, SESSION)
    assert session_file.read_text() == "{}"


@pytest.mark.parametrize("value", [0, -1, float("nan"), float("inf"), True, "5"])
def test_a_bad_lock_timeout_is_refused(tmp_path: Path, value: object) -> None:
    with pytest.raises(InvalidArgumentError, match="lock_timeout"):
        FileTokenStore(tmp_path, lock_timeout=value)  # type: ignore[arg-type]


def test_a_folder_where_the_file_goes_is_moved_aside_and_the_next_save_works(
    store: FileTokenStore,
) -> None:
    store.file_for(NS).parent.mkdir(parents=True, exist_ok=True)
    store.file_for(NS).mkdir()
    assert store.load(NS) is None
    assert store.file_for(NS).with_name(store.file_for(NS).name + ".corrupt").is_dir()
    store.save(NS, SESSION)
    assert store.load(NS) == SESSION


def test_a_save_into_a_read_only_folder_fails_and_keeps_the_old_file(
    store: FileTokenStore, folder: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    store.save(NS, SESSION)
    if os.name == "posix" and os.geteuid() == 0:
        # Root writes through any mode bits: have the OS refuse the new file instead, as a
        # read-only folder does.
        def refuse(*args: object, **kwargs: object) -> tuple[int, str]:
            raise PermissionError(13, "Permission denied")

        # The store imports tempfile when it first writes: patch the module it will get.
        monkeypatch.setattr("tempfile.mkstemp", refuse)
    os.chmod(folder, 0o500)
    try:
        with pytest.raises(TokenStoreError, match="could not be saved") as info:
            store.save(NS, OTHER)
    finally:
        os.chmod(folder, 0o700)
        monkeypatch.undo()
    assert "tok-BBBB" not in str(info.value)
    assert store.load(NS) == SESSION


DISK_FULL = textwrap.dedent(
    """
    import os, resource, signal, sys
    from backendless_auth import FileTokenStore, StoredSession, TokenStoreError

    store = FileTokenStore(sys.argv[1])
    store.save("NS", StoredSession(user_token="tok-old", user_id="u1", saved_at=1.0))
    signal.signal(signal.SIGXFSZ, signal.SIG_IGN)
    # Files may not grow past 16 bytes from now on: writes fail with EFBIG, as on a full disk.
    resource.setrlimit(resource.RLIMIT_FSIZE, (16, resource.RLIM_INFINITY))
    try:
        store.save("NS", StoredSession(user_token="tok-new-" + "x" * 64, user_id="u2"))
    except TokenStoreError as exc:
        print("ERROR", exc)
    else:
        print("SAVED")
    """
)


@pytest.mark.skipif(sys.platform == "win32", reason="RLIMIT_FSIZE is POSIX")
def test_a_failed_write_raises_and_leaves_the_previous_file_intact(tmp_path: Path) -> None:
    folder = tmp_path / "store"
    result = subprocess.run(
        [sys.executable, "-c", DISK_FULL, str(folder)],
        capture_output=True,
        text=True,
        timeout=60,
        check=True,
    )
    assert result.stdout.startswith("ERROR the session could not be saved"), result
    assert "tok-new" not in result.stdout
    store = FileTokenStore(folder)
    loaded = store.load("NS")
    assert loaded is not None
    assert loaded.user_token == "tok-old"
    assert [p.name for p in folder.iterdir() if p.name.endswith(".tmp")] == []


# --- threads ----------------------------------------------------------------------------------


def test_threads_sharing_one_store_always_read_a_whole_session(store: FileTokenStore) -> None:
    sessions = [
        StoredSession(user_token=f"tok-{i}", user_id=f"user-{i}", saved_at=float(i))
        for i in range(8)
    ]
    store.save(NS, sessions[0])
    errors: list[object] = []

    def work(index: int) -> None:
        try:
            for _ in range(40):
                store.save(NS, sessions[index])
                loaded = store.load(NS)
                if loaded not in sessions:
                    errors.append(loaded)
        except Exception as exc:  # pragma: no cover - reported below
            errors.append(exc)

    threads = [threading.Thread(target=work, args=(i,)) for i in range(8)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    assert errors == []


def test_repr_shows_the_folder_and_no_session(store: FileTokenStore, folder: Path) -> None:
    store.save(NS, SESSION)
    assert str(folder) in repr(store)
    assert "tok-AAAA" not in repr(store)


@settings(
    max_examples=200, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture]
)
@given(namespaces=st.lists(st.text(min_size=0, max_size=300), min_size=1, max_size=5, unique=True))
def test_any_namespaces_get_distinct_safe_files_and_round_trip(
    tmp_path: Path, namespaces: list[str]
) -> None:
    store = FileTokenStore(tmp_path / "h")
    names = {store.file_for(namespace).name for namespace in namespaces}
    assert len({name.lower() for name in names}) == len(namespaces)
    for namespace in namespaces:
        target = store.file_for(namespace)
        assert target.parent == tmp_path / "h"
        assert len(target.name.encode()) + len(".corrupt") < 255
        assert not target.name.startswith(".")
    for index, namespace in enumerate(namespaces):
        store.save(namespace, StoredSession(user_token=f"tok-{index}", user_id=None))
    for index, namespace in enumerate(namespaces):
        loaded = store.load(namespace)
        assert loaded is not None
        assert loaded.user_token == f"tok-{index}"
        store.clear(namespace)


@pytest.mark.parametrize("command", ["token", "valid", "whoami", "logout", "guest"])
def test_a_failed_command_leaves_nothing_on_disk(tmp_path: Path, command: str) -> None:
    # No session stored, and no server to reach: nothing to keep, so no folder, no lock file.
    folder = tmp_path / "sessions"
    with socket.socket() as closed:
        closed.bind(("127.0.0.1", 0))
        port = closed.getsockname()[1]
    result = subprocess.run(
        [
            sys.executable,
            "-m",
            "backendless_auth",
            "--app-id=APP",
            "--api-key=KEY",
            f"--server-url=http://127.0.0.1:{port}",
            "--store=file",
            f"--store-path={folder}",
            command,
        ],
        capture_output=True,
        text=True,
        timeout=120,
        env={**os.environ, "PYTHONPATH": os.pathsep.join(sys.path)},
    )
    assert result.returncode in {0, 1, 3}, result.stderr
    assert not folder.exists()
