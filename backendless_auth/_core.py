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
from typing import Any, Generic, Literal, TypeVar
from urllib.parse import quote

import attrs

from . import _answers as answers
from . import _checks as checks
from . import _wire
from ._config import AppConfig
from ._http import HttpResponse
from ._models import BackendlessUser, StoredSession
from ._redact import REDACTOR
from ._stores_memory import MemoryTokenStore, TokenStore
from .exceptions import (
    ApiError,
    InvalidArgumentError,
    SessionExpiredError,
    TokenStoreError,
    UnexpectedResponseError,
)

logger = logging.getLogger("backendless_auth")

T = TypeVar("T")


@attrs.frozen
class Request:
    """An effect: send one HTTP request and send back its :class:`HttpResponse`, any status.

    ``path`` is relative to the app's base URL (which holds the API key) and may hold a token;
    ``label`` names the call in a user's words (``"is_valid_login"``) and is what errors and
    logs show in place of the URL.
    """

    method: str
    path: str = attrs.field(repr=False)
    headers: Mapping[str, str] = attrs.field(repr=False)
    body: bytes | None = attrs.field(repr=False)
    label: str


@attrs.frozen
class StoreCall:
    """An effect: one token-store operation on the app's namespace, run by :meth:`Core.run_store`.

    ``guard`` is a step of the in-memory state machine (no I/O) that must happen atomically
    with the store operation: it runs first, under the store lock, and when it returns
    ``False`` the operation is skipped. The result sent back is what ``load`` returned (``None``
    when skipped), or whether ``save``/``clear`` ran.
    """

    action: Literal["load", "save", "clear"]
    session: StoredSession | None = attrs.field(default=None, repr=False)
    guard: Callable[[], bool] | None = attrs.field(default=None, repr=False, eq=False)


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


@attrs.frozen
class _Session:
    """The current session: replaced whole, never changed in place, so readers see one piece."""

    token: str = attrs.field(repr=False)
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
                    user_id=user.object_id,
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
    ) -> Flow[HttpResponse]:
        """Send one request; return a 2xx answer or raise the matching error.

        A session-expired answer forgets ``session`` when it is still the current one; not
        when ``adopting`` (a candidate that never became current must not clear anything).
        """
        path = template.format(*(quote(segment, safe="") for segment in segments))
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
        user = check_guest_user(guest_user)
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
                self._session = attrs.evolve(session, user=user)
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


def check_guest_user(guest_user: object) -> BackendlessUser:
    """The ``guest_user=`` argument of a login, checked (no I/O; also for pre-checks)."""
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
    _check_encodable(user.to_wire(), "guest_user")
    return user


def _check_encodable(value: Mapping[str, Any], argument: str) -> None:
    """Refuse what JSON cannot carry (a date, a set, a tuple key, a cycle, NaN) before sending."""
    try:
        json.dumps(value, separators=(",", ":"), allow_nan=False)
    except (TypeError, ValueError, RecursionError) as exc:
        reason = str(exc) if isinstance(exc, TypeError) else type(exc).__name__
        if isinstance(exc, ValueError) and "ircular" in str(exc):
            reason = "a circular reference"
        elif isinstance(exc, ValueError):
            reason = "NaN or infinity"
        elif isinstance(exc, RecursionError):
            reason = "nesting too deep"
        raise InvalidArgumentError(
            f"{argument} holds a value JSON cannot encode ({reason})", argument=argument
        ) from None
