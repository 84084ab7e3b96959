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

import json
import logging
import os
import stat
import traceback
from collections.abc import Iterator
from pathlib import Path

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from backendless_auth import FileTokenStore, KeyringTokenStore, StoredSession, TokenStoreError
from backendless_auth.testing import MemoryKeyring

NAMESPACE = "Backendless_APP"
SESSION = StoredSession(user_token="T" * 36, user_id="U1", saved_at=1.0)
_FIGURES: dict[str, int] = {}


@pytest.fixture(scope="module", autouse=True)
def _report() -> Iterator[None]:
    yield
    print(f"\n[figures] stores: {', '.join(f'{k}: {n}' for k, n in sorted(_FIGURES.items()))}")


# Stored bytes of every class: random bytes and text, nesting 1 to 200,000 deep (arrays,
# objects, inside a valid session), sizes around the 1 MiB limit, invalid UTF-8, other
# encodings, NaN and infinities, numbers beyond a float or the digit limit, wrong types for
# every field, tokens no header can carry (control characters, CR/LF, non-ASCII, surrogates).
def _session_with(**fields: object) -> bytes:
    data: dict[str, object] = {"user-token": "T" * 36, "current-user-id": "U"}
    data.update(fields)
    return json.dumps(data).encode()


_JSON_VALUES = st.recursive(
    st.none() | st.booleans() | st.integers() | st.floats() | st.text(max_size=20),
    lambda inner: st.lists(inner, max_size=4) | st.dictionaries(st.text(max_size=8), inner),
    max_leaves=10,
)
STORED_BYTES = st.one_of(
    st.binary(max_size=300),
    st.text(max_size=300).map(lambda t: t.encode("utf-8", "surrogatepass")),
    st.integers(1, 200_000).map(lambda n: b"[" * n),
    st.integers(1, 100_000).map(lambda n: b'{"a":' * n),
    st.integers(1, 100_000).map(lambda n: b'{"user-token":"T","x":' + b"[" * n),
    st.integers((1 << 20) - 64, (1 << 20) + 64).map(
        lambda n: _session_with(pad="x" * max(0, n - 80))
    ),
    st.sampled_from(["utf-16", "utf-32", "latin-1"]).map(
        lambda enc: SESSION.to_json().replace("T", "\u00e9").encode(enc)
    ),
    st.sampled_from(["NaN", "Infinity", "-Infinity", "1e999", "9" * 5000, "true", '"1"', "[]"]).map(
        lambda raw: _session_with().replace(b'"U"}', b'"U","savedAt":' + raw.encode() + b"}")
    ),
    st.fixed_dictionaries(
        {},
        optional={
            "user-token": _JSON_VALUES,
            "current-user-id": _JSON_VALUES,
            "stayLoggedIn": _JSON_VALUES,
            "savedAt": _JSON_VALUES,
        },
    ).map(lambda d: json.dumps(d).encode()),
    st.text(
        st.characters(codec="utf-8", categories=["Cc", "Cf", "Zs", "Zl", "Zp", "Co", "Cs", "Lo"]),
        min_size=1,
        max_size=10,
    ).map(lambda bad: json.dumps({"user-token": "T" + bad}).encode("utf-8", "surrogatepass")),
    st.sampled_from(
        [
            b"",
            b"{}",
            b"null",
            b'{"user-token": ""}',
            b'{"user-token": 5, "current-user-id": "U"}',
            b'{"user-token": "T", "current-user-id": ["U"]}',
            b'{"user-token": "T\r\nX-Evil: 1"}',
            b'{"user-token": "T\\ud800"}',
            SESSION.to_json().encode()[:-3],
            b"\x00" * 64,
            b"{" * 10000,
        ]
    ),
)


def _count(name: str) -> None:
    _FIGURES[name] = _FIGURES.get(name, 0) + 1


@settings(max_examples=200, deadline=None, suppress_health_check=list(HealthCheck))
@given(content=STORED_BYTES)
def test_any_file_content_loads_as_a_session_or_none_and_is_set_aside(
    tmp_path_factory: pytest.TempPathFactory, content: bytes
) -> None:
    store = FileTokenStore(tmp_path_factory.mktemp("store"))
    target = store.file_for(NAMESPACE)
    store.save(NAMESPACE, SESSION)
    target.write_bytes(content)
    loaded = store.load(NAMESPACE)  # no exception at all: not even ours
    _count("file contents tried")
    if loaded is None:
        aside = target.with_name(target.name + ".corrupt")
        assert aside.read_bytes() == content  # kept for a look
        assert not target.exists()
    else:
        assert isinstance(loaded, StoredSession)
        assert StoredSession.from_json(loaded.to_json()) == loaded
    store.save(NAMESPACE, SESSION)
    assert store.load(NAMESPACE) == SESSION


KEYRING_VALUES = st.one_of(
    STORED_BYTES.map(lambda b: b.decode("utf-8", "surrogateescape")),
    STORED_BYTES,
    st.sampled_from([5, 1.5, [], {}, object(), True]),
)


class OddKeyring(MemoryKeyring):
    """Gives back whatever it was told to, of any type, as a broken backend might."""

    odd: object = None

    def get_password(self, service: str, username: str) -> str | None:
        if (service, username) in self.entries and self.odd is not None:
            return self.odd  # type: ignore[return-value]
        return super().get_password(service, username)

    def delete_password(self, service: str, username: str) -> None:
        self.odd = None
        super().delete_password(service, username)


@settings(max_examples=200, deadline=None, suppress_health_check=list(HealthCheck))
@given(value=KEYRING_VALUES)
def test_any_keyring_value_loads_as_a_session_or_none_and_is_deleted(value: object) -> None:
    backend = OddKeyring()
    store = KeyringTokenStore(keyring_backend=backend)
    store.save(NAMESPACE, SESSION)
    backend.odd = value
    loaded = store.load(NAMESPACE)  # no exception at all: not even ours
    _count("keyring values tried")
    if loaded is None:
        assert ("backendless-auth", NAMESPACE) not in backend.entries
    else:
        assert isinstance(loaded, StoredSession)
    backend.odd = None
    store.save(NAMESPACE, SESSION)
    assert store.load(NAMESPACE) == SESSION


class QuotingKeyring(MemoryKeyring):
    """Fails every call with an error that quotes the stored value, as some backends do."""

    def get_password(self, service: str, username: str) -> str | None:
        raise ValueError(f"cannot decode {PLANTED!r} for {username}")

    def set_password(self, service: str, username: str, password: str) -> None:
        raise RuntimeError(f"refused to store {password!r}")

    def delete_password(self, service: str, username: str) -> None:
        raise OSError(f"cannot delete {PLANTED}")


def test_a_keyring_error_quoting_the_value_leaves_no_secret_in_the_chain() -> None:
    store = KeyringTokenStore(keyring_backend=QuotingKeyring())
    for call in (
        lambda: store.load(NAMESPACE),
        lambda: store.save(NAMESPACE, SESSION),
        lambda: store.clear(NAMESPACE),
    ):
        with pytest.raises(TokenStoreError) as info:
            call()
        text = "".join(traceback.format_exception(info.value))
        _count("keyring error chains")
        for secret in (SESSION.user_token, "ATTACKER-TOKEN", SESSION.to_json()):
            assert secret not in text
        assert info.value.__cause__ is None
        assert info.value.__context__ is None


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
