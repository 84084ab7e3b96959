"""Token stores: where a "stay logged in" session lives between runs.

A store moves one :class:`~backendless_auth.StoredSession` per namespace; the namespace is the
app's (``Backendless_<APP_ID>``, or ``Backendless_<domain>``), so that two apps never see each
other's sessions. What a session holds is decided by :class:`~backendless_auth.StoredSession`
(its JSON form is :meth:`~backendless_auth.StoredSession.to_json`); where it goes is the store's
business. Any object with these three methods can be passed as ``token_store=``.
"""

from __future__ import annotations

import threading
from typing import Protocol, runtime_checkable

from ._models import StoredSession

__all__ = ["MemoryTokenStore", "StoredSession", "TokenStore"]


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
        with self._lock:
            return self._sessions.get(namespace)

    def save(self, namespace: str, session: StoredSession) -> None:
        with self._lock:
            self._sessions[namespace] = session

    def clear(self, namespace: str) -> None:
        with self._lock:
            self._sessions.pop(namespace, None)

    def __repr__(self) -> str:
        with self._lock:
            return f"MemoryTokenStore(namespaces={sorted(self._sessions)!r})"
