"""The file store against a hostile file system: garbage, symlinks, a planted session.

* Whatever bytes the session file holds, ``load`` returns a whole session or ``None`` (the file
  moved aside), never another exception, and the next ``save`` works.
* A session file replaced by a symlink to another file: ``save`` replaces the link, it never
  writes through it into the other file.
* A session file planted by another user (in a folder others can write to) must not be
  adopted: it would log this program in as the planter's account (session fixation). It is
  left as it is (not tightened, not moved aside), and ``save`` refuses to replace it or a link
  planted in its place; a folder owned by another user is not used at all.
"""

from __future__ import annotations

import logging
import os
import stat
from collections.abc import Iterator
from pathlib import Path

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from backendless_auth import FileTokenStore, StoredSession, TokenStoreError

NAMESPACE = "Backendless_APP"
SESSION = StoredSession(user_token="T" * 36, user_id="U1", saved_at=1.0)
_FIGURES: dict[str, int] = {}


@pytest.fixture(scope="module", autouse=True)
def _report() -> Iterator[None]:
    yield
    print(f"\n[figures] stores: {', '.join(f'{k}: {n}' for k, n in sorted(_FIGURES.items()))}")


@settings(max_examples=150, deadline=None, suppress_health_check=list(HealthCheck))
@given(
    content=st.one_of(
        st.binary(max_size=200),
        st.text(max_size=200).map(str.encode),
        st.sampled_from(
            [
                b"",
                b"{}",
                b"null",
                b'{"user-token": ""}',
                b'{"user-token": 5, "current-user-id": "U"}',
                b'{"user-token": "T", "current-user-id": ["U"]}',
                SESSION.to_json().encode()[:-3],
                b"\x00" * 64,
                b"{" * 10000,
            ]
        ),
    )
)
def test_any_file_content_loads_as_a_session_or_none(
    tmp_path_factory: pytest.TempPathFactory, content: bytes
) -> None:
    store = FileTokenStore(tmp_path_factory.mktemp("store"))
    target = store.file_for(NAMESPACE)
    store.save(NAMESPACE, SESSION)
    target.write_bytes(content)
    try:
        loaded = store.load(NAMESPACE)
    except TokenStoreError:
        loaded = None
    _FIGURES["file contents tried"] = _FIGURES.get("file contents tried", 0) + 1
    assert loaded is None or isinstance(loaded, StoredSession)
    store.save(NAMESPACE, SESSION)
    assert store.load(NAMESPACE) == SESSION


def test_save_replaces_a_symlink_instead_of_writing_through_it(tmp_path: Path) -> None:
    store = FileTokenStore(tmp_path / "store")
    store.save(NAMESPACE, SESSION)
    victim = tmp_path / "victim.txt"
    victim.write_text("precious")
    target = store.file_for(NAMESPACE)
    target.unlink()
    target.symlink_to(victim)
    store.save(NAMESPACE, StoredSession(user_token="N" * 36, user_id="U2"))
    _FIGURES["symlinks planted"] = _FIGURES.get("symlinks planted", 0) + 1
    assert victim.read_text() == "precious"
    assert not target.is_symlink()
    assert stat.S_IMODE(target.stat().st_mode) == 0o600


def _need_root() -> None:
    if not hasattr(os, "getuid") or os.getuid() != 0:
        pytest.skip("planting a file owned by another user needs root here")


NOBODY = 65534
PLANTED = StoredSession(user_token="ATTACKER-TOKEN-0123456789", user_id="A").to_json()


def _plant(tmp_path: Path) -> tuple[FileTokenStore, Path]:
    """A store in a folder like /tmp, with a session file of another user's in it."""
    shared = tmp_path / "shared"
    shared.mkdir(mode=0o777)
    os.chmod(shared, 0o1777)  # like /tmp: anyone may create files
    store = FileTokenStore(shared)
    target = store.file_for(NAMESPACE)
    target.write_text(PLANTED)
    os.chown(target, NOBODY, NOBODY)
    os.chmod(target, 0o644)
    _FIGURES["planted sessions"] = _FIGURES.get("planted sessions", 0) + 1
    return store, target


def test_a_session_planted_by_another_user_is_not_adopted(
    tmp_path: Path, caplog: pytest.LogCaptureFixture
) -> None:
    _need_root()
    store, target = _plant(tmp_path)
    with caplog.at_level(logging.WARNING, logger="backendless_auth"):
        assert store.load(NAMESPACE) is None
    assert any("belongs to another user" in r.getMessage() for r in caplog.records)
    assert "ATTACKER-TOKEN" not in caplog.text
    # Neither adopted nor touched: not tightened, not moved aside.
    assert target.read_text() == PLANTED
    assert stat.S_IMODE(target.stat().st_mode) == 0o644
    assert target.stat().st_uid == NOBODY


def test_save_refuses_to_replace_a_session_planted_by_another_user(tmp_path: Path) -> None:
    _need_root()
    store, target = _plant(tmp_path)
    with pytest.raises(TokenStoreError, match="belongs to another user"):
        store.save(NAMESPACE, SESSION)
    assert target.read_text() == PLANTED
    assert target.stat().st_uid == NOBODY
    # Once the planted file is gone, the shared folder works as before.
    store.clear(NAMESPACE)
    store.save(NAMESPACE, SESSION)
    assert store.load(NAMESPACE) == SESSION
    assert stat.S_IMODE(target.stat().st_mode) == 0o600


def test_save_refuses_a_symlink_planted_by_another_user(tmp_path: Path) -> None:
    _need_root()
    store, target = _plant(tmp_path)
    target.unlink()
    target.symlink_to(tmp_path / "elsewhere")
    os.lchown(target, NOBODY, NOBODY)
    with pytest.raises(TokenStoreError, match="belongs to another user"):
        store.save(NAMESPACE, SESSION)
    assert target.is_symlink()
    assert not (tmp_path / "elsewhere").exists()


def test_a_folder_owned_by_another_user_is_not_used(
    tmp_path: Path, caplog: pytest.LogCaptureFixture
) -> None:
    _need_root()
    folder = tmp_path / "theirs"
    FileTokenStore(folder).save(NAMESPACE, SESSION)
    for path in (folder, *folder.iterdir()):
        os.chown(path, NOBODY, NOBODY)
    store = FileTokenStore(folder)
    with caplog.at_level(logging.WARNING, logger="backendless_auth"):
        assert store.load(NAMESPACE) is None
    assert any(
        "folder" in r.getMessage() and "another user" in r.getMessage() for r in caplog.records
    )
    with pytest.raises(TokenStoreError, match="belongs to another user"):
        store.save(NAMESPACE, SESSION)
