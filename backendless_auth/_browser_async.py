"""The browser login for async code: an anyio-native loopback receiver and the flow around it.

The twin of :class:`~backendless_auth.browser.LoopbackReceiver` and
:func:`~backendless_auth.browser.run_in_browser`, on the event loop: the receiver listens with
``anyio.create_tcp_listener`` on ``127.0.0.1`` (port 0), reads each request with ``h11``, and
leaves every decision to the same :class:`~backendless_auth.browser.LoginGate` as the threaded
one (paths, ``state``, the one-time start URL and its cookie, another user's connection, "fail
closed"): the rules exist once. Nothing blocks the loop: the receiver is tasks, and opening the
browser (``webbrowser``, or an ``opener`` that may block) runs in a worker thread.

Cancelling the task that runs the login (or a timeout around it, ``anyio.fail_after``) closes
the listener on the way out: the port is free again at once. asyncio and trio alike.
"""

from __future__ import annotations

import contextlib
import functools
import http
import inspect
import math
import threading
from collections.abc import Awaitable, Callable
from types import TracebackType
from typing import Any, TypeVar, cast

import anyio
import anyio.abc
import anyio.from_thread
import anyio.streams.stapled
import anyio.to_thread
import h11

from . import browser
from .browser import Callback, GateReply, LoginGate
from .exceptions import LoginFlowError

T = TypeVar("T")

# The largest request head or body the receiver reads (a redirect is a GET of a few kB).
_MAX_REQUEST = 64 * 1024


class AsyncLoopbackReceiver(browser.ReceiverBase):
    """A one-shot HTTP receiver for a login redirect, on ``127.0.0.1``, served by tasks.

    Use it as an async context manager; inside, the same members as the threaded receiver::

        async with AsyncLoopbackReceiver() as receiver:
            url = await start_login(redirect=receiver.redirect_url)
            receiver.bind(url)                       # the browser opens receiver.start_url
            callback = await receiver.wait(timeout=300)
            ...                                      # finish the login with callback.params
            receiver.finish(ok=True, message="Signed in.")

    Args:
        state: The value the redirect must carry as ``state``; a fresh random one by default.
        host: ``"127.0.0.1"`` (the default) or ``"localhost"``: the name in the addresses.
        path: The redirect path; random by default.
    """

    def __init__(
        self,
        *,
        state: str | None = None,
        host: str = browser.LOOPBACK_HOST,
        path: str | None = None,
    ) -> None:
        self.gate = LoginGate(host=host, path=path, state=state)
        self.state = self.gate.state
        # bind()/unbind() come from the worker thread that opens the browser; the gate's other
        # calls from the loop. Never held across an await.
        self._lock = threading.Lock()
        self._send, self._inbox = anyio.create_memory_object_stream[Callback | Exception](math.inf)
        self._verdict = anyio.Event()
        self._answered = anyio.Event()
        self._listener: anyio.streams.stapled.MultiListener[anyio.abc.SocketStream] | None = None
        self._tasks: anyio.abc.TaskGroup | None = None
        self._port = 0

    def __repr__(self) -> str:
        where = f"port={self._port}" if self._listener is not None else "closed"
        return f"AsyncLoopbackReceiver({where})"

    @property
    def rejected(self) -> int:
        """How many requests on the path were refused (missing or wrong ``state``, no cookie)."""
        return self.gate.rejected

    # --- lifecycle ---------------------------------------------------------------------------

    async def __aenter__(self) -> AsyncLoopbackReceiver:
        try:
            listener = await anyio.create_tcp_listener(
                local_host=browser.LOOPBACK_HOST, local_port=0
            )
        except OSError as exc:
            raise LoginFlowError(f"could not listen on {browser.LOOPBACK_HOST}: {exc}") from exc
        self._listener = listener
        self._port = int(listener.extra(anyio.abc.SocketAttribute.local_port))  # noqa: S610
        tasks = anyio.create_task_group()
        await tasks.__aenter__()
        self._tasks = tasks
        # One address (127.0.0.1), so one socket listener.
        tasks.start_soon(self._accept, cast(anyio.abc.SocketListener, listener.listeners[0]), tasks)
        browser.logger.debug(
            "async loopback receiver listening on %s:%d", browser.LOOPBACK_HOST, self._port
        )
        return self

    async def __aexit__(
        self,
        exc_type: type[BaseException] | None,
        exc: BaseException | None,
        tb: TracebackType | None,
    ) -> None:
        """Stop serving and release the port; on a normal exit the waiting page is answered."""
        self._verdict.set()
        tasks, self._tasks = self._tasks, None
        listener, self._listener = self._listener, None
        if tasks is None or listener is None:
            return
        with anyio.CancelScope(shield=True):
            # First of all, even when cancelled: the port is free at once.
            await listener.aclose()
            browser.logger.debug("async loopback receiver on port %d closed", self._port)
            if self.gate.taken:
                # Let the accepted redirect's page be written before the tasks stop, on a
                # cancel too: its verdict is set, so the page goes out at once ("stopped").
                with anyio.move_on_after(browser._ANSWER_WAIT):
                    await self._answered.wait()
        tasks.cancel_scope.cancel()
        try:
            await tasks.__aexit__(None, None, None)  # the tasks never raise: nothing to wrap
        finally:
            self._send.close()
            self._inbox.close()

    # --- addresses -----------------------------------------------------------------------------

    @property
    def port(self) -> int:
        """The port the receiver listens on."""
        if self._listener is None:
            raise LoginFlowError("the loopback receiver is not running")
        return self._port

    # The other addresses, bind() and unbind(): browser.ReceiverBase's.

    async def wait(self, timeout: float, *, hint: str = "") -> Callback:
        """Wait, without blocking the loop, for the login redirect.

        Raises:
            LoginTimeoutError: Nothing came back in time.
            LoginFlowError: The login was stopped (the start URL was used twice).
        """
        with anyio.move_on_after(timeout):
            got = await self._inbox.receive()
            if isinstance(got, Exception):
                raise got
            return got
        raise browser.login_timeout_error(timeout, hint)

    def finish(self, *, ok: bool, message: str, title: str | None = None) -> None:
        """Tell the browser's waiting page how the login ended (the first call wins)."""
        with self._lock:
            if not self._verdict.is_set():
                self.gate.finish(ok=ok, message=message, title=title)
        self._verdict.set()

    # --- the server's side -------------------------------------------------------------------

    async def _accept(
        self,
        listener: anyio.abc.SocketListener,
        tasks: anyio.abc.TaskGroup,
    ) -> None:
        while True:
            try:
                stream = await listener.accept()
            except (OSError, anyio.ClosedResourceError, anyio.BrokenResourceError):
                return
            tasks.start_soon(self._serve, stream)

    async def _serve(self, stream: anyio.abc.SocketStream) -> None:
        """Answer one connection: one request, then close. Never raises."""
        # The browser went away, or sent garbage: nothing to tell it.
        with contextlib.suppress(Exception):
            async with stream:
                await self._answer(stream)

    async def _answer(self, stream: anyio.abc.SocketStream) -> None:
        connection = h11.Connection(h11.SERVER, max_incomplete_event_size=_MAX_REQUEST)
        with anyio.move_on_after(browser._REQUEST_READ_TIMEOUT) as reading:
            request = await _read_request(stream, connection)
        if reading.cancelled_caught or request is None:
            return
        headers = [
            (name.decode("latin-1"), value.decode("latin-1")) for name, value in request.headers
        ]
        host = next((value for name, value in headers if name == "host"), "")
        cookies = "; ".join(value for name, value in headers if name == "cookie")
        same = browser._same_user(
            stream.extra(anyio.abc.SocketAttribute.remote_address),  # type: ignore[arg-type]  # noqa: S610
            stream.extra(anyio.abc.SocketAttribute.local_address),  # type: ignore[arg-type]  # noqa: S610
        )
        with self._lock:
            reply = self.gate.handle(
                request.method.decode("latin-1"),
                request.target.decode("latin-1"),
                host_header=host,
                cookie_header=cookies,
                port=self._port,
                same_user=same,
            )
        if reply.failure is not None:
            self._send.send_nowait(reply.failure)
        elif reply.callback is not None:
            self._send.send_nowait(reply.callback)
            try:
                # Shielded, so that a cancelled login still tells the waiting browser that
                # it stopped (the receiver's exit sets the verdict at once; both waits bounded).
                with anyio.move_on_after(browser._VERDICT_WAIT, shield=True):
                    await self._verdict.wait()
                with self._lock:
                    reply = self.gate.verdict()
                with anyio.move_on_after(browser._ANSWER_WAIT, shield=True):
                    await stream.send(_response_bytes(connection, reply))
            finally:
                self._answered.set()
            return
        await stream.send(_response_bytes(connection, reply))


async def _read_request(
    stream: anyio.abc.SocketStream, connection: h11.Connection
) -> h11.Request | None:
    """The request's head, its body read and dropped; ``None`` for a connection to ignore."""
    request: h11.Request | None = None
    size = 0
    while True:
        event = connection.next_event()
        if event is h11.NEED_DATA:
            try:
                data = await stream.receive(16 * 1024)
            except (anyio.EndOfStream, anyio.BrokenResourceError, OSError):
                return None
            size += len(data)
            if size > _MAX_REQUEST:
                return None
            connection.receive_data(data)
        elif isinstance(event, h11.Request):
            request = event
        elif isinstance(event, h11.EndOfMessage):
            return request
        elif isinstance(event, h11.ConnectionClosed):
            return None


def _response_bytes(connection: h11.Connection, reply: GateReply) -> bytes:
    body = reply.body()
    headers = [
        ("Server", "backendless-auth"),
        *reply.headers(),
        ("Content-Length", str(len(body))),
        ("Connection", "close"),
    ]
    head = h11.Response(
        status_code=reply.status,
        headers=[(name.encode("latin-1"), value.encode("latin-1")) for name, value in headers],
        reason=http.HTTPStatus(reply.status).phrase.encode("latin-1"),
    )
    return (
        (connection.send(head) or b"")
        + (connection.send(h11.Data(data=body)) or b"")
        + (connection.send(h11.EndOfMessage()) or b"")
    )


# --- the flow --------------------------------------------------------------------------------


def _blocking_opener(opener: Any) -> Any:
    """An opener a worker thread can call; what an ``async`` one returns is awaited on the loop."""
    if opener is None:
        return None

    def call(url: str) -> object:
        result = opener(url)
        if inspect.isawaitable(result):
            return anyio.from_thread.run(_awaited, result)
        return result

    return call


async def _awaited(awaitable: Awaitable[object]) -> object:
    return await awaitable


async def run_in_browser_async(
    authorization_url: Callable[[AsyncLoopbackReceiver], Awaitable[str]],
    complete: Callable[[Callback], Awaitable[T]],
    *,
    label: str,
    open_browser: bool = True,
    opener: Callable[[str], object] | None = None,
    timeout: float = browser.DEFAULT_TIMEOUT,
    success_message: Callable[[T], str] | None = None,
    redirect_host: str = browser.LOOPBACK_HOST,
    redirect_path: str | None = None,
    timeout_hint: Callable[[Any], str] | None = None,
) -> T:
    """Run one browser login around an :class:`AsyncLoopbackReceiver`.

    The twin of :func:`~backendless_auth.browser.run_in_browser`: the same steps and errors;
    ``authorization_url`` and ``complete`` are awaited; ``opener`` may be a plain function
    (called in a worker thread, so it may block) or an ``async def`` one (awaited on the loop).
    """
    error: Exception | None = None
    async with AsyncLoopbackReceiver(host=redirect_host, path=redirect_path) as receiver:
        try:
            url = await authorization_url(receiver)
            present = functools.partial(
                browser._present,
                receiver,
                url,
                label=label,
                open_browser=open_browser,
                opener=_blocking_opener(opener),
                timeout=timeout,
            )
            # webbrowser and a plain opener may block: a worker thread, abandoned on cancel.
            await anyio.to_thread.run_sync(present, abandon_on_cancel=True)
            hint = timeout_hint(receiver) if timeout_hint is not None else ""
            callback = await receiver.wait(timeout, hint=hint)
        except Exception as exc:
            error = exc
        else:
            try:
                result = await complete(callback)
                message = success_message(result) if success_message else "You are signed in."
            except BaseException as exc:
                reason = str(exc) if isinstance(exc, Exception) else "The sign-in was stopped."
                receiver.finish(ok=False, message=reason or type(exc).__name__)
                if not isinstance(exc, Exception):
                    raise
                error = exc
            else:
                receiver.finish(ok=True, message=message)
                return result
    assert error is not None
    raise error
