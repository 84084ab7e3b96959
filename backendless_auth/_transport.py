"""The HTTP transport: the :class:`Transport` protocol and its ``requests`` implementation.

This is the only module that imports ``requests``. It sends, retries what is safe to retry, and
turns network failures into :class:`~backendless_auth.exceptions.TransportError`; it knows nothing
of Backendless's bodies or codes.
"""

from __future__ import annotations

import logging
import time
from collections.abc import Mapping, MutableMapping
from typing import Protocol

import requests
import requests.adapters
import urllib3.exceptions

from ._config import Timeout
from ._http import RETRY_DELAYS as _RETRY_DELAYS
from ._http import RETRY_STATUSES as _RETRY_STATUSES
from ._http import HttpResponse
from .exceptions import ConfigurationError, NetworkError, RequestTimeout

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


class RequestsTransport:
    """A :class:`Transport` on a ``requests.Session``, with keep-alive and a timeout always on.

    Retries: a ``GET`` is retried on a network failure or a 502/503/504 answer; a ``POST`` only
    when the connection could not be opened, so that a login that may have reached the server
    is never sent twice.
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
            adapter = requests.adapters.HTTPAdapter(pool_connections=4, pool_maxsize=32)
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
        while True:
            started = time.perf_counter()
            failure: NetworkError | RequestTimeout | None = None
            try:
                answer = self._session.request(
                    method,
                    url,
                    headers=headers,
                    data=body,
                    timeout=self._timeout,
                    allow_redirects=False,
                    proxies=proxies,
                    verify=verify,
                )
                content = answer.content
            except requests.RequestException as exc:
                retry = attempt < len(_RETRY_DELAYS) and (safe or _never_reached_server(exc))
                error = _transport_error(exc, method, label)
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
