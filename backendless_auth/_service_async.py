"""``AsyncUserService``: the async driver of the user service's core (asyncio and trio).

The calls are written once in :mod:`backendless_auth._core` and declared in
:mod:`backendless_auth._driver`; this module awaits their effects: a request through the
:class:`~backendless_auth.AsyncTransport`, a store operation in a worker thread
(``anyio.to_thread``) so that a blocking file or keyring store never stalls the event loop.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping, Sequence
from typing import TYPE_CHECKING, Any, TypeVar

import anyio.to_thread

from ._config import AppConfig
from ._core import Core, Flow, Steps, StoreCall
from ._driver import BrowserLogin, ServiceBase
from ._service import UserService
from ._stores_memory import TokenStore
from ._transport_async import AsyncTransport
from .exceptions import ConfigurationError

if TYPE_CHECKING:
    from ._models import BackendlessUser

T = TypeVar("T")

_ASYNC_OPENER_NOTE = """

        Here the receiver is tasks on the event loop, which it never blocks; ``opener`` may be
        a plain function (called in a worker thread, so it may block) or an ``async def`` one.
        Cancelling the task, or a timeout around it (``anyio.fail_after``), releases the port
        at once.
"""


class AsyncUserService(ServiceBase):
    """Logins, logout and the current user of one Backendless app, for async code.

    Get it as ``AsyncBackendless(...).users``. Every call of
    :class:`~backendless_auth.UserService` is here with the same name, arguments, result and
    errors, to be awaited. Many tasks may share one service: the session is replaced whole,
    and token-store operations run one at a time, off the event loop.

    The properties (``current_user``, ``user_token``, ...) make no request; the first one read
    before any call loads the stored session in the calling thread.
    """

    def __init__(
        self, config: AppConfig, transport: AsyncTransport, token_store: TokenStore
    ) -> None:
        if not callable(getattr(transport, "send", None)):
            raise ConfigurationError(
                "transport must have an async send() method (see AsyncTransport)",
                argument="transport",
            )
        super().__init__(Core(config, token_store))
        self._transport = transport

    @classmethod
    def _method(cls, flow: Callable[..., Flow[Any]]) -> Callable[..., Any]:
        async def method(self: AsyncUserService, *args: Any, **kwargs: Any) -> Any:
            return await self._run(flow(self._core, *args, **kwargs))

        return method

    async def _run(self, flow: Flow[T]) -> T:
        """Await the flow's effects one by one; return its result."""
        steps = Steps(flow)
        core = self._core
        while (effect := steps.next()) is not None:
            try:
                if isinstance(effect, StoreCall):
                    if core.store_is_inline:
                        steps.answer(core.run_store(effect))
                    else:
                        steps.answer(await anyio.to_thread.run_sync(core.run_store, effect))
                    continue
                url = core.config.base_url + effect.path
                answer = await self._transport.send(
                    effect.method, url, headers=effect.headers, body=effect.body, label=effect.label
                )
                steps.answer(answer)
            except Exception as exc:  # thrown into the flow, which decides
                steps.fail(exc)
        return steps.value

    async def login_with_browser(
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
        # The docstring is UserService.login_with_browser's (set below): the same call.
        from . import _browser_async, browser

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

        async def authorization_url(receiver: _browser_async.AsyncLoopbackReceiver) -> str:
            return await self._run(login.authorization_url(self._core, receiver.path_state_url))

        async def complete(callback: browser.Callback) -> BackendlessUser:
            return await self._run(login.complete(self._core, callback))

        return await _browser_async.run_in_browser_async(
            authorization_url,
            complete,
            **login.flow_options(),
        )

    login_with_browser.__doc__ = (UserService.login_with_browser.__doc__ or "").replace(
        "\n\n        Args:", _ASYNC_OPENER_NOTE + "\n        Args:", 1
    )
