"""``RedisTokenStore``: one session per app in Redis, shared by every worker of a fleet.

``redis`` (redis-py, the ``[redis]`` extra) is imported when a store is built, never with the
package.
"""

from __future__ import annotations

import logging
from typing import TYPE_CHECKING, Any

from ._session import MAX_STORED_BYTES, StoredSession
from ._stores_file import positive_seconds
from ._wire import STORED_TOKEN
from .exceptions import InvalidArgumentError, TokenStoreError

if TYPE_CHECKING:
    import redis

logger = logging.getLogger("backendless_auth.stores")

DEFAULT_PREFIX = "backendless-auth:"
# Sliding: refreshed by every save and every load. A "stay logged in" session lives on the
# server until logout or the app's inactivity timeout, so the copy in Redis must not die first.
DEFAULT_TTL = 30 * 86400
_ASIDE_SUFFIX = b":corrupt"
_ASIDE_SECONDS = 7 * 86400
_INSTALL = "RedisTokenStore needs redis-py: pip install 'backendless-auth[redis]'"

# One round trip, atomic: a value that cannot be a session (another type, too large) is moved
# aside without being sent here; a string is sent back and its expiry refreshed.
_LOAD = """
local kind = redis.call('TYPE', KEYS[1])['ok']
if kind == 'none' then return false end
if kind ~= 'string' or redis.call('STRLEN', KEYS[1]) > tonumber(ARGV[1]) then
  redis.call('RENAME', KEYS[1], KEYS[2])
  redis.call('EXPIRE', KEYS[2], ARGV[3])
  return {'aside', kind}
end
if tonumber(ARGV[2]) > 0 then redis.call('EXPIRE', KEYS[1], ARGV[2]) end
return {'value', redis.call('GET', KEYS[1])}
"""

# Moves aside a string that did not decode, unless another worker replaced it meanwhile.
_SET_ASIDE = """
if redis.call('GET', KEYS[1]) == ARGV[1] then
  redis.call('RENAME', KEYS[1], KEYS[2])
  redis.call('EXPIRE', KEYS[2], ARGV[2])
  return 1
end
return 0
"""


def _check_ttl(ttl: object) -> int | None:
    if ttl is None:
        return None
    if isinstance(ttl, bool) or not isinstance(ttl, int) or not 0 < ttl <= 10**9:
        raise InvalidArgumentError(
            "ttl must be a whole number of seconds above zero, or None (no expiry)",
            argument="ttl",
        )
    return ttl


def _text(value: object) -> str:
    return value.decode("utf-8", "replace") if isinstance(value, bytes) else str(value)


class RedisTokenStore:
    """Keeps each namespace's session under one Redis key: a fleet of workers shares one login.

    The key is ``prefix`` + the namespace (``backendless-auth:Backendless_<APP_ID>``), so apps
    never mix; its value is the session's JSON (:meth:`~backendless_auth.StoredSession.to_json`).
    A save is one ``SET`` with its expiry (atomic: a reader sees the old session or the new
    one); a load reads the value and refreshes the expiry in one script; a clear is a ``DEL``.

    The expiry is sliding: ``ttl`` seconds after the last save or load (30 days by default),
    like a server session that lives until it has not been used for a while. Set it to your
    app's session timeout if it has one (Backendless console), or ``None`` for no expiry; the
    SDK clears the key anyway when the server says the session expired.

    A value that does not hold a session (garbage, another type, more than 1 MiB) counts as no
    session: it is renamed to ``<key>:corrupt`` (kept 7 days, for a look), with a warning that
    never shows it.

    Args:
        client: A ``redis.Redis`` of yours (TLS, ACL user, pool, ...); it must have a
            ``socket_timeout``. Not closed by :meth:`close`.
        url: Or a URL (``redis://host:6379/0``, ``rediss://`` for TLS) to build one from, with
            ``timeout`` as its connect and read timeouts and one retry.
        prefix: Put before the namespace in every key.
        ttl: Seconds a session is kept after its last save or load; ``None``: no expiry.
        timeout: Seconds for connecting and for each answer, for a client built from ``url``.
            A call fails after at most about twice that (one retry, for a restarted server).

    Raises:
        InvalidArgumentError: Neither or both of ``client`` and ``url``, a client without a
            socket timeout, an empty prefix, a bad ``ttl`` or ``timeout``.
        TokenStoreError: redis-py is not installed (the ``[redis]`` extra); from the
            methods: Redis is down, did not answer within the timeout, or refused the call.
            The previous session is then left as it was; the message names the server, never
            the session.
    """

    def __init__(
        self,
        client: redis.Redis | None = None,
        *,
        url: str | None = None,
        prefix: str = DEFAULT_PREFIX,
        ttl: int | None = DEFAULT_TTL,
        timeout: float = 5.0,
    ) -> None:
        if (client is None) == (url is None):
            raise InvalidArgumentError(
                "RedisTokenStore takes a redis client or a url, one of the two", argument="url"
            )
        if not isinstance(prefix, str) or not prefix:
            raise InvalidArgumentError("prefix must be a non-empty string", argument="prefix")
        self._ttl = _check_ttl(ttl)
        self._timeout = positive_seconds(timeout, "timeout")
        self._prefix = prefix
        try:
            import redis
            from redis.backoff import NoBackoff
            from redis.retry import Retry
        except ImportError:
            raise TokenStoreError(_INSTALL) from None
        self._errors: tuple[type[BaseException], ...] = (redis.RedisError, OSError)
        self._owned = client is None
        if client is None:
            if not isinstance(url, str) or not url:
                raise InvalidArgumentError("url must be a redis:// URL", argument="url")
            try:
                client = redis.Redis.from_url(
                    url,
                    socket_timeout=self._timeout,
                    socket_connect_timeout=self._timeout,
                    retry=Retry(NoBackoff(), 1),
                )
            except ValueError:
                client = None
            if client is None:
                # Raised outside the handler: redis-py's message quotes the URL, which may
                # hold a password.
                raise InvalidArgumentError(
                    "url must be a redis://, rediss:// or unix:// URL", argument="url"
                )
        else:
            kwargs = getattr(getattr(client, "connection_pool", None), "connection_kwargs", None)
            if isinstance(kwargs, dict) and kwargs.get("socket_timeout") is None:
                raise InvalidArgumentError(
                    "the Redis client has no socket_timeout: a Redis that stops answering "
                    "would hang every login; build it with socket_timeout=5, or pass url=",
                    argument="client",
                )
        self._client: redis.Redis = client
        self._load_script = client.register_script(_LOAD)
        self._aside_script = client.register_script(_SET_ASIDE)

    @property
    def prefix(self) -> str:
        """Put before the namespace in every key."""
        return self._prefix

    @property
    def ttl(self) -> int | None:
        """Seconds a session is kept after its last save or load; ``None``: no expiry."""
        return self._ttl

    def key_for(self, namespace: str) -> bytes:
        """Return the Redis key holding ``namespace``'s session."""
        return (self._prefix + namespace).encode("utf-8", "surrogatepass")

    def close(self) -> None:
        """Close the connections of a client built from ``url`` (not of one passed in)."""
        if self._owned:
            self._client.close()

    def __repr__(self) -> str:
        # The server's address only: a URL may hold a password, a value is a session.
        return f"RedisTokenStore(server={self._server()!r}, prefix={self._prefix!r})"

    # --- the protocol ---------------------------------------------------------------------

    def load(self, namespace: str) -> StoredSession | None:
        """Return the session saved under ``namespace``, or ``None``; refresh its expiry.

        Raises:
            TokenStoreError: Redis is down, did not answer in time, or refused the call.
        """
        key = self.key_for(namespace)
        aside = key + _ASIDE_SUFFIX
        answer = self._call(
            "load the session",
            self._load_script,
            keys=[key, aside],
            args=[MAX_STORED_BYTES, self._ttl or 0, _ASIDE_SECONDS],
        )
        if answer is None:
            return None
        tag, value = _text(answer[0]), answer[1]
        if tag == "aside":
            kind = _text(value)
            reason = "more than 1 MiB" if kind == "string" else f"a Redis {kind}, not a string"
            self._warn(key, reason, moved=True)
            return None
        try:
            return StoredSession.from_json(value)
        except ValueError as exc:
            reason = str(exc)
        try:
            moved = self._call(
                "set aside a value that holds no session",
                self._aside_script,
                keys=[key, aside],
                args=[value, _ASIDE_SECONDS],
            )
        except TokenStoreError as exc:
            logger.warning("%s; it counts as no session", exc)
            return None
        self._warn(key, reason, moved=bool(moved))
        return None

    def save(self, namespace: str, session: StoredSession) -> None:
        """Replace the session saved under ``namespace``, atomically, with its expiry.

        Raises:
            TokenStoreError: Redis is down, did not answer in time, or refused the call; the
                previous session is left as it was (but a save that timed out may still have
                reached Redis).
        """
        text = session.to_json()
        self._call(
            "save the session",
            self._client.set,
            self.key_for(namespace),
            text,
            ex=self._ttl,
            masked=(text, session.user_token),
        )

    def clear(self, namespace: str) -> None:
        """Delete ``namespace``'s key; no error when there is none.

        Raises:
            TokenStoreError: Redis is down, did not answer in time, or refused the call.
        """
        self._call("clear the session", self._client.delete, self.key_for(namespace))

    # --- the machinery --------------------------------------------------------------------

    def _call(
        self, what: str, function: Any, *args: Any, masked: tuple[str, ...] = (), **kw: Any
    ) -> Any:
        try:
            return function(*args, **kw)
        except self._errors as exc:
            message = (
                f"the Redis store at {self._server()} could not {what}: {_describe(exc, masked)}"
            )
        # Raised outside the handler: redis-py's error stays out of the chain (__context__),
        # where a reply quoting the value would be kept.
        raise TokenStoreError(message)

    def _server(self) -> str:
        kwargs = getattr(getattr(self._client, "connection_pool", None), "connection_kwargs", {})
        if not isinstance(kwargs, dict):
            return "?"
        if kwargs.get("path"):
            return f"unix:{kwargs['path']}"
        return f"{kwargs.get('host', '?')}:{kwargs.get('port', '?')}/{kwargs.get('db', 0)}"

    def _warn(self, key: bytes, reason: str, *, moved: bool) -> None:
        where = _text(key)
        if moved:
            logger.warning(
                "the Redis key %s does not hold a session (%s); renamed to %s, and it counts "
                "as no session",
                where,
                reason,
                where + _ASIDE_SUFFIX.decode(),
            )
        else:
            logger.warning(
                "the Redis key %s does not hold a session (%s); it was replaced meanwhile",
                where,
                reason,
            )


def _describe(exc: BaseException, masked: tuple[str, ...]) -> str:
    try:
        text = str(exc).strip()
    except Exception:
        text = ""
    for secret in masked:
        if secret:
            text = text.replace(secret, "••••••")
    if STORED_TOKEN in text:
        text = "its message quotes stored data and is not shown"
    name = type(exc).__name__
    return f"{name} ({text[:300]})" if text else name
