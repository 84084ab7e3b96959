"""The loopback receiver tests through both receivers: the threaded one and the async twin.

A test written against :class:`~backendless_auth.browser.LoopbackReceiver` and
:func:`~backendless_auth.browser.run_in_browser` checks
:class:`~backendless_auth._browser_async.AsyncLoopbackReceiver` and
:func:`~backendless_auth._browser_async.run_in_browser_async` unchanged through the
:class:`Receivers` fixture of its driver (``sync``, ``asyncio``, ``trio``: :data:`DRIVERS`): under
an async driver the receiver serves on an event loop in a worker thread (the portals of
``tests/drivers.py``), and the blocking calls (``wait``, ``finish``, the context manager) go
through the portal. The test thread stays free to act as the browser, as with the sync receiver.

Ctrl-C has no direct twin on a loop: under an async driver a ``KeyboardInterrupt`` in the test's
``complete`` (or in the test thread while it waits) cancels the login's task, as
``asyncio.run`` does on Ctrl-C, and is raised again once the task has finished.
"""

from __future__ import annotations

import concurrent.futures
import functools
import threading
from collections.abc import Callable
from types import TracebackType
from typing import Any

import anyio
import anyio.from_thread
import anyio.lowlevel
from drivers import _PORTALS, DRIVERS

from backendless_auth import browser
from backendless_auth._browser_async import AsyncLoopbackReceiver, run_in_browser_async

__all__ = ["DRIVERS", "Receivers"]


class BlockingAsyncReceiver:
    """An :class:`AsyncLoopbackReceiver` on a portal's loop, used from blocking code."""

    def __init__(self, portal: anyio.from_thread.BlockingPortal, **kwargs: Any) -> None:
        self._portal = portal
        # Built on the loop: its events and streams belong to that loop's library.
        self.receiver: AsyncLoopbackReceiver = portal.call(
            functools.partial(AsyncLoopbackReceiver, **kwargs)
        )
        self._running: Any = None

    def __enter__(self) -> BlockingAsyncReceiver:
        # One task enters and exits it: the receiver's task group must stay in one task.
        self._running = self._portal.wrap_async_context_manager(self.receiver)
        self._running.__enter__()
        return self

    def __exit__(
        self,
        exc_type: type[BaseException] | None,
        exc: BaseException | None,
        tb: TracebackType | None,
    ) -> None:
        running, self._running = self._running, None
        if running is not None:
            running.__exit__(exc_type, exc, tb)

    def wait(self, timeout: float, *, hint: str = "") -> browser.Callback:
        return _call(self._portal, functools.partial(self.receiver.wait, timeout, hint=hint))

    def finish(self, *, ok: bool, message: str, title: str | None = None) -> None:
        # On the loop: the events it sets wake the receiver's tasks.
        self._portal.call(
            functools.partial(self.receiver.finish, ok=ok, message=message, title=title)
        )

    def __getattr__(self, name: str) -> Any:
        return getattr(self.receiver, name)

    def __repr__(self) -> str:
        return repr(self.receiver)


def _call(portal: anyio.from_thread.BlockingPortal, work: Callable[[], Any]) -> Any:
    """``portal.call(work)``; a ``KeyboardInterrupt`` here cancels the task and waits for it."""
    ended = threading.Event()

    async def run() -> Any:
        try:
            return await work()
        finally:
            ended.set()

    future = portal.start_task_soon(run)
    try:
        # Short waits, as the threaded receiver's: a Ctrl-C (interrupt_main) lands between them.
        while not concurrent.futures.wait([future], timeout=0.05).done:
            pass
        return future.result()
    except KeyboardInterrupt:
        future.cancel()
        ended.wait(10)
        raise


class Receivers:
    """``LoopbackReceiver`` and ``run_in_browser`` of one driver, with the blocking signatures."""

    def __init__(self, driver: str) -> None:
        self.driver = driver
        self._portal = None if driver == "sync" else _PORTALS.get(driver)

    @property
    def is_async(self) -> bool:
        return self._portal is not None

    def running(self) -> int:
        """What a finished login must not leave behind: the threaded receiver's threads, or the
        async one's tasks on its loop (anyio's worker threads idle in their pool by design)."""
        if self._portal is None:
            return threading.active_count()
        return len(self._portal.call(anyio.get_running_tasks))

    def receiver(self, **kwargs: Any) -> Any:
        """A new receiver (not started: use it as a context manager)."""
        if self._portal is None:
            return browser.LoopbackReceiver(**kwargs)
        return BlockingAsyncReceiver(self._portal, **kwargs)

    def run_in_browser(
        self,
        authorization_url: Callable[[Any], str],
        complete: Callable[[browser.Callback], Any],
        **kwargs: Any,
    ) -> Any:
        if self._portal is None:
            return browser.run_in_browser(authorization_url, complete, **kwargs)
        interrupted = False

        async def url(receiver: AsyncLoopbackReceiver) -> str:
            return authorization_url(receiver)

        async def flow() -> Any:
            nonlocal interrupted
            with anyio.CancelScope() as scope:

                async def finish(callback: browser.Callback) -> Any:
                    nonlocal interrupted
                    try:
                        return complete(callback)
                    except KeyboardInterrupt:
                        interrupted = True
                        scope.cancel()
                        await anyio.lowlevel.checkpoint()
                        raise

                return await run_in_browser_async(url, finish, **kwargs)
            return None

        result = _call(self._portal, flow)
        if interrupted:
            raise KeyboardInterrupt
        return result
