"""The async browser login against the emulator, under asyncio and trio.

The flows themselves run through both services in the shared tests (``both_services``); here
what only the async side promises: the loop is never blocked while the receiver waits,
cancelling the task (or a timeout around it) frees the port at once, two logins on two apps run
side by side, an ``async def`` opener is awaited.
"""

from __future__ import annotations

import socket
import time
from collections.abc import AsyncIterator
from typing import Any
from urllib.parse import urlsplit

import anyio
import httpx
import pytest

from backendless_auth import AsyncBackendless, LoginTimeoutError
from backendless_auth.demo import scripted_opener
from backendless_auth.emulator import Emulator

pytestmark = pytest.mark.anyio


@pytest.fixture(params=["asyncio", "trio"])
def anyio_backend(request: pytest.FixtureRequest) -> str:
    return str(request.param)


@pytest.fixture
async def app(emu: Emulator) -> AsyncIterator[AsyncBackendless]:
    async with AsyncBackendless(app_id=emu.app_id, api_key=emu.api_key, server_url=emu.url) as made:
        yield made


def _port_is_free(port: int) -> bool:
    """Whether a new server could listen on ``port`` now (as any does: SO_REUSEADDR, so that
    connections the receiver closed, in TIME_WAIT, do not count; a listening socket does)."""
    with socket.socket() as probe:
        probe.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
        try:
            probe.bind(("127.0.0.1", port))
        except OSError:
            return False
        return True


class Holding:
    """An opener that takes the start URL and opens nothing: the login waits."""

    def __init__(self) -> None:
        self.urls: list[str] = []
        self.called = anyio.Event()

    async def __call__(self, url: str) -> bool:
        self.urls.append(url)
        self.called.set()
        return True

    @property
    def port(self) -> int:
        port = urlsplit(self.urls[0]).port
        assert port is not None
        return port


async def test_the_browser_login_with_an_async_opener(emu: Emulator, app: Any) -> None:
    emu.add_account("github", email="async-opener@example.com", name="Async")
    plain = scripted_opener(email="async-opener@example.com")
    seen: list[str] = []

    async def opener(url: str) -> bool:
        seen.append(url)
        # The scripted walk blocks on HTTP: off the loop, as an async opener should.
        return bool(await anyio.to_thread.run_sync(plain, url))

    user = await app.users.login_with_browser("github", opener=opener, timeout=30)
    assert user.email == "async-opener@example.com"
    assert app.users.user_token == user.user_token
    assert seen
    assert "/start/" in seen[0]  # the one-time start URL, never the provider's


async def test_cancelling_the_login_frees_the_port_at_once(app: Any) -> None:
    holding = Holding()
    async with anyio.create_task_group() as tg:
        tg.start_soon(lambda: app.users.login_with_browser("github", opener=holding, timeout=300))
        with anyio.fail_after(30):
            await holding.called.wait()
        assert not _port_is_free(holding.port)
        tg.cancel_scope.cancel()
    assert _port_is_free(holding.port)
    assert app.users.user_token is None


async def test_a_timeout_around_the_login_frees_the_port_at_once(app: Any) -> None:
    holding = Holding()
    started = time.monotonic()
    with pytest.raises(TimeoutError):
        with anyio.fail_after(1):
            await app.users.login_with_browser("github", opener=holding, timeout=300)
    assert time.monotonic() - started < 30
    assert _port_is_free(holding.port)


async def test_the_login_timeout_frees_the_port_and_says_what_to_check(app: Any) -> None:
    holding = Holding()
    with pytest.raises(LoginTimeoutError, match=r"within 0\.5 seconds") as info:
        await app.users.login_with_browser("github", opener=holding, timeout=0.5)
    assert "Backendless console" in str(info.value)
    assert _port_is_free(holding.port)


async def test_the_loop_keeps_running_while_the_receiver_waits(app: Any) -> None:
    holding = Holding()
    ticks = 0

    async def count() -> None:
        nonlocal ticks
        while True:
            await anyio.sleep(0.01)
            ticks += 1

    async with anyio.create_task_group() as tg:
        tg.start_soon(count)
        with pytest.raises(LoginTimeoutError):
            await app.users.login_with_browser("github", opener=holding, timeout=1)
        tg.cancel_scope.cancel()
    # A blocked loop would tick at most a few times; a free one about 100 times.
    assert ticks >= 20, ticks


async def test_two_logins_on_two_apps_at_once(emu: Emulator) -> None:
    emu.add_account("github", email="first@example.com", name="First")
    emu.add_account("google", email="second@example.com", name="Second")
    found: dict[str, Any] = {}

    async def login(provider: str, email: str) -> None:
        async with AsyncBackendless(
            app_id=emu.app_id, api_key=emu.api_key, server_url=emu.url
        ) as app:
            user = await app.users.login_with_browser(
                provider, opener=scripted_opener(email=email), timeout=30
            )
            found[provider] = (user, app.users.user_token)

    async with anyio.create_task_group() as tg:
        tg.start_soon(login, "github", "first@example.com")
        tg.start_soon(login, "google", "second@example.com")
    (first, first_token), (second, second_token) = found["github"], found["google"]
    assert first.email == "first@example.com"
    assert second.email == "second@example.com"
    assert first_token == first.user_token != second_token == second.user_token


async def test_the_receiver_answers_garbage_and_strangers_without_stopping(app: Any) -> None:
    holding = Holding()
    async with anyio.create_task_group() as tg:
        tg.start_soon(lambda: app.users.login_with_browser("github", opener=holding, timeout=300))
        with anyio.fail_after(30):
            await holding.called.wait()
        port = holding.port
        with socket.create_connection(("127.0.0.1", port)) as raw:
            raw.sendall(b"\x16\x03\x01 not http at all\r\n\r\n")
        async with httpx.AsyncClient() as client:
            stranger = await client.get(f"http://127.0.0.1:{port}/favicon.ico")
            rebinding = await client.get(
                f"http://127.0.0.1:{port}/favicon.ico", headers={"Host": "evil.example"}
            )
            again = await client.get(holding.urls[0].replace("/start/", "/start/x"))
        assert stranger.status_code == 404
        assert rebinding.status_code == 404
        assert again.status_code == 404
        assert "no-store" in stranger.headers["cache-control"]
        assert not _port_is_free(port)  # still waiting for the real redirect
        tg.cancel_scope.cancel()
    assert _port_is_free(port)


async def test_cancelling_a_provider_flow_frees_the_port_at_once(
    emu: Emulator, app: Any, monkeypatch: pytest.MonkeyPatch
) -> None:
    from backendless_auth import providers

    monkeypatch.setenv("OAUTHLIB_INSECURE_TRANSPORT", "1")
    ep = emu.provider_endpoints("google")
    google = providers.GOOGLE.with_urls(authorize_url=ep.authorize_url, token_url=ep.token_url)
    holding = Holding()
    async with anyio.create_task_group() as tg:
        tg.start_soon(
            lambda: providers.login_with_provider_async(
                app.users, google, client_id=ep.client_id, opener=holding, timeout=300
            )
        )
        with anyio.fail_after(30):
            await holding.called.wait()
        assert not _port_is_free(holding.port)
        tg.cancel_scope.cancel()
    assert _port_is_free(holding.port)


async def test_the_async_provider_flow_wants_the_async_service(emu: Emulator) -> None:
    from backendless_auth import InvalidArgumentError, providers

    with emu.app() as sync_app, pytest.raises(InvalidArgumentError, match="AsyncUserService"):
        await providers.login_with_provider_async(sync_app.users, "google", client_id="x")  # type: ignore[arg-type]
