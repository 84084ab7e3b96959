"""The user service written once, without I/O: every call is a generator of effects.

A call such as :meth:`Core.login_as_guest` checks its arguments, then *yields* what it needs
done and receives the outcome: a :class:`Request` (answered with an
:class:`~backendless_auth.HttpResponse`) or a :class:`StoreCall` (answered with what the token
store returned). A failure of the transport or the store is thrown into the generator at the
``yield``. The generator's return value is the call's result. This is the model of httpx's
``Auth.auth_flow``; the two drivers (:class:`~backendless_auth.UserService`, blocking, and
:class:`~backendless_auth.AsyncUserService`, async) only carry effects out.

The session state machine lives here too, once: restored from the store on first use, replaced
whole on a login, forgotten when the server calls it dead unless another login replaced it
meanwhile; a failed login or a failed adoption never touches the current or the stored session.
"""

from __future__ import annotations

import contextlib
import json
import logging
import threading
import time
from collections.abc import Callable, Generator, Mapping, Sequence
from typing import TYPE_CHECKING, Any, Generic, Literal, TypeVar
from urllib.parse import quote

from . import _answers as answers
from . import _checks as checks
from . import _user_args as user_args
from . import _wire
from ._config import AppConfig
from ._http import HttpResponse
from ._locale import client_locale
from ._record import field, record, replace
from ._redact import REDACTOR
from ._session import StoredSession
from ._stores_memory import MemoryTokenStore, TokenStore
from .exceptions import (
    ApiError,
    InvalidArgumentError,
    NotLoggedInError,
    SessionExpiredError,
    TokenStoreError,
    UnexpectedResponseError,
)

if TYPE_CHECKING:
    # Built by _answers, on first use: attrs classes, kept off the import path (see _record).
    from ._models import BackendlessUser, UserProperty

logger = logging.getLogger("backendless_auth")

T = TypeVar("T")


@record
class Request:
    """An effect: send one HTTP request and send back its :class:`HttpResponse`, any status.

    ``path`` is relative to the app's base URL (which holds the API key) and may hold a token;
    ``label`` names the call in a user's words (``"is_valid_login"``) and is what errors and
    logs show in place of the URL.
    """

    method: str
    path: str = field(repr=False)
    headers: Mapping[str, str] = field(repr=False)
    body: bytes | None = field(repr=False)
    label: str


@record
class StoreCall:
    """An effect: one token-store operation on the app's namespace, run by :meth:`Core.run_store`.

    ``guard`` is a step of the in-memory state machine (no I/O) that must happen atomically
    with the store operation: it runs first, under the store lock, and when it returns
    ``False`` the operation is skipped. The result sent back is what ``load`` returned (``None``
    when skipped), or whether ``save``/``clear`` ran.
    """

    action: Literal["load", "save", "clear"]
    session: StoredSession | None = field(default=None, repr=False)
    guard: Callable[[], bool] | None = field(default=None, repr=False, eq=False)


Effect = Request | StoreCall
Flow = Generator[Effect, Any, T]
"""What a call of the core is: a generator yielding effects and returning the call's result."""


class Steps(Generic[T]):
    """One run of a flow, for a driver: ``next()`` gives the next effect (``None`` when done),
    ``answer()`` or ``fail()`` gives its outcome, ``value`` is the flow's result at the end.

    A failure is thrown into the flow at its ``yield``, outside any ``except`` block of the
    driver, so it carries no foreign context.
    """

    def __init__(self, flow: Flow[T]) -> None:
        self._flow = flow
        self._result: Any = None
        self._error: Exception | None = None
        self.value: T

    def next(self) -> Effect | None:
        try:
            if self._error is None:
                effect = self._flow.send(self._result)
            else:
                effect = self._flow.throw(self._error)
        except StopIteration as stop:
            self.value = stop.value
            return None
        self._result = self._error = None
        return effect

    def answer(self, result: object) -> None:
        self._result = result

    def fail(self, error: Exception) -> None:
        self._error = error


@record
class _Session:
    """The current session: replaced whole, never changed in place, so readers see one piece."""

    token: str = field(repr=False)
    user_id: str | None
    user: BackendlessUser | None


class Core:
    """The state and the calls of one app's user service; shared by nothing but its driver.

    Thread- and task-safe: the session is replaced whole under a short lock that is never held
    across a ``yield``; store operations run one at a time under the store lock, together with
    the state change they belong to, so memory and store never disagree about who won.
    """

    def __init__(self, config: AppConfig, token_store: TokenStore) -> None:
        self.config = config
        self.store = token_store
        # A store that only touches memory needs no worker thread on the async side.
        self.store_is_inline = type(token_store) is MemoryTokenStore
        self._lock = threading.Lock()
        self._store_lock = threading.Lock()
        self._session: _Session | None = None
        self._restored = False

    # --- running store effects (shared by both drivers) --------------------------------------

    def run_store(self, call: StoreCall) -> Any:
        """Carry out a :class:`StoreCall`: blocking; the async driver runs it in a worker thread."""
        namespace = self.config.namespace
        with self._store_lock:
            if call.guard is not None and not call.guard():
                return None if call.action == "load" else False
            if call.action == "load":
                return self.store.load(namespace)
            if call.action == "save":
                assert call.session is not None
                self.store.save(namespace, call.session)
            else:
                self.store.clear(namespace)
            return True

    def run_local(self, flow: Flow[T]) -> T:
        """Run a flow that needs only the store, inline (the properties of both drivers)."""
        try:
            effect = next(flow)
            while True:
                assert isinstance(effect, StoreCall), "a property never sends a request"
                try:
                    result = self.run_store(effect)
                except TokenStoreError as exc:
                    effect = flow.throw(exc)
                else:
                    effect = flow.send(result)
        except StopIteration as stop:
            value: T = stop.value
            return value

    # --- the session state machine -----------------------------------------------------------

    def current(self) -> Flow[_Session | None]:
        """The session, first read from the token store when nobody has looked yet."""
        if not self._restored:
            try:
                stored = yield StoreCall("load", guard=lambda: not self._restored)
            except TokenStoreError as exc:
                logger.warning("no stored session read: %s", exc)
                stored = None
            session = None
            if isinstance(stored, StoredSession):
                session = _Session(token=stored.user_token, user_id=stored.user_id, user=None)
                REDACTOR.pin(session, stored.user_token)
            with self._lock:
                # A login that finished meanwhile has set _restored and wins.
                if not self._restored:
                    self._session = session
                    self._restored = True
                    if session is not None:
                        logger.debug("session restored from %s", type(self.store).__name__)
        return self._session

    def _set_logged_in(self, user: BackendlessUser, *, stay_logged_in: bool) -> Flow[None]:
        token = user.user_token
        assert token is not None
        session = _Session(token=token, user_id=user.object_id, user=user)
        yield from self._install(session, stay_logged_in=stay_logged_in)

    def _install(self, session: _Session, *, stay_logged_in: bool) -> Flow[None]:
        """Make ``session`` the current one; store it, or clear the store (every login does)."""
        token = session.token
        REDACTOR.pin(session, token)

        def commit() -> bool:
            with self._lock:
                self._session = session
                self._restored = True
            return True

        try:
            if stay_logged_in:
                stored = StoredSession(
                    user_token=token,
                    user_id=session.user_id,
                    stay_logged_in=True,
                    saved_at=time.time(),
                )
                yield StoreCall("save", stored, guard=commit)
            else:
                yield StoreCall("clear", guard=commit)
        except TokenStoreError as exc:
            if stay_logged_in:
                # Never leave an older session stored: a restart would bring it back.
                with contextlib.suppress(TokenStoreError):
                    yield StoreCall("clear")
            action = "saved in" if stay_logged_in else "cleared from"
            raise TokenStoreError(
                f"logged in, but the session could not be {action} the token store: {exc}"
            ) from exc

    def _forget(self, session: _Session | None) -> Flow[None]:
        """Clear ``session`` from memory and store, unless another login replaced it meanwhile."""

        def forget() -> bool:
            with self._lock:
                # Already None: clear the store anyway, an earlier clear of it may have failed.
                if self._session is not None and self._session is not session:
                    return False
                self._session = None
                self._restored = True
            return True

        yield StoreCall("clear", guard=forget)

    def peek(self) -> _Session | None:
        """The session in memory, without reading the store."""
        return self._session

    # --- requests ----------------------------------------------------------------------------

    def _request(
        self,
        method: str,
        template: str,
        *segments: str,
        label: str,
        session: _Session | None,
        body: Mapping[str, Any] | None = None,
        adopting: bool = False,
        query: str = "",
        safe: str = "",
    ) -> Flow[HttpResponse]:
        """Send one request; return a 2xx answer or raise the matching error.

        A session-expired answer forgets ``session`` when it is still the current one; not
        when ``adopting`` (a candidate that never became current must not clear anything).
        ``safe`` names the characters a segment keeps unencoded; ``query`` is appended as is.
        """
        path = template.format(*(quote(segment, safe=safe) for segment in segments))
        if query:
            path = f"{path}?{query}"
        headers = {}
        if session is not None:
            headers[_wire.USER_TOKEN_HEADER] = session.token
        data = None
        if body is not None:
            headers["Content-Type"] = "application/json"
            data = json.dumps(body, separators=(",", ":"), allow_nan=False).encode()
        answer: HttpResponse = yield Request(method, path, headers, data, label)
        if 200 <= answer.status < 300:
            return answer
        error = answers.error_from(answer, method, label)
        if isinstance(error, SessionExpiredError) and session is not None and not adopting:
            try:
                yield from self._forget(session)
            except TokenStoreError as exc:
                # The caller must learn that the session is dead, not that the store hiccuped;
                # a stale stored token is cleared again on the next dead-session answer.
                logger.warning("the dead session could not be cleared from the store: %s", exc)
        raise error

    def _login(
        self,
        label: str,
        template: str,
        provider: str | None,
        body: Mapping[str, Any] | None,
        stay: bool,
    ) -> Flow[BackendlessUser]:
        session = yield from self.current()
        segments = (provider,) if provider is not None else ()
        answer = yield from self._request(
            "POST", template, *segments, label=label, body=body, session=session
        )
        user = answers.user_from(answer, need_token=True)
        REDACTOR.add(user.user_token)
        yield from self._set_logged_in(user, stay_logged_in=stay)
        logger.info("logged in as user %s", user.object_id)
        return user

    def adopt_session(
        self, user_token: str, user_id: str, *, stay_logged_in: bool, label: str
    ) -> Flow[BackendlessUser]:
        """Make a session obtained elsewhere (a browser login) the current one.

        The user is loaded with that token first, so a bad token never replaces a good session,
        and a dead one clears nothing: neither the current session nor the stored one.
        """
        token = checks.user_token(user_token, "user_token")
        object_id = checks.secret(user_id, "user_id")
        REDACTOR.add(token)
        candidate = _Session(token=token, user_id=object_id, user=None)
        answer = yield from self._request(
            "GET", _wire.LOAD_USER, object_id, label=label, session=candidate, adopting=True
        )
        user = answers.user_from(answer, need_token=False).with_token(token)
        yield from self._set_logged_in(user, stay_logged_in=stay_logged_in)
        logger.info("logged in as user %s", user.object_id)
        return user

    def _guest_wire(self, guest_user: object) -> Flow[dict[str, Any] | None]:
        if guest_user is None:
            return None
        user = user_args.guest_user(guest_user)
        if user.user_token is None:
            session = yield from self.current()
            if session is not None and session.user_id == user.object_id:
                user = user.with_token(session.token)
        return user.to_wire()

    # --- the calls ---------------------------------------------------------------------------
    # Each is written once; the drivers give it its public name, signature and docstring.

    def login_with_oauth2(
        self,
        provider_code: str,
        access_token: str,
        *,
        guest_user: BackendlessUser | Mapping[str, Any] | None = None,
        fields_mapping: Mapping[str, str] | None = None,
        stay_logged_in: bool = False,
    ) -> Flow[BackendlessUser]:
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
            "login_with_oauth2",
            provider_code,
            access_token,
            None,
            guest_user,
            fields_mapping,
            stay_logged_in,
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
    ) -> Flow[BackendlessUser]:
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
        return self._oauth_login(
            "login_with_oauth1",
            provider_code,
            access_token,
            access_token_secret,
            guest_user,
            fields_mapping,
            stay_logged_in,
        )

    def _oauth_login(
        self,
        label: str,
        provider_code: object,
        access_token: object,
        access_token_secret: object,
        guest_user: object,
        fields_mapping: object,
        stay_logged_in: object,
    ) -> Flow[BackendlessUser]:
        secret = (
            None
            if label == "login_with_oauth2"
            else checks.secret(access_token_secret, "access_token_secret")
        )
        provider = checks.provider_code(provider_code)
        token = checks.secret(access_token, "access_token")
        mapping = checks.fields_mapping(fields_mapping)
        stay = checks.flag(stay_logged_in, "stay_logged_in")
        guest = yield from self._guest_wire(guest_user)
        REDACTOR.add(token, secret)
        body = _wire.oauth_login_body(
            token, access_token_secret=secret, fields_mapping=mapping, guest_user=guest
        )
        return (yield from self._login(label, _wire.OAUTH_LOGIN, provider, body, stay))

    def get_authorization_url(
        self,
        provider_code: str,
        *,
        fields_mapping: Mapping[str, str] | None = None,
        scope: str | Sequence[str] | None = None,
        scope_separator: str = " ",
        redirect_after_login_url: str | None = None,
        callback_url_domain: str | None = None,
    ) -> Flow[str]:
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
        session = yield from self.current()
        answer = yield from self._request(
            "POST",
            _wire.REQUEST_URL,
            provider,
            label="get_authorization_url",
            body=body,
            session=session,
        )
        return answers.url_from(answer)

    def login_as_guest(self, *, stay_logged_in: bool = False) -> Flow[BackendlessUser]:
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
        return (yield from self._login("login_as_guest", _wire.GUEST_LOGIN, None, None, stay))

    def logout(self) -> Flow[None]:
        """End the session on the server, then forget it here and in the token store.

        An answer saying the session is already gone (3023, 3064, 3090, 3091, or any other
        session-expired code) counts as done.

        Raises:
            ApiError: Any other refusal; the session is kept.
            TransportError: The request did not complete; the session is kept.
        """
        session = yield from self.current()
        if session is not None:
            try:
                yield from self._request("GET", _wire.LOGOUT, label="logout", session=session)
            except ApiError as exc:
                gone = isinstance(exc, SessionExpiredError)
                if not gone and exc.code not in _wire.SESSION_GONE_ON_LOGOUT:
                    raise
                logger.debug("logout: the session was already gone (code %s)", exc.code)
        yield from self._forget(session)
        logger.info("logged out")

    def is_valid_login(self) -> Flow[bool]:
        """Ask the server whether the current session token is still valid.

        Returns:
            ``False`` without a request when there is no session. A session the server calls
            dead is forgotten, here and in the token store.

        Raises:
            TransportError: The request did not complete.
            ApiError: Backendless refused the check itself (not "invalid": that is ``False``).
        """
        session = yield from self.current()
        if session is None:
            return False
        try:
            answer = yield from self._request(
                "GET", _wire.TOKEN_CHECK, session.token, label="is_valid_login", session=session
            )
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

    def get_current_user(self, *, reload: bool = False) -> Flow[BackendlessUser | None]:
        """Return the logged-in user, or ``None`` when nobody is (or no longer) logged in.

        A user already in memory is returned without a request, unless ``reload``. After a
        restart, the user of the stored session is loaded from the server. A session the
        server calls dead gives ``None`` and is cleared, here and in the token store, so one
        pattern covers "never logged in" and "expired"::

            user = app.users.get_current_user()
            if user is None:
                ...  # log in

        Args:
            reload: Load it even when it is already in memory.

        Returns:
            The user with the session's ``user_token``, or ``None``.

        Raises:
            ApiError, TransportError, UnexpectedResponseError: The load failed for another
                reason than a dead session; the session is kept.
        """
        checks.flag(reload, "reload")
        session = yield from self.current()
        if session is None:
            return None
        if session.user is not None and not reload:
            return session.user
        if session.user_id is None:
            return session.user
        try:
            answer = yield from self._request(
                "GET",
                _wire.LOAD_USER,
                session.user_id,
                label="get_current_user",
                session=session,
            )
        except SessionExpiredError:
            # Forgotten unless another login replaced it meanwhile: then that one is current.
            now = self._session
            return now.user if now is not None else None
        user = answers.user_from(answer, need_token=False).with_token(session.token)
        with self._lock:
            if self._session is session:
                self._session = replace(session, user=user)
        return user

    def complete_browser_login(
        self, redirected_url: str, *, stay_logged_in: bool = False
    ) -> Flow[BackendlessUser]:
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
            ApiError: The user could not be loaded with the token (e.g. it expired); the
                current and the stored session are kept.
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
        return (
            yield from self.adopt_session(
                token, user_id, stay_logged_in=stay, label="complete_browser_login"
            )
        )

    # --- accounts with passwords: registration, login, emails, updates, roles, status -------
    # The JS SDK v8's src/users/ is the reference for every request and every argument rule.

    def _refresh_current(self, user: BackendlessUser) -> BackendlessUser:
        """When ``user`` is the current user, make it ``current_user``, keeping the token."""
        with self._lock:
            now = self._session
            if now is None or now.user_id != user.object_id:
                return user
            fresh = user.with_token(now.token)
            self._session = replace(now, user=fresh)
            REDACTOR.pin(self._session, now.token)
            return fresh

    def register(self, properties: BackendlessUser | Mapping[str, Any]) -> Flow[BackendlessUser]:
        """Register a new user with a password; it is not logged in.

        ``blUserLocale`` is added from this process's language (``LANGUAGE``, ``LC_ALL``,
        ``LC_MESSAGES``, ``LANG``: its first two letters) when the properties hold none. With
        a guest logged in, its session goes along and Backendless turns that guest into this
        user (same objectId); the guest's session then belongs to the registered user.

        Args:
            properties: The user's columns, ``password`` and the identity column (``email``
                unless the console names another) included: a mapping, or a
                :class:`BackendlessUser`.

        Returns:
            The registered user, without a session (``userStatus`` is
            ``EMAIL_CONFIRMATION_PENDING`` when the app wants addresses confirmed).

        Raises:
            InvalidArgumentError: No password, a property name that is not a non-empty string,
                a value JSON cannot carry; nothing was sent.
            UserAlreadyExistsError: Another user has that identity (3033).
            InvalidUserDataError: Backendless refused the properties (see its subclasses
                :class:`InvalidEmailError` and :class:`PasswordPolicyError`).
            ApiError: Another refusal.
            TransportError: The request did not complete.
        """
        body = user_args.user_body(properties, "properties", need_object_id=False)
        secret = checks.password(body.get(_wire.PASSWORD), "password")
        REDACTOR.add(secret)
        if not body.get(_wire.LOCALE):
            language = client_locale()
            if language:
                body[_wire.LOCALE] = language
        session = yield from self.current()
        answer = yield from self._request(
            "POST", _wire.REGISTER, label="register", body=body, session=session
        )
        user = answers.user_from(answer, need_token=False)
        logger.info("registered user %s", user.object_id)
        # A registration opens no session: a token in the answer is not this process's to keep.
        return self._refresh_current(user.with_token(None))

    def login(
        self, login: str | int, password: str, *, stay_logged_in: bool = False
    ) -> Flow[BackendlessUser]:
        """Log in with the identity column's value (``email`` by default) and the password.

        A dead session sent along (the server refuses the request for its token: a password
        reset ends every session) is forgotten and the login sent again without it, once.

        Args:
            login: The value of the identity column: an email address, a user name, ...
            password: The user's password.
            stay_logged_in: Keep the session in the token store for the next run.

        Returns:
            The logged-in user, carrying its ``user_token``.

        Raises:
            InvalidArgumentError: An empty or non-string login or password; nothing was sent.
            InvalidCredentialsError: No account has that identity and password (3003).
            EmailNotConfirmedError: The address waits for confirmation (3087).
            AccountDisabledError: The account is disabled (3090).
            AccountLockedError: Locked after too many failed logins (3036).
            ApiError: Another refusal; the previous session is kept.
            TransportError: The request did not complete; the previous session is kept.
            TokenStoreError: Logged in, but the session could not be stored.
        """
        identity = checks.identity(login, "login")
        secret = checks.password(password, "password")
        stay = checks.flag(stay_logged_in, "stay_logged_in")
        REDACTOR.add(secret)
        # An integer goes as a JSON number, as the JS SDK sends it.
        body = {"login": login if isinstance(login, int) else identity, "password": secret}
        before = yield from self.current()
        try:
            return (yield from self._login("login", _wire.LOGIN, None, body, stay))
        except SessionExpiredError:
            # The session sent along is dead (a password reset ends every session): the server
            # refused the request for that token before reading the password. It is forgotten
            # now; the login goes again without it, once.
            if before is None:
                raise
        # Sent again outside the except block, so that its own error chains nothing.
        logger.debug("login: the session sent along was dead; sending the login again")
        return (yield from self._login("login", _wire.LOGIN, None, body, stay))

    def verify_password(self, current_password: str) -> Flow[bool]:
        """Check the current user's password without logging in again.

        Backendless allows this call only from server code (the app's CloudCode API key).

        Args:
            current_password: The password to check.

        Returns:
            Whether it is the logged-in user's password.

        Raises:
            InvalidArgumentError: An empty or non-string password; nothing was sent.
            NotLoggedInError: Nobody is logged in; nothing was sent.
            NotAllowedError: Not allowed with this API key (3122).
            ApiError, TransportError: The check failed.
        """
        secret = checks.password(current_password, "current_password")
        REDACTOR.add(secret)
        session = yield from self.current()
        if session is None:
            raise NotLoggedInError("verify_password needs a logged-in user: log in first")
        answer = yield from self._request(
            "POST",
            _wire.VERIFY_PASSWORD,
            label="verify_password",
            body={"password": secret},
            session=session,
        )
        data = answers.json_from(answer)
        valid = data.get("valid") if isinstance(data, dict) else data
        if not isinstance(valid, bool):
            raise UnexpectedResponseError(
                'the password check answered neither {"valid": true} nor false',
                status=answer.status,
                body=answers.diagnostic(answer.body),
            )
        return valid

    def restore_password(self, email: str) -> Flow[None]:
        """Ask Backendless to email the user a link (or a new password) to reset it.

        Args:
            email: The identity of the account, usually its email address.

        Raises:
            InvalidArgumentError: An empty or non-string address; nothing was sent.
            UserNotFoundError: No user has that identity (3020).
            ApiError, TransportError: The request failed.
        """
        identity = checks.text(email, "email")
        session = yield from self.current()
        yield from self._request(
            "GET",
            _wire.RESTORE_PASSWORD,
            identity,
            label="restore_password",
            session=session,
            safe=_wire.URI_COMPONENT_SAFE,
        )

    def resend_email_confirmation(self, identity: str | int) -> Flow[None]:
        """Send the email that confirms the user's address again.

        Args:
            identity: The identity of the account (its email address by default).

        Raises:
            InvalidArgumentError: An empty identity, or neither a string nor an integer.
            UserNotFoundError: No user has that identity (3104).
            ApiError, TransportError: The request failed (e.g. the address is confirmed).
        """
        who = checks.identity(identity, "identity")
        session = yield from self.current()
        yield from self._request(
            "POST",
            _wire.RESEND_CONFIRMATION,
            who,
            label="resend_email_confirmation",
            session=session,
            safe=_wire.SEGMENT_SAFE,
        )

    def create_email_confirmation_url(self, identity: str | int) -> Flow[str]:
        """Create the link that confirms the user's address, for an email your app sends.

        Args:
            identity: The identity of the account (its email address by default).

        Returns:
            The confirmation URL.

        Raises:
            InvalidArgumentError: An empty identity, or neither a string nor an integer.
            UserNotFoundError: No user has that identity (3104).
            UnexpectedResponseError: The answer held no URL.
            ApiError, TransportError: The request failed.
        """
        who = checks.identity(identity, "identity")
        session = yield from self.current()
        answer = yield from self._request(
            "POST",
            _wire.CONFIRMATION_URL,
            who,
            label="create_email_confirmation_url",
            session=session,
            safe=_wire.SEGMENT_SAFE,
        )
        return answers.url_from(answer, key="confirmationURL", what="confirmation URL")

    def update(self, user: BackendlessUser | Mapping[str, Any]) -> Flow[BackendlessUser]:
        """Save changed properties of a user (``PUT users/<objectId>``).

        Pass the whole user or only the columns to change with its ``objectId``. When it is
        the current user, :attr:`current_user` becomes the answer, with the session's token.
        A ``user-token`` key is never sent in the body.

        Args:
            user: A :class:`BackendlessUser`, or a mapping holding ``objectId``.

        Returns:
            The user as saved (with ``user_token`` when it is the current user).

        Raises:
            InvalidArgumentError: No ``objectId``, a value JSON cannot carry; nothing was sent.
            UserAlreadyExistsError: Another user has the new identity (3018).
            InvalidUserDataError: Backendless refused a property (see its subclasses).
            NotAllowedError: Not this caller's user to change (3028, 3029).
            ApiError, TransportError: The request failed.
        """
        body = user_args.user_body(user, "user", need_object_id=True)
        object_id = body[_wire.OBJECT_ID]
        if isinstance(body.get(_wire.PASSWORD), str):
            REDACTOR.add(checks.password(body[_wire.PASSWORD], "password"))
        session = yield from self.current()
        answer = yield from self._request(
            "PUT",
            _wire.UPDATE_USER,
            object_id,
            label="update",
            body=body,
            session=session,
            safe=_wire.SEGMENT_SAFE,
        )
        saved = answers.user_from(answer, need_token=False)
        return self._refresh_current(saved.with_token(None))

    def get_user_roles(self, user_id: str | None = None) -> Flow[list[str]]:
        """The names of a user's roles: the current user's, or (server code) another's.

        Args:
            user_id: The objectId of another user; ``None`` for the current one (without a
                session Backendless answers the roles of an anonymous caller).

        Returns:
            The role names, e.g. ``["AuthenticatedUser", "Pro"]``.

        Raises:
            InvalidArgumentError: An empty or non-string ``user_id``; nothing was sent.
            NotAllowedError: Another user's roles without the CloudCode key (2011).
            ApiError, TransportError: The request failed.
        """
        object_id = None if user_id is None else checks.identity(user_id, "user_id")
        session = yield from self.current()
        if object_id is None:
            answer = yield from self._request(
                "GET", _wire.MY_ROLES, label="get_user_roles", session=session
            )
        else:
            answer = yield from self._request(
                "GET",
                _wire.USER_ROLES,
                object_id,
                label="get_user_roles",
                session=session,
                safe=_wire.SEGMENT_SAFE,
            )
        return answers.names_from(answer, what="role list")

    def find_by_role(
        self,
        role_name: str,
        *,
        load_roles: bool | None = None,
        where: str | None = None,
        properties: Sequence[str] | None = None,
        sort_by: str | Sequence[str] | None = None,
        page_size: int | None = None,
        offset: int | None = None,
    ) -> Flow[list[BackendlessUser]]:
        """The users that have a role, a page at a time.

        The query string is the JS SDK's: ``loadRoles``, ``pageSize``, ``offset``, one
        ``property`` per column, ``where``, ``sortBy``.

        Args:
            role_name: The role, e.g. ``"Pro"``.
            load_roles: Also give each user's ``roles`` column.
            where: A Backendless where clause, e.g. ``"age >= 21"``.
            properties: The columns to return (default: all).
            sort_by: A column, or several (``"created DESC"``).
            page_size: How many users (1 to 100; Backendless's default is 10).
            offset: How many to skip.

        Returns:
            The users, in the order asked for.

        Raises:
            InvalidArgumentError: An argument is refused; nothing was sent.
            RoleNotFoundError: Not a role of the app (2005).
            ApiError, TransportError: The request failed.
        """
        role = checks.text(role_name, "role_name")
        query = _wire.role_query(
            load_roles=checks.optional_flag(load_roles, "load_roles"),
            page_size=checks.count(page_size, "page_size", low=1, high=100),
            offset=checks.count(offset, "offset", low=0),
            properties=checks.names(properties, "properties", allow_str=False),
            where=None if where is None else checks.text(where, "where"),
            sort_by=checks.names(sort_by, "sort_by", allow_str=True),
        )
        session = yield from self.current()
        answer = yield from self._request(
            "GET",
            _wire.USERS_IN_ROLE,
            role,
            label="find_by_role",
            session=session,
            safe=_wire.SEGMENT_SAFE,
            query=query,
        )
        return answers.users_from(answer)

    def assign_role(self, identity: str | int, role_name: str) -> Flow[None]:
        """Give a user a role (Backendless allows it only from server code).

        Args:
            identity: The user's identity (its email address by default) or objectId.
            role_name: The role.

        Raises:
            InvalidArgumentError: An empty or wrongly typed argument; nothing was sent.
            RoleNotFoundError: Not a role of the app (2005).
            NotAllowedError: Not allowed with this key, or a system role (2011, 2007).
            UserNotFoundError: No such user (3020).
            ApiError, TransportError: The request failed.
        """
        return self._change_role(_wire.ASSIGN_ROLE, "assign_role", identity, role_name)

    def unassign_role(self, identity: str | int, role_name: str) -> Flow[None]:
        """Take a role from a user (Backendless allows it only from server code).

        Args:
            identity: The user's identity (its email address by default) or objectId.
            role_name: The role.

        Raises:
            InvalidArgumentError: An empty or wrongly typed argument; nothing was sent.
            RoleNotFoundError: Not a role of the app (2005).
            NotAllowedError: Not allowed with this key, or a system role (2011, 2008).
            UserNotFoundError: No such user (3020).
            ApiError, TransportError: The request failed.
        """
        return self._change_role(_wire.UNASSIGN_ROLE, "unassign_role", identity, role_name)

    def _change_role(
        self, path: str, label: str, identity: object, role_name: object
    ) -> Flow[None]:
        who = checks.identity(identity, "identity")
        role = checks.text(role_name, "role_name")
        body: dict[str, Any] = {"user": identity if isinstance(identity, int) else who}
        body["roleName"] = role
        session = yield from self.current()
        yield from self._request("POST", path, label=label, body=body, session=session)

    def describe_user_class(self) -> Flow[list[UserProperty]]:
        """The columns of the Users table: names, types, which is the identity, ...

        Returns:
            One :class:`UserProperty` per column.

        Raises:
            UnexpectedResponseError: The answer is not a list of column descriptions.
            ApiError, TransportError: The request failed.
        """
        session = yield from self.current()
        answer = yield from self._request(
            "GET", _wire.USER_CLASS, label="describe_user_class", session=session
        )
        return answers.columns_from(answer)

    def enable_user(self, user_id: str | int) -> Flow[None]:
        """Set a user's status to ``ENABLED`` (server code only, in Backendless).

        Raises:
            InvalidArgumentError: An empty or wrongly typed ``user_id``; nothing was sent.
            NotAllowedError: Only server code may change a status (3054).
            UserNotFoundError: No such user (3030).
            ApiError, TransportError: The request failed.
        """
        return self._set_status(user_id, "ENABLED", "enable_user")

    def disable_user(self, user_id: str | int) -> Flow[None]:
        """Set a user's status to ``DISABLED``: its logins are refused (3090).

        Raises:
            InvalidArgumentError: An empty or wrongly typed ``user_id``; nothing was sent.
            NotAllowedError: Only server code may change a status (3054).
            UserNotFoundError: No such user (3030).
            ApiError, TransportError: The request failed.
        """
        return self._set_status(user_id, "DISABLED", "disable_user")

    def update_user_status(self, user_id: str | int, status: str) -> Flow[None]:
        """Set a user's status (``PUT users/<id>/status``; server code only, in Backendless).

        Args:
            user_id: The user's objectId.
            status: ``"ENABLED"``, ``"DISABLED"`` or ``"EMAIL_CONFIRMATION_PENDING"``.

        Raises:
            InvalidArgumentError: An empty ``user_id`` or an unknown status; nothing was sent.
            NotAllowedError: Only server code may change a status (3054).
            UserNotFoundError: No such user (3030).
            ApiError, TransportError: The request failed (8007: a change Backendless refuses).
        """
        return self._set_status(user_id, status, "update_user_status")

    def _set_status(self, user_id: object, status: object, label: str) -> Flow[None]:
        object_id = checks.identity(user_id, "user_id")
        body = {_wire.USER_STATUS: checks.status(status)}
        session = yield from self.current()
        yield from self._request(
            "PUT",
            _wire.STATUS_PATH,
            object_id,
            label=label,
            body=body,
            session=session,
            safe=_wire.SEGMENT_SAFE,
        )

    def set_current_user_token(
        self, user_token: str, *, user_id: str | None = None, stay_logged_in: bool = False
    ) -> Flow[None]:
        """Adopt a session obtained elsewhere (a web frontend, another process); no request.

        With ``user_id``, that user's session becomes the current one, and
        :meth:`get_current_user` loads the user with the token. Without it, the current
        session keeps its user and takes the new token (the JS SDK's ``setCurrentUserToken``:
        a renewed token). Backendless has no call that finds the user of a token, so with
        nobody logged in ``user_id`` is required. As on every login, the token store then
        keeps the session only with ``stay_logged_in``.

        Args:
            user_token: The session token (``user-token``).
            user_id: The objectId of the token's user.
            stay_logged_in: Keep the session in the token store for the next run.

        Raises:
            InvalidArgumentError: Not a token a header can carry, an empty ``user_id``, or no
                ``user_id`` with nobody logged in; nothing changed.
            TokenStoreError: Adopted, but the session could not be stored.
        """
        token = checks.user_token(user_token, "user_token")
        object_id = None if user_id is None else checks.identity(user_id, "user_id")
        stay = checks.flag(stay_logged_in, "stay_logged_in")
        REDACTOR.add(token)
        session = yield from self.current()
        if object_id is None:
            if session is None or session.user_id is None:
                raise InvalidArgumentError(
                    "user_id is needed when nobody is logged in: Backendless has no call that "
                    "finds the user of a token",
                    argument="user_id",
                )
            user = session.user.with_token(token) if session.user is not None else None
            new = _Session(token=token, user_id=session.user_id, user=user)
        elif session is not None and session.user_id == object_id and session.user is not None:
            new = _Session(token=token, user_id=object_id, user=session.user.with_token(token))
        else:
            new = _Session(token=token, user_id=object_id, user=None)
        yield from self._install(new, stay_logged_in=stay)
        logger.info("adopted a session for user %s", new.user_id)

    # --- end of accounts -----------------------------------------------------------------------
