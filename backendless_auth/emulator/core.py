"""The :class:`Emulator` object: a local Backendless user service with fake login providers."""

from __future__ import annotations

import contextlib
import os
import secrets
import uuid
from collections.abc import Iterable, Iterator, Mapping, Sequence
from dataclasses import dataclass, field
from types import EllipsisType
from typing import TYPE_CHECKING, Any

from .app import EmulatorApp, endpoints_dict
from .config import (
    BUILTIN_PROVIDERS,
    OAUTH1_PROVIDERS,
    AccountSettings,
    ConfigError,
    CustomProvider,
    accounts_settings_from_mapping,
    custom_from_mapping,
    load_config,
)
from .cors import LOOPBACK, CorsPolicy
from .db import Database
from .faults import Fault, FaultKind
from .outbox import Email
from .recording import RecordedRequest
from .server import ServerLoop, close_connections, serve
from .wire import ApiError

if TYPE_CHECKING:
    from werkzeug.serving import BaseWSGIServer

    from backendless_auth import Backendless


@dataclass(frozen=True)
class Account:
    """An account at a fake provider (what a person would sign in with)."""

    provider: str
    id: str
    email: str | None
    name: str | None


@dataclass(frozen=True)
class OAuth2Endpoints:
    """A fake OAuth2 provider's URLs and its registered public desktop client."""

    provider: str
    authorize_url: str
    token_url: str
    userinfo_url: str
    client_id: str
    client_secret: str = field(repr=False)
    scope: str = ""

    def as_dict(self) -> dict[str, str]:
        return {k: str(v) for k, v in self.__dict__.items()}


@dataclass(frozen=True)
class OAuth1Endpoints:
    """The fake Twitter's OAuth 1.0a URLs and its registered desktop consumer."""

    provider: str
    request_token_url: str
    authorize_url: str
    access_token_url: str
    verify_credentials_url: str
    consumer_key: str
    consumer_secret: str = field(repr=False)

    def as_dict(self) -> dict[str, str]:
        return {k: str(v) for k, v in self.__dict__.items()}


DEFAULT_SESSION_TTL = 3600.0


def _cors_origins(given: Iterable[str] | None, cfg: Mapping[str, Any]) -> list[str]:
    value = given if given is not None else cfg.get("corsOrigins", [LOOPBACK])
    if isinstance(value, str) or not all(isinstance(v, str) for v in value):
        raise ConfigError("corsOrigins must be a list of origins (or 'loopback')")
    origins = list(value)
    try:
        CorsPolicy(origins)
    except ValueError as exc:
        raise ConfigError(str(exc)) from None
    return origins


def _object_id(user: Any) -> str | None:
    if user is None or isinstance(user, str):
        return user
    found = user.get("objectId") if isinstance(user, Mapping) else getattr(user, "object_id", None)
    if not isinstance(found, str):
        raise ValueError("guest must be an objectId, a user in wire form or a BackendlessUser")
    return found


def _uuid() -> str:
    return str(uuid.uuid4()).upper()


class Emulator:
    """A local Backendless user service with fake OAuth1/OAuth2 providers, over real HTTP.

    Use it as a context manager (or call :meth:`start` and :meth:`stop`)::

        with Emulator() as emu:
            app = emu.app()
            user = app.users.login_as_guest()

    Args:
        db: a SQLite file to keep data across restarts; ``None`` keeps it in memory.
        config: a config mapping or the path of a JSON config file (see
            :mod:`backendless_auth.emulator.config`); explicit arguments win over it.
        host: the interface to bind (loopback by default).
        port: the port; 0 picks a free one.
        app_id: fixed application id (random, or the one stored in ``db``, by default).
        api_key: fixed REST API key.
        admin_token: fixed admin token for the ``/_emulator/`` routes.
        session_ttl: seconds a user token lives; ``None``: forever. Default: the config's
            ``sessionTtl``, else one hour.
        allowed_redirects: URL prefixes allowed as ``redirectAfterLoginUrl`` besides loopback.
        disabled_providers: provider codes to disable.
        custom_providers: custom OAuth2 providers configured by URLs.
        seed: create two demo accounts per built-in provider (also after :meth:`reset`).
        cors_origins: the web origins allowed to call the Backendless routes from a browser
            (``"http://localhost:5173"``, or ``"loopback"`` for every loopback origin, the
            default; ``[]`` turns CORS off). See :mod:`backendless_auth.emulator.cors`.
        verbose: log each request like werkzeug does.
        cloud_code_key: fixed CloudCode (server-side) API key; the calls Backendless allows
            only from server code need it in the URL (see :attr:`cloud_code_key`).
        users: the options for accounts with passwords, an
            :class:`~backendless_auth.emulator.config.AccountSettings` or a mapping in the
            config file's ``"users"`` form (identity column, email confirmation, lockout,
            password policy, custom roles); default: the config's ``"users"``.
    """

    def __init__(
        self,
        db: str | os.PathLike[str] | None = None,
        config: Mapping[str, Any] | str | os.PathLike[str] | None = None,
        host: str = "127.0.0.1",
        port: int = 0,
        *,
        app_id: str | None = None,
        api_key: str | None = None,
        admin_token: str | None = None,
        session_ttl: float | EllipsisType | None = ...,
        allowed_redirects: Iterable[str] = (),
        disabled_providers: Iterable[str] = (),
        custom_providers: Sequence[CustomProvider] = (),
        seed: bool | None = None,
        cors_origins: Iterable[str] | None = None,
        verbose: bool = False,
        cloud_code_key: str | None = None,
        users: AccountSettings | Mapping[str, Any] | None = None,
    ) -> None:
        cfg = load_config(config)
        self.host = host
        self.port = port
        self.verbose = verbose
        self._db = Database(os.fspath(db) if db is not None else None)

        def pick(value: str | None, key: str, meta: str) -> str:
            chosen = value or cfg.get(key) or self._db.get_meta(meta)
            if not chosen:
                chosen = secrets.token_urlsafe(24) if meta == "admin_token" else _uuid()
            self._db.set_meta(meta, str(chosen))
            return str(chosen)

        ttl = cfg.get("sessionTtl", DEFAULT_SESSION_TTL) if session_ttl is ... else session_ttl
        self._app = EmulatorApp(
            self._db,
            app_id=pick(app_id, "appId", "app_id"),
            api_key=pick(api_key, "apiKey", "api_key"),
            admin_token=pick(admin_token, "adminToken", "admin_token"),
            session_ttl=None if ttl is None else float(ttl),
            allowed_redirects=[*cfg.get("allowedRedirects", []), *allowed_redirects],
            seed=bool(cfg.get("seed", True) if seed is None else seed),
            seed_accounts=cfg.get("accounts"),
            cors_origins=_cors_origins(cors_origins, cfg),
        )
        try:
            for item in cfg.get("customProviders") or []:
                self._app.add_custom(custom_from_mapping(item))
            for code, settings in (cfg.get("providers") or {}).items():
                if not isinstance(settings, dict):
                    raise ConfigError(f"providers.{code} must be an object")
                self.configure_provider(
                    code,
                    enabled=settings.get("enabled"),
                    client_id=settings.get("clientId"),
                    client_secret=settings.get("clientSecret"),
                )
        except (AttributeError, TypeError, ValueError) as exc:
            raise ConfigError(f"invalid emulator config: {exc}") from exc
        for code in disabled_providers:
            self.configure_provider(code, enabled=False)
        for custom in custom_providers:
            self._app.add_custom(custom)
        # Accounts with passwords.
        self._app.accounts.cloud_code_key = pick(cloud_code_key, "cloudCodeKey", "cloud_code_key")
        if isinstance(users, AccountSettings):
            users.check()
            self._app.accounts.settings = users
        else:
            self._app.accounts.settings = accounts_settings_from_mapping(
                users if users is not None else cfg.get("users")
            )
        self._app.snapshot()
        self._server: BaseWSGIServer | None = None
        self._loop: ServerLoop | None = None

    # --- lifecycle -------------------------------------------------------------------------
    def start(self) -> Emulator:
        """Start serving in a background thread (idempotent)."""
        if self._server is None:
            self._server = serve(self._app, self.host, self.port, verbose=self.verbose)
            self._loop = ServerLoop(self._server)
            self._loop.start()
        return self

    def stop(self) -> None:
        """Stop serving and close open connections; the database stays usable."""
        server, self._server = self._server, None
        loop, self._loop = self._loop, None
        if loop is not None:
            loop.stop()
        if server is not None:
            close_connections(server)
            server.server_close()

    def close(self) -> None:
        """Stop and close the database."""
        self.stop()
        self._db.close()

    def __enter__(self) -> Emulator:
        return self.start()

    def __exit__(self, *exc: object) -> None:
        self.close()

    @property
    def wsgi_app(self) -> EmulatorApp:
        """The WSGI application (for serving it with another server)."""
        return self._app

    @property
    def url(self) -> str:
        """``http://HOST:PORT`` of the running emulator."""
        if self._server is None:
            raise RuntimeError("the emulator is not running; call start() first")
        host = self.host if ":" not in self.host else f"[{self.host}]"
        return f"http://{host}:{self._server.server_port}"

    @property
    def app_id(self) -> str:
        return self._app.app_id

    @property
    def api_key(self) -> str:
        return self._app.api_key

    @property
    def admin_token(self) -> str:
        return self._app.admin_token

    @property
    def session_ttl(self) -> float | None:
        return self._app.session_ttl

    @session_ttl.setter
    def session_ttl(self, value: float | None) -> None:
        self._app.session_ttl = value

    @property
    def base_url(self) -> str:
        """The Backendless base URL in the app id + API key form."""
        return f"{self.url}/{self.app_id}/{self.api_key}"

    @property
    def domain_url(self) -> str:
        """The Backendless base URL in the domain form (``url + "/api"``)."""
        return f"{self.url}/api"

    # --- SDK objects -----------------------------------------------------------------------
    def app(self, **kwargs: Any) -> Backendless:
        """A ``Backendless`` app configured with this emulator's app id and API key."""
        from backendless_auth import Backendless

        return Backendless(app_id=self.app_id, api_key=self.api_key, server_url=self.url, **kwargs)

    def domain_app(self, **kwargs: Any) -> Backendless:
        """A ``Backendless`` app in the domain form (``domain=emu.url``)."""
        from backendless_auth import Backendless

        return Backendless(domain=self.url, **kwargs)

    # --- providers -------------------------------------------------------------------------
    def provider_endpoints(self, provider: str) -> OAuth2Endpoints | OAuth1Endpoints:
        """A built-in fake provider's URLs and its public desktop client (RFC 8252)."""
        if provider in OAUTH1_PROVIDERS:
            return self.oauth1_endpoints(provider)
        return self.oauth2_endpoints(provider)

    def oauth2_endpoints(self, provider: str) -> OAuth2Endpoints:
        if provider not in BUILTIN_PROVIDERS or provider in OAUTH1_PROVIDERS:
            raise ValueError(f"{provider!r} is not a built-in OAuth2 provider")
        d = endpoints_dict(provider, self.url, self._app.desktop[provider])
        return OAuth2Endpoints(provider=provider, **d)

    def oauth1_endpoints(self, provider: str = "twitter") -> OAuth1Endpoints:
        if provider not in OAUTH1_PROVIDERS:
            raise ValueError(f"{provider!r} is not a built-in OAuth1 provider")
        d = endpoints_dict(provider, self.url, self._app.desktop[provider])
        return OAuth1Endpoints(provider=provider, **d)

    def configure_provider(
        self,
        provider: str,
        *,
        enabled: bool | None = None,
        client_id: str | None = None,
        client_secret: str | None = None,
    ) -> None:
        """Change what the Backendless side knows about a provider (the console's screen)."""
        settings = self._app.providers.get(provider.lower())
        if settings is None:
            raise ValueError(f"unknown provider {provider!r}")
        if enabled is not None:
            settings.enabled = bool(enabled)
        if client_id is not None or client_secret is not None:
            settings.client_id = client_id or settings.client_id
            settings.client_secret = client_secret or settings.client_secret
            self._app.set_provider(settings)

    def disable_provider(self, provider: str) -> None:
        self.configure_provider(provider, enabled=False)

    def enable_provider(self, provider: str) -> None:
        self.configure_provider(provider, enabled=True)

    def add_custom_provider(self, provider: CustomProvider) -> None:
        """Add a custom OAuth2 provider configured by URLs."""
        self._app.add_custom(provider)

    def add_account(
        self, provider: str, *, email: str | None = None, name: str | None = None, **extra: Any
    ) -> Account:
        """Create an account at a fake provider (``extra`` adds or overrides profile fields;
        ``id=`` fixes the provider's user id)."""
        try:
            acct = self._app.create_account(provider, email=email, name=name, **extra)
        except ApiError as exc:
            raise ValueError(exc.message) from None
        return Account(provider, acct["id"], acct.get("email"), acct.get("name"))

    def accounts(self, provider: str) -> list[Account]:
        """The accounts a fake provider offers on its sign-in page, in order."""
        return [
            Account(provider, a["id"], a.get("email"), a.get("name"))
            for a in self._db.list_accounts(provider)
        ]

    def provider_token(self, provider: str, account: Account | str) -> Any:
        """A valid access token of ``provider`` for ``account`` (issued to the desktop client).

        Returns:
            the token (``str``); for Twitter a ``(token, secret)`` pair.
        """
        account_id = account.id if isinstance(account, Account) else str(account)
        try:
            token, secret = self._app.mint_provider_token(provider, account_id)
        except ApiError as exc:
            raise ValueError(exc.message) from None
        if secret is not None:
            return (token, secret)
        return token

    def oauth2_token(self, provider: str, account: Account | str) -> str:
        """Like :meth:`provider_token`, typed for an OAuth2 provider."""
        if provider in OAUTH1_PROVIDERS:
            raise ValueError(f"{provider!r} is an OAuth1 provider; use oauth1_token()")
        token: str = self.provider_token(provider, account)
        return token

    def oauth1_token(self, provider: str, account: Account | str) -> tuple[str, str]:
        """Like :meth:`provider_token`, typed for an OAuth1 provider: ``(token, secret)``."""
        if provider not in OAUTH1_PROVIDERS:
            raise ValueError(f"{provider!r} is not an OAuth1 provider; use oauth2_token()")
        pair: tuple[str, str] = self.provider_token(provider, account)
        return pair

    # --- users and sessions ----------------------------------------------------------------
    def users(self) -> list[dict[str, Any]]:
        """Every user, in wire form (without ``user-token``), oldest first."""
        return self._db.all_users()

    def user(self, object_id: str) -> dict[str, Any] | None:
        return self._db.get_user(object_id)

    def seed_guest(self) -> dict[str, Any]:
        """Create a guest user with an open session, without a client: its wire form, with
        ``user-token``."""
        return self._app.new_guest()

    def seed_user(
        self,
        provider: str = "google",
        *,
        email: str | None = None,
        name: str | None = None,
        guest: Any = None,
        **extra: Any,
    ) -> dict[str, Any]:
        """Create a social user, as if they had logged in with ``provider`` once.

        A new account at the fake provider (``email``, ``name``, ``extra`` as for
        :meth:`add_account`), then a login with it (upgrading ``guest`` if given: a guest's
        objectId, its wire form, or the SDK's ``BackendlessUser``). Returns the user in wire
        form, with a live ``user-token``.
        """
        account = self.add_account(provider, email=email, name=name, **extra)
        guest_id = _object_id(guest)
        try:
            return self._app.seed_social_user(provider, account.id, guest_id)
        except ApiError as exc:
            raise ValueError(exc.message) from None

    def expire_sessions(self, user_token: str | None = None) -> int:
        """Expire one user token, or all of them; returns how many were expired."""
        return self._db.expire_sessions(user_token)

    def reset(self) -> None:
        """Back to as new: every user, session, provider account and token, every record of
        every table gone, faults cleared, the providers and ``session_ttl`` as constructed, the
        demo accounts seeded again. The app id, API key and admin token stay."""
        self._app.reset()

    # --- accounts with passwords -----------------------------------------------------------
    @property
    def cloud_code_key(self) -> str:
        """The CloudCode (server-side) API key: ``/<APP_ID>/<CLOUD_CODE_KEY>/...``."""
        return self._app.accounts.cloud_code_key

    @property
    def cloud_code_url(self) -> str:
        """The Backendless base URL with the CloudCode key (what server code uses)."""
        return f"{self.url}/{self.app_id}/{self.cloud_code_key}"

    def server_app(self, **kwargs: Any) -> Backendless:
        """A ``Backendless`` app on the CloudCode key, as server-side code would hold it."""
        from backendless_auth import Backendless

        return Backendless(
            app_id=self.app_id, api_key=self.cloud_code_key, server_url=self.url, **kwargs
        )

    @property
    def user_settings(self) -> AccountSettings:
        """The live account options; changing an attribute applies to the next request."""
        return self._app.accounts.settings

    def configure_users(self, **options: Any) -> AccountSettings:
        """Change account options in the config file's form, e.g.
        ``configure_users(emailConfirmation=True, lockout={"attempts": 3, "seconds": 60})``."""
        try:
            self._app.accounts.settings.update(options)
        except (TypeError, ValueError) as exc:
            raise ConfigError(str(exc)) from None
        return self._app.accounts.settings

    def outbox(self, to: str | None = None, kind: str | None = None) -> list[Email]:
        """The emails the emulator would have sent, oldest first (``to``: one address)."""
        return [Email.from_wire(m) for m in self._app.accounts.outbox.list(to, kind)]

    def clear_outbox(self) -> int:
        """Empty the outbox; returns how many emails it held."""
        return self._app.accounts.outbox.clear()

    def roles(self, object_id: str) -> list[str]:
        """A user's roles (system and custom), as ``users/userroles/<id>`` answers them."""
        user = self._db.get_user(object_id)
        return [] if user is None else self._app.accounts.roles_of(user)

    @contextlib.contextmanager
    def record_requests(self) -> Iterator[list[RecordedRequest]]:
        """Collect the requests to the Backendless routes while the block runs (see
        :mod:`.recording`)::

            with emu.record_requests() as log:
                app.users.login_as_guest()
            assert [(r.method, r.route) for r in log] == [("POST", "users/register/guest")]
        """
        log = self._app.recorders.start()
        try:
            yield log
        finally:
            self._app.recorders.stop(log)

    # --- faults ----------------------------------------------------------------------------
    def set_fault(
        self,
        kind: FaultKind,
        *,
        path: str | None = None,
        method: str | None = None,
        count: int | None = 1,
        delay: float = 1.0,
        status: int = 503,
    ) -> Fault:
        """Program a fault for the next ``count`` matching requests (``None``: until cleared).

        Args:
            kind: ``"delay"`` (wait ``delay`` s, then answer), ``"reset"`` (drop the connection
                mid-response) or ``"error"`` (answer ``status``, e.g. 502 or 503).
            path: a regular expression searched in the request path; ``None`` matches all.
            method: only requests with this HTTP method.
        """
        return self._app.faults.add(
            Fault(kind, path=path, method=method, count=count, delay=delay, status=status)
        )

    def clear_faults(self) -> None:
        self._app.faults.clear()

    def faults(self) -> list[Fault]:
        return self._app.faults.list()
