"""The file store in a folder others can write to, attacked by another OS user.

A shared folder like ``/tmp`` (mode 1777) or a group-writable one: "the attacker" (uid 1001,
through ``setpriv``) plants what it likes under the names the store uses (the session file,
its ``.lock``, its ``.corrupt`` and temporary names): a FIFO, a symbolic link (dangling, or to
a file of the victim's), a hard link, a folder, a device node, a session file of its own. The
victim is root (as CI runs) or an unprivileged user (uid 1002, in a forked child that dropped
its privileges: root passes every permission check, an ordinary user does not). After every
``load``, ``save`` or ``clear``:

* the call returned in bounded time (a FIFO never blocks it), with a session, ``None`` or our
  ``TokenStoreError``, nothing else;
* no file outside the store changed: not its bytes, not its mode; nothing was created where a
  link points;
* no session planted by the attacker was adopted;
* what the victim planted itself by mistake is set aside, and the next save and load work.

Switching users needs root: skipped elsewhere, a failure under ``CI=true``.
"""

from __future__ import annotations

import os
import pickle
import select
import shutil
import signal
import stat
import subprocess
import tempfile
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any

import pytest
from hypothesis import HealthCheck, assume, given, settings
from hypothesis import strategies as st

from backendless_auth import FileTokenStore, StoredSession, TokenStoreError

ATTACKER = 1001
VICTIM = 1002
NS = "Backendless_APP"
SESSION = StoredSession(user_token="VICTIM-TOKEN-0123456789", user_id="V", saved_at=1.0)
PLANTED = StoredSession(user_token="ATTACKER-TOKEN-0123456789", user_id="A", saved_at=2.0)
PRECIOUS = b"the victim's own file\n"
_FIGURES: dict[str, int] = {}


@pytest.fixture(scope="module", autouse=True)
def _report() -> Iterator[None]:
    yield
    figures = ", ".join(f"{k}: {n}" for k, n in sorted(_FIGURES.items()))
    print(f"\n[figures] stores, two users: {figures}")


@pytest.fixture
def root(require_system: Callable[[bool, str], None]) -> None:
    is_root = hasattr(os, "geteuid") and os.geteuid() == 0
    require_system(is_root and shutil.which("setpriv") is not None, "root and setpriv")


def as_attacker(*command: str) -> None:
    """Run a command as the attacker (another, unprivileged user)."""
    subprocess.run(
        ["setpriv", f"--reuid={ATTACKER}", f"--regid={ATTACKER}", "--clear-groups", *command],
        check=True,
        timeout=60,
        capture_output=True,
    )


def as_user(uid: int | None, function: Callable[[], Any], *, timeout: float = 30) -> Any:
    """Run ``function`` in a forked child as ``uid`` (``None``: as root), return its result.

    A child that does not finish in ``timeout`` seconds (blocked on a FIFO, say) is killed and
    the test fails: a hang is a failure here, never a stuck suite.
    """
    reader, writer = os.pipe()
    pid = os.fork()
    if pid == 0:  # the child: never returns into pytest
        try:
            os.close(reader)
            if uid is not None:
                # In the attacker's group too: the group-shared folder's case.
                os.setgroups([ATTACKER])
                os.setgid(uid)
                os.setuid(uid)
            try:
                outcome: tuple[str, Any] = ("ok", function())
            except TokenStoreError as exc:
                outcome = ("TokenStoreError", str(exc))
            except BaseException as exc:
                outcome = ("foreign", f"{type(exc).__name__}: {exc}")
            os.write(writer, pickle.dumps(outcome))
        finally:
            os._exit(0)
    os.close(writer)
    try:
        ready, _, _ = select.select([reader], [], [], timeout)
        if not ready:
            os.kill(pid, signal.SIGKILL)
            pytest.fail(f"the store call did not return within {timeout} s (blocked)")
        chunks = []
        while chunk := os.read(reader, 1 << 16):
            chunks.append(chunk)
    finally:
        os.close(reader)
        os.waitpid(pid, 0)
    kind, value = pickle.loads(b"".join(chunks))
    if kind == "foreign":
        pytest.fail(f"the store raised a foreign exception: {value}")
    return TokenStoreError(value) if kind == "TokenStoreError" else value


class Scene:
    """A shared folder, the victim's private file beside it, and the store's names in it."""

    def __init__(self, base: Path, victim: int | None, shared_mode: int) -> None:
        self.victim = victim
        uid = 0 if victim is None else victim
        self.shared = base / "shared"
        self.shared.mkdir()
        os.chmod(self.shared, shared_mode)
        if shared_mode & 0o020 and not shared_mode & 0o002:
            # Group-writable: the attacker and the victim share a group.
            os.chown(self.shared, 0, ATTACKER)
            self.victim_groups = [ATTACKER]
        home = base / "home"
        home.mkdir(mode=0o755)
        os.chown(home, uid, uid)
        self.precious = home / "precious.txt"
        self.precious.write_bytes(PRECIOUS)
        os.chmod(self.precious, 0o644)
        os.chown(self.precious, uid, uid)
        self.nowhere = home / "created-through-a-link"
        store = FileTokenStore(self.shared)
        self.session = store.file_for(NS)
        self.lock = self.session.with_name(self.session.name + ".lock")
        self.corrupt = self.session.with_name(self.session.name + ".corrupt")
        self.temp = self.session.with_name(f".{self.session.name}.AAAAAAAA.tmp")

    def names(self) -> dict[str, Path]:
        return {
            "session": self.session,
            "lock": self.lock,
            "corrupt": self.corrupt,
            "temp": self.temp,
        }

    def plant(self, what: str, where: Path, by: str) -> None:
        """Put ``what`` at ``where``, as the attacker, as root, or as the victim itself."""
        if by == "attacker":
            commands = {
                "fifo": ["mkfifo", "-m", "666", str(where)],
                "dangling symlink": ["ln", "-s", str(self.nowhere), str(where)],
                "symlink to the victim's file": ["ln", "-s", str(self.precious), str(where)],
                "folder": ["mkdir", "-m", "777", str(where)],
                "session file": [
                    "sh",
                    "-c",
                    f"umask 0; printf '%s' '{PLANTED.to_json()}' > '{where}'",
                ],
                "garbage file": ["sh", "-c", f"umask 0; printf '[[[[' > '{where}'"],
            }
            if what in commands:
                as_attacker(*commands[what])
                return
        uid = {"attacker": ATTACKER, "root": 0}.get(by, 0 if self.victim is None else self.victim)
        if what == "fifo":
            os.mkfifo(where, 0o666)
        elif what == "dangling symlink":
            where.symlink_to(self.nowhere)
        elif what == "symlink to the victim's file":
            where.symlink_to(self.precious)
        elif what == "hard link to the victim's file":
            # As if fs.protected_hardlinks were 0: a link to a file of the victim's (whose
            # owner it shares: an inode has one).
            os.link(self.precious, where)
            return
        elif what == "device":
            os.mknod(where, 0o666 | stat.S_IFCHR, os.makedev(1, 3))  # like /dev/null
        elif what == "folder":
            where.mkdir()
        elif what == "session file":
            where.write_text(PLANTED.to_json())
            os.chmod(where, 0o666)
        else:
            assert what == "garbage file"
            where.write_bytes(b"[[[[")
        os.lchown(where, uid, uid)

    def untouched(self) -> None:
        info = os.stat(self.precious)
        assert self.precious.read_bytes() == PRECIOUS
        assert stat.S_IMODE(info.st_mode) == 0o644
        assert not os.path.lexists(self.nowhere)


KINDS = [
    "fifo",
    "dangling symlink",
    "symlink to the victim's file",
    "hard link to the victim's file",
    "device",
    "folder",
    "session file",
    "garbage file",
]


@pytest.fixture
def base(root: None) -> Iterator[Path]:
    # Not under pytest's tmp_path: that is root's private folder, which the others cannot enter.
    folder = Path(tempfile.mkdtemp(prefix="bl-stores-users-", dir="/tmp"))
    os.chmod(folder, 0o755)
    try:
        yield folder
    finally:
        shutil.rmtree(folder, ignore_errors=True)


def _clean(folder: Path) -> None:
    for entry in folder.iterdir():
        if entry.is_dir() and not entry.is_symlink():
            shutil.rmtree(entry)
        else:
            entry.unlink()


@settings(max_examples=80, deadline=None, suppress_health_check=list(HealthCheck))
@given(
    victim=st.sampled_from([None, VICTIM]),
    shared_mode=st.sampled_from([0o1777, 0o777, 0o2775]),
    what=st.sampled_from(KINDS),
    name=st.sampled_from(["session", "lock", "corrupt", "temp"]),
    by=st.sampled_from(["attacker", "victim"]),
    had_session=st.booleans(),
    operation=st.sampled_from(["load", "save", "clear"]),
)
def test_whatever_is_planted_the_store_never_blocks_follows_or_adopts(
    base: Path,
    victim: int | None,
    shared_mode: int,
    what: str,
    name: str,
    by: str,
    had_session: bool,
    operation: str,
) -> None:
    # The victim's own session file is simply its session, not a plant.
    assume(not (by == "victim" and what == "session file"))
    _clean(base)
    scene = Scene(base, victim, shared_mode)
    if had_session and name != "session":
        as_user(victim, lambda: FileTokenStore(scene.shared).save(NS, SESSION))
    target = scene.names()[name]
    if os.path.lexists(target):
        os.unlink(target)
    scene.plant(what, target, by)
    _FIGURES["plants"] = _FIGURES.get("plants", 0) + 1

    def run() -> object:
        store = FileTokenStore(scene.shared, lock_timeout=2)
        if operation == "load":
            return store.load(NS)
        if operation == "save":
            store.save(NS, SESSION)
            return "saved"
        store.clear(NS)
        return "cleared"

    result = as_user(victim, run)
    scene.untouched()
    if isinstance(result, StoredSession):
        assert result == SESSION, "a planted session was adopted"
    else:
        assert (
            result is None or result in {"saved", "cleared"} or isinstance(result, TokenStoreError)
        )
    if isinstance(result, TokenStoreError):
        assert PLANTED.user_token not in str(result)
    if by == "victim":
        # Its own mistake, not an attack: set aside (or replaced), and the next run works.
        def again() -> object:
            store = FileTokenStore(scene.shared, lock_timeout=2)
            store.load(NS)
            if name == "lock":
                # A lock that is not a regular file is never used: its owner removes it.
                if scene.lock.is_dir() and not scene.lock.is_symlink():
                    os.rmdir(scene.lock)
                else:
                    os.unlink(scene.lock)
            store.save(NS, SESSION)
            return store.load(NS)

        assert as_user(victim, again) == SESSION
        scene.untouched()


@pytest.mark.parametrize("victim", [None, VICTIM], ids=["root", "user"])
def test_a_fifo_planted_as_the_session_file_does_not_block_load(
    base: Path, victim: int | None
) -> None:
    scene = Scene(base, victim, 0o1777)
    scene.plant("fifo", scene.session, "attacker")
    assert as_user(victim, lambda: FileTokenStore(scene.shared, lock_timeout=2).load(NS)) is None
    assert stat.S_ISFIFO(os.lstat(scene.session).st_mode)  # another user's: left alone


@pytest.mark.parametrize("victim", [None, VICTIM], ids=["root", "user"])
def test_a_dangling_symlink_planted_as_the_lock_is_not_followed(
    base: Path, victim: int | None
) -> None:
    scene = Scene(base, victim, 0o1777)
    scene.plant("dangling symlink", scene.lock, "attacker")

    def run() -> object:
        store = FileTokenStore(scene.shared, lock_timeout=2)
        store.save(NS, SESSION)
        return "saved"

    result = as_user(victim, run)
    assert isinstance(result, TokenStoreError)
    assert "another user" in str(result) or "symbolic link" in str(result)
    assert not os.path.lexists(scene.nowhere)
    assert not os.path.lexists(scene.session)


@pytest.mark.parametrize("victim", [None, VICTIM], ids=["root", "user"])
def test_a_symlink_planted_as_the_session_file_never_changes_the_file_it_points_to(
    base: Path, victim: int | None
) -> None:
    scene = Scene(base, victim, 0o1777)
    os.chmod(scene.precious, 0o644)
    scene.plant("symlink to the victim's file", scene.session, "attacker")
    assert as_user(victim, lambda: FileTokenStore(scene.shared).load(NS)) is None
    scene.untouched()  # not tightened to 0600, not moved, not read as a session


@pytest.mark.parametrize("victim", [None, VICTIM], ids=["root", "user"])
def test_a_hard_link_to_the_victims_file_is_neither_read_nor_tightened(
    base: Path, victim: int | None
) -> None:
    scene = Scene(base, victim, 0o1777)
    scene.plant("hard link to the victim's file", scene.session, "root")
    assert as_user(victim, lambda: FileTokenStore(scene.shared).load(NS)) is None
    scene.untouched()
