"""Run the existing blocking, ``responses``-based tests through both services.

``both_drivers(...)`` builds either a :class:`~backendless_auth.Backendless` or a
:class:`BlockingAsyncApp`: a blocking proxy over an :class:`~backendless_auth.AsyncBackendless`
whose calls run on an event loop in a worker thread (an anyio blocking portal), and whose
``httpx.MockTransport`` hands every request to ``requests``, so that ``responses`` answers it
and records it as for the sync app. A test written against the sync app then checks the async
one unchanged: parametrize its app fixture with ``DRIVERS``.
"""

from __future__ import annotations

import functools
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from typing import Any

import anyio.from_thread
import httpx
import requests
import urllib3.exceptions

from backendless_auth import AsyncBackendless, Backendless

DRIVERS = ["sync", "async"]


def _to_httpx_error(exc: requests.RequestException, request: httpx.Request) -> httpx.HTTPError:
    """The httpx failure that stands for what ``requests`` raised (for the same rules)."""
    if isinstance(exc, requests.exceptions.ConnectTimeout):
        return httpx.ConnectTimeout("connect timeout", request=request)
    if isinstance(exc, requests.Timeout):
        return httpx.ReadTimeout("read timeout", request=request)
    if isinstance(exc, requests.exceptions.SSLError):
        error = httpx.ConnectError("tls", request=request)
        import ssl

        error.__cause__ = ssl.SSLError("certificate verify failed")
        return error
    if isinstance(exc, requests.ConnectionError):
        reason = exc.args[0] if exc.args else None
        if isinstance(reason, urllib3.exceptions.MaxRetryError):
            reason = reason.reason
        if isinstance(reason, urllib3.exceptions.NewConnectionError):
            return httpx.ConnectError("refused", request=request)
        return httpx.ReadError("connection broke", request=request)
    return httpx.RemoteProtocolError(type(exc).__name__, request=request)


def _forward_to_requests(session: requests.Session, request: httpx.Request) -> httpx.Response:
    try:
        answer = session.request(
            request.method,
            str(request.url),
            headers={k: v for k, v in request.headers.items() if k.lower() in _KEPT_HEADERS},
            data=request.content or None,
            allow_redirects=False,
        )
    except requests.RequestException as exc:
        raise _to_httpx_error(exc, request) from None
    headers = [(k, v) for k, v in answer.headers.items() if k.lower() != "content-encoding"]
    return httpx.Response(answer.status_code, headers=headers, content=answer.content)


# What the SDK itself sets; httpx's own defaults (user-agent, accept-encoding) stay out.
_KEPT_HEADERS = frozenset({"user-token", "content-type"})


class _BlockingUsers:
    def __init__(self, users: Any, portal: anyio.from_thread.BlockingPortal) -> None:
        self._users = users
        self._portal = portal

    def __getattr__(self, name: str) -> Any:
        member = getattr(self._users, name)
        if not callable(member):
            return member

        def call(*args: Any, **kwargs: Any) -> Any:
            return self._portal.call(functools.partial(member, *args, **kwargs))

        return call

    def __repr__(self) -> str:
        return repr(self._users)


class BlockingAsyncApp:
    """An AsyncBackendless used from blocking code, answered by ``responses``."""

    def __init__(self, portal: anyio.from_thread.BlockingPortal, **kwargs: Any) -> None:
        self._session = requests.Session()
        handler: Callable[[httpx.Request], httpx.Response] = functools.partial(
            _forward_to_requests, self._session
        )
        client = httpx.AsyncClient(transport=httpx.MockTransport(handler))
        self._portal = portal
        self._client = client
        self.app = AsyncBackendless(http_client=client, **kwargs)
        self.users = _BlockingUsers(self.app.users, portal)

    def __getattr__(self, name: str) -> Any:
        return getattr(self.app, name)

    def close(self) -> None:
        self._portal.call(self.app.aclose)
        self._portal.call(self._client.aclose)
        self._session.close()

    def __enter__(self) -> BlockingAsyncApp:
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()


@contextmanager
def both_drivers(driver: str, **kwargs: Any) -> Iterator[Any]:
    """A sync app, or a blocking proxy over an async one, built from the same keywords."""
    if driver == "sync":
        with Backendless(**kwargs) as app:
            yield app
        return
    with (
        anyio.from_thread.start_blocking_portal() as portal,
        BlockingAsyncApp(portal, **kwargs) as app,
    ):
        yield app
