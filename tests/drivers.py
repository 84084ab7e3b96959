"""Run the existing blocking tests through both services: ``UserService`` and ``AsyncUserService``.

A test written against the blocking :class:`~backendless_auth.Backendless` checks the async twin
unchanged when its app is a :class:`BlockingAsyncApp`: a blocking proxy over an
:class:`~backendless_auth.AsyncBackendless` whose calls run on an event loop (asyncio or trio)
in a worker thread, through an anyio blocking portal. Two ways to use it:

* ``@pytest.mark.both_services`` on a test or a module (``pytestmark``): the test runs once per
  driver in :data:`DRIVERS`; under an async driver, the name ``Backendless`` of the test's
  module and of the package (so ``emu.app()`` too) build a :class:`BlockingAsyncApp`. With
  ``both_services(http="responses")`` its ``httpx`` client hands every request to ``requests``
  while ``responses`` is active, so that ``responses`` answers and records it as for the sync
  app (and sends it over real HTTP otherwise); by default
  (``http="httpx"``) the async app sends over real HTTP with its own
  :class:`~backendless_auth.HttpxTransport` (the emulator tests). The module
  ``providers``'s ``login_with_provider`` and ``fetch_provider_token`` become their async
  twins, called blocking.
* ``both_drivers(driver, **kwargs)``: a context manager giving either app, for a fixture
  parametrized with :data:`DRIVERS`.

The fixtures and hooks below are imported by ``tests/conftest.py``.
"""

from __future__ import annotations

import contextlib
import functools
import inspect
import ssl
from collections.abc import AsyncIterator, Iterator, Mapping
from typing import Any

import anyio.from_thread
import httpx
import pytest
import requests
import requests.adapters
import urllib3.exceptions

import backendless_auth
from backendless_auth import AsyncBackendless, Backendless, HttpResponse, providers

DRIVERS = ["sync", "asyncio", "trio"]
"""The services a parametrized test runs through: blocking, and async on each event loop."""


def _to_httpx_error(exc: requests.RequestException, request: httpx.Request) -> httpx.HTTPError:
    """The httpx failure that stands for what ``requests`` raised (for the same rules)."""
    if isinstance(exc, requests.exceptions.ConnectTimeout):
        return httpx.ConnectTimeout("connect timeout", request=request)
    if isinstance(exc, requests.Timeout):
        return httpx.ReadTimeout("read timeout", request=request)
    if isinstance(exc, requests.exceptions.SSLError):
        error = httpx.ConnectError("tls", request=request)
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
            stream=True,
        )
        # The bytes as sent, still compressed: the async transport decodes them itself.
        raw = answer.raw.read(decode_content=False)
    except requests.RequestException as exc:
        error = _to_httpx_error(exc, request)
        raise error from error.__cause__  # the TLS cause stays: it is what says "TLS"
    return httpx.Response(
        answer.status_code, headers=list(answer.headers.items()), stream=_Raw(raw)
    )


class _Raw(httpx.AsyncByteStream):
    """A body streamed as it came, so that httpx hands it to the transport unread."""

    def __init__(self, data: bytes) -> None:
        self._data = data

    async def __aiter__(self) -> AsyncIterator[bytes]:
        yield self._data


# What the SDK itself sets; httpx's own defaults (user-agent, accept-encoding) stay out.
_KEPT_HEADERS = frozenset({"user-token", "content-type"})
# What ``responses`` replaces while it is active (read before any test starts it).
_REAL_SEND = requests.adapters.HTTPAdapter.send


class _ForwardWhileMocked(httpx.AsyncBaseTransport):
    """Hands a request to ``requests`` while ``responses`` is active, else sends it for real."""

    def __init__(self, session: requests.Session) -> None:
        self._session = session
        # Built on first use: its TLS context costs about 0.1 s, and most tests never send for real.
        self._real: httpx.AsyncHTTPTransport | None = None

    async def handle_async_request(self, request: httpx.Request) -> httpx.Response:
        if requests.adapters.HTTPAdapter.send is _REAL_SEND:
            if self._real is None:
                self._real = httpx.AsyncHTTPTransport()
            return await self._real.handle_async_request(request)
        await request.aread()
        return _forward_to_requests(self._session, request)

    async def aclose(self) -> None:
        if self._real is not None:
            await self._real.aclose()


class AwaitedTransport:
    """A blocking test :class:`~backendless_auth.Transport` (in memory) awaited in place."""

    def __init__(self, inner: Any) -> None:
        self.inner = inner

    async def send(
        self, method: str, url: str, *, headers: Mapping[str, str], body: bytes | None, label: str
    ) -> HttpResponse:
        answer: HttpResponse = self.inner.send(method, url, headers=headers, body=body, label=label)
        return answer

    async def aclose(self) -> None:
        self.inner.close()


class _BlockingUsers:
    """``app.users`` of an async app, each coroutine function called through the portal."""

    def __init__(self, users: Any, portal: anyio.from_thread.BlockingPortal) -> None:
        self._users = users
        self._portal = portal

    @property
    def service(self) -> Any:
        """The :class:`~backendless_auth.AsyncUserService` behind this proxy."""
        return self._users

    def __getattr__(self, name: str) -> Any:
        member = getattr(self._users, name)
        if not inspect.iscoroutinefunction(member):
            return member

        def call(*args: Any, **kwargs: Any) -> Any:
            return self._portal.call(functools.partial(member, *args, **kwargs))

        call.__name__ = name
        call.__doc__ = member.__doc__
        return call

    def __repr__(self) -> str:
        return repr(self._users)


class BlockingAsyncApp:
    """An :class:`~backendless_auth.AsyncBackendless` used from blocking code.

    Takes the keywords of :class:`~backendless_auth.Backendless`: ``session=`` is the
    ``requests.Session`` the requests are forwarded to (``http="responses"``), or stands for an
    ``httpx.AsyncClient`` of the caller's with the same ``verify`` (``http="httpx"``);
    ``transport=`` a blocking in-memory test transport, awaited in place.
    """

    def __init__(
        self,
        portal: anyio.from_thread.BlockingPortal,
        http: str = "responses",
        *,
        build: Any = AsyncBackendless,
        **kwargs: Any,
    ) -> None:
        self._portal = portal
        self._client: httpx.AsyncClient | None = None
        self._session: requests.Session | None = None
        session = kwargs.pop("session", None)
        transport = kwargs.pop("transport", None)
        if transport is not None and callable(getattr(transport, "send", None)):
            transport = AwaitedTransport(transport)
        if transport is not None:
            kwargs["transport"] = transport
        elif http == "responses":
            if session is None:
                session = self._session = requests.Session()
            self._client = httpx.AsyncClient(transport=_ForwardWhileMocked(session))
            kwargs["http_client"] = self._client
        elif session is not None:
            # The caller's own session stands for the caller's own client: its verify setting
            # (a flag, or a CA bundle) carried over.
            verify: Any = session.verify
            if isinstance(verify, str):
                verify = ssl.create_default_context(cafile=verify)
            self._client = httpx.AsyncClient(verify=verify)
            kwargs["http_client"] = self._client
        try:
            self.app = build(**kwargs)
        except BaseException:
            self._release()
            raise
        self.users = _BlockingUsers(self.app.users, portal)
        self._closed = False

    @classmethod
    def from_env(
        cls,
        portal: anyio.from_thread.BlockingPortal,
        http: str,
        environ: Mapping[str, str] | None = None,
        **kwargs: Any,
    ) -> BlockingAsyncApp:
        # The real AsyncBackendless.from_env reads the variables (given the client it needs).
        build = functools.partial(AsyncBackendless.from_env, environ)
        return cls(portal, http, build=build, **kwargs)

    def __getattr__(self, name: str) -> Any:
        return getattr(self.app, name)

    def __repr__(self) -> str:
        return repr(self.app)

    def _release(self) -> None:
        if self._client is not None:
            self._portal.call(self._client.aclose)
        if self._session is not None:
            self._session.close()

    def close(self) -> None:
        if getattr(self, "_closed", True):
            return
        self._closed = True
        self._portal.call(self.app.aclose)
        self._release()

    def __enter__(self) -> BlockingAsyncApp:
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()


def _blocking_provider_flows(portal: anyio.from_thread.BlockingPortal) -> dict[str, Any]:
    """The provider flows' async twins, called blocking, under the names of the blocking ones.

    Set on the module ``backendless_auth.providers`` itself (not on a stand-in for it), so that
    a test's own ``monkeypatch.setattr(providers, ...)`` patches, and restores, the real module.
    """

    def login_with_provider(users: Any, *args: Any, **kwargs: Any) -> Any:
        service = users.service if isinstance(users, _BlockingUsers) else users
        return portal.call(
            functools.partial(providers.login_with_provider_async, service, *args, **kwargs)
        )

    def fetch_provider_token(*args: Any, **kwargs: Any) -> Any:
        return portal.call(functools.partial(providers.fetch_provider_token_async, *args, **kwargs))

    return {
        "login_with_provider": login_with_provider,
        "fetch_provider_token": fetch_provider_token,
    }


class _Portals:
    """One blocking portal (an event loop in a thread) per async backend, for the session."""

    def __init__(self) -> None:
        self._stack = contextlib.ExitStack()
        self._portals: dict[str, anyio.from_thread.BlockingPortal] = {}

    def get(self, backend: str) -> anyio.from_thread.BlockingPortal:
        if backend not in self._portals:
            self._portals[backend] = self._stack.enter_context(
                anyio.from_thread.start_blocking_portal(backend)
            )
        return self._portals[backend]

    def close(self) -> None:
        self._stack.close()


_PORTALS = _Portals()


@contextlib.contextmanager
def both_drivers(driver: str, **kwargs: Any) -> Iterator[Any]:
    """A sync app, or a blocking proxy over an async one (``responses`` answers both)."""
    if driver == "sync":
        with Backendless(**kwargs) as app:
            yield app
        return
    with BlockingAsyncApp(_PORTALS.get(driver), **kwargs) as app:
        yield app


class AppFactory:
    """Stands in for the class ``Backendless`` under an async driver; closes what it built."""

    def __init__(self, portal: anyio.from_thread.BlockingPortal, http: str) -> None:
        self._portal = portal
        self._http = http
        self.made: list[BlockingAsyncApp] = []

    def __call__(self, **kwargs: Any) -> BlockingAsyncApp:
        app = BlockingAsyncApp(self._portal, self._http, **kwargs)
        self.made.append(app)
        return app

    def from_env(self, environ: Mapping[str, str] | None = None, **kwargs: Any) -> Any:
        app = BlockingAsyncApp.from_env(self._portal, self._http, environ, **kwargs)
        self.made.append(app)
        return app

    def close_all(self) -> None:
        for app in self.made:
            app.close()


# --- the pytest side (imported by tests/conftest.py) ------------------------------------------


def pytest_configure(config: pytest.Config) -> None:
    config.addinivalue_line(
        "markers",
        "both_services(http='httpx'|'responses'): run through UserService and AsyncUserService "
        "(asyncio and trio); see tests/drivers.py",
    )


def pytest_generate_tests(metafunc: pytest.Metafunc) -> None:
    if metafunc.definition.get_closest_marker("both_services") is not None:
        metafunc.parametrize("service_driver", DRIVERS, indirect=True)


@pytest.fixture
def service_driver(request: pytest.FixtureRequest) -> str:
    """The driver a ``both_services`` test runs through (``"sync"`` for any other test)."""
    return str(getattr(request, "param", "sync"))


@pytest.fixture(scope="session")
def _driver_portals() -> Iterator[_Portals]:
    yield _PORTALS
    _PORTALS.close()


@pytest.fixture(autouse=True)
def _swap_backendless(
    request: pytest.FixtureRequest, service_driver: str, monkeypatch: pytest.MonkeyPatch
) -> Iterator[None]:
    marker = request.node.get_closest_marker("both_services")
    if marker is None or service_driver == "sync":
        yield
        return
    portals: _Portals = request.getfixturevalue("_driver_portals")
    factory = AppFactory(portals.get(service_driver), marker.kwargs.get("http", "httpx"))
    if getattr(request.module, "Backendless", None) is Backendless:
        monkeypatch.setattr(request.module, "Backendless", factory)
    for name, flow in _blocking_provider_flows(portals.get(service_driver)).items():
        monkeypatch.setattr(providers, name, flow)
    monkeypatch.setattr(backendless_auth, "Backendless", factory)
    try:
        yield
    finally:
        factory.close_all()
