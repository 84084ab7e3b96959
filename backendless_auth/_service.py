"""``UserService``: the blocking driver of the user service's core.

The calls themselves are written once in :mod:`backendless_auth._core` and declared in
:mod:`backendless_auth._driver`; this module carries their effects out with blocking I/O: a
request through the :class:`~backendless_auth.Transport`, a store operation in the calling thread.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping, Sequence
from typing import TYPE_CHECKING, Any, TypeVar

from ._config import AppConfig
from ._core import Core, Flow, Request, Steps
from ._driver import BrowserLogin, ServiceBase
from ._stores_memory import TokenStore
from .exceptions import ConfigurationError

if TYPE_CHECKING:
    from ._models import BackendlessUser
    from ._transport import Transport

T = TypeVar("T")


class UserService(ServiceBase):
    """Logins, logout and the current user of one Backendless app.

    Get it as ``Backendless(...).users``. One service may be shared by many threads: the
    session is replaced whole under a lock, and no lock is held while a request is in flight.
    :class:`~backendless_auth.AsyncUserService` has the same calls, to be awaited.
    """

    def __init__(self, config: AppConfig, transport: Transport, token_store: TokenStore) -> None:
        # Checked here, not at the first call: a wrong object would surface as AttributeError.
        if not callable(getattr(transport, "send", None)):
            raise ConfigurationError(
                "transport must have a send() method (see Transport)", argument="transport"
            )
        super().__init__(Core(config, token_store))
        self._transport = transport

    @classmethod
    def _method(cls, flow: Callable[..., Flow[Any]]) -> Callable[..., Any]:
        def method(self: UserService, *args: Any, **kwargs: Any) -> Any:
            return self._run(flow(self._core, *args, **kwargs))

        return method

    def _run(self, flow: Flow[T]) -> T:
        """Carry out the flow's effects one by one, in this thread; return its result."""
        steps = Steps(flow)
        while (effect := steps.next()) is not None:
            try:
                if isinstance(effect, Request):
                    url = self._core.config.base_url + effect.path
                    headers, body, label = effect.headers, effect.body, effect.label
                    steps.answer(
                        self._transport.send(
                            effect.method, url, headers=headers, body=body, label=label
                        )
                    )
                else:
                    steps.answer(self._core.run_store(effect))
            except Exception as exc:  # thrown into the flow, which decides
                steps.fail(exc)
        return steps.value

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
        from . import browser

        login = BrowserLogin.check(
            provider_code,
            fields_mapping=fields_mapping,
            scope=scope,
            callback_url_domain=callback_url_domain,
            stay_logged_in=stay_logged_in,
            open_browser=open_browser,
            opener=opener,
            timeout=timeout,
            redirect_host=redirect_host,
            redirect_path=redirect_path,
        )
        user: BackendlessUser = browser.run_in_browser(
            lambda receiver: self._run(
                login.authorization_url(self._core, receiver.path_state_url)
            ),
            lambda callback: self._run(login.complete(self._core, callback)),
            **login.flow_options(),
        )
        return user
