"""The provider flows for async code: the twins of ``login_with_provider`` and its kin.

The same flows as :mod:`backendless_auth.providers` (the same checks, PKCE, ``state``, requests
to the provider, errors), around the anyio-native receiver of :mod:`._browser_async`, which
never blocks the loop. The provider's requests are made by requests-oauthlib, which blocks:
they run in a worker thread (``anyio.to_thread``), abandoned when the task is cancelled (the
request then ends on its own timeout, its answer dropped). The Backendless login at the end is
the async service's, awaited. Cancelling the task, or a timeout around it, frees the loopback
port at once.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping, Sequence
from typing import TYPE_CHECKING, Any

import anyio.to_thread

from . import browser, providers
from ._browser_async import AsyncLoopbackReceiver, run_in_browser_async
from .exceptions import InvalidArgumentError

if TYPE_CHECKING:
    from ._models import BackendlessUser
    from ._service_async import AsyncUserService
    from .providers import OAuth1Provider, OAuth2Provider, ProviderToken


async def _run(prepared: Any, then: Callable[[ProviderToken], Any], message: Any) -> Any:
    """Run a prepared provider flow around the async receiver; ``then`` is awaited."""

    async def run(
        authorization_url: Callable[[Any], str], complete: Callable[[browser.Callback], Any]
    ) -> Any:
        async def url(receiver: AsyncLoopbackReceiver) -> str:
            # OAuth1 asks the provider for a request token here: a blocking request.
            return await anyio.to_thread.run_sync(
                authorization_url, receiver, abandon_on_cancel=True
            )

        async def finish(callback: browser.Callback) -> Any:
            token = await anyio.to_thread.run_sync(complete, callback, abandon_on_cancel=True)
            return await then(token)

        return await run_in_browser_async(url, finish, **prepared.options, success_message=message)

    return await prepared.run_with(run)


async def fetch_provider_token_async(
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
    """The async twin of :func:`~backendless_auth.providers.fetch_provider_token`, awaited.

    The same arguments, result and errors (see there). The loopback receiver runs as tasks on
    the event loop, the provider's requests in a worker thread; cancelling the task (or a
    timeout around it) frees the port at once.
    """
    prepared = providers._flow(
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

    async def got(token: ProviderToken) -> ProviderToken:
        return providers._got_token(token)

    token: ProviderToken = await _run(prepared, got, None)
    return token


async def login_with_provider_async(
    users: AsyncUserService,
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
    """The async twin of :func:`~backendless_auth.providers.login_with_provider`, awaited.

    The same arguments, result and errors (see there), with ``users`` the async app's service
    (``app.users`` of an :class:`~backendless_auth.AsyncBackendless`); the Backendless login at
    the end is awaited on it. The loopback receiver runs as tasks on the event loop, the
    provider's requests in a worker thread; cancelling the task (or a timeout around it) frees
    the port at once.

    Raises:
        InvalidArgumentError: ``users`` is not an ``AsyncUserService``, or another argument
            is refused; nothing was opened or sent.
    """
    from ._service_async import AsyncUserService

    if not isinstance(users, AsyncUserService):
        raise InvalidArgumentError(
            "users must be the async app's AsyncUserService (app.users of an AsyncBackendless)",
            argument="users",
        )
    prepared = providers._flow(
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
    code = providers._backendless_code(
        users, provider, provider_code, guest_user, fields_mapping, stay_logged_in
    )

    async def login(token: ProviderToken) -> BackendlessUser:
        user: BackendlessUser = await providers._login(
            users, code, token, guest_user, fields_mapping, stay_logged_in
        )
        return user

    user: BackendlessUser = await _run(prepared, login, providers._signed_in_as)
    return user
