"""``FileTokenStore``: sessions in private files, written atomically under a cross-process lock.

One file per namespace, in one folder. A file per namespace (rather than one JSON file holding
every app) means a save rewrites only its own app's session: a torn or corrupt file costs one
session, not all of them, two apps never contend for one lock, and ``clear`` is an unlink.

``filelock`` and ``platformdirs`` are imported when a store is built, not with the package;
``tempfile`` and ``glob`` when it first writes (``backendless-auth token`` only reads, and
``tempfile`` alone costs a few milliseconds at each start of a shell loop).
"""

from __future__ import annotations

import contextlib
import errno
import hashlib
import logging
import os
import re
import stat
import sys
import threading
import time
from pathlib import Path
from typing import TYPE_CHECKING

from ._session import MAX_STORED_BYTES, StoredSession
from .exceptions import InvalidArgumentError, TokenStoreError

if sys.platform != "win32":
    import fcntl as _fcntl

if TYPE_CHECKING:
    from typing import TypeAlias

    import filelock

    _Lock: TypeAlias = "_PosixLock | filelock.BaseFileLock"

logger = logging.getLogger("backendless_auth.stores")

APP_NAME = "backendless-auth"
_FOLDER_MODE = 0o700
_FILE_MODE = 0o600
_SUFFIX = ".session.json"
_POLL_SECONDS = 0.002
_UNSAFE = re.compile(r"[^A-Za-z0-9_.-]+")
# Bytes beyond this are not a session: refuse to read a huge file into memory.
_MAX_BYTES = MAX_STORED_BYTES
# Never follow a link, never wait on a FIFO, never take a terminal; absent flags (Windows) are 0.
_SAFE_OPEN = (
    getattr(os, "O_NOFOLLOW", 0)
    | getattr(os, "O_NONBLOCK", 0)
    | getattr(os, "O_NOCTTY", 0)
    | getattr(os, "O_CLOEXEC", 0)
    | getattr(os, "O_BINARY", 0)
)


def filename_for(namespace: str) -> str:
    """Return the file name that holds ``namespace``'s session.

    The readable part keeps letters, digits, ``_``, ``.`` and ``-`` of the namespace (so
    ``Backendless_<APP_ID>`` stays recognisable); the hash of the whole namespace keeps two
    namespaces apart even where the readable parts collide, on case-insensitive file systems too.
    """
    readable = _UNSAFE.sub("_", namespace).strip("._")[:64] or "session"
    digest = hashlib.sha256(namespace.encode("utf-8", "surrogatepass")).hexdigest()[:12]
    return f"{readable}.{digest}{_SUFFIX}"


def positive_seconds(value: object, argument: str) -> float:
    """Check a time limit: a finite number of seconds above zero."""
    if isinstance(value, bool) or not isinstance(value, (int, float)) or not 0 < value < 1e9:
        raise InvalidArgumentError(
            f"{argument} must be a number of seconds above zero", argument=argument
        )
    return float(value)


def _os_message(exc: OSError) -> str:
    """Describe an OS error by its reason only (``Permission denied``), never its arguments."""
    if exc.strerror:
        return exc.strerror
    if exc.errno is not None:
        return os.strerror(exc.errno)
    return type(exc).__name__


class _NotOursError(TokenStoreError):
    """A session file or folder belongs to another user: never read, written or adopted."""


def _other_owner(info: os.stat_result, *, trust_root: bool = False) -> int | None:
    """Return the owner's uid when it is another user's, else ``None`` (always, off POSIX)."""
    getuid = getattr(os, "getuid", None)
    if getuid is None:
        return None
    if info.st_uid == getuid() or (trust_root and info.st_uid == 0):
        return None
    return info.st_uid


def _not_a_session_file(info: os.stat_result) -> str | None:
    """Why what ``info`` describes cannot be this store's session file, or ``None``.

    Only a regular file with one link is: a store writes nothing else. Anything else in its
    place (a link, a FIFO, a device, a socket, a folder, a hard link to some other file) is
    never opened for reading or changed.
    """
    mode = info.st_mode
    if stat.S_ISLNK(mode):
        return "a symbolic link, not followed"
    if stat.S_ISDIR(mode):
        return "a folder, not a file"
    if not stat.S_ISREG(mode):
        return "not a regular file (a FIFO, a socket or a device)"
    if info.st_nlink != 1:
        return f"a file with {info.st_nlink} hard links, not only this one"
    return None


def _read_at_most(fd: int, limit: int) -> bytes:
    chunks: list[bytes] = []
    size = 0
    while size < limit:
        chunk = os.read(fd, min(1 << 16, limit - size))
        if not chunk:
            break
        chunks.append(chunk)
        size += len(chunk)
    return b"".join(chunks)


class _LockTimeoutError(Exception):
    """The lock was held by someone else for longer than the store waits."""


class _PosixLock:
    """An ``flock`` on a ``.lock`` file opened without following links (POSIX).

    Not ``filelock``: its open follows a link planted as the lock file (and may create or
    truncate whatever the link points to). Here the lock file is judged with ``lstat`` before
    it is opened, opened ``O_NOFOLLOW | O_NONBLOCK`` without truncating, and its descriptor
    checked (a regular file of this user's, one link) before it is locked; it is never written.
    """

    __slots__ = ("_count", "_fd", "_timeout", "lock_file")

    def __init__(self, path: Path, timeout: float) -> None:
        self.lock_file = str(path)
        self._timeout = timeout
        self._fd = -1
        self._count = 0

    def acquire(self, *, poll_interval: float) -> None:
        if self._count:
            self._count += 1
            return
        fd = self._open()
        try:
            deadline = time.monotonic() + self._timeout
            while True:
                try:
                    _fcntl.flock(fd, _fcntl.LOCK_EX | _fcntl.LOCK_NB)
                    break
                except BlockingIOError:
                    if time.monotonic() >= deadline:
                        raise _LockTimeoutError from None
                    time.sleep(poll_interval)
        except BaseException:
            os.close(fd)
            raise
        self._fd = fd
        self._count = 1

    def release(self) -> None:
        self._count -= 1
        if self._count:
            return
        fd, self._fd = self._fd, -1
        try:
            _fcntl.flock(fd, _fcntl.LOCK_UN)
        finally:
            os.close(fd)

    def _open(self) -> int:
        path = self.lock_file
        with contextlib.suppress(FileNotFoundError):
            self._judge(os.lstat(path))
        try:
            fd = os.open(path, os.O_RDWR | os.O_CREAT | _SAFE_OPEN, _FILE_MODE)
        except OSError as exc:
            if exc.errno == errno.ELOOP:
                raise _NotOursError(
                    f"the lock file {path} is a symbolic link; it is not followed"
                ) from exc
            raise
        try:
            self._judge(os.fstat(fd))
        except BaseException:
            os.close(fd)
            raise
        return fd

    def _judge(self, info: os.stat_result) -> None:
        owner = _other_owner(info)
        if owner is not None:
            raise _NotOursError(
                f"the lock file {self.lock_file} belongs to another user (uid {owner}); "
                f"it is not used"
            )
        problem = _not_a_session_file(info)
        if problem is not None:
            raise _NotOursError(f"the lock file {self.lock_file} is {problem}; it is not used")


def _fsync_folder(folder: Path) -> None:
    # Makes the rename itself durable; some platforms (Windows) cannot open a folder.
    try:
        fd = os.open(folder, os.O_RDONLY)
    except OSError:
        return
    try:
        os.fsync(fd)
    except OSError:
        pass
    finally:
        os.close(fd)


class FileTokenStore:
    """Keeps each namespace's session in a private file: survives restarts, needs no keyring.

    ``path`` is a folder; each namespace gets its own file in it, named after the namespace
    (made safe for file names, plus a short hash of it, see :func:`filename_for`), with a
    ``.lock`` file beside it. The folder is created ``0700``, files are ``0600``; a session
    file found readable by others is tightened to ``0600`` and a warning is logged. A save
    writes a temporary file in the same folder, flushes and fsyncs it, renames it over the old
    one (``os.replace``) and fsyncs the folder, all under a lock shared by every process: a
    reader sees the old session or the new one, whole, even if the writer is killed.

    A file that does not hold a session (any bytes at all: garbage, truncated, empty, another
    shape, nested deep, huge) is moved aside to ``<name>.corrupt`` with a warning and counts as
    no session; so is anything else of this user's in its place (a folder, a FIFO, a link, a
    file with other hard links). ``load`` and ``clear`` where nothing was saved create nothing
    on disk (no folder, no lock file).

    On POSIX, in a folder others can write to (``/tmp``, a group-shared folder), nothing is
    opened through a path that may be a link: the session and lock files are judged with
    ``lstat``, opened ``O_NOFOLLOW | O_NONBLOCK`` and checked again on the descriptor
    (``fstat``: a regular file of this user's with one link) before anything is read, locked
    or tightened (``fchmod``, never by path). A FIFO never blocks, a device is never opened, a
    link is never followed. A session or lock file owned by another user is never adopted:
    ``load`` logs a warning and counts it as no session, ``save`` refuses to replace it. The
    same goes for a folder owned by another user (root excepted, as for ``/tmp`` itself).

    Args:
        path: The folder; by default ``platformdirs.user_data_dir("backendless-auth")``
            (``~/.local/share/backendless-auth`` on Linux).
        lock_timeout: Seconds to wait for another process holding the lock.

    Raises:
        InvalidArgumentError: ``lock_timeout`` is not a positive number.
        TokenStoreError: (from the methods) The folder or file cannot be created, read or
            written (permission denied, disk full), or the lock was not obtained in time.
    """

    def __init__(
        self, path: str | os.PathLike[str] | None = None, *, lock_timeout: float = 10.0
    ) -> None:
        if path is None:
            import platformdirs

            path = platformdirs.user_data_dir(APP_NAME, appauthor=False)
        self._folder = Path(path).expanduser()
        self._lock_timeout = positive_seconds(lock_timeout, "lock_timeout")
        self._thread_lock = threading.RLock()
        self._file_locks: dict[str, _Lock] = {}
        self._folder_ready = False

    @property
    def path(self) -> Path:
        """The folder holding the session files."""
        return self._folder

    def file_for(self, namespace: str) -> Path:
        """Return the path of the file holding ``namespace``'s session (it may not exist)."""
        return self._folder / filename_for(namespace)

    def __repr__(self) -> str:
        return f"FileTokenStore(path={str(self._folder)!r})"

    # --- the protocol ---------------------------------------------------------------------

    def load(self, namespace: str) -> StoredSession | None:
        """Return the session saved under ``namespace``, or ``None``.

        Where there is no session file, nothing is created (no folder, no lock file). A file
        or folder owned by another user counts as no session (with a warning); so does
        anything else in the file's place (a link, a FIFO, a device, a folder, a file with
        other hard links), which is moved aside when it is this user's.

        Raises:
            TokenStoreError: The file exists but cannot be opened or read (an OS error).
        """
        target = self.file_for(namespace)
        if not self._exists(target):
            return None
        try:
            with self._locked(namespace):
                return self._load(target)
        except _NotOursError as exc:
            # Adopting it would log this program in as whoever planted it (session fixation).
            logger.warning("%s; it counts as no session", exc)
            return None

    def _exists(self, target: Path) -> bool:
        """Whether anything is in the session file's place (a link counts), without a lock."""
        try:
            os.lstat(target)
        except (FileNotFoundError, NotADirectoryError):
            return False
        except OSError as exc:
            raise TokenStoreError(
                f"the session file {target} cannot be read: {_os_message(exc)}"
            ) from exc
        return True

    def _load(self, target: Path) -> StoredSession | None:
        try:
            before = os.lstat(target)
        except FileNotFoundError:
            return None
        except OSError as exc:
            raise TokenStoreError(
                f"the session file {target} cannot be read: {_os_message(exc)}"
            ) from exc
        # Judged before it is opened: opening a device or a FIFO can itself do harm or block.
        self._check_owner(before, target)
        problem = _not_a_session_file(before)
        if problem is not None:
            self._move_aside(target, reason=problem)
            return None
        try:
            fd = os.open(target, os.O_RDONLY | _SAFE_OPEN)
        except FileNotFoundError:
            return None
        except OSError as exc:
            if exc.errno == errno.ELOOP:
                # Replaced by a link since the lstat above: never followed.
                raise _NotOursError(
                    f"the session file {target} became a symbolic link while being read"
                ) from exc
            raise TokenStoreError(
                f"the session file {target} cannot be read: {_os_message(exc)}"
            ) from exc
        try:
            info = os.fstat(fd)
            if (info.st_dev, info.st_ino) != (before.st_dev, before.st_ino):
                raise _NotOursError(f"the session file {target} was replaced while being read")
            self._check_owner(info, target)
            problem = _not_a_session_file(info)
            if problem is not None:
                self._move_aside(target, reason=problem)
                return None
            self._tighten(fd, info, target)
            data = _read_at_most(fd, _MAX_BYTES + 1)
        except OSError as exc:
            raise TokenStoreError(
                f"the session file {target} cannot be read: {_os_message(exc)}"
            ) from exc
        finally:
            os.close(fd)
        try:
            return StoredSession.from_json(data)
        except ValueError as exc:
            self._move_aside(target, reason=str(exc))
            return None

    def save(self, namespace: str, session: StoredSession) -> None:
        """Replace the session saved under ``namespace``, atomically.

        Raises:
            TokenStoreError: The file cannot be written, or the file or folder in its place
                belongs to another user; the previous one is left intact.
        """
        data = session.to_json().encode("utf-8")
        target = self.file_for(namespace)
        with self._locked(namespace):
            self._write(target, data)

    def clear(self, namespace: str) -> None:
        """Delete ``namespace``'s session file; no error when there is none.

        Where there is none, nothing is created (no folder, no lock file).

        Raises:
            TokenStoreError: The file exists but cannot be deleted.
        """
        target = self.file_for(namespace)
        if not self._exists(target):
            # Nothing to forget: no folder, no lock file is created for it.
            return
        with self._locked(namespace):
            try:
                os.unlink(target)
            except FileNotFoundError:
                return
            except OSError as exc:
                raise TokenStoreError(
                    f"the session file {target} cannot be deleted: {_os_message(exc)}"
                ) from exc
            _fsync_folder(self._folder)

    # --- the machinery --------------------------------------------------------------------

    def _ensure_folder(self) -> None:
        if self._folder_ready:
            return
        try:
            self._folder.mkdir(mode=_FOLDER_MODE, parents=True, exist_ok=True)
            info = self._folder.stat()
        except OSError as exc:
            if self._folder.is_file():
                raise TokenStoreError(
                    f"the token store path {self._folder} is a file; FileTokenStore takes a "
                    f"folder, and keeps one file per app in it"
                ) from exc
            raise TokenStoreError(
                f"the token store folder {self._folder} cannot be created: {_os_message(exc)}"
            ) from exc
        # Checked before any lock file is created in it. Root is trusted with the folder: a
        # shared folder such as /tmp is root's, and the files in it are checked one by one.
        owner = _other_owner(info, trust_root=True)
        if owner is not None:
            raise _NotOursError(
                f"the token store folder {self._folder} belongs to another user (uid {owner}); "
                f"it is not used"
            )
        mode = stat.S_IMODE(info.st_mode)
        if mode & 0o077:
            # Not tightened: the folder may be shared (a home, /tmp) and is not ours to change;
            # the session files in it are 0600 regardless.
            logger.warning(
                "the token store folder %s is accessible to other users (mode %o); "
                "session files in it stay 0600, but a private folder (0700) is safer",
                self._folder,
                mode,
            )
        self._folder_ready = True

    def _file_lock(self, namespace: str) -> _Lock:
        lock = self._file_locks.get(namespace)
        if lock is None:
            lock_path = self.file_for(namespace).with_name(filename_for(namespace) + ".lock")
            if sys.platform != "win32":
                lock = _PosixLock(lock_path, self._lock_timeout)
            else:  # pragma: no cover - no flock on Windows; no links planted in a user's folder
                import filelock

                try:
                    os.close(os.open(lock_path, os.O_WRONLY | os.O_CREAT, _FILE_MODE))
                except OSError as exc:
                    raise TokenStoreError(
                        f"the lock file {lock_path} cannot be created: {_os_message(exc)}"
                    ) from exc
                lock = filelock.FileLock(lock_path, timeout=self._lock_timeout, mode=_FILE_MODE)
            self._file_locks[namespace] = lock
        return lock

    def _locked(self, namespace: str) -> _Locked:
        return _Locked(self, namespace)

    def _check_owner(self, info: os.stat_result, target: Path) -> None:
        owner = _other_owner(info)
        if owner is not None:
            raise _NotOursError(
                f"the session file {target} belongs to another user (uid {owner}), not to this "
                f"one; it is neither read nor replaced"
            )

    def _tighten(self, fd: int, info: os.stat_result, target: Path) -> None:
        # Only ever on the descriptor just checked (a regular file of this user's, one link):
        # never a path, which a link planted in its place would redirect.
        mode = stat.S_IMODE(info.st_mode)
        if mode & 0o077:
            try:
                os.fchmod(fd, _FILE_MODE)
            except (OSError, AttributeError):
                # AttributeError: no fchmod on Windows, where POSIX modes mean little.
                return
            logger.warning(
                "the session file %s was readable by others (mode %o); tightened to 0600",
                target,
                mode,
            )

    def _write(self, target: Path, data: bytes) -> None:
        try:
            # lstat: a link planted in place of the file is judged itself, never followed.
            self._check_owner(os.lstat(target), target)
        except FileNotFoundError:
            pass
        except OSError as exc:
            raise TokenStoreError(
                f"the session could not be saved to {target}: {_os_message(exc)}"
            ) from exc
        self._remove_stale_temps(target)
        import tempfile  # only to write: see the module's docstring

        fd, temp_name = -1, ""
        try:
            # mkstemp creates the file 0600 and O_EXCL, in the target's folder so that the
            # rename below stays on one file system and is atomic.
            fd, temp_name = tempfile.mkstemp(
                prefix=f".{target.name}.", suffix=".tmp", dir=self._folder
            )
            view = memoryview(data)
            while view:
                written = os.write(fd, view)
                view = view[written:]
            os.fsync(fd)
            os.close(fd)
            fd = -1
            os.replace(temp_name, target)
            temp_name = ""
        except OSError as exc:
            raise TokenStoreError(
                f"the session could not be saved to {target}: {_os_message(exc)}"
            ) from exc
        finally:
            if fd >= 0:
                os.close(fd)
            if temp_name:
                with contextlib.suppress(OSError):
                    os.unlink(temp_name)
        _fsync_folder(self._folder)

    def _remove_stale_temps(self, target: Path) -> None:
        # Temporary files are written under the lock, which this process now holds: any left
        # for this target belong to a writer that was killed before it could rename or remove.
        # Only this user's regular files: a name planted by someone else is left to them.
        import glob  # only to write: see the module's docstring

        for stale in self._folder.glob(f".{glob.escape(target.name)}.*.tmp"):
            with contextlib.suppress(OSError):
                info = os.lstat(stale)
                if stat.S_ISREG(info.st_mode) and _other_owner(info) is None:
                    stale.unlink()

    def _move_aside(self, target: Path, *, reason: str) -> None:
        aside = target.with_name(target.name + ".corrupt")
        try:
            os.replace(target, aside)
        except OSError as exc:
            if exc.errno == errno.ENOENT:
                return
            logger.warning(
                "the session file %s does not hold a session (%s) and could not be moved "
                "aside (%s); it counts as no session",
                target,
                reason,
                _os_message(exc),
            )
            return
        _fsync_folder(self._folder)
        logger.warning(
            "the session file %s does not hold a session (%s); moved aside to %s, "
            "and it counts as no session",
            target,
            reason,
            aside.name,
        )


class _Locked:
    """Holds the store's thread lock, then the namespace's file lock, for one operation."""

    __slots__ = ("_file_lock", "_namespace", "_store")

    def __init__(self, store: FileTokenStore, namespace: str) -> None:
        self._store = store
        self._namespace = namespace
        self._file_lock: _Lock | None = None

    def __enter__(self) -> None:
        store = self._store
        store._thread_lock.acquire()
        try:
            store._ensure_folder()
            lock = store._file_lock(self._namespace)
            try:
                # A short poll keeps a waiter from being starved by processes that release
                # and take the lock again in a loop.
                lock.acquire(poll_interval=_POLL_SECONDS)
            except (_LockTimeoutError, TimeoutError) as exc:  # filelock.Timeout is one too
                raise TokenStoreError(
                    f"another process held the lock {lock.lock_file} for more than "
                    f"{store._lock_timeout:g} s"
                ) from exc
            except TokenStoreError:
                raise
            except OSError as exc:
                raise TokenStoreError(
                    f"the lock file {lock.lock_file} cannot be locked: {_os_message(exc)}"
                ) from exc
            self._file_lock = lock
        except BaseException:
            store._thread_lock.release()
            raise

    def __exit__(self, *exc_info: object) -> None:
        try:
            if self._file_lock is not None:
                self._file_lock.release()
        finally:
            self._store._thread_lock.release()
