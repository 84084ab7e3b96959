"""The ``UserService``: the calls of Backendless's user service, and the session they set."""

from __future__ import annotations

import contextlib
import json
import logging
import threading
import time
from collections.abc import Callable, Mapping, Sequence
from typing import Any
from urllib.parse import quote

import attrs

from . import _answers as answers
from . import _checks as checks
from . import _wire
from ._config import AppConfig
from ._models import BackendlessUser, StoredSession
from ._redact import REDACTOR
from ._stores_memory import TokenStore
from ._transport import HttpResponse, Transport
from .exceptions import (
    ApiError,
    ConfigurationError,
    InvalidArgumentError,
    SessionExpiredError,
    TokenStoreError,
    UnexpectedResponseError,
)

logger = logging.getLogger("backendless_auth")


@attrs.frozen
class _Session:
    """The current session: replaced whole, never changed in place, so readers see one piece."""

    token: str = attrs.field(repr=False)
    user_id: str | None
    user: BackendlessUser | None


class UserService:
    """Logins, logout and the current user of one Backendless app.

    Get it as ``Backendless(...).users``. One service may be shared by many threads: the
    session is replaced whole under a lock, and no lock is held while a request is in flight.
    """

    def __init__(self, config: AppConfig, transport: Transport, token_store: TokenStore) -> None:
        # Checked here, not at the first call: a wrong object would surface as AttributeError.
        if not callable(getattr(transport, "send", None)):
            raise ConfigurationError(
                "transport must have a send() method (see Transport)", argument="transport"
            )
        self._config = config
        self._transport = transport
        self._store = token_store
        self._lock = threading.RLock()
        self._session: _Session | None = None
        self._restored = False

    def __repr__(self) -> str:
        return f"UserService(namespace={self._config.namespace!r})"

    # --- state ------------------------------------------------------------------------------

    @property
    def token_store(self) -> TokenStore:
        """The store that keeps "stay logged in" sessions."""
        return self._store

    @property
    def current_user(self) -> BackendlessUser | None:
        """The logged-in user, when this process logged in or loaded it; no request is made."""
        session = self._current()
        return session.user if session else None

    @property
    def current_user_id(self) -> str | None:
        """The logged-in user's objectId; after a restart, the one in the token store."""
        session = self._current()
        return session.user_id if session else None

    @property
    def user_token(self) -> str | None:
        """The session token; after a restart, the one in the token store."""
        session = self._current()
        return session.token if session else None

    def _current(self) -> _Session | None:
        """The session, first read from the token store when this service has not yet looked."""
        if not self._restored:
            with self._lock:
                if not self._restored:
                    self._session = self._restore()
                    self._restored = True
        return self._session

    def _restore(self) -> _Session | None:
        try:
            stored = self._store.load(self._config.namespace)
        except TokenStoreError as exc:
            logger.warning("no stored session read: %s", exc)
            return None
        if stored is None:
            return None
        REDACTOR.add(stored.user_token)
        logger.debug("session restored from %s", type(self._store).__name__)
        return _Session(token=stored.user_token, user_id=stored.user_id, user=None)

    def _set_logged_in(self, user: BackendlessUser, *, stay_logged_in: bool) -> None:
        token = user.user_token
        assert token is not None
        with self._lock:
            self._session = _Session(token=token, user_id=user.object_id, user=user)
            self._restored = True
            namespace = self._config.namespace
            try:
                if stay_logged_in:
                    self._store.save(
                        namespace,
                        StoredSession(
                            user_token=token,
                            user_id=user.object_id,
                            stay_logged_in=True,
                            saved_at=time.time(),
                        ),
                    )
                else:
                    self._store.clear(namespace)
            except TokenStoreError as exc:
                if stay_logged_in:
                    # Never leave an older session stored: a restart would bring it back.
                    with contextlib.suppress(TokenStoreError):
                        self._store.clear(namespace)
                action = "saved in" if stay_logged_in else "cleared from"
                raise TokenStoreError(
                    f"logged in, but the session could not be {action} the token store: {exc}"
                ) from exc

    def _forget(self, session: _Session | None) -> None:
        """Clear ``session`` from memory and store, unless another login replaced it meanwhile."""
        with self._lock:
            # Already None: clear the store anyway, an earlier clear of it may have failed.
            if self._session is not None and self._session is not session:
                return
            self._session = None
            self._restored = True
            self._store.clear(self._config.namespace)

    # --- HTTP -------------------------------------------------------------------------------

    def _call(
        self,
        method: str,
        template: str,
        *segments: str,
        body: Mapping[str, Any] | None = None,
        session: _Session | None,
    ) -> HttpResponse:
        """Send one request; return a 2xx answer or raise the matching error.

        A session-expired answer clears ``session`` (when it is still the current one).
        """
        path = template.format(*(quote(segment, safe="") for segment in segments))
        headers = {}
        if session is not None:
            headers[_wire.USER_TOKEN_HEADER] = session.token
        data = None
        if body is not None:
            headers["Content-Type"] = "application/json"
            data = json.dumps(body, separators=(",", ":")).encode()
        answer = self._transport.send(
            method, self._config.base_url + path, headers=headers, body=data, label=template
        )
        if 200 <= answer.status < 300:
            return answer
        error = answers.error_from(answer, method, template)
        if isinstance(error, SessionExpiredError) and session is not None:
            try:
                self._forget(session)
            except TokenStoreError as exc:
                # The caller must learn that the session is dead, not that the store hiccuped;
                # a stale stored token is cleared again on the next dead-session answer.
                logger.warning("the dead session could not be cleared from the store: %s", exc)
        raise error

    def _login(
        self, template: str, provider: str | None, body: Mapping[str, Any] | None, stay: bool
    ) -> BackendlessUser:
        session = self._current()
        segments = (provider,) if provider is not None else ()
        answer = self._call("POST", template, *segments, body=body, session=session)
        user = answers.user_from(answer, need_token=True)
        REDACTOR.add(user.user_token)
        self._set_logged_in(user, stay_logged_in=stay)
        logger.info("logged in as user %s", user.object_id)
        return user

    # --- the calls --------------------------------------------------------------------------

    def login_with_oauth2(
        self,
        provider_code: str,
        access_token: str,
        *,
        guest_user: BackendlessUser | Mapping[str, Any] | None = None,
        fields_mapping: Mapping[str, str] | None = None,
        stay_logged_in: bool = False,
    ) -> BackendlessUser:
        """Log in with an OAuth2 provider's access token (Google, Facebook, GitHub, ...).

        Args:
            provider_code: The provider's code in the Backendless console, e.g. ``"google"``.
            access_token: The access token the provider gave your app.
            guest_user: A guest user to upgrade: it keeps its objectId and becomes a real user.
            fields_mapping: Provider field to Users column, e.g. ``{"email": "email"}``.
            stay_logged_in: Keep the session in the token store for the next run.

        Returns:
            The logged-in user, carrying its ``user_token``.

        Raises:
            InvalidArgumentError: An argument is refused; nothing was sent.
            ApiError: Backendless refused the login (see its subclasses); the previous session
                is kept.
            TransportError: The request did not complete; the previous session is kept.
            TokenStoreError: Logged in, but the session could not be stored.
        """
        return self._oauth_login(
            provider_code, access_token, None, guest_user, fields_mapping, stay_logged_in
        )

    def login_with_oauth1(
        self,
        provider_code: str,
        access_token: str,
        access_token_secret: str,
        *,
        guest_user: BackendlessUser | Mapping[str, Any] | None = None,
        fields_mapping: Mapping[str, str] | None = None,
        stay_logged_in: bool = False,
    ) -> BackendlessUser:
        """Log in with an OAuth 1.0a provider's access token and secret (Twitter).

        Args:
            provider_code: The provider's code, e.g. ``"twitter"``.
            access_token: The OAuth1 access token.
            access_token_secret: The OAuth1 access token secret.
            guest_user: A guest user to upgrade.
            fields_mapping: Provider field to Users column.
            stay_logged_in: Keep the session in the token store for the next run.

        Returns:
            The logged-in user, carrying its ``user_token``.

        Raises:
            InvalidArgumentError: An argument is refused; nothing was sent.
            ApiError: Backendless refused the login; the previous session is kept.
            TransportError: The request did not complete; the previous session is kept.
            TokenStoreError: Logged in, but the session could not be stored.
        """
        secret = checks.secret(access_token_secret, "access_token_secret")
        return self._oauth_login(
            provider_code, access_token, secret, guest_user, fields_mapping, stay_logged_in
        )

    def _oauth_login(
        self,
        provider_code: object,
        access_token: object,
        access_token_secret: str | None,
        guest_user: object,
        fields_mapping: object,
        stay_logged_in: object,
    ) -> BackendlessUser:
        provider = checks.provider_code(provider_code)
        token = checks.secret(access_token, "access_token")
        mapping = checks.fields_mapping(fields_mapping)
        stay = checks.flag(stay_logged_in, "stay_logged_in")
        guest = self._guest_wire(guest_user)
        REDACTOR.add(token, access_token_secret)
        body = _wire.oauth_login_body(
            token,
            access_token_secret=access_token_secret,
            fields_mapping=mapping,
            guest_user=guest,
        )
        return self._login(_wire.OAUTH_LOGIN, provider, body, stay)

    def _guest_wire(self, guest_user: object) -> dict[str, Any] | None:
        if guest_user is None:
            return None
        if isinstance(guest_user, BackendlessUser):
            user = guest_user
        elif isinstance(guest_user, Mapping):
            try:
                user = BackendlessUser.from_wire(guest_user)
            except InvalidArgumentError as exc:
                raise InvalidArgumentError(
                    f"guest_user is not a user object: {exc}", argument="guest_user"
                ) from None
        else:
            raise InvalidArgumentError(
                f"guest_user must be a BackendlessUser or a user mapping, not "
                f"{type(guest_user).__name__}",
                argument="guest_user",
            )
        if not user.is_guest:
            raise InvalidArgumentError(
                f"guest_user must be a guest (userStatus GUEST), not {user.user_status!r}",
                argument="guest_user",
            )
        if user.user_token is None:
            session = self._current()
            if session is not None and session.user_id == user.object_id:
                user = user.with_token(session.token)
        return user.to_wire()

    def get_authorization_url(
        self,
        provider_code: str,
        *,
        fields_mapping: Mapping[str, str] | None = None,
        scope: str | Sequence[str] | None = None,
        scope_separator: str = " ",
        redirect_after_login_url: str | None = None,
        callback_url_domain: str | None = None,
    ) -> str:
        """Ask Backendless for the URL that starts a provider login in a browser.

        Args:
            provider_code: The provider's code, e.g. ``"google"``.
            fields_mapping: Provider field to Users column.
            scope: The permissions: a string sent as given, or a sequence joined with
                ``scope_separator`` (Google wants spaces, most others commas).
            scope_separator: What joins a sequence ``scope``.
            redirect_after_login_url: Where Backendless sends the browser after the login,
                with ``userId`` and ``userToken`` in the query.
            callback_url_domain: A custom domain for the provider's callback.

        Returns:
            The provider's authorization URL.

        Raises:
            InvalidArgumentError: An argument is refused; nothing was sent.
            ApiError: Backendless refused (e.g. 3080 for a redirect URL it does not allow).
            UnexpectedResponseError: The answer held no URL.
        """
        provider = checks.provider_code(provider_code)
        body = _wire.request_url_body(
            fields_mapping=checks.fields_mapping(fields_mapping),
            permissions=checks.scope(scope, scope_separator),
            redirect_after_login_url=checks.redirect_url(
                redirect_after_login_url, "redirect_after_login_url"
            ),
            callback_url_domain=checks.optional_str(callback_url_domain, "callback_url_domain"),
        )
        answer = self._call("POST", _wire.REQUEST_URL, provider, body=body, session=self._current())
        return answers.url_from(answer)

    def login_as_guest(self, *, stay_logged_in: bool = False) -> BackendlessUser:
        """Register and log in an anonymous guest user.

        Upgrade it later by passing it as ``guest_user=`` to a social login.

        Args:
            stay_logged_in: Keep the session in the token store for the next run.

        Returns:
            The guest user (``is_guest`` is true), carrying its ``user_token``.

        Raises:
            ApiError: Backendless refused; the previous session is kept.
            TransportError: The request did not complete; the previous session is kept.
            TokenStoreError: Logged in, but the session could not be stored.
        """
        stay = checks.flag(stay_logged_in, "stay_logged_in")
        return self._login(_wire.GUEST_LOGIN, None, None, stay)

    def logout(self) -> None:
        """End the session on the server, then forget it here and in the token store.

        An answer saying the session is already gone (3023, 3064, 3090, 3091, or any other
        session-expired code) counts as done.

        Raises:
            ApiError: Any other refusal; the session is kept.
            TransportError: The request did not complete; the session is kept.
        """
        session = self._current()
        if session is not None:
            try:
                self._call("GET", _wire.LOGOUT, session=session)
            except ApiError as exc:
                gone = isinstance(exc, SessionExpiredError)
                if not gone and exc.code not in _wire.SESSION_GONE_ON_LOGOUT:
                    raise
                logger.debug("logout: the session was already gone (code %s)", exc.code)
        self._forget(session)
        logger.info("logged out")

    def is_valid_login(self) -> bool:
        """Ask the server whether the current session token is still valid.

        Returns:
            ``False`` without a request when there is no session.

        Raises:
            TransportError: The request did not complete.
            ApiError: Backendless refused the check itself (not "invalid": that is ``False``).
        """
        session = self._current()
        if session is None:
            return False
        try:
            answer = self._call("GET", _wire.TOKEN_CHECK, session.token, session=session)
        except SessionExpiredError:
            return False
        valid = answers.json_from(answer)
        if not isinstance(valid, bool):
            raise UnexpectedResponseError(
                "the token check answered something other than true or false",
                status=answer.status,
                body=answers.diagnostic(answer.body),
            )
        return valid

    def get_current_user(self, *, reload: bool = False) -> BackendlessUser | None:
        """Return the logged-in user, loading it from the server when needed.

        Args:
            reload: Load it even when it is already in memory.

        Returns:
            The user with the session's ``user_token``, or ``None`` when nobody is logged in.

        Raises:
            SessionExpiredError: The session is no longer valid; it has been cleared.
            ApiError, TransportError, UnexpectedResponseError: The load failed.
        """
        checks.flag(reload, "reload")
        session = self._current()
        if session is None:
            return None
        if session.user is not None and not reload:
            return session.user
        if session.user_id is None:
            return session.user
        answer = self._call("GET", _wire.LOAD_USER, session.user_id, session=session)
        user = answers.user_from(answer, need_token=False).with_token(session.token)
        with self._lock:
            if self._session is session:
                self._session = attrs.evolve(session, user=user)
        return user

    def login_with_browser(
        self,
        provider_code: str,
        *,
        fields_mapping: Mapping[str, str] | None = None,
        scope: str | Sequence[str] | None = None,
        callback_url_domain: str | None = None,
        stay_logged_in: bool = False,
        open_browser: bool = True,
        opener: Callable[[str], object] | None = None,
        timeout: float = 300,
        redirect_path: str | None = None,
        redirect_host: str = "127.0.0.1",
    ) -> BackendlessUser:
        """Log in through the provider's sign-in page in a browser, without the provider's SDK.

        A one-shot receiver listens on ``127.0.0.1`` (a free port, an unguessable path, a
        ``state``); Backendless's authorization URL is asked for with the receiver as
        ``redirectAfterLoginUrl`` and opened; after the sign-in Backendless redirects the
        browser there with ``userId`` and ``userToken``; the user is loaded with that token
        and becomes the current user. The browser tab then shows the outcome. See
        ``docs/login-flows.md``.

        Args:
            provider_code: The provider's code in the Backendless console, e.g. ``"google"``.
            fields_mapping: Provider field to Users column.
            scope: The permissions: a string sent as given, or a sequence joined with spaces.
            callback_url_domain: A custom domain for the provider's callback.
            stay_logged_in: Keep the session in the token store for the next run.
            open_browser: Open the system browser. When False, or where no browser can open
                (no display, an SSH session), the URL is printed (and shown as a link in
                Jupyter) and the call keeps waiting.
            opener: Called with the sign-in's one-time start URL (a
                :class:`~backendless_auth.browser.SignInURL`) instead of the system browser
                (an embedded browser, a test driver); one that only shows the link returns
                ``False``.
            timeout: Seconds to wait for the person to finish.
            redirect_path: The path of ``redirectAfterLoginUrl`` before its state segment;
                random by default.
            redirect_host: ``"127.0.0.1"`` (the default) or ``"localhost"`` in that URL.

        Returns:
            The logged-in user, carrying its ``user_token``.

        Raises:
            InvalidArgumentError: An argument is refused; no socket was opened, nothing sent.
            LoginCancelledError: The person denied the login at the provider.
            LoginFlowError: Backendless reported another failure (``code`` holds its code).
            LoginTimeoutError: Nobody finished within ``timeout``.
            KeyboardInterrupt: Ctrl+C while waiting; the port is released first.
            ApiError: Backendless refused the authorization URL or the user load.
            TransportError: A request did not complete.
            TokenStoreError: Logged in, but the session could not be stored.
        """
        provider = checks.provider_code(provider_code)
        mapping = checks.fields_mapping(fields_mapping)
        permissions = checks.scope(scope, " ")
        domain = checks.optional_str(callback_url_domain, "callback_url_domain")
        stay = checks.flag(stay_logged_in, "stay_logged_in")
        from . import browser

        wait = browser.check_flow_options(open_browser=open_browser, opener=opener, timeout=timeout)
        host, path = browser.check_redirect_options(host=redirect_host, path=redirect_path)

        def authorization_url(receiver: browser.LoopbackReceiver) -> str:
            return self.get_authorization_url(
                provider,
                fields_mapping=mapping,
                scope=permissions,
                redirect_after_login_url=receiver.path_state_url,
                callback_url_domain=domain,
            )

        def complete(callback: browser.Callback) -> BackendlessUser:
            token, user_id = browser.read_backendless_redirect(callback.params)
            return self._adopt_session(token, user_id, stay_logged_in=stay)

        return browser.run_in_browser(
            authorization_url,
            complete,
            label=provider,
            open_browser=open_browser,
            opener=opener,
            timeout=wait,
            success_message=_signed_in_as,
            redirect_host=host,
            redirect_path=path,
            timeout_hint=browser.backendless_timeout_hint(provider),
        )

    def complete_browser_login(
        self, redirected_url: str, *, stay_logged_in: bool = False
    ) -> BackendlessUser:
        """Finish a browser login from the address the browser ended on.

        For when the browser cannot reach this machine's loopback (a remote notebook kernel):
        get the authorization URL (:meth:`login_with_browser` prints it), sign in, and pass
        the address of the page that did not load, ``...?userId=...&userToken=...``. The
        person copied it from their own browser, so no ``state`` is checked.

        Args:
            redirected_url: The whole ``http(s)://`` address, with its query.
            stay_logged_in: Keep the session in the token store for the next run.

        Returns:
            The logged-in user, carrying its ``user_token``.

        Raises:
            InvalidArgumentError: Not a redirect URL carrying a session or an error; nothing
                was sent.
            LoginCancelledError: The URL reports that the person denied the login.
            LoginFlowError: The URL reports another failure (``code`` holds its code).
            ApiError: The user could not be loaded with the token (e.g. it expired).
            TransportError: The request did not complete.
            TokenStoreError: Logged in, but the session could not be stored.
        """
        from . import browser

        params = browser.params_from_url(redirected_url, argument="redirected_url")
        stay = checks.flag(stay_logged_in, "stay_logged_in")
        has_session = ("userToken" in params or "user-token" in params) and "userId" in params
        if not has_session and "error" not in params and "code" not in params:
            raise InvalidArgumentError(
                "redirected_url carries neither userId and userToken nor an error: copy the "
                "address of the page the browser ended on after the sign-in",
                argument="redirected_url",
            )
        token, user_id = browser.read_backendless_redirect(params)
        return self._adopt_session(token, user_id, stay_logged_in=stay)

    def _adopt_session(
        self, user_token: str, user_id: str, *, stay_logged_in: bool
    ) -> BackendlessUser:
        """Make a session obtained elsewhere (a browser login) the current one.

        The user is loaded with that token first, so a bad token never replaces a good session.
        """
        token = checks.secret(user_token, "user_token")
        object_id = checks.secret(user_id, "user_id")
        REDACTOR.add(token)
        candidate = _Session(token=token, user_id=object_id, user=None)
        answer = self._call("GET", _wire.LOAD_USER, object_id, session=candidate)
        user = answers.user_from(answer, need_token=False).with_token(token)
        self._set_logged_in(user, stay_logged_in=stay_logged_in)
        logger.info("logged in as user %s", user.object_id)
        return user


def _signed_in_as(user: BackendlessUser) -> str:
    """The sentence the browser shows after a browser login."""
    who = user.name or user.email
    return f"You are signed in as {who}." if who else "You are signed in."
