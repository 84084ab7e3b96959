"""``KeyringTokenStore``: sessions in the OS keyring, through ``keyring``, never hanging.

``keyring`` is imported the first time a store talks to it. Every keyring call runs on one
worker thread per store and is waited for with a time limit: over D-Bus a call can block for
good (an unlock prompt nobody answers, a Secret Service that does not reply), and a login must
not hang on it.
"""

from __future__ import annotations

import logging
import queue
import secrets
import threading
from collections.abc import Callable
from typing import TYPE_CHECKING, Any, TypeVar

from ._session import StoredSession
from ._stores_file import positive_seconds
from ._wire import STORED_TOKEN
from .exceptions import InvalidArgumentError, TokenStoreError

if TYPE_CHECKING:
    from keyring.backend import KeyringBackend

logger = logging.getLogger("backendless_auth.stores")

_T = TypeVar("_T")

DEFAULT_SERVICE = "backendless-auth"
_IDLE_SECONDS = 5.0
_ADVICE = (
    "install a keyring backend (on Linux: gnome-keyring or KWallet with D-Bus, and an unlocked "
    "login keyring), or use FileTokenStore()"
)


def backend_name(backend: object) -> str:
    """Name a keyring backend for people: ``keyring.backends.SecretService.Keyring``."""
    kind = type(backend)
    return f"{kind.__module__}.{kind.__qualname__}"


def unusable_reason(backend: object) -> str | None:
    """Say why ``backend`` cannot keep a session, or return ``None`` when it may.

    keyring's fail backend (no backend found), its null backend (drops everything) and a
    chainer with nothing to chain are not usable.
    """
    module = type(backend).__module__
    if module == "keyring.backends.fail":
        return "keyring found no backend on this machine"
    if module == "keyring.backends.null":
        return "the keyring backend is the null backend, which keeps nothing"
    if module == "keyring.backends.chainer" and not list(getattr(backend, "backends", [])):
        return "keyring found no backend on this machine"
    return None


def _describe(exc: BaseException, masked: tuple[str, ...]) -> str:
    """Name a backend's error without what it may quote of the stored value.

    Masks the secrets known here (the session's JSON and its token, on a save); a message that
    still shows a stored session's key (a value this call never saw, quoted on a load) is left
    out altogether.
    """
    try:
        text = str(exc).strip()
    except Exception:
        text = ""
    for secret in masked:
        if secret:
            text = text.replace(secret, "••••••")
    if STORED_TOKEN in text:
        text = "its message quotes stored data and is not shown"
    return f"{type(exc).__name__}: {text[:300]}" if text else type(exc).__name__


class _Call:
    """One keyring call handed to the worker: pending, then running, then done or cancelled.

    A few lines instead of ``concurrent.futures``, which would cost the package's import time.
    """

    __slots__ = ("_done", "_lock", "error", "function", "result", "state")

    def __init__(self, function: Callable[[], Any]) -> None:
        self.function = function
        self.state = "pending"
        self.result: Any = None
        self.error: BaseException | None = None
        self._lock = threading.Lock()
        self._done = threading.Event()

    def start(self) -> bool:
        """Mark running; ``False`` when cancelled meanwhile."""
        with self._lock:
            if self.state != "pending":
                return False
            self.state = "running"
            return True

    def cancel(self) -> bool:
        """Cancel a call not yet started; ``False`` when it has started."""
        with self._lock:
            if self.state != "pending":
                return False
            self.state = "cancelled"
            return True

    def finish(self) -> None:
        with self._lock:
            self.state = "done"
        self._done.set()

    def wait(self, timeout: float) -> bool:
        return self._done.wait(timeout)


class _Worker:
    """One daemon thread running keyring calls in order, each waited for with a time limit.

    Daemon, so that a call blocked for good never keeps the interpreter from exiting.
    """

    def __init__(self, name: str) -> None:
        self._name = name
        self._queue: queue.SimpleQueue[_Call] = queue.SimpleQueue()
        self._thread: threading.Thread | None = None
        self._start_lock = threading.Lock()
        self._stuck = threading.Event()

    def run(self, function: Callable[[], _T], *, timeout: float, what: str) -> _T:
        if self._stuck.is_set():
            raise TokenStoreError(
                f"the keyring is not answering: an earlier call is still blocked ({what} "
                f"not attempted); unlock the keyring, or use FileTokenStore()"
            )
        call = _Call(function)
        with self._start_lock:
            self._queue.put(call)
            if self._thread is None:
                thread = threading.Thread(target=self._loop, name=self._name, daemon=True)
                thread.start()
                self._thread = thread
        if not call.wait(timeout):
            if not call.cancel():
                # Running and blocked: later calls fail at once until it returns.
                self._stuck.set()
                if call.wait(0):
                    self._stuck.clear()
            raise TokenStoreError(
                f"the keyring did not answer within {timeout:g} s ({what}): it may be locked "
                f"and waiting for an unlock prompt; unlock it, or use FileTokenStore()"
            )
        if call.error is not None:
            raise call.error
        result: _T = call.result
        return result

    def _loop(self) -> None:
        while True:
            try:
                call = self._queue.get(timeout=_IDLE_SECONDS)
            except queue.Empty:
                # Idle: end the thread, so that stores built and dropped leave none behind.
                # Deciding under the lock that run() holds while queueing loses no call.
                with self._start_lock:
                    if self._queue.empty():
                        self._thread = None
                        return
                continue
            if not call.start():
                continue
            try:
                call.result = call.function()
            except BaseException as exc:
                call.error = exc
            finally:
                # Finished before unflagged: run() flags, then looks at finished, so that one
                # of the two always clears the flag.
                call.finish()
                self._stuck.clear()


class KeyringTokenStore:
    """Keeps each namespace's session in the OS keyring (Secret Service, macOS Keychain, ...).

    The session's JSON (:meth:`~backendless_auth.StoredSession.to_json`) is stored as the
    password of the entry (``service``, namespace). Nothing is imported or asked of the keyring
    until the first call. Every call is limited to ``timeout`` seconds: a keyring that does not
    answer (locked, waiting for a prompt) gives a :class:`TokenStoreError`, never a hang.

    An entry that does not hold a session (any text or value at all: garbage, truncated, of
    another shape) counts as no session: it is deleted, unless replaced meanwhile, and a
    warning says why (never what it held). A :class:`TokenStoreError` never chains the
    backend's error, whose message may quote the stored value.

    Args:
        service: The keyring service name the entries are filed under.
        keyring_backend: A ``keyring.backend.KeyringBackend`` to use instead of the one
            ``keyring`` picks (``keyring.get_keyring()``); for tests, or to pin a backend.
        timeout: Seconds each keyring call may take.

    Raises:
        InvalidArgumentError: ``service`` is empty, or ``timeout`` is not a positive number.
        TokenStoreError: (from the methods) No usable backend (keyring's fail backend, a
            locked collection, no D-Bus), the keyring refused the call, or did not answer in
            time. The message says what to install, or to use
            :class:`~backendless_auth.stores.FileTokenStore`.
    """

    def __init__(
        self,
        service: str = DEFAULT_SERVICE,
        *,
        keyring_backend: KeyringBackend | None = None,
        timeout: float = 10.0,
    ) -> None:
        if not isinstance(service, str) or not service:
            raise InvalidArgumentError("service must be a non-empty string", argument="service")
        self._service = service
        self._backend = keyring_backend
        self._timeout = positive_seconds(timeout, "timeout")
        self._worker = _Worker(f"backendless-auth keyring ({service})")

    @property
    def service(self) -> str:
        """The keyring service name the entries are filed under."""
        return self._service

    @property
    def timeout(self) -> float:
        """Seconds each keyring call may take."""
        return self._timeout

    def __repr__(self) -> str:
        backend = backend_name(self._backend) if self._backend is not None else "auto"
        return f"KeyringTokenStore(service={self._service!r}, backend={backend!r})"

    # --- the protocol ---------------------------------------------------------------------

    def load(self, namespace: str) -> StoredSession | None:
        """Return the session saved under ``namespace``, or ``None``.

        Raises:
            TokenStoreError: The keyring is unusable, refused, or did not answer in time.
        """

        def call() -> object:
            return self._resolve().get_password(self._service, namespace)

        value = self._run(call, what="load the session")
        if value is None:
            return None
        try:
            # Any value a backend gives back: text, bytes, another type; decoded or refused.
            return StoredSession.from_json(value)  # type: ignore[arg-type]
        except ValueError as exc:
            reason = str(exc)
        self._drop(namespace, value, reason)
        return None

    def _drop(self, namespace: str, value: object, reason: str) -> None:
        """Delete an entry that holds no session, unless it was replaced meanwhile."""

        def call() -> None:
            backend = self._resolve()
            if backend.get_password(self._service, namespace) == value:
                backend.delete_password(self._service, namespace)

        try:
            self._run(call, what="delete an entry that holds no session")
        except TokenStoreError as exc:
            logger.warning(
                "the keyring entry %r / %r does not hold a session (%s) and could not be "
                "deleted (%s); it counts as no session",
                self._service,
                namespace,
                reason,
                exc,
            )
            return
        logger.warning(
            "the keyring entry %r / %r does not hold a session (%s); deleted, and it counts "
            "as no session",
            self._service,
            namespace,
            reason,
        )

    def save(self, namespace: str, session: StoredSession) -> None:
        """Replace the session saved under ``namespace``.

        Raises:
            TokenStoreError: The keyring is unusable, refused, or did not answer in time.
        """
        text = session.to_json()

        def call() -> None:
            self._resolve().set_password(self._service, namespace, text)

        self._run(call, what="save the session", masked=(text, session.user_token))

    def clear(self, namespace: str) -> None:
        """Delete ``namespace``'s entry; no error when there is none.

        Raises:
            TokenStoreError: The keyring is unusable, refused, or did not answer in time.
        """

        def call() -> None:
            from keyring.errors import PasswordDeleteError

            backend = self._resolve()
            try:
                backend.delete_password(self._service, namespace)
            except PasswordDeleteError:
                # Raised when there is no such entry; a real failure shows on the next read.
                if backend.get_password(self._service, namespace) is not None:
                    raise

        self._run(call, what="clear the session")

    def check(self) -> str:
        """Prove the keyring works: save, read back and delete a throwaway entry.

        Returns:
            The backend's name, e.g. ``keyring.backends.SecretService.Keyring``.

        Raises:
            TokenStoreError: The keyring is unusable, refused, gave back something else, or
                did not answer in time.
        """
        probe_user = f"probe-{secrets.token_hex(8)}"
        probe_value = secrets.token_hex(16)

        def call() -> str:
            backend = self._resolve()
            backend.set_password(self._service, probe_user, probe_value)
            try:
                back = backend.get_password(self._service, probe_user)
            finally:
                backend.delete_password(self._service, probe_user)
            if back != probe_value:
                raise TokenStoreError(
                    f"the keyring backend {backend_name(backend)} did not give back what was "
                    f"saved; {_ADVICE}"
                )
            return backend_name(backend)

        return self._run(call, what="save, read and delete a test entry", masked=(probe_value,))

    # --- the machinery --------------------------------------------------------------------

    def _resolve(self) -> KeyringBackend:
        """The backend, picked by ``keyring`` on first use; runs on the worker thread."""
        backend = self._backend
        if backend is None:
            import keyring

            backend = keyring.get_keyring()
            self._backend = backend
        reason = unusable_reason(backend)
        if reason is not None:
            raise TokenStoreError(f"no usable keyring: {reason}; {_ADVICE}")
        return backend

    def _run(self, call: Callable[[], _T], *, what: str, masked: tuple[str, ...] = ()) -> _T:
        try:
            return self._worker.run(call, timeout=self._timeout, what=what)
        except TokenStoreError:
            raise
        except Exception as exc:
            # Backends raise keyring.errors.*, secretstorage and jeepney errors, OSError,
            # RuntimeError: all mean the same here, the keyring could not do it.
            locked = type(exc).__name__ == "KeyringLocked" or "lock" in str(exc).lower()
            hint = "unlock it, or use FileTokenStore()" if locked else _ADVICE
            message = f"the keyring could not {what} ({_describe(exc, masked)}); {hint}"
        # Raised here, outside the handler: the backend's error may quote the stored value,
        # and would stay reachable as __cause__ or __context__ (in every traceback) if chained.
        raise TokenStoreError(message)
