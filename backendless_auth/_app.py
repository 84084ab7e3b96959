"""``Backendless``: the app object that joins an address, a transport and a token store."""

from __future__ import annotations

from collections.abc import Mapping
from types import TracebackType
from typing import TYPE_CHECKING, Any

from ._config import AppConfig, Timeout, settings_from_env
from ._redact import REDACTOR
from ._service import UserService
from ._stores_memory import MemoryTokenStore, TokenStore
from .exceptions import ConfigurationError

if TYPE_CHECKING:
    import httpx
    import requests
    from typing_extensions import Self

    from ._transport import Transport
    from ._transport_async import AsyncTransport


class _AppBase:
    """What both app objects share: the address, its checks, the timeout and the token store."""

    _config: AppConfig
    _timeout: Timeout

    def _configure(
        self,
        app_id: str | None,
        api_key: str | None,
        domain: str | None,
        server_url: str | None,
        token_store: TokenStore | None,
        timeout: Timeout | float | tuple[float, float],
        allow_insecure_http: bool,
    ) -> TokenStore:
        """Check and keep the address and the timeout; return the token store to use."""
        if not isinstance(allow_insecure_http, bool):
            raise ConfigurationError(
                "allow_insecure_http must be True or False", argument="allow_insecure_http"
            )
        self._config = AppConfig.create(
            app_id=app_id,
            api_key=api_key,
            domain=domain,
            server_url=server_url,
            allow_insecure_http=allow_insecure_http,
        )
        REDACTOR.add(self._config.api_key)
        REDACTOR.install()
        self._timeout = Timeout.coerce(timeout)
        if token_store is None:
            return MemoryTokenStore()
        if not all(callable(getattr(token_store, name, None)) for name in _STORE_METHODS):
            raise ConfigurationError(
                "token_store must have load(), save() and clear() methods (see TokenStore)",
                argument="token_store",
            )
        return token_store

    @classmethod
    def from_env(cls, environ: Mapping[str, str] | None = None, **kwargs: Any) -> Self:
        """Build the app from ``BACKENDLESS_APP_ID`` and ``BACKENDLESS_API_KEY`` (and
        ``BACKENDLESS_SERVER_URL``), or ``BACKENDLESS_DOMAIN``.

        Args:
            environ: The variables to read; ``os.environ`` by default.
            **kwargs: Passed on to the constructor (``token_store=``, ``timeout=``, ...).

        Raises:
            ConfigurationError: No variable names an app, or the values are malformed.
        """
        settings = settings_from_env(environ)
        build: Any = cls  # each app class has the address keywords
        app: Self = build(
            app_id=settings.get("app_id"),
            api_key=settings.get("api_key"),
            domain=settings.get("domain"),
            server_url=settings.get("server_url"),
            **kwargs,
        )
        return app

    @property
    def app_id(self) -> str | None:
        """The application id, or ``None`` for a domain app."""
        return self._config.app_id

    @property
    def domain(self) -> str | None:
        """The app's domain, or ``None`` for an app id app."""
        return self._config.domain

    @property
    def server_url(self) -> str | None:
        """The API host of an app id app."""
        return self._config.server_url

    @property
    def namespace(self) -> str:
        """The name this app's session is stored under (``Backendless_<APP_ID>``)."""
        return self._config.namespace

    @property
    def timeout(self) -> Timeout:
        """The timeout every request uses."""
        return self._timeout

    def __repr__(self) -> str:
        where = (
            f"domain={self._config.domain!r}"
            if self._config.domain
            else f"app_id={self._config.app_id!r}, server_url={self._config.server_url!r}"
        )
        return f"{type(self).__name__}({where})"


class Backendless(_AppBase):
    """One Backendless app: where it lives, and its :attr:`users` service.

    Construct as many as you like: it is cheap, holds no global state, and makes no request
    until a call does. Use it as a context manager, or call :meth:`close`, to release pooled
    connections.

    Args:
        app_id: The application id from the Backendless console.
        api_key: The REST API key from the console (never logged or shown).
        domain: Instead of the two above: the app's subdomain or custom domain, e.g.
            ``"https://xxxx.backendless.app"``.
        server_url: The API host for ``app_id``/``api_key``; ``https://api.backendless.com``
            by default, ``https://eu-api.backendless.com`` for EU apps.
        token_store: Where "stay logged in" sessions are kept; in memory by default.
        timeout: Seconds, a ``(connect, read)`` pair or a :class:`Timeout`; 10 s to connect and
            30 s to read by default. There is no way to wait forever.
        session: Your own ``requests.Session`` (proxies, certificates, adapters). You keep
            ownership: :meth:`close` does not close it.
        transport: A :class:`~backendless_auth.Transport` to send requests instead (tests).
        allow_insecure_http: Allow plain ``http://`` to a host other than this machine.

    Raises:
        ConfigurationError: The address is incomplete, ambiguous or malformed.
    """

    def __init__(
        self,
        *,
        app_id: str | None = None,
        api_key: str | None = None,
        domain: str | None = None,
        server_url: str | None = None,
        token_store: TokenStore | None = None,
        timeout: Timeout | float | tuple[float, float] = Timeout(),
        session: requests.Session | None = None,
        transport: Transport | None = None,
        allow_insecure_http: bool = False,
    ) -> None:
        where = (app_id, api_key, domain, server_url)
        store = self._configure(*where, token_store, timeout, allow_insecure_http)
        if transport is not None and session is not None:
            raise ConfigurationError("pass session= or transport=, not both", argument="transport")
        if transport is None:
            # Imported here: an AsyncBackendless never needs requests.
            from ._transport import RequestsTransport

            transport = RequestsTransport(self._timeout, session)
        self._transport = transport
        self.users = UserService(self._config, transport, store)
        """The user service: logins, logout, the current user."""

    def close(self) -> None:
        """Release the pooled connections this app opened (not those of your own session)."""
        self._transport.close()

    def __enter__(self) -> Self:
        return self

    def __exit__(
        self,
        exc_type: type[BaseException] | None,
        exc: BaseException | None,
        traceback: TracebackType | None,
    ) -> None:
        self.close()


class AsyncBackendless(_AppBase):
    """One Backendless app for async code (asyncio or trio): the twin of :class:`Backendless`.

    Its :attr:`users` is an :class:`~backendless_auth.AsyncUserService`: the same calls, to be
    awaited. Requests go through ``httpx`` (the ``[async]`` extra); blocking token stores run
    in a worker thread. Use it as an async context manager, or call :meth:`aclose`.

    Args:
        app_id: The application id from the Backendless console.
        api_key: The REST API key from the console (never logged or shown).
        domain: Instead of the two above: the app's subdomain or custom domain.
        server_url: The API host for ``app_id``/``api_key``; ``https://api.backendless.com``
            by default.
        token_store: Where "stay logged in" sessions are kept; in memory by default.
        timeout: Seconds, a ``(connect, read)`` pair or a :class:`Timeout`; 10 s to connect and
            30 s to read by default. There is no way to wait forever.
        http_client: Your own ``httpx.AsyncClient`` (proxies, certificates, limits). You keep
            ownership: :meth:`aclose` does not close it.
        transport: An :class:`~backendless_auth.AsyncTransport` to send requests instead
            (tests).
        allow_insecure_http: Allow plain ``http://`` to a host other than this machine.

    Raises:
        ConfigurationError: The address is incomplete, ambiguous or malformed.
    """

    def __init__(
        self,
        *,
        app_id: str | None = None,
        api_key: str | None = None,
        domain: str | None = None,
        server_url: str | None = None,
        token_store: TokenStore | None = None,
        timeout: Timeout | float | tuple[float, float] = Timeout(),
        http_client: httpx.AsyncClient | None = None,
        transport: AsyncTransport | None = None,
        allow_insecure_http: bool = False,
    ) -> None:
        where = (app_id, api_key, domain, server_url)
        store = self._configure(*where, token_store, timeout, allow_insecure_http)
        if transport is not None and http_client is not None:
            raise ConfigurationError(
                "pass http_client= or transport=, not both", argument="transport"
            )
        try:
            from ._service_async import AsyncUserService
            from ._transport_async import HttpxTransport
        except ModuleNotFoundError as exc:
            raise ConfigurationError(
                f"AsyncBackendless needs {exc.name}: pip install 'backendless-auth[async]'"
            ) from None

        if transport is None:
            transport = HttpxTransport(self._timeout, http_client)
        self._transport_async = transport
        self.users = AsyncUserService(self._config, transport, store)
        """The user service: logins, logout, the current user; every call awaited."""

    async def aclose(self) -> None:
        """Release the pooled connections this app opened (not those of your own client)."""
        await self._transport_async.aclose()

    async def __aenter__(self) -> Self:
        return self

    async def __aexit__(
        self,
        exc_type: type[BaseException] | None,
        exc: BaseException | None,
        traceback: TracebackType | None,
    ) -> None:
        await self.aclose()


_STORE_METHODS = ("load", "save", "clear")
