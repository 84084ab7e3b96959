"""SQLite storage for the emulator: users, sessions, identities and the fake providers' state.

One connection guarded by one lock serves every request thread: SQLite is fast enough for a
local fake, and a single writer keeps the threaded server free of ``database is locked`` races.
A file database uses WAL so that a crash leaves it readable.
"""

from __future__ import annotations

import json
import sqlite3
import threading
import time
from collections.abc import Iterator
from contextlib import contextmanager
from typing import Any

_SCHEMA = (
    """
CREATE TABLE IF NOT EXISTS meta (key TEXT PRIMARY KEY, value TEXT NOT NULL);
CREATE TABLE IF NOT EXISTS users (
    object_id TEXT PRIMARY KEY, email TEXT, is_guest INTEGER NOT NULL, data TEXT NOT NULL);
CREATE INDEX IF NOT EXISTS users_email ON users (email);
CREATE TABLE IF NOT EXISTS identities (
    provider TEXT NOT NULL, provider_uid TEXT NOT NULL, object_id TEXT NOT NULL,
    PRIMARY KEY (provider, provider_uid));
CREATE TABLE IF NOT EXISTS sessions (
    token TEXT PRIMARY KEY, object_id TEXT NOT NULL, expires REAL);
CREATE TABLE IF NOT EXISTS accounts (
    provider TEXT NOT NULL, account_id TEXT NOT NULL, seq INTEGER NOT NULL, data TEXT NOT NULL,
    PRIMARY KEY (provider, account_id));
CREATE TABLE IF NOT EXISTS provider_tokens (
    token TEXT PRIMARY KEY, provider TEXT NOT NULL, account_id TEXT NOT NULL,
    client_id TEXT NOT NULL, secret TEXT, scopes TEXT NOT NULL, expires REAL);
CREATE TABLE IF NOT EXISTS grants (
    code TEXT PRIMARY KEY, provider TEXT NOT NULL, data TEXT NOT NULL, expires REAL NOT NULL);
CREATE TABLE IF NOT EXISTS request_tokens (
    token TEXT PRIMARY KEY, provider TEXT NOT NULL, data TEXT NOT NULL, expires REAL NOT NULL);
CREATE TABLE IF NOT EXISTS nonces (
    client_key TEXT NOT NULL, nonce TEXT NOT NULL, ts INTEGER NOT NULL,
    PRIMARY KEY (client_key, nonce, ts));
CREATE TABLE IF NOT EXISTS flows (
    state TEXT PRIMARY KEY, data TEXT NOT NULL, expires REAL NOT NULL);
"""
    + (
        # --- accounts with passwords (emulator/accounts.py, emulator/outbox.py) ----------------
        # Password hashes live apart from the users' JSON, so that no answer can carry one.
        """
CREATE TABLE IF NOT EXISTS passwords (object_id TEXT PRIMARY KEY, hash TEXT NOT NULL);
CREATE TABLE IF NOT EXISTS login_failures (
    object_id TEXT PRIMARY KEY, failures INTEGER NOT NULL, locked_until REAL);
CREATE TABLE IF NOT EXISTS user_roles (
    object_id TEXT NOT NULL, role TEXT NOT NULL, PRIMARY KEY (object_id, role));
CREATE TABLE IF NOT EXISTS email_tokens (
    digest TEXT PRIMARY KEY, kind TEXT NOT NULL, object_id TEXT NOT NULL, expires REAL NOT NULL);
CREATE TABLE IF NOT EXISTS outbox (
    id INTEGER PRIMARY KEY AUTOINCREMENT, data TEXT NOT NULL);
"""
    )
)

#: Tables that :meth:`Database.reset` keeps: the app's identity. Every other table, whichever
#: module created it, is emptied, so that a new table is covered without being listed.
KEPT_ON_RESET = frozenset({"meta"})


class Database:
    """A thread-safe wrapper over one SQLite connection."""

    def __init__(self, path: str | None = None) -> None:
        self.path = path
        self._lock = threading.RLock()
        self._conn = sqlite3.connect(
            path or ":memory:", check_same_thread=False, isolation_level=None
        )
        if path:
            self._conn.execute("PRAGMA journal_mode=WAL")
            self._conn.execute("PRAGMA synchronous=NORMAL")
        self._conn.executescript(_SCHEMA)

    def close(self) -> None:
        with self._lock:
            self._conn.close()

    @contextmanager
    def transaction(self) -> Iterator[sqlite3.Connection]:
        """Hold the lock and run the block in one transaction."""
        with self._lock:
            self._conn.execute("BEGIN")
            try:
                yield self._conn
            except BaseException:
                self._conn.execute("ROLLBACK")
                raise
            self._conn.execute("COMMIT")

    def execute(self, sql: str, params: tuple[Any, ...] = ()) -> list[tuple[Any, ...]]:
        with self._lock:
            return self._conn.execute(sql, params).fetchall()

    def one(self, sql: str, params: tuple[Any, ...] = ()) -> tuple[Any, ...] | None:
        with self._lock:
            row: tuple[Any, ...] | None = self._conn.execute(sql, params).fetchone()
            return row

    def tables(self) -> list[str]:
        """Every table of the database, internal SQLite ones excepted."""
        rows = self.execute(
            "SELECT name FROM sqlite_master WHERE type = 'table' AND name NOT LIKE 'sqlite_%'"
        )
        return [str(r[0]) for r in rows]

    def reset(self) -> None:
        """Empty every table but :data:`KEPT_ON_RESET`, in one transaction."""
        with self.transaction() as conn:
            for table in self.tables():
                if table not in KEPT_ON_RESET:
                    quoted = '"' + table.replace('"', '""') + '"'
                    conn.execute(f"DELETE FROM {quoted}")  # noqa: S608 - names from sqlite_master

    # --- meta -----------------------------------------------------------------------------
    def get_meta(self, key: str) -> str | None:
        row = self.one("SELECT value FROM meta WHERE key = ?", (key,))
        return None if row is None else str(row[0])

    def set_meta(self, key: str, value: str) -> None:
        self.execute("INSERT OR REPLACE INTO meta (key, value) VALUES (?, ?)", (key, value))

    # --- users ----------------------------------------------------------------------------
    def get_user(self, object_id: str) -> dict[str, Any] | None:
        row = self.one("SELECT data FROM users WHERE object_id = ?", (object_id,))
        return None if row is None else _load(row[0])

    def put_user(self, user: dict[str, Any]) -> None:
        # An upsert keeps the rowid, so that listing stays oldest first.
        email = user.get("email") if isinstance(user.get("email"), str) else None
        self.execute(
            "INSERT INTO users (object_id, email, is_guest, data) VALUES (?, ?, ?, ?) "
            "ON CONFLICT (object_id) DO UPDATE SET email = excluded.email, "
            "is_guest = excluded.is_guest, data = excluded.data",
            (user["objectId"], email, user.get("userStatus") == "GUEST", json.dumps(user)),
        )

    def all_users(self) -> list[dict[str, Any]]:
        return [_load(r[0]) for r in self.execute("SELECT data FROM users ORDER BY rowid")]

    def find_user_by_email(self, email: str) -> dict[str, Any] | None:
        row = self.one(
            "SELECT data FROM users WHERE email = ? AND is_guest = 0 ORDER BY rowid LIMIT 1",
            (email,),
        )
        return None if row is None else _load(row[0])

    def find_identity(self, provider: str, provider_uid: str) -> str | None:
        row = self.one(
            "SELECT object_id FROM identities WHERE provider = ? AND provider_uid = ?",
            (provider, provider_uid),
        )
        return None if row is None else str(row[0])

    def link_identity(self, provider: str, provider_uid: str, object_id: str) -> None:
        self.execute(
            "INSERT OR REPLACE INTO identities (provider, provider_uid, object_id) VALUES (?,?,?)",
            (provider, provider_uid, object_id),
        )

    # --- sessions -------------------------------------------------------------------------
    def add_session(self, token: str, object_id: str, expires: float | None) -> None:
        self.execute(
            "INSERT INTO sessions (token, object_id, expires) VALUES (?, ?, ?)",
            (token, object_id, expires),
        )

    def session_user_id(self, token: str) -> str | None:
        row = self.one("SELECT object_id, expires FROM sessions WHERE token = ?", (token,))
        if row is None:
            return None
        if row[1] is not None and row[1] <= time.time():
            return None
        return str(row[0])

    def delete_session(self, token: str) -> bool:
        with self._lock:
            cur = self._conn.execute("DELETE FROM sessions WHERE token = ?", (token,))
            return cur.rowcount > 0

    def expire_sessions(self, token: str | None = None) -> int:
        past = time.time() - 1
        with self._lock:
            if token is None:
                cur = self._conn.execute("UPDATE sessions SET expires = ?", (past,))
            else:
                cur = self._conn.execute(
                    "UPDATE sessions SET expires = ? WHERE token = ?", (past, token)
                )
            return cur.rowcount

    # --- provider accounts ----------------------------------------------------------------
    def add_account(self, provider: str, account_id: str, data: dict[str, Any]) -> None:
        with self._lock:
            row = self._conn.execute(
                "SELECT COALESCE(MAX(seq), 0) + 1 FROM accounts WHERE provider = ?", (provider,)
            ).fetchone()
            self._conn.execute(
                "INSERT OR REPLACE INTO accounts (provider, account_id, seq, data) "
                "VALUES (?, ?, ?, ?)",
                (provider, account_id, row[0], json.dumps(data)),
            )

    def get_account(self, provider: str, account_id: str) -> dict[str, Any] | None:
        row = self.one(
            "SELECT data FROM accounts WHERE provider = ? AND account_id = ?",
            (provider, account_id),
        )
        return None if row is None else _load(row[0])

    def list_accounts(self, provider: str) -> list[dict[str, Any]]:
        rows = self.execute(
            "SELECT data FROM accounts WHERE provider = ? ORDER BY seq", (provider,)
        )
        return [_load(r[0]) for r in rows]

    # --- provider tokens ------------------------------------------------------------------
    def add_provider_token(
        self,
        token: str,
        provider: str,
        account_id: str,
        client_id: str,
        scopes: str,
        expires: float | None,
        secret: str | None = None,
    ) -> None:
        self.execute(
            "INSERT OR REPLACE INTO provider_tokens "
            "(token, provider, account_id, client_id, secret, scopes, expires) "
            "VALUES (?, ?, ?, ?, ?, ?, ?)",
            (token, provider, account_id, client_id, secret, scopes, expires),
        )

    def get_provider_token(self, token: str) -> dict[str, Any] | None:
        row = self.one(
            "SELECT provider, account_id, client_id, secret, scopes, expires "
            "FROM provider_tokens WHERE token = ?",
            (token,),
        )
        if row is None or (row[5] is not None and row[5] <= time.time()):
            return None
        return {
            "provider": row[0],
            "account_id": row[1],
            "client_id": row[2],
            "secret": row[3],
            "scopes": row[4],
        }

    # --- short-lived records: OAuth2 codes, OAuth1 request tokens, browser flows ----------
    def put_temp(self, table: str, key: str, data: dict[str, Any], ttl: float) -> None:
        col = _TEMP_TABLES[table]
        extra = ", provider" if table != "flows" else ""
        values: tuple[Any, ...] = (
            key,
            data.get("provider", ""),
            json.dumps(data),
            time.time() + ttl,
        )
        if table == "flows":
            values = (key, json.dumps(data), time.time() + ttl)
        marks = ", ".join("?" * len(values))
        self.execute(
            f"INSERT OR REPLACE INTO {table} ({col}{extra}, data, expires) VALUES ({marks})",  # noqa: S608
            values,
        )

    def get_temp(self, table: str, key: str) -> dict[str, Any] | None:
        col = _TEMP_TABLES[table]
        row = self.one(
            f"SELECT data, expires FROM {table} WHERE {col} = ?",  # noqa: S608
            (key,),
        )
        if row is None or row[1] <= time.time():
            return None
        return _load(row[0])

    def pop_temp(self, table: str, key: str) -> dict[str, Any] | None:
        with self._lock:
            data = self.get_temp(table, key)
            col = _TEMP_TABLES[table]
            self._conn.execute(f"DELETE FROM {table} WHERE {col} = ?", (key,))  # noqa: S608
            return data

    def use_nonce(self, client_key: str, nonce: str, ts: int) -> bool:
        """Record a nonce; False when it was seen before (a replay)."""
        with self._lock:
            try:
                self._conn.execute(
                    "INSERT INTO nonces (client_key, nonce, ts) VALUES (?, ?, ?)",
                    (client_key, nonce, ts),
                )
            except sqlite3.IntegrityError:
                return False
            return True


_TEMP_TABLES = {"grants": "code", "request_tokens": "token", "flows": "state"}


def _load(text: str) -> dict[str, Any]:
    value: dict[str, Any] = json.loads(text)
    return value
