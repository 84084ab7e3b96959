"""Token stores: where a "stay logged in" session lives between runs.

A store moves one :class:`~backendless_auth.StoredSession` per namespace; the namespace is the
app's (``Backendless_<APP_ID>``, or ``Backendless_<domain>``), so that two apps never see each
other's sessions. What a session holds is decided by :class:`~backendless_auth.StoredSession`
(its JSON form is :meth:`~backendless_auth.StoredSession.to_json`); where it goes is the store's
business. Any object with these three methods can be passed as ``token_store=``.

The stores:

- :class:`MemoryTokenStore`: this process only; the default of
  :class:`~backendless_auth.Backendless`.
- :class:`FileTokenStore`: private files (0600 in a 0700 folder), atomic writes, a lock shared
  by every process; works everywhere, headless servers and containers included.
- :class:`KeyringTokenStore`: the OS keyring through ``keyring``; never hangs.
- :class:`RedisTokenStore`: one key per app in Redis, with a sliding expiry; for a fleet of
  workers on several machines sharing one login (the ``[redis]`` extra).
- :class:`AutoTokenStore` / :func:`default_token_store`: the keyring when one works here, the
  file store otherwise, and says which and why.

``keyring``, ``platformdirs``, ``filelock`` and ``redis`` are imported only when a store needing
them is built or used, so that importing the package stays cheap.
"""

from __future__ import annotations

import logging
import os
from typing import TYPE_CHECKING, Literal

from ._session import StoredSession
from ._stores_file import FileTokenStore, positive_seconds
from ._stores_keyring import DEFAULT_SERVICE, KeyringTokenStore
from ._stores_memory import MemoryTokenStore, TokenStore
from ._stores_redis import RedisTokenStore
from .exceptions import TokenStoreError

if TYPE_CHECKING:
    from keyring.backend import KeyringBackend

__all__ = [
    "AutoTokenStore",
    "FileTokenStore",
    "KeyringTokenStore",
    "MemoryTokenStore",
    "RedisTokenStore",
    "StoredSession",
    "TokenStore",
    "default_token_store",
]

logger = logging.getLogger("backendless_auth.stores")


class AutoTokenStore:
    """The keyring when a real one works on this machine, the file store otherwise.

    Building one probes the keyring once: a throwaway entry is saved, read back and deleted,
    within ``probe_timeout`` seconds. If that works, sessions go to the keyring; if not (no
    backend, a locked collection, no D-Bus, no answer), to a :class:`FileTokenStore`. One INFO
    line on the ``backendless_auth.stores`` logger says which and why, and so do
    :attr:`backend_name` and :attr:`reason`.

    Args:
        service: The keyring service name (see :class:`KeyringTokenStore`).
        path: The file store's folder (see :class:`FileTokenStore`).
        keyring_backend: A ``keyring.backend.KeyringBackend`` to probe instead of the one
            ``keyring`` picks; for tests.
        probe_timeout: Seconds the probe may take before the file store is chosen.
        timeout: Seconds each later keyring call may take.

    Raises:
        InvalidArgumentError: A time limit is not a positive number.

    Attributes:
        backend_name: ``"keyring"`` or ``"file"``: where sessions go.
        reason: Why, in words (the same as in the log line); never holds a secret.
        store: The chosen :class:`KeyringTokenStore` or :class:`FileTokenStore`.
    """

    def __init__(
        self,
        *,
        service: str = DEFAULT_SERVICE,
        path: str | os.PathLike[str] | None = None,
        keyring_backend: KeyringBackend | None = None,
        probe_timeout: float = 3.0,
        timeout: float = 10.0,
    ) -> None:
        probe_timeout = positive_seconds(probe_timeout, "probe_timeout")
        timeout = positive_seconds(timeout, "timeout")
        probe = KeyringTokenStore(service, keyring_backend=keyring_backend, timeout=probe_timeout)
        chosen: TokenStore
        try:
            name = probe.check()
        except TokenStoreError as exc:
            chosen = FileTokenStore(path)
            self.backend_name: Literal["keyring", "file"] = "file"
            self.reason = f"the keyring probe failed: {exc}"
        else:
            chosen = KeyringTokenStore(service, keyring_backend=probe._backend, timeout=timeout)
            self.backend_name = "keyring"
            self.reason = f"the keyring backend {name} passed a save/read/delete probe"
        self.store: TokenStore = chosen
        where = f" at {chosen.path}" if isinstance(chosen, FileTokenStore) else ""
        logger.info(
            "sessions are kept in the %s store%s: %s", self.backend_name, where, self.reason
        )

    def load(self, namespace: str) -> StoredSession | None:
        """Return the session saved under ``namespace``, or ``None``.

        Raises:
            TokenStoreError: The chosen store failed.
        """
        return self.store.load(namespace)

    def save(self, namespace: str, session: StoredSession) -> None:
        """Replace the session saved under ``namespace``.

        Raises:
            TokenStoreError: The chosen store failed.
        """
        self.store.save(namespace, session)

    def clear(self, namespace: str) -> None:
        """Forget the session saved under ``namespace``.

        Raises:
            TokenStoreError: The chosen store failed.
        """
        self.store.clear(namespace)

    def __repr__(self) -> str:
        return f"AutoTokenStore(backend_name={self.backend_name!r}, store={self.store!r})"


def default_token_store(
    *,
    service: str = DEFAULT_SERVICE,
    path: str | os.PathLike[str] | None = None,
    probe_timeout: float = 3.0,
) -> AutoTokenStore:
    """Return the store to use for "stay logged in": the keyring if it works here, else files.

    Args:
        service: The keyring service name.
        path: The file store's folder; the user data folder by default.
        probe_timeout: Seconds the keyring probe may take.

    Returns:
        An :class:`AutoTokenStore`; its ``backend_name`` (``"keyring"`` or ``"file"``) and
        ``reason`` say what was chosen and why.

    Raises:
        InvalidArgumentError: ``probe_timeout`` is not a positive number.
    """
    return AutoTokenStore(service=service, path=path, probe_timeout=probe_timeout)
