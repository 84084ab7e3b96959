"""The async HTTP transport: the :class:`AsyncTransport` protocol and its ``httpx`` implementation.

The only module that imports ``httpx``. The same rules as the blocking transport
(:mod:`backendless_auth._transport`): a timeout always on, redirects never followed, TLS
verification kept, only a ``GET`` or a request that never reached the server retried, with the
same statuses and pauses (:mod:`backendless_auth._http`); network failures become
:class:`~backendless_auth.exceptions.TransportError` naming the call, never the URL.
"""

from __future__ import annotations

import logging
import ssl
import time
from collections.abc import Mapping
from typing import Protocol

import anyio
import httpx

from . import _http, _limits
from ._config import Timeout
from ._http import HttpResponse
from ._redact import REDACTOR
from .exceptions import ConfigurationError, NetworkError, RequestTimeout

logger = logging.getLogger("backendless_auth")

# httpx logs every request line, the whole URL (the API key, a token in a path) at INFO;
# httpcore its connection and HTTP events at DEBUG. Both go through the redactor.
HTTPX_LOGGERS = (
    "httpx",
    "httpcore.connection",
    "httpcore.http11",
    "httpcore.http2",
    "httpcore.proxy",
)


class AsyncTransport(Protocol):
    """Sends one HTTP request, awaited. Pass your own to ``AsyncBackendless(transport=...)``."""

    async def send(
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
            label: What may be logged in place of the URL: the call's name, without secrets.

        Raises:
            TransportError: Nothing usable came back.
        """
        ...

    async def aclose(self) -> None:
        """Release connections this transport owns."""
        ...


# The connections our own client keeps per host, as many as the blocking transport: every one
# kept alive, so that a burst of tasks reuses them instead of opening and closing connections
# (idle ones expire after 5 s).
_CONNECTIONS = 32


class HttpxTransport:
    """An :class:`AsyncTransport` on one pooled ``httpx.AsyncClient``, reused for every call.

    Retries: a ``GET`` is retried on a network failure or a 502/503/504 answer; a ``POST`` only
    when the connection could not be opened, so that a login that may have reached the server
    is never sent twice. A client of your own is used as it is (its proxies, certificates and
    limits) but never follows a redirect here, and is not closed by :meth:`aclose`.

    Limits, as on the blocking side (see :mod:`._limits`): each attempt ends within the read
    timeout from the moment its request starts being sent (a deadline, not a per-read
    timeout); a decoded body larger than ``MAX_BODY`` (1 MiB) is refused while it is read; a
    header value HTTP does not allow is refused before sending.
    """

    def __init__(self, timeout: Timeout, client: httpx.AsyncClient | None = None) -> None:
        if client is not None and not isinstance(client, httpx.AsyncClient):
            raise ConfigurationError(
                "http_client must be an httpx.AsyncClient, not " + type(client).__name__,
                argument="http_client",
            )
        REDACTOR.install(HTTPX_LOGGERS)
        connect, read = timeout.as_tuple()
        self._connect, self._read = connect, read
        self._timeout = httpx.Timeout(connect=connect, read=read, write=read, pool=read)
        self._owns_client = client is None
        if client is None:
            # trust_env reads HTTPS_PROXY/NO_PROXY and SSL_CERT_FILE/SSL_CERT_DIR (never .netrc).
            client = httpx.AsyncClient(
                timeout=self._timeout,
                follow_redirects=False,
                limits=httpx.Limits(
                    max_connections=_CONNECTIONS, max_keepalive_connections=_CONNECTIONS
                ),
            )
        self._client = client
        # Requests beyond the pool's size wait here, in a plain FIFO, rather than in httpcore's
        # pool, whose queue costs each finished request a pass over every waiting one.
        self._slots: anyio.CapacityLimiter | None = None

    @property
    def client(self) -> httpx.AsyncClient:
        """The ``httpx.AsyncClient`` in use."""
        return self._client

    async def send(
        self,
        method: str,
        url: str,
        *,
        headers: Mapping[str, str],
        body: bytes | None,
        label: str,
    ) -> HttpResponse:
        _http.check_header_values(method, label, headers)
        headers = {"Accept-Encoding": _limits.ACCEPT_ENCODING, **headers}
        safe = method == "GET"
        attempt = 0
        while True:
            delays = _http.RETRY_DELAYS
            started = time.perf_counter()
            failure: NetworkError | RequestTimeout | None = None
            try:
                answer = await self._exchange(method, url, headers, body, label)
            except (httpx.HTTPError, _Expired) as exc:
                retry = attempt < len(delays) and (safe or _never_reached_server(exc))
                error: NetworkError | RequestTimeout
                if isinstance(exc, _Expired):
                    error = _http.deadline_error(method, label, self._read)
                else:
                    error = _transport_error(exc, method, label)
                logger.debug("%s %s failed: %s%s", method, label, error, "; retrying" * retry)
                if not retry:
                    failure = error
            else:
                if logger.isEnabledFor(logging.DEBUG):
                    logger.debug(
                        "%s %s -> %d in %.1f ms",
                        method,
                        label,
                        answer.status,
                        (time.perf_counter() - started) * 1000,
                    )
                retry_status = answer.status in _http.RETRY_STATUSES
                if not (safe and retry_status and attempt < len(delays)):
                    return answer
            if failure is not None:
                # Raised outside the except block, so that the httpx error, whose message and
                # request hold the URL (API key, maybe a user token), does not ride along.
                raise failure from None
            await anyio.sleep(delays[attempt])
            attempt += 1

    async def _exchange(
        self, method: str, url: str, headers: Mapping[str, str], body: bytes | None, label: str
    ) -> HttpResponse:
        """One attempt: send, read the whole body (bounded), close the response.

        The attempt's deadline (see :mod:`._limits`): the read timeout from the moment the
        request starts being sent, as on the blocking side; until then (waiting for a pooled
        connection, connecting) the connect and the read timeout together.
        """
        read = self._read
        with anyio.CancelScope(deadline=anyio.current_time() + self._connect + read) as scope:

            async def trace(event: str, info: object) -> None:
                # httpcore's events; "http11.send_request_headers.started" and HTTP/2's twin.
                if event.endswith("send_request_headers.started"):
                    scope.deadline = min(scope.deadline, anyio.current_time() + read)

            request = self._client.build_request(
                method,
                url,
                headers=headers,
                content=body,
                timeout=self._timeout,
                extensions={"trace": trace},
            )
            if self._owns_client:
                if self._slots is None:  # made on first use: it belongs to the running loop
                    self._slots = anyio.CapacityLimiter(_CONNECTIONS)
                async with self._slots:
                    return await self._send(request, method, label)
            return await self._send(request, method, label)
        raise _Expired  # only reached when the scope's deadline cancelled the attempt

    async def _send(self, request: httpx.Request, method: str, label: str) -> HttpResponse:
        answer = await self._client.send(request, stream=True, follow_redirects=False)
        try:
            # The one place the body is read: raw bytes, decoded in bounded steps.
            if answer.is_stream_consumed:
                # An answer made in memory (httpx.MockTransport, tests): httpx read and decoded
                # it already; the cap still holds.
                decoder = _limits.BodyDecoder("")
                decoder.feed(answer.content)
            else:
                decoder = _limits.BodyDecoder(answer.headers.get("content-encoding", ""))
                async for chunk in answer.aiter_raw(_limits.READ_SIZE):
                    decoder.feed(chunk)
            content = decoder.finish()
        except _http.BODY_ERRORS as exc:
            problem = exc
        else:
            return HttpResponse(
                status=answer.status_code,
                headers={key.lower(): value for key, value in answer.headers.items()},
                body=content,
            )
        finally:
            await answer.aclose()  # a connection with unread bytes is not reused
        raise _http.body_error(problem, method, label, answer.status_code) from None

    async def aclose(self) -> None:
        if self._owns_client:
            await self._client.aclose()


class _Expired(Exception):
    """An attempt passed its deadline (see :meth:`HttpxTransport._exchange`)."""


def _is_tls_failure(exc: BaseException) -> bool:
    seen: BaseException | None = exc
    for _ in range(8):
        if seen is None:
            return False
        if isinstance(seen, ssl.SSLError | ssl.CertificateError):
            return True
        seen = seen.__cause__ or seen.__context__
    return False


def _never_reached_server(exc: httpx.HTTPError | _Expired) -> bool:
    """Whether the request certainly did not reach the server: a failure to connect."""
    if isinstance(exc, httpx.ConnectTimeout):
        return True
    return isinstance(exc, httpx.ConnectError) and not _is_tls_failure(exc)


def _transport_error(
    exc: httpx.HTTPError, method: str, label: str
) -> NetworkError | RequestTimeout:
    # The message names the call, never the URL: the URL holds the API key.
    if isinstance(exc, httpx.ConnectTimeout):
        return RequestTimeout(f"{method} {label}: timed out connecting to the server")
    if isinstance(exc, httpx.TimeoutException):
        return RequestTimeout(f"{method} {label}: the server did not answer in time")
    if _is_tls_failure(exc):
        return NetworkError(f"{method} {label}: TLS failed (certificate not trusted?)")
    if isinstance(exc, httpx.ConnectError):
        return NetworkError(f"{method} {label}: could not connect to the server")
    if isinstance(exc, httpx.RemoteProtocolError | httpx.ReadError):
        return NetworkError(f"{method} {label}: the connection broke before a full answer")
    return NetworkError(f"{method} {label}: {type(exc).__name__}")
