"""What the two user services share: the list of calls, and the properties that make no request.

Each call of :class:`~backendless_auth._core.Core` is declared here once, as a :class:`Call`
descriptor. Read from a :class:`~backendless_auth.UserService` it is a blocking method; read
from an :class:`~backendless_auth.AsyncUserService` it is a coroutine function: the same name,
arguments, docstring, result and errors, typed exactly for mypy through ``ParamSpec``. A driver
supplies only ``_bind`` (how to run a flow: blocking, or awaited).
"""

from __future__ import annotations

import types
from collections.abc import Callable, Coroutine, Mapping
from typing import TYPE_CHECKING, Any, Concatenate, Generic, ParamSpec, TypeVar, overload

from . import _checks as checks
from ._core import Core, Flow
from ._record import record
from ._stores_memory import TokenStore

if TYPE_CHECKING:
    from . import browser
    from ._models import BackendlessUser
    from ._service import UserService
    from ._service_async import AsyncUserService

P = ParamSpec("P")
T = TypeVar("T")


class Call(Generic[P, T]):
    """One call of the user service, written once in the core, bound by each driver."""

    def __init__(self, flow: Callable[..., Flow[T]]) -> None:
        self.flow = flow
        self.__doc__ = flow.__doc__
        self.__name__ = flow.__name__

    def __set_name__(self, owner: type, name: str) -> None:
        self.__name__ = name

    @overload
    def __get__(self, obj: None, owner: type | None = None) -> Call[P, T]: ...

    @overload
    def __get__(self, obj: UserService, owner: type | None = None) -> Callable[P, T]: ...

    @overload
    def __get__(
        self, obj: AsyncUserService, owner: type | None = None
    ) -> Callable[P, Coroutine[Any, Any, T]]: ...

    def __get__(self, obj: ServiceBase | None, owner: type | None = None) -> Any:
        # Only ServiceBase itself holds Call objects: each driver replaces them with its own
        # functions (ServiceBase.__init_subclass__).
        return self


def call(flow: Callable[Concatenate[Core, P], Flow[T]]) -> Call[P, T]:
    """Declare a call of the core as a method of both services."""
    return Call(flow)


def _shown_as(flow: Callable[..., Any], method: Callable[..., Any]) -> Callable[..., Any]:
    """A copy of ``flow`` that returns, by its annotations, the result type in place of
    ``Flow[...]``: what ``inspect.signature`` of a driver's method follows (``__wrapped__``).

    Built without ``inspect``, which costs every start of the command line a few ms.
    """
    assert isinstance(flow, types.FunctionType)
    copy = types.FunctionType(
        flow.__code__, flow.__globals__, flow.__name__, flow.__defaults__, flow.__closure__
    )
    copy.__kwdefaults__ = flow.__kwdefaults__
    # Named as the driver's method, whose signature it gives (what help() and the API docs show).
    copy.__qualname__ = method.__qualname__
    copy.__module__ = method.__module__
    copy.__doc__ = method.__doc__
    annotations = dict(flow.__annotations__)
    result = annotations.get("return")
    if isinstance(result, str) and result.startswith("Flow[") and result.endswith("]"):
        annotations["return"] = result[len("Flow[") : -1]
    copy.__annotations__ = annotations
    return copy


class ServiceBase:
    """The state-only part of a user service, and its calls (see :class:`Call`)."""

    def __init__(self, core: Core) -> None:
        self._core = core

    def __init_subclass__(cls, **kwargs: Any) -> None:
        super().__init_subclass__(**kwargs)
        # Each driver gets every call as a plain function of its own (a method, or a coroutine
        # function) with the call's signature and docstring: what inspect, help() and the API
        # docs show. mypy reads the typed Call descriptors above instead.
        for name, member in vars(ServiceBase).items():
            if isinstance(member, Call):
                method = cls._method(member.flow)
                method.__name__ = name
                method.__qualname__ = f"{cls.__qualname__}.{name}"
                method.__module__ = cls.__module__
                method.__doc__ = member.flow.__doc__
                method.__wrapped__ = _shown_as(member.flow, method)  # type: ignore[attr-defined]
                setattr(cls, name, method)

    @classmethod
    def _method(cls, flow: Callable[..., Flow[Any]]) -> Callable[..., Any]:
        """The driver's function that runs ``flow``: blocking, or a coroutine function."""
        raise NotImplementedError  # pragma: no cover - each driver defines it

    def __repr__(self) -> str:
        return f"{type(self).__name__}(namespace={self._core.config.namespace!r})"

    @property
    def token_store(self) -> TokenStore:
        """The store that keeps "stay logged in" sessions."""
        return self._core.store

    @property
    def current_user(self) -> BackendlessUser | None:
        """The logged-in user, when this process logged in or loaded it; no request is made.

        ``None`` once any call has seen the session die.
        """
        session = self._core.run_local(self._core.current())
        return session.user if session else None

    @property
    def current_user_id(self) -> str | None:
        """The logged-in user's objectId; after a restart, the one in the token store."""
        session = self._core.run_local(self._core.current())
        return session.user_id if session else None

    @property
    def user_token(self) -> str | None:
        """The session token; after a restart, the one in the token store."""
        session = self._core.run_local(self._core.current())
        return session.token if session else None

    # The calls: one line each. A new call is a method of Core plus one line here.
    login_with_oauth2 = call(Core.login_with_oauth2)
    login_with_oauth1 = call(Core.login_with_oauth1)
    get_authorization_url = call(Core.get_authorization_url)
    login_as_guest = call(Core.login_as_guest)
    logout = call(Core.logout)
    is_valid_login = call(Core.is_valid_login)
    get_current_user = call(Core.get_current_user)
    complete_browser_login = call(Core.complete_browser_login)
    # Accounts with passwords, emails, updates, roles, status.
    register = call(Core.register)
    login = call(Core.login)
    verify_password = call(Core.verify_password)
    restore_password = call(Core.restore_password)
    resend_email_confirmation = call(Core.resend_email_confirmation)
    create_email_confirmation_url = call(Core.create_email_confirmation_url)
    update = call(Core.update)
    get_user_roles = call(Core.get_user_roles)
    find_by_role = call(Core.find_by_role)
    assign_role = call(Core.assign_role)
    unassign_role = call(Core.unassign_role)
    describe_user_class = call(Core.describe_user_class)
    enable_user = call(Core.enable_user)
    disable_user = call(Core.disable_user)
    update_user_status = call(Core.update_user_status)
    set_current_user_token = call(Core.set_current_user_token)


@record
class BrowserLogin:
    """``login_with_browser``'s arguments, checked (no socket, no request), and its two flows.

    Both services run it around their own receiver: the blocking one around
    :class:`~backendless_auth.browser.LoopbackReceiver`, the async one around its anyio twin.
    """

    provider: str
    fields_mapping: Mapping[str, str] | None
    scope: str | None
    callback_url_domain: str | None
    stay_logged_in: bool
    open_browser: bool
    opener: Callable[[str], object] | None
    timeout: float
    redirect_host: str
    redirect_path: str | None

    @classmethod
    def check(
        cls,
        provider_code: object,
        *,
        fields_mapping: object,
        scope: object,
        callback_url_domain: object,
        stay_logged_in: object,
        open_browser: object,
        opener: object,
        timeout: object,
        redirect_host: object,
        redirect_path: object,
    ) -> BrowserLogin:
        """Check every argument; raise :class:`InvalidArgumentError` for the first refused."""
        from . import browser

        provider = checks.provider_code(provider_code)
        mapping = checks.fields_mapping(fields_mapping)
        permissions = checks.scope(scope, " ")
        domain = checks.optional_str(callback_url_domain, "callback_url_domain")
        stay = checks.flag(stay_logged_in, "stay_logged_in")
        wait = browser.check_flow_options(open_browser=open_browser, opener=opener, timeout=timeout)
        host, path = browser.check_redirect_options(host=redirect_host, path=redirect_path)
        return cls(
            provider,
            mapping,
            permissions,
            domain,
            stay,
            bool(open_browser),
            opener,  # type: ignore[arg-type]  # checked callable above
            wait,
            host,
            path,
        )

    def flow_options(self) -> dict[str, Any]:
        """The keywords of ``run_in_browser`` (and its async twin) for this login."""
        from . import browser

        return {
            "label": self.provider,
            "open_browser": self.open_browser,
            "opener": self.opener,
            "timeout": self.timeout,
            "success_message": signed_in_as,
            "redirect_host": self.redirect_host,
            "redirect_path": self.redirect_path,
            "timeout_hint": browser.backendless_timeout_hint(self.provider),
        }

    def authorization_url(self, core: Core, redirect_url: str) -> Flow[str]:
        """Backendless's authorization URL, redirecting to the receiver's ``redirect_url``."""
        return core.get_authorization_url(
            self.provider,
            fields_mapping=self.fields_mapping,
            scope=self.scope,
            redirect_after_login_url=redirect_url,
            callback_url_domain=self.callback_url_domain,
        )

    def complete(self, core: Core, callback: browser.Callback) -> Flow[BackendlessUser]:
        """Adopt the session Backendless's redirect carries (the user loaded with it first)."""
        from . import browser

        token, user_id = browser.read_backendless_redirect(callback.params)
        return core.adopt_session(
            token, user_id, stay_logged_in=self.stay_logged_in, label="login_with_browser"
        )


def signed_in_as(user: BackendlessUser) -> str:
    """The sentence the browser shows after a browser login."""
    who = user.name or user.email
    return f"You are signed in as {who}." if who else "You are signed in."
