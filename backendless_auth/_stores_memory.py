"""The ``TokenStore`` protocol and the in-memory store: all an app object needs at start.

Kept apart from the file and keyring stores so that building a :class:`Backendless` with the
default store does not load their modules. The public home of these names is
:mod:`backendless_auth.stores`.
"""

from __future__ import annotations

import threading
from typing import Protocol, runtime_checkable

from ._session import StoredSession


@runtime_checkable
class TokenStore(Protocol):
    """Loads, saves and clears one session per namespace.

    Implementations must be safe to call from several threads, must make a save atomic (a
    reader sees the old session or the new one, whole), and raise
    :class:`~backendless_auth.exceptions.TokenStoreError` when the backing storage fails. A
    session that cannot be read back (corrupt data) is reported as ``None``, not an error.
    """

    def load(self, namespace: str) -> StoredSession | None:
        """Return the session saved under ``namespace``, or ``None``."""
        ...

    def save(self, namespace: str, session: StoredSession) -> None:
        """Replace whatever is saved under ``namespace`` with ``session``."""
        ...

    def clear(self, namespace: str) -> None:
        """Forget the session saved under ``namespace``; no error when there is none."""
        ...


class MemoryTokenStore:
    """Keeps sessions in this process only: gone when it exits. The default store."""

    def __init__(self) -> None:
        self._lock = threading.Lock()
        self._sessions: dict[str, StoredSession] = {}

    def load(self, namespace: str) -> StoredSession | None:
        """Return the session saved under ``namespace`` in this process, or ``None``."""
        with self._lock:
            return self._sessions.get(namespace)

    def save(self, namespace: str, session: StoredSession) -> None:
        """Replace the session saved under ``namespace``."""
        with self._lock:
            self._sessions[namespace] = session

    def clear(self, namespace: str) -> None:
        """Forget the session saved under ``namespace``; no error when there is none."""
        with self._lock:
            self._sessions.pop(namespace, None)

    def __repr__(self) -> str:
        with self._lock:
            return f"MemoryTokenStore(namespaces={sorted(self._sessions)!r})"
