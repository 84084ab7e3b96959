"""A token store of your own: sessions in a SQLite database.

Any object with ``load``, ``save`` and ``clear`` can be passed as ``token_store=`` (see
:class:`backendless_auth.TokenStore`). A store only moves the session: what a session holds and
how it is encoded is :class:`backendless_auth.StoredSession`'s business (``to_json`` /
``from_json``). The contract, in short:

* one session per namespace (the app's, e.g. ``Backendless_<APP_ID>``);
* safe from several threads, and a save is all or nothing;
* a failure of the storage raises :class:`backendless_auth.TokenStoreError`;
* data that cannot be read back (corrupt) counts as no session: ``None``, not an error.

Mind that the session token is a secret: a real store keeps the database private (0600) or
encrypts the column.
"""

from __future__ import annotations

import os
import sqlite3
import sys
import tempfile
import threading
from pathlib import Path

from _target import target

from backendless_auth import StoredSession, TokenStore, TokenStoreError


class SqliteTokenStore:
    """Keeps each namespace's session as a row of a SQLite table."""

    def __init__(self, path: str | os.PathLike[str]) -> None:
        self._path = Path(path)
        self._lock = threading.Lock()
        # Created private before SQLite opens it: the session token is a secret.
        self._path.touch(mode=0o600, exist_ok=True)
        try:
            with self._connect() as db:
                db.execute(
                    "CREATE TABLE IF NOT EXISTS sessions (namespace TEXT PRIMARY KEY, data TEXT)"
                )
        except sqlite3.Error as exc:
            raise TokenStoreError(f"cannot open the session database: {exc}") from exc

    def _connect(self) -> sqlite3.Connection:
        return sqlite3.connect(self._path, timeout=10)

    def load(self, namespace: str) -> StoredSession | None:
        try:
            with self._lock, self._connect() as db:
                row = db.execute(
                    "SELECT data FROM sessions WHERE namespace = ?", (namespace,)
                ).fetchone()
        except sqlite3.Error as exc:
            raise TokenStoreError(f"cannot read the session: {exc}") from exc
        if row is None:
            return None
        try:
            return StoredSession.from_json(row[0])
        except ValueError:
            return None  # corrupt: as if there were no session

    def save(self, namespace: str, session: StoredSession) -> None:
        try:
            # "with connection" commits on success and rolls back on error: all or nothing.
            with self._lock, self._connect() as db:
                db.execute(
                    "INSERT OR REPLACE INTO sessions (namespace, data) VALUES (?, ?)",
                    (namespace, session.to_json()),
                )
        except sqlite3.Error as exc:
            raise TokenStoreError(f"cannot save the session: {exc}") from exc

    def clear(self, namespace: str) -> None:
        try:
            with self._lock, self._connect() as db:
                db.execute("DELETE FROM sessions WHERE namespace = ?", (namespace,))
        except sqlite3.Error as exc:
            raise TokenStoreError(f"cannot clear the session: {exc}") from exc

    def __repr__(self) -> str:
        return f"SqliteTokenStore({str(self._path)!r})"  # never the sessions themselves


def main() -> int:
    with target() as where, tempfile.TemporaryDirectory() as folder:
        database = Path(folder) / "sessions.db"
        store = SqliteTokenStore(database)
        assert isinstance(store, TokenStore)  # the protocol is runtime-checkable

        with where.app(token_store=store) as app:
            guest = app.users.login_as_guest(stay_logged_in=True)
            print(f"saved:     guest {guest.object_id} in {store!r}")

        # Another process (here: another store object on the same file) finds the session.
        with where.app(token_store=SqliteTokenStore(database)) as app:
            print(f"restored:  {app.users.current_user_id}, valid: {app.users.is_valid_login()}")
            app.users.logout()
            print(f"logged out; stored now: {store.load(app.namespace)}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
