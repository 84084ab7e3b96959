"""The HTTP transport: the :class:`Transport` protocol and its ``requests`` implementation.

This is the only module that imports ``requests``. It sends, retries what is safe to retry, and
turns network failures into :class:`~backendless_auth.exceptions.TransportError`; it knows nothing
of Backendless's bodies or codes. What an answer may cost (its size, the time a whole call takes)
is decided in :mod:`._limits`, shared with any other transport.
"""

from __future__ import annotations

import contextlib
import logging
import os
import socket
import threading
import time
from collections.abc import Mapping, MutableMapping
from typing import Any, Protocol

import requests
import requests.adapters
import urllib3.connectionpool
import urllib3.exceptions

from . import _http, _limits
from ._config import Timeout
from ._http import RETRY_DELAYS as _RETRY_DELAYS
from ._http import RETRY_STATUSES as _RETRY_STATUSES
from ._http import HttpResponse
from .exceptions import (
    ConfigurationError,
    NetworkError,
    RequestTimeout,
)

logger = logging.getLogger("backendless_auth")

# What a request takes from the environment: proxies, and verify (a flag or a CA bundle path).
_Settings = tuple["MutableMapping[str, str] | None", "bool | str | None"]


class Transport(Protocol):
    """Sends one HTTP request. Pass your own to ``Backendless(transport=...)`` in tests."""

    def send(
        self,
        method: str,
        url: str,
        *,
        headers: Mapping[str, str],
        body: bytes | None,
        label: str,
    ) -> HttpResponse:
        """Send the request and return the answer, whatever its status.

        Args:
            method: ``GET`` or ``POST``.
            url: The full URL. It holds the API key: never log it.
            headers: The headers to send.
            body: The JSON body, or ``None``.
            label: What may be logged in place of the URL (a path template without secrets).

        Raises:
            TransportError: Nothing usable came back.
        """
        ...

    def close(self) -> None:
        """Release connections this transport owns."""
        ...


def _never_reached_server(exc: requests.RequestException) -> bool:
    """Whether the request certainly did not reach the server: a failure to connect."""
    if isinstance(exc, requests.exceptions.ConnectTimeout):
        return True
    if not isinstance(exc, requests.exceptions.ConnectionError):
        return False
    reason = exc.args[0] if exc.args else None
    if isinstance(reason, urllib3.exceptions.MaxRetryError):
        reason = reason.reason
    return isinstance(reason, urllib3.exceptions.NewConnectionError)


class _Call:
    """One call in flight: its deadline, and the connections it is using right now."""

    __slots__ = ("at", "connections", "done", "expired")

    def __init__(self, at: float) -> None:
        self.at = at
        self.connections: list[Any] = []
        self.done = False
        self.expired = False


class _Watchdog:
    """One daemon thread that shuts down the sockets of calls that passed their deadline.

    A socket timeout bounds each read, not a whole answer: a server sending one byte at a
    time, in the headers or the body, would keep a call alive forever. Shutting the socket down
    from here ends the blocked read at once; the call then raises :class:`RequestTimeout`.
    """

    def __init__(self) -> None:
        self._lock = threading.Condition()
        self._calls: set[_Call] = set()
        self._thread: threading.Thread | None = None
        self._waiting_until = float("inf")
        self.local = threading.local()

    def start(self, at: float) -> _Call:
        """Watch a new call of this thread that must end by ``at`` (monotonic)."""
        call = _Call(at)
        with self._lock:
            self._calls.add(call)
            if self._thread is None:
                self._thread = threading.Thread(
                    target=self._run, name="backendless-auth-deadlines", daemon=True
                )
                self._thread.start()
            elif call.at < self._waiting_until:
                self._lock.notify()
        self.local.call = call
        return call

    def finish(self, call: _Call) -> None:
        self.local.call = None
        with self._lock:
            call.done = True
            call.connections.clear()
            self._calls.discard(call)

    def adopt(self, connection: Any) -> None:
        """Count ``connection`` as used by this thread's current call (from the pool)."""
        call = getattr(self.local, "call", None)
        with self._lock:
            connection._backendless_call = call
            if call is not None and not call.done:
                call.connections.append(connection)

    def release(self, connection: Any) -> None:
        """The pool takes ``connection`` back: no call of ours may shut it down any more."""
        with self._lock:
            connection._backendless_call = None

    def _run(self) -> None:
        while True:
            with self._lock:
                now = time.monotonic()
                for call in [call for call in self._calls if call.at <= now]:
                    call.expired = True
                    connecting = False
                    for connection in call.connections:
                        if getattr(connection, "_backendless_call", None) is call:
                            connecting |= not _shut_down(connection)
                    if connecting or not call.connections:
                        # Not connected yet (connecting has its own timeout): look again soon,
                        # so that the answer's first byte does not restart the wait.
                        call.at = now + 0.05
                    else:
                        self._calls.discard(call)
                self._waiting_until = min((call.at for call in self._calls), default=now + 60)
                self._lock.wait(max(0.0, self._waiting_until - now))


def _shut_down(connection: Any) -> bool:
    """Shut the connection's socket down; ``False`` when it has none yet."""
    sock = getattr(connection, "sock", None)
    if sock is None:
        return False
    with contextlib.suppress(OSError):  # already closed
        sock.shutdown(socket.SHUT_RDWR)
    return True


_WATCHDOG = _Watchdog()
if hasattr(os, "register_at_fork"):
    # A forked child has no watchdog thread (nor any call in flight): it starts its own.
    os.register_at_fork(after_in_child=lambda: _WATCHDOG.__init__())  # type: ignore[misc]


class _Watched:
    """Pool behaviour: each connection in use belongs to the call that took it."""

    def _make_request(self, conn: Any, *args: Any, **kwargs: Any) -> Any:
        _WATCHDOG.adopt(conn)
        return super()._make_request(conn, *args, **kwargs)  # type: ignore[misc]

    def _put_conn(self, conn: Any) -> None:
        if conn is not None:
            _WATCHDOG.release(conn)
        super()._put_conn(conn)  # type: ignore[misc]


class _WatchedHTTPPool(_Watched, urllib3.connectionpool.HTTPConnectionPool):
    pass


class _WatchedHTTPSPool(_Watched, urllib3.connectionpool.HTTPSConnectionPool):
    pass


_WATCHED_POOLS = {"http": _WatchedHTTPPool, "https": _WatchedHTTPSPool}


class _WatchedAdapter(requests.adapters.HTTPAdapter):
    """An adapter whose connections the deadline watchdog can shut down."""

    def init_poolmanager(self, *args: Any, **kwargs: Any) -> None:
        super().init_poolmanager(*args, **kwargs)
        self.poolmanager.pool_classes_by_scheme = _WATCHED_POOLS

    def proxy_manager_for(self, proxy: str, **proxy_kwargs: Any) -> Any:
        manager = super().proxy_manager_for(proxy, **proxy_kwargs)
        manager.pool_classes_by_scheme = _WATCHED_POOLS
        return manager


class RequestsTransport:
    """A :class:`Transport` on a ``requests.Session``, with keep-alive and a timeout always on.

    Retries: a ``GET`` is retried on a network failure or a 502/503/504 answer; a ``POST`` only
    when the connection could not be opened, so that a login that may have reached the server
    is never sent twice.

    Limits (see :mod:`._limits`): a whole call, retries included, ends within the read timeout
    (a deadline, not a per-read timeout); a decoded body larger than ``MAX_BODY`` (1 MiB) is
    refused while it is read. With a ``session=`` of the caller's, whose connections this
    transport does not manage, the deadline is checked between reads of the body; waiting for
    the headers is bounded per read.
    """

    def __init__(self, timeout: Timeout, session: requests.Session | None = None) -> None:
        if session is not None and not callable(getattr(session, "request", None)):
            # Caught here: a wrong object would otherwise surface as AttributeError per call.
            raise ConfigurationError(
                "session must be a requests.Session, not " + type(session).__name__,
                argument="session",
            )
        self._timeout = timeout.as_tuple()
        self._owns_session = session is None
        # Per origin: the proxies and CA bundle the environment names, read once (see below).
        self._environment: dict[str, _Settings] = {}
        if session is None:
            session = requests.Session()
            # requests reads the proxy variables, the CA bundle variables and ~/.netrc again on
            # every request when trust_env is on: about a third of a loopback call's time. Our
            # own session reads the environment once per origin instead, and never .netrc,
            # whose entry for the API host would add an Authorization header to every call.
            session.trust_env = False
            # One pooled connection per thread for up to 32 threads, instead of requests' 10.
            adapter = _WatchedAdapter(pool_connections=4, pool_maxsize=32)
            session.mount("https://", adapter)
            session.mount("http://", adapter)
        self._session = session

    @property
    def session(self) -> requests.Session:
        """The ``requests.Session`` in use."""
        return self._session

    def send(
        self,
        method: str,
        url: str,
        *,
        headers: Mapping[str, str],
        body: bytes | None,
        label: str,
    ) -> HttpResponse:
        safe = method == "GET"
        attempt = 0
        proxies, verify = self._settings_for(url)
        connect, read = self._timeout
        _http.check_header_values(method, label, headers)
        headers = {"Accept-Encoding": _limits.ACCEPT_ENCODING, **headers}
        while True:
            started = time.perf_counter()
            failure: NetworkError | RequestTimeout | None = None
            # One deadline per attempt: from sending to the last byte, at most the read timeout.
            deadline = _limits.Deadline(read)
            call = _WATCHDOG.start(deadline.at)
            try:
                answer = self._session.request(
                    method,
                    url,
                    headers=headers,
                    data=body,
                    timeout=(connect, read),
                    allow_redirects=False,
                    proxies=proxies,
                    verify=verify,
                    stream=True,
                )
                content = _read_body(answer, deadline, call, method, label)
            except requests.RequestException as exc:
                retry = attempt < len(_RETRY_DELAYS) and (safe or _never_reached_server(exc))
                error = _transport_error(exc, method, label)
                if call.expired or deadline.expired:
                    error = _http.deadline_error(method, label, deadline.seconds)
                logger.debug("%s %s failed: %s%s", method, label, error, "; retrying" * retry)
                if not retry:
                    failure = error
            else:
                status = answer.status_code
                if logger.isEnabledFor(logging.DEBUG):
                    logger.debug(
                        "%s %s -> %d in %.1f ms",
                        method,
                        label,
                        status,
                        (time.perf_counter() - started) * 1000,
                    )
                if not (safe and status in _RETRY_STATUSES and attempt < len(_RETRY_DELAYS)):
                    return HttpResponse(
                        status=status,
                        headers={key.lower(): value for key, value in answer.headers.items()},
                        body=content,
                    )
            finally:
                _WATCHDOG.finish(call)
            if failure is not None:
                # Raised outside the except block, so that the requests error, whose message
                # holds the URL (API key, maybe a user token), does not ride along as context.
                raise failure from None
            time.sleep(_RETRY_DELAYS[attempt])
            attempt += 1

    def _settings_for(self, url: str) -> _Settings:
        """The ``proxies`` and ``verify`` for a request to ``url``'s origin."""
        if not self._owns_session:
            # requests lets REQUESTS_CA_BUNDLE/CURL_CA_BUNDLE override a session's own verify
            # (psf/requests#3829); passed explicitly, the caller's setting wins.
            return None, self._session.verify
        origin = "/".join(url.split("/", 3)[:3])
        known = self._environment.get(origin)
        if known is not None:
            return known
        # What requests itself would derive from the environment (HTTPS_PROXY, NO_PROXY,
        # REQUESTS_CA_BUNDLE, ...), asked once; a race here only computes it twice.
        with requests.Session() as reader:
            merged = reader.merge_environment_settings(origin + "/", {}, None, None, None)
        settings: _Settings = (merged["proxies"] or None, merged["verify"])
        self._environment[origin] = settings
        return settings

    def close(self) -> None:
        if self._owns_session:
            self._session.close()


def _read_body(
    answer: requests.Response, deadline: _limits.Deadline, call: _Call, method: str, label: str
) -> bytes:
    """Read and decode the body in bounded steps; raise our errors, or requests' to retry.

    Raises:
        RequestTimeout: The deadline passed (raised as a ``requests.Timeout`` cause-free).
        UnexpectedResponseError: The body is larger than the limit, or undecodable.
    """
    raw = answer.raw
    problem: Exception | None = None
    done = False
    try:
        decoder = _limits.BodyDecoder(answer.headers.get("content-encoding", ""))
        connection = getattr(raw, "connection", None)
        while True:
            if deadline.expired or call.expired:
                raise requests.Timeout()
            sock = getattr(connection, "sock", None)
            if sock is not None:
                # Each wait for bytes ends at the deadline at the latest, also on a caller's
                # session, whose connections the watchdog does not manage.
                sock.settimeout(max(0.001, min(sock.gettimeout() or 1e9, deadline.remaining())))
            chunk = raw.read1(_limits.READ_SIZE, decode_content=False)
            if not chunk:
                break
            decoder.feed(chunk)
        content = decoder.finish()
    except _http.BODY_ERRORS as exc:
        problem = exc
    except (urllib3.exceptions.HTTPError, OSError) as exc:
        if deadline.expired or call.expired:
            raise requests.Timeout() from None
        raise requests.ConnectionError(type(exc).__name__) from None
    else:
        # Read to the end: the connection goes back to the pool for the next call.
        done = True
        raw.release_conn()
        return content
    finally:
        if not done:
            answer.close()  # a connection with unread bytes is never reused
    raise _http.body_error(problem, method, label, answer.status_code) from None


def _transport_error(
    exc: requests.RequestException, method: str, label: str
) -> NetworkError | RequestTimeout:
    # The message names the call, never the URL: the URL holds the API key.
    if isinstance(exc, requests.exceptions.ConnectTimeout):
        return RequestTimeout(f"{method} {label}: timed out connecting to the server")
    if isinstance(exc, requests.Timeout):
        return RequestTimeout(f"{method} {label}: the server did not answer in time")
    if _never_reached_server(exc):
        return NetworkError(f"{method} {label}: could not connect to the server")
    if isinstance(exc, requests.exceptions.SSLError):
        return NetworkError(f"{method} {label}: TLS failed (certificate not trusted?)")
    if isinstance(exc, requests.exceptions.ChunkedEncodingError | requests.ConnectionError):
        return NetworkError(f"{method} {label}: the connection broke before a full answer")
    return NetworkError(f"{method} {label}: {type(exc).__name__}")
