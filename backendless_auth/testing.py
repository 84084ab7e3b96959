"""Helpers for testing code that uses backendless-auth.

- :class:`MemoryKeyring`: a ``keyring`` backend that keeps entries in a dict, so that code using
  :class:`~backendless_auth.KeyringTokenStore` runs in tests and CI without a desktop keyring::

      store = KeyringTokenStore(keyring_backend=MemoryKeyring())

- For a whole Backendless app to test against, offline and over real HTTP, use the emulator:
  ``from backendless_auth.emulator import Emulator`` (the ``[emulator]`` extra).

This module imports ``keyring``; ``import backendless_auth`` does not import this module.
"""

from __future__ import annotations

import keyring.errors
from keyring.backend import KeyringBackend

__all__ = ["MemoryKeyring"]


class MemoryKeyring(KeyringBackend):
    """A keyring backend in memory; keyring itself never picks it (its priority is negative).

    Attributes:
        entries: What is stored, by ``(service, username)``.
        calls: How many reads, writes and deletions were made, for tests that count them.
    """

    priority = -10

    def __init__(self) -> None:
        super().__init__()  # type: ignore[no-untyped-call]  # keyring's is untyped
        self.entries: dict[tuple[str, str], str] = {}
        self.calls = 0

    def get_password(self, service: str, username: str) -> str | None:
        """Return the stored secret, or ``None``."""
        self.calls += 1
        return self.entries.get((service, username))

    def set_password(self, service: str, username: str, password: str) -> None:
        """Store a secret, replacing any earlier one."""
        self.calls += 1
        self.entries[(service, username)] = password

    def delete_password(self, service: str, username: str) -> None:
        """Delete a secret; like real backends, raise ``PasswordDeleteError`` when absent."""
        self.calls += 1
        if self.entries.pop((service, username), None) is None:
            raise keyring.errors.PasswordDeleteError("no such entry")
