"""Log in with the provider's token, the Python way: its OAuth flow, then Backendless.

Where a mobile or web app would use the provider's SDK to get an access token and hand it to
``login_with_oauth2``, a Python program runs the provider's OAuth flow itself, on
requests-oauthlib, with a loopback redirect (RFC 8252) to :class:`~backendless_auth.browser.
LoopbackReceiver`:

* OAuth2 (Google, Facebook, GitHub, LinkedIn, or any provider by URLs): authorization code with
  PKCE (S256) and ``state``; the code is exchanged for a token at the provider's token URL;
* OAuth 1.0a (Twitter): a request token, the browser authorizes it, the verifier comes back
  through the loopback, and is exchanged for an access token and secret.

:func:`login_with_provider` does the flow and then the Backendless login in one call;
:func:`fetch_provider_token` stops at the provider's token. Register a *desktop* (native,
"installed app") client at the provider, with ``http://127.0.0.1/callback`` as its redirect URI
(any port: RFC 8252 §7.3; the path is :data:`~backendless_auth.browser.DEFAULT_REDIRECT_PATH`,
and ``redirect_path=`` changes it).

The presets carry the providers' real public endpoints; point one elsewhere (the emulator's fake
providers, a proxy) with :meth:`OAuth2Provider.with_urls` / :meth:`OAuth1Provider.with_urls`::

    ep = emu.provider_endpoints("google")
    google = providers.GOOGLE.with_urls(authorize_url=ep.authorize_url, token_url=ep.token_url)

requests-oauthlib and oauthlib are imported only when a flow runs. They log codes and tokens at
DEBUG; see ``docs/login-flows.md`` for how to quiet them.
"""

from __future__ import annotations

import base64
import dataclasses
import hashlib
import ipaddress
import logging
import os
import secrets
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any, Protocol, TypeVar, cast
from urllib.parse import urlsplit

from . import browser
from ._redact import REDACTOR
from .exceptions import (
    BackendlessError,
    InvalidArgumentError,
    LoginCancelledError,
    LoginFlowError,
)

if TYPE_CHECKING:
    from ._models import BackendlessUser
    from ._providers_async import fetch_provider_token_async, login_with_provider_async
    from ._service import UserService

__all__ = [
    "FACEBOOK",
    "GITHUB",
    "GOOGLE",
    "LINKEDIN",
    "PRESETS",
    "TWITTER",
    "OAuth1Provider",
    "OAuth2Provider",
    "ProviderToken",
    "fetch_provider_token",
    "fetch_provider_token_async",
    "login_with_provider",
    "login_with_provider_async",
    "preset",
]

logger = logging.getLogger("backendless_auth")

T = TypeVar("T")

# Seconds one request to the provider (token exchange, request token) may take.
_REQUEST_TIMEOUT = 30.0
_LOOPBACK_NAMES = frozenset({"localhost"})


def _check_url(value: object, argument: str) -> str:
    if not isinstance(value, str) or not value.strip():
        raise InvalidArgumentError(f"{argument} must be a non-empty URL", argument=argument)
    try:
        parts = urlsplit(value)
        host = parts.hostname or ""
    except ValueError:
        raise InvalidArgumentError(f"{argument} is not a URL", argument=argument) from None
    if parts.scheme == "https" and host:
        return value
    if parts.scheme == "http" and host and _is_loopback(host):
        return value
    raise InvalidArgumentError(
        f"{argument} must be an https:// URL (plain http:// only to this machine)",
        argument=argument,
    )


def _is_loopback(host: str) -> bool:
    if host in _LOOPBACK_NAMES:
        return True
    try:
        return ipaddress.ip_address(host).is_loopback
    except ValueError:
        return False


@dataclass(frozen=True)
class OAuth2Provider:
    """An OAuth2 provider: where to authorize and exchange the code, and what to ask for.

    Build one for any provider (the "generic provider"), or start from a preset.

    Attributes:
        code: The provider's code in the Backendless console (``"google"``, a custom code).
        authorize_url: The provider's authorization endpoint.
        token_url: The provider's token endpoint.
        scope: The default scope, sent as given (Google: spaces; Facebook, GitHub: commas).
        userinfo_url: The profile endpoint, for reference (the flow does not call it).
        authorize_params: Extra query parameters for the authorization request.
    """

    code: str
    authorize_url: str
    token_url: str
    scope: str = ""
    userinfo_url: str | None = None
    authorize_params: Mapping[str, str] = field(default_factory=dict)

    def __post_init__(self) -> None:
        if not isinstance(self.code, str) or not self.code.strip():
            raise InvalidArgumentError("code must be a non-empty provider code", argument="code")
        _check_url(self.authorize_url, "authorize_url")
        _check_url(self.token_url, "token_url")
        if self.userinfo_url is not None:
            _check_url(self.userinfo_url, "userinfo_url")
        if not isinstance(self.scope, str):
            raise InvalidArgumentError("scope must be a string", argument="scope")

    def with_urls(
        self,
        *,
        authorize_url: str | None = None,
        token_url: str | None = None,
        userinfo_url: str | None = None,
    ) -> OAuth2Provider:
        """A copy pointing at other URLs (the emulator's fake provider, a proxy)."""
        return dataclasses.replace(
            self,
            authorize_url=authorize_url or self.authorize_url,
            token_url=token_url or self.token_url,
            userinfo_url=userinfo_url or self.userinfo_url,
        )


@dataclass(frozen=True)
class OAuth1Provider:
    """An OAuth 1.0a provider (Twitter): its three endpoints.

    Attributes:
        code: The provider's code in the Backendless console (``"twitter"``).
        request_token_url: Where the request token is obtained.
        authorize_url: Where the person authorizes it in the browser.
        access_token_url: Where the verifier is exchanged for the access token and secret.
    """

    code: str
    request_token_url: str
    authorize_url: str
    access_token_url: str

    def __post_init__(self) -> None:
        if not isinstance(self.code, str) or not self.code.strip():
            raise InvalidArgumentError("code must be a non-empty provider code", argument="code")
        _check_url(self.request_token_url, "request_token_url")
        _check_url(self.authorize_url, "authorize_url")
        _check_url(self.access_token_url, "access_token_url")

    def with_urls(
        self,
        *,
        request_token_url: str | None = None,
        authorize_url: str | None = None,
        access_token_url: str | None = None,
    ) -> OAuth1Provider:
        """A copy pointing at other URLs (the emulator's fake Twitter, a proxy)."""
        return dataclasses.replace(
            self,
            request_token_url=request_token_url or self.request_token_url,
            authorize_url=authorize_url or self.authorize_url,
            access_token_url=access_token_url or self.access_token_url,
        )


GOOGLE = OAuth2Provider(
    code="google",
    authorize_url="https://accounts.google.com/o/oauth2/v2/auth",
    token_url="https://oauth2.googleapis.com/token",
    userinfo_url="https://openidconnect.googleapis.com/v1/userinfo",
    scope="openid email profile",
)
FACEBOOK = OAuth2Provider(
    code="facebook",
    authorize_url="https://www.facebook.com/v19.0/dialog/oauth",
    token_url="https://graph.facebook.com/v19.0/oauth/access_token",
    userinfo_url="https://graph.facebook.com/me?fields=id,name,email",
    scope="email,public_profile",
)
GITHUB = OAuth2Provider(
    code="github",
    authorize_url="https://github.com/login/oauth/authorize",
    token_url="https://github.com/login/oauth/access_token",
    userinfo_url="https://api.github.com/user",
    scope="read:user,user:email",
)
LINKEDIN = OAuth2Provider(
    code="linkedin",
    authorize_url="https://www.linkedin.com/oauth/v2/authorization",
    token_url="https://www.linkedin.com/oauth/v2/accessToken",
    userinfo_url="https://api.linkedin.com/v2/userinfo",
    scope="openid profile email",
)
TWITTER = OAuth1Provider(
    code="twitter",
    request_token_url="https://api.twitter.com/oauth/request_token",
    authorize_url="https://api.twitter.com/oauth/authenticate",
    access_token_url="https://api.twitter.com/oauth/access_token",
)

PRESETS: Mapping[str, OAuth2Provider | OAuth1Provider] = {
    p.code: p for p in (GOOGLE, FACEBOOK, GITHUB, LINKEDIN, TWITTER)
}
"""The built-in providers by code, with their real public endpoints."""


def preset(name: str, **urls: str) -> OAuth2Provider | OAuth1Provider:
    """A built-in provider by code, optionally pointed at other URLs.

    Args:
        name: ``"google"``, ``"facebook"``, ``"github"``, ``"linkedin"`` or ``"twitter"``.
        **urls: URL overrides, as for ``with_urls`` (``authorize_url=``, ``token_url=``...).

    Raises:
        InvalidArgumentError: Unknown name or URL keyword, or a URL that is refused.
    """
    found = PRESETS.get(name.lower()) if isinstance(name, str) else None
    if found is None:
        raise InvalidArgumentError(
            f"no preset named {name!r}: use one of {', '.join(sorted(PRESETS))}, or build an "
            "OAuth2Provider from URLs",
            argument="provider",
        )
    try:
        return found.with_urls(**urls)
    except TypeError:
        raise InvalidArgumentError(
            f"{name} takes no URL named {', '.join(sorted(urls))}", argument="urls"
        ) from None


@dataclass(frozen=True)
class ProviderToken:
    """What a provider gave: an OAuth2 access token, or an OAuth1 token and secret.

    Secrets are hidden from ``repr``.

    Attributes:
        provider: The provider's code.
        access_token: The access token (OAuth1: ``oauth_token``).
        token_secret: The OAuth1 token secret; ``None`` for OAuth2.
        refresh_token: The OAuth2 refresh token, when one was given.
        expires_at: When the access token expires (epoch seconds), when known.
        scope: The granted scope, when the provider said.
        raw: The whole token answer.
    """

    provider: str
    access_token: str = field(repr=False)
    token_secret: str | None = field(default=None, repr=False)
    refresh_token: str | None = field(default=None, repr=False)
    expires_at: float | None = None
    scope: str | None = None
    raw: Mapping[str, Any] = field(default_factory=dict, repr=False)


# --- argument checks -------------------------------------------------------------------------


def _provider(value: object) -> OAuth2Provider | OAuth1Provider:
    if isinstance(value, (OAuth2Provider, OAuth1Provider)):
        return value
    if isinstance(value, str):
        return preset(value)
    raise InvalidArgumentError(
        "provider must be a preset name or an OAuth2Provider / OAuth1Provider, not "
        f"{type(value).__name__}",
        argument="provider",
    )


def _client_id(value: object) -> str:
    if not isinstance(value, str) or not value.strip():
        raise InvalidArgumentError("client_id must be a non-empty string", argument="client_id")
    return value


def _client_secret(value: object, *, required: bool) -> str | None:
    if value is None and not required:
        return None
    if not isinstance(value, str) or not value:
        need = "is required for OAuth 1.0a" if required else "must be a non-empty string or None"
        raise InvalidArgumentError(f"client_secret {need}", argument="client_secret")
    return value


def _scope(value: object, default: str) -> str:
    if value is None:
        return default
    if isinstance(value, str):
        return value
    # bytes is a Sequence too: b"" would otherwise pass as "no scope".
    if (
        isinstance(value, Sequence)
        and not isinstance(value, (bytes, bytearray))
        and all(isinstance(item, str) and item for item in value)
    ):
        return " ".join(value)
    raise InvalidArgumentError(
        "scope must be a string, or a sequence of non-empty strings", argument="scope"
    )


def _check_transport(provider: OAuth2Provider) -> None:
    # requests-oauthlib refuses plain http for the code exchange unless told otherwise
    # process-wide; say so now rather than after the person has signed in.
    insecure = [
        url for url in (provider.authorize_url, provider.token_url) if url.startswith("http:")
    ]
    if insecure and not os.environ.get("OAUTHLIB_INSECURE_TRANSPORT"):
        raise InvalidArgumentError(
            "requests-oauthlib refuses plain http:// URLs: for a provider on this machine (the "
            "emulator) set the environment variable OAUTHLIB_INSECURE_TRANSPORT=1",
            argument="provider",
        )


# --- the flows -------------------------------------------------------------------------------


def _pkce_pair() -> tuple[str, str]:
    verifier = secrets.token_urlsafe(64)  # 86 characters, within RFC 7636's 43..128
    digest = hashlib.sha256(verifier.encode("ascii")).digest()
    challenge = base64.urlsafe_b64encode(digest).rstrip(b"=").decode("ascii")
    return verifier, challenge


def _provider_failure(exc: BaseException, provider: str, step: str) -> BackendlessError:
    """Our error for a failure of requests / requests-oauthlib at one step of a flow.

    Raise it after the ``except`` block that caught ``exc``: raised inside, even ``from None``,
    it would keep ``exc`` (whose request holds the code, verifier or client secret) as its
    ``__context__``, which error reporters walk.
    """
    import requests

    from ._transport import _transport_error

    if isinstance(exc, requests.RequestException):
        return _transport_error(exc, "POST", f"{provider} {step}")
    # oauthlib's OAuth2Error carries the provider's error code; requests-oauthlib's OAuth1
    # errors the HTTP status. Neither message is used: they may quote the request.
    error = getattr(exc, "error", None)
    status = getattr(exc, "status_code", None)
    details = [error] if isinstance(error, str) and error else []
    if isinstance(status, int):
        details.append(f"HTTP {status}")
    detail = ", ".join(details) or type(exc).__name__
    return LoginFlowError(f"{provider} refused the {step}: {detail}")


def _oauth2_flow(
    provider: OAuth2Provider,
    client_id: str,
    client_secret: str | None,
    scope: str,
    run: Callable[..., T],
) -> T:
    from requests_oauthlib import OAuth2Session

    verifier, challenge = _pkce_pair()
    REDACTOR.add(verifier, client_secret)
    REDACTOR.install()
    sessions: list[Any] = []

    def authorization_url(receiver: browser.LoopbackReceiver) -> str:
        session = OAuth2Session(client_id, redirect_uri=receiver.redirect_uri, scope=scope or None)
        sessions.append(session)
        url, _state = session.authorization_url(
            provider.authorize_url,
            state=receiver.state,
            code_challenge=challenge,
            code_challenge_method="S256",
            **dict(provider.authorize_params),
        )
        return str(url)

    def complete(callback: browser.Callback) -> ProviderToken:
        params = callback.params
        if "error" in params:
            raise browser.flow_error(
                params["error"], None, description=params.get("error_description")
            )
        code = params.get("code")
        if not code:
            raise LoginFlowError(f"{provider.code}'s redirect carried no authorization code")
        REDACTOR.add(code)
        session = sessions[-1]
        # Raised after the except block, so that requests-oauthlib's error (the request body:
        # code, verifier, client secret) is not kept as the context of ours.
        failure: BackendlessError | None = None
        try:
            token = session.fetch_token(
                provider.token_url,
                code=code,
                client_secret=client_secret,
                include_client_id=True,
                code_verifier=verifier,
                timeout=_REQUEST_TIMEOUT,
            )
        except Warning as warning:  # oauthlib: the scope granted differs from the one asked
            token = getattr(warning, "token", None)
            if token is None:
                raise
        except Exception as exc:
            failure = _provider_failure(exc, provider.code, "authorization code")
        if failure is not None:
            raise failure
        return _oauth2_token(provider.code, token)

    return run(authorization_url, complete)


def _oauth2_token(code: str, token: Mapping[str, Any]) -> ProviderToken:
    access = token.get("access_token")
    if not isinstance(access, str) or not access:
        raise LoginFlowError(f"{code}'s token answer held no access_token")
    refresh = token.get("refresh_token")
    REDACTOR.add(access, refresh if isinstance(refresh, str) else None, token.get("id_token"))
    expires = token.get("expires_at")
    scope = token.get("scope")
    return ProviderToken(
        provider=code,
        access_token=access,
        refresh_token=refresh if isinstance(refresh, str) else None,
        expires_at=float(expires) if isinstance(expires, (int, float)) else None,
        scope=" ".join(scope) if isinstance(scope, list) else scope,
        raw=dict(token),
    )


def _oauth1_flow(
    provider: OAuth1Provider,
    consumer_key: str,
    consumer_secret: str,
    run: Callable[..., T],
) -> T:
    from requests_oauthlib import OAuth1Session

    REDACTOR.add(consumer_secret)
    REDACTOR.install()
    request_tokens: list[tuple[str, str]] = []

    def authorization_url(receiver: browser.LoopbackReceiver) -> str:
        session = OAuth1Session(
            consumer_key, client_secret=consumer_secret, callback_uri=receiver.redirect_url
        )
        failure: BackendlessError | None = None
        try:
            answer = session.fetch_request_token(
                provider.request_token_url, timeout=_REQUEST_TIMEOUT
            )
        except Exception as exc:
            failure = _provider_failure(exc, provider.code, "request token")
        if failure is not None:
            raise failure
        token, secret = answer.get("oauth_token"), answer.get("oauth_token_secret")
        if not token or not secret:
            raise LoginFlowError(f"{provider.code}'s request token answer was incomplete")
        REDACTOR.add(token, secret)
        request_tokens.append((token, secret))
        return str(session.authorization_url(provider.authorize_url))

    def complete(callback: browser.Callback) -> ProviderToken:
        params = callback.params
        token, secret = request_tokens[-1]
        if "denied" in params:
            raise LoginCancelledError(f"the sign-in was denied at {provider.code}")
        if "error" in params:
            raise browser.flow_error(params["error"], params.get("code"))
        verifier = params.get("oauth_verifier")
        returned = params.get("oauth_token") or ""
        if not verifier or not secrets.compare_digest(returned.encode(), token.encode()):
            raise LoginFlowError(
                f"{provider.code}'s redirect carried no verifier for this sign-in's request token"
            )
        REDACTOR.add(verifier)
        session = OAuth1Session(
            consumer_key,
            client_secret=consumer_secret,
            resource_owner_key=token,
            resource_owner_secret=secret,
            verifier=verifier,
        )
        failure: BackendlessError | None = None
        try:
            answer = session.fetch_access_token(provider.access_token_url, timeout=_REQUEST_TIMEOUT)
        except Exception as exc:
            failure = _provider_failure(exc, provider.code, "verifier")
        if failure is not None:
            raise failure
        access, access_secret = answer.get("oauth_token"), answer.get("oauth_token_secret")
        if not access or not access_secret:
            raise LoginFlowError(f"{provider.code}'s access token answer was incomplete")
        REDACTOR.add(access, access_secret)
        return ProviderToken(
            provider=provider.code,
            access_token=access,
            token_secret=access_secret,
            raw=dict(answer),
        )

    return run(authorization_url, complete)


class _Start(Protocol):
    def __call__(
        self, then: Callable[[ProviderToken], T], message: Callable[[T], str] | None
    ) -> T: ...


def _flow(
    provider: object,
    client_id: object,
    client_secret: object,
    scope: object,
    open_browser: object,
    opener: object,
    timeout: object,
    redirect_host: object = browser.LOOPBACK_HOST,
    redirect_path: object = browser.DEFAULT_REDIRECT_PATH,
) -> _Start:
    """Check every argument, then return the flow, ready to run (no socket, no request yet).

    The returned callable runs the flow; ``then`` turns the provider's token into the result
    while the browser's page still waits, so that the page shows the real outcome.
    """
    chosen = _provider(provider)
    key = _client_id(client_id)
    oauth1 = isinstance(chosen, OAuth1Provider)
    secret = _client_secret(client_secret, required=oauth1)
    wait = browser.check_flow_options(open_browser=open_browser, opener=opener, timeout=timeout)
    host, path = browser.check_redirect_options(host=redirect_host, path=redirect_path)
    if path is None:
        raise InvalidArgumentError(
            "redirect_path must be the path registered at the provider, such as '/callback'",
            argument="redirect_path",
        )
    registered = f"http://{host}{path}"

    def hint(receiver: browser.LoopbackReceiver) -> str:
        return (
            f"If the browser stopped on an error page at {chosen.code} (such as "
            f"invalid_redirect_uri), check that the client {key!r} registered there allows "
            f"the redirect URI {registered} with any port (this sign-in used "
            f"{receiver.origin}{path})."
        )

    scopes = ""
    if isinstance(chosen, OAuth2Provider):
        scopes = _scope(scope, chosen.scope)
        _check_transport(chosen)
    elif scope is not None:
        raise InvalidArgumentError("OAuth 1.0a providers take no scope", argument="scope")

    def run_with(run: Callable[..., Any]) -> Any:
        if isinstance(chosen, OAuth1Provider):
            assert secret is not None
            return _oauth1_flow(chosen, key, secret, run)
        return _oauth2_flow(chosen, key, secret, scopes, run)

    def start(then: Callable[[ProviderToken], T], message: Callable[[T], str] | None) -> T:
        def run(
            authorization_url: Callable[[browser.LoopbackReceiver], str],
            complete: Callable[[browser.Callback], ProviderToken],
        ) -> T:
            return browser.run_in_browser(
                authorization_url,
                lambda callback: then(complete(callback)),
                **options,
                success_message=message,
            )

        result: T = run_with(run)
        return result

    # What the async twins (_providers_async) need to run the same flow around their receiver.
    options: dict[str, Any] = {
        "label": chosen.code,
        "open_browser": bool(open_browser),
        "opener": cast("Callable[[str], object] | None", opener),
        "timeout": wait,
        "redirect_host": host,
        "redirect_path": path,
        "timeout_hint": hint,
    }
    start.run_with = run_with  # type: ignore[attr-defined]
    start.options = options  # type: ignore[attr-defined]
    return start


def fetch_provider_token(
    provider: str | OAuth2Provider | OAuth1Provider,
    *,
    client_id: str,
    client_secret: str | None = None,
    scope: str | Sequence[str] | None = None,
    open_browser: bool = True,
    opener: Callable[[str], object] | None = None,
    timeout: float = browser.DEFAULT_TIMEOUT,
    redirect_path: str = browser.DEFAULT_REDIRECT_PATH,
    redirect_host: str = browser.LOOPBACK_HOST,
) -> ProviderToken:
    """Run the provider's OAuth flow in a browser and return its token (no Backendless call).

    Args:
        provider: A preset name (``"google"``...), or an :class:`OAuth2Provider` /
            :class:`OAuth1Provider`.
        client_id: Your desktop client's id at the provider (OAuth1: the consumer key).
        client_secret: Its secret, when the provider issues one to desktop clients (Google,
            GitHub do); required for OAuth1 (the consumer secret).
        scope: The scope, instead of the provider's default: a string sent as given, or a
            sequence joined with spaces.
        open_browser: Open the system browser; when False (or none can open) print the URL.
        opener: Called with the sign-in's one-time start URL instead of the system browser;
            one that only shows the link (``SignInURL.authorization_url``) returns ``False``.
        timeout: Seconds to wait for the person; on a timeout the message names the
            redirect URI to check at the provider.
        redirect_path: The path of the loopback redirect URI,
            :data:`~backendless_auth.browser.DEFAULT_REDIRECT_PATH` (``/callback``) by
            default: register ``http://127.0.0.1/callback`` at the provider.
        redirect_host: ``"127.0.0.1"`` (the default, as RFC 8252 recommends) or
            ``"localhost"`` (for a provider that accepts only that, as Microsoft's).

    Returns:
        The provider's token.

    Raises:
        InvalidArgumentError: An argument is refused; nothing was opened or sent.
        LoginCancelledError: The person denied access at the provider.
        LoginFlowError: The provider refused the code or verifier, or answered oddly.
        LoginTimeoutError: Nobody finished within ``timeout``.
        TransportError: A request to the provider did not complete.
    """
    start = _flow(
        provider,
        client_id,
        client_secret,
        scope,
        open_browser,
        opener,
        timeout,
        redirect_host,
        redirect_path,
    )
    return start(_got_token, None)


def login_with_provider(
    users: UserService,
    provider: str | OAuth2Provider | OAuth1Provider,
    *,
    client_id: str,
    client_secret: str | None = None,
    scope: str | Sequence[str] | None = None,
    provider_code: str | None = None,
    guest_user: BackendlessUser | Mapping[str, Any] | None = None,
    fields_mapping: Mapping[str, str] | None = None,
    stay_logged_in: bool = False,
    open_browser: bool = True,
    opener: Callable[[str], object] | None = None,
    timeout: float = browser.DEFAULT_TIMEOUT,
    redirect_path: str = browser.DEFAULT_REDIRECT_PATH,
    redirect_host: str = browser.LOOPBACK_HOST,
) -> BackendlessUser:
    """Get the provider's token in a browser, then log in to Backendless with it.

    OAuth2 providers end in :meth:`UserService.login_with_oauth2
    <backendless_auth.UserService.login_with_oauth2>`, Twitter (OAuth 1.0a) in
    :meth:`~backendless_auth.UserService.login_with_oauth1`. The browser tab shows the
    outcome of the Backendless login too.

    Args:
        users: The app's user service, ``app.users``.
        provider: A preset name (``"google"``...), or an :class:`OAuth2Provider` /
            :class:`OAuth1Provider`.
        client_id: Your desktop client's id at the provider (OAuth1: the consumer key).
        client_secret: Its secret, when the provider issues one (required for OAuth1).
        scope: The scope, instead of the provider's default.
        provider_code: The provider's code in the Backendless console, when it differs
            from ``provider.code``.
        guest_user: A guest user to upgrade.
        fields_mapping: Provider field to Users column.
        stay_logged_in: Keep the session in the token store for the next run.
        open_browser: Open the system browser; when False (or none can open) print the URL.
        opener: Called with the sign-in's one-time start URL instead of the system browser;
            one that only shows the link (``SignInURL.authorization_url``) returns ``False``.
        timeout: Seconds to wait for the person; on a timeout the message names the
            redirect URI to check at the provider.
        redirect_path: The path of the loopback redirect URI,
            :data:`~backendless_auth.browser.DEFAULT_REDIRECT_PATH` (``/callback``) by
            default: register ``http://127.0.0.1/callback`` at the provider.
        redirect_host: ``"127.0.0.1"`` (the default, as RFC 8252 recommends) or
            ``"localhost"`` (for a provider that accepts only that, as Microsoft's).

    Returns:
        The logged-in user, carrying its ``user_token``.

    Raises:
        InvalidArgumentError: An argument is refused; nothing was opened or sent.
        LoginCancelledError: The person denied access at the provider.
        LoginFlowError: The provider refused the code or verifier, or answered oddly.
        LoginTimeoutError: Nobody finished within ``timeout``.
        ApiError: Backendless refused the provider's token (see its subclasses).
        TransportError: A request did not complete.
        TokenStoreError: Logged in, but the session could not be stored.
    """
    from ._service import UserService

    if not isinstance(users, UserService):
        raise InvalidArgumentError(
            "users must be the app's UserService (app.users)", argument="users"
        )
    start = _flow(
        provider,
        client_id,
        client_secret,
        scope,
        open_browser,
        opener,
        timeout,
        redirect_host,
        redirect_path,
    )
    code = _backendless_code(
        users, provider, provider_code, guest_user, fields_mapping, stay_logged_in
    )

    def login(token: ProviderToken) -> BackendlessUser:
        user: BackendlessUser = _login(
            users, code, token, guest_user, fields_mapping, stay_logged_in
        )
        return user

    return start(login, _signed_in_as)


def _backendless_code(
    users: Any,
    provider: object,
    provider_code: object,
    guest_user: object,
    fields_mapping: object,
    stay_logged_in: object,
) -> str:
    """Check the Backendless side's arguments now, not after the person has signed in."""
    from . import _checks as checks
    from . import _user_args as user_args

    chosen = _provider(provider)
    code = chosen.code if provider_code is None else provider_code
    if not isinstance(code, str) or not code.strip():
        raise InvalidArgumentError(
            "provider_code must be a non-empty string", argument="provider_code"
        )
    checks.provider_code(code)
    checks.fields_mapping(fields_mapping)
    checks.flag(stay_logged_in, "stay_logged_in")
    if guest_user is not None:
        user_args.guest_user(guest_user)
    return code


def _login(
    users: Any,
    code: str,
    token: ProviderToken,
    guest_user: Any,
    fields_mapping: Any,
    stay_logged_in: Any,
) -> Any:
    """The Backendless login with the provider's token: its result, or its coroutine (async)."""
    if token.token_secret is not None:
        return users.login_with_oauth1(
            code,
            token.access_token,
            token.token_secret,
            guest_user=guest_user,
            fields_mapping=fields_mapping,
            stay_logged_in=stay_logged_in,
        )
    return users.login_with_oauth2(
        code,
        token.access_token,
        guest_user=guest_user,
        fields_mapping=fields_mapping,
        stay_logged_in=stay_logged_in,
    )


def _got_token(token: ProviderToken) -> ProviderToken:
    logger.info("got a %s token in the browser", token.provider)
    return token


def _signed_in_as(user: BackendlessUser) -> str:
    who = user.name or user.email
    return f"You are signed in as {who}." if who else "You are signed in."


def __getattr__(name: str) -> Any:
    # The async twins import anyio: only when asked for (the [async] extra).
    if name in ("login_with_provider_async", "fetch_provider_token_async"):
        from . import _providers_async

        return getattr(_providers_async, name)
    raise AttributeError(f"module {__name__!r} has no attribute {name!r}")
