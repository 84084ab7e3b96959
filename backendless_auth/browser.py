"""The loopback browser login: a one-shot receiver on 127.0.0.1 and the flow around it.

The person signs in in a browser; the last redirect of the login lands on a small HTTP server
this process runs on ``http://127.0.0.1:<port>/<unguessable path>`` (port 0: the system picks a
free one), carrying a random ``state``: as the query parameter ``state`` (OAuth2's own, and
:attr:`LoopbackReceiver.redirect_url`), or as one more path segment
(:attr:`LoopbackReceiver.path_state_url`, for a server that adds its own query to the URL it is
given, as Backendless does with ``redirectAfterLoginUrl``). The receiver:

* binds 127.0.0.1 only, and answers one login: the first request on its path that carries the
  right ``state`` is handed to the flow; the browser's page waits until the flow has finished
  (the session set, the user loaded) and then shows a self-contained success or failure page;
* answers anything else with a short page and keeps waiting: other paths (``/favicon.ico``,
  scanners, a wrong state segment) get 404, a request on its path with a missing, wrong or
  repeated ``state`` query parameter gets 400 (a stale tab or a forged redirect must not end
  the login in progress, nor log anyone in);
* never writes a request line anywhere (they carry the session token), and escapes every value
  it echoes into a page;
* is closed, and its port released, on every way out: success, error, timeout, Ctrl+C.

:meth:`UserService.login_with_browser <backendless_auth.UserService.login_with_browser>` and
:mod:`backendless_auth.providers` are built on :func:`run_in_browser`. This module uses the
standard library only, so that importing it stays cheap.
"""

from __future__ import annotations

import html
import logging
import math
import queue
import re
import secrets
import socketserver
import sys
import threading
import time
import webbrowser
from collections.abc import Callable, Mapping
from dataclasses import dataclass, field
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from types import TracebackType
from typing import Any, TypeVar, cast
from urllib.parse import parse_qsl, urlsplit

from ._redact import REDACTOR
from .exceptions import (
    InvalidArgumentError,
    LoginCancelledError,
    LoginFlowError,
    LoginTimeoutError,
)

__all__ = [
    "DEFAULT_TIMEOUT",
    "Callback",
    "LoopbackReceiver",
    "check_flow_options",
    "flow_error",
    "params_from_url",
    "read_backendless_redirect",
    "run_in_browser",
]

logger = logging.getLogger("backendless_auth")

T = TypeVar("T")

DEFAULT_TIMEOUT = 300.0
"""Seconds a browser login waits for the person by default."""

LOOPBACK_HOST = "127.0.0.1"
# How long the browser's page may wait for the flow to finish the login before it is told
# "received" without the outcome: the token exchange and the user load are two requests.
_VERDICT_WAIT = 60.0
# How long close() lets the accepted redirect's page be written before it stops serving.
_ANSWER_WAIT = 5.0
# A connection that sends nothing (a browser's speculative preconnect) is dropped after this.
_REQUEST_READ_TIMEOUT = 10.0
# The waiting thread wakes this often, so that Ctrl+C is seen promptly on every platform.
_POLL = 0.2
_MAX_ECHO = 300
# Provider errors (OAuth2 ``error``) and Backendless messages that mean "the person said no"
# rather than "it broke": Backendless reports a denial as code 3060 with a message, the same
# code as other provider failures, so the message is what tells them apart.
_CANCELLED = re.compile(r"(?i)\b(access_denied|user_cancelled_\w+|denied|cancell?ed)\b")


# --- the callback ----------------------------------------------------------------------------


@dataclass(frozen=True)
class Callback:
    """The redirect the receiver accepted: its query parameters (first value of each).

    Attributes:
        params: The query parameters; they hold codes and tokens, so ``repr`` hides them.
        url: The whole URL as the browser sent it (hidden from ``repr`` too).
    """

    params: Mapping[str, str] = field(repr=False)
    url: str = field(repr=False)

    def __repr__(self) -> str:
        return f"Callback(keys={sorted(self.params)!r})"


def params_from_url(url: object, *, argument: str = "redirected_url") -> dict[str, str]:
    """Read the parameters of a redirect URL (query, then fragment), first value of each.

    Args:
        url: An ``http://`` or ``https://`` URL, as copied from a browser's address bar.
        argument: The argument name used in error messages.

    Returns:
        The parameters; a key present in both query and fragment keeps the query's value.

    Raises:
        InvalidArgumentError: Not a string, not an http(s) URL, or no parameters at all.
    """
    if not isinstance(url, str):
        raise InvalidArgumentError(
            f"{argument} must be a string, not {type(url).__name__}", argument=argument
        )
    text = url.strip()
    try:
        parts = urlsplit(text)
    except ValueError:
        raise InvalidArgumentError(f"{argument} is not a URL", argument=argument) from None
    if parts.scheme.lower() not in ("http", "https") or not parts.netloc:
        raise InvalidArgumentError(
            f"{argument} must be the whole http:// or https:// address the browser ended on",
            argument=argument,
        )
    params: dict[str, str] = {}
    for chunk in (parts.fragment, parts.query):  # the query wins: it is written last
        params.update(dict(reversed(parse_qsl(chunk, keep_blank_values=True))))
    if not params:
        raise InvalidArgumentError(
            f"{argument} carries no parameters: copy the whole address, including the part "
            "after '?'",
            argument=argument,
        )
    return params


def _echo(value: str | None) -> str:
    """A value from a redirect, fit to be put in a message: secrets masked, length capped."""
    if not value:
        return ""
    text = " ".join(REDACTOR.redact(value).split())
    return text if len(text) <= _MAX_ECHO else text[: _MAX_ECHO - 1] + "…"


def flow_error(error: str | None, code: str | None, *, description: str | None = None) -> Exception:
    """The exception for a redirect that reports a failure (``error`` and maybe ``code``).

    A denial by the person (``access_denied``, or a message saying "denied" or "cancelled", as
    Backendless's code 3060 for a denial carries) is a :class:`LoginCancelledError`; anything
    else a :class:`LoginFlowError`. Both carry the numeric ``code`` when there is one.
    """
    number = int(code) if code and code.strip().isdigit() else None
    reason = _echo(description) or _echo(error) or "no reason given"
    denied = _CANCELLED.search(error or "") is not None
    where = f" (code {number})" if number is not None else ""
    if denied:
        return LoginCancelledError(f"the sign-in was denied: {reason}{where}", code=number)
    return LoginFlowError(f"the sign-in failed: {reason}{where}", code=number)


def read_backendless_redirect(params: Mapping[str, str]) -> tuple[str, str]:
    """Read the session from Backendless's redirect after a browser login.

    Args:
        params: The redirect's parameters: ``userId`` and ``userToken`` (or ``user-token``),
            or ``error`` and ``code``.

    Returns:
        ``(user_token, user_id)``.

    Raises:
        LoginCancelledError: The person denied the login.
        LoginFlowError: The redirect reports another failure, or carries no session.
    """
    token = params.get("userToken") or params.get("user-token")
    user_id = params.get("userId")
    if "error" in params or ("code" in params and not token):
        raise flow_error(params.get("error"), params.get("code"))
    if not token or not user_id:
        raise LoginFlowError(
            "the redirect after the sign-in carried neither userId and userToken nor an error"
        )
    REDACTOR.add(token)
    return token, user_id


# --- the pages -------------------------------------------------------------------------------

_STYLE = (
    "body{font-family:system-ui,sans-serif;max-width:32rem;margin:4rem auto;padding:0 1rem;"
    "color:#222}h1{font-size:1.4rem}.ok{color:#1a7f37}.fail{color:#b42318}"
    "p{line-height:1.5}.note{color:#667;font-size:.9rem}"
)


def render_page(title: str, message: str, *, ok: bool) -> bytes:
    """A self-contained HTML page (no script, no outside asset); every value is escaped."""
    css = "ok" if ok else "fail"
    body = (
        "<!doctype html>\n<html lang='en'><head><meta charset='utf-8'>"
        "<meta name='viewport' content='width=device-width'>"
        f"<title>{html.escape(title)}</title><style>{_STYLE}</style></head><body>"
        f"<h1 id='title' class='{css}'>{html.escape(title)}</h1>"
        f"<p id='message'>{html.escape(message)}</p>"
        "<p class='note'>You can close this tab.</p></body></html>\n"
    )
    return body.encode("utf-8")


@dataclass(frozen=True)
class _Answer:
    status: int
    title: str
    message: str
    ok: bool


_NOT_HERE = _Answer(404, "Not found", "Nothing is served here.", ok=False)
_WRONG_STATE = _Answer(
    400,
    "Sign-in not accepted",
    "This sign-in response does not belong to the sign-in in progress (its state does not "
    "match), so it was ignored. Start the sign-in again from your application if needed.",
    ok=False,
)
_ALREADY = _Answer(409, "Already signed in", "This sign-in has already been completed.", ok=False)
_RECEIVED = _Answer(
    200, "Sign-in received", "Return to your application to see the outcome.", ok=True
)


# --- the receiver ----------------------------------------------------------------------------


class _Server(ThreadingHTTPServer):
    # A stuck connection must not hold up close(): handlers are daemons and are not joined.
    daemon_threads = True
    block_on_close = False
    receiver: LoopbackReceiver

    def server_bind(self) -> None:
        # HTTPServer.server_bind resolves the host name (a reverse DNS lookup): not needed.
        socketserver.TCPServer.server_bind(self)
        self.server_name = LOOPBACK_HOST
        self.server_port = self.server_address[1]


class _Handler(BaseHTTPRequestHandler):
    server_version = "backendless-auth"
    sys_version = ""
    timeout = _REQUEST_READ_TIMEOUT

    def do_GET(self) -> None:
        receiver = cast(_Server, self.server).receiver
        answer, delivered = receiver._handle(self.path, self.headers.get("Host", ""))
        try:
            self._send(answer)
        finally:
            if delivered:
                receiver._answered.set()

    def do_POST(self) -> None:
        self._send(_NOT_HERE)

    def _send(self, answer: _Answer) -> None:
        body = render_page(answer.title, answer.message, ok=answer.ok)
        try:
            self.send_response(answer.status)
            self.send_header("Content-Type", "text/html; charset=utf-8")
            self.send_header("Content-Length", str(len(body)))
            self.send_header("Cache-Control", "no-store")
            self.send_header("Referrer-Policy", "no-referrer")
            self.send_header("X-Content-Type-Options", "nosniff")
            self.send_header(
                "Content-Security-Policy",
                "default-src 'none'; style-src 'unsafe-inline'; frame-ancestors 'none'",
            )
            self.end_headers()
            self.wfile.write(body)
        except OSError:  # the browser went away: nothing to tell it
            pass

    def log_message(self, format: str, *args: Any) -> None:
        # The default writes request lines to stderr, and ours carry the session token.
        return

    def log_error(self, format: str, *args: Any) -> None:
        return


class LoopbackReceiver:
    """A one-shot HTTP receiver for a login redirect, on ``127.0.0.1`` and a free port.

    Use it as a context manager (or call :meth:`start` and :meth:`close`)::

        with LoopbackReceiver() as receiver:
            url = start_login(redirect=receiver.redirect_url)
            callback = receiver.wait(timeout=300)
            ...                                   # finish the login with callback.params
            receiver.finish(ok=True, message="Signed in.")

    The accepted redirect's request is answered only once the flow calls :meth:`finish` (or
    :meth:`close`, or after 60 seconds), so that the browser shows the real outcome: a client
    that sends it must not expect an answer before the flow has taken it with :meth:`wait`.

    Args:
        state: The value the redirect must carry as ``state``; a fresh random one by default.

    Attributes:
        state: The expected ``state`` (random, unguessable).
    """

    def __init__(self, *, state: str | None = None) -> None:
        if state is not None and (not isinstance(state, str) or len(state) < 16):
            raise InvalidArgumentError("state must be a string of 16 characters or more")
        self.state = state or secrets.token_urlsafe(24)
        self._path = "/" + secrets.token_urlsafe(18)
        REDACTOR.add(self.state, self._path[1:])
        self._lock = threading.Lock()
        self._inbox: queue.Queue[Callback] = queue.Queue(maxsize=1)
        self._taken = False
        self._verdict = threading.Event()
        self._answered = threading.Event()
        self._answer = _RECEIVED
        self._server: _Server | None = None
        self._thread: threading.Thread | None = None
        self.rejected = 0
        """How many requests on the path were refused for a missing or wrong ``state``."""

    def __repr__(self) -> str:
        where = f"port={self._server.server_port}" if self._server else "closed"
        return f"LoopbackReceiver({where})"

    # --- lifecycle ---------------------------------------------------------------------------

    def start(self) -> LoopbackReceiver:
        """Bind ``127.0.0.1`` on a free port and serve in a background thread.

        Returns:
            This receiver.

        Raises:
            LoginFlowError: No port could be bound.
        """
        if self._server is not None:
            return self
        try:
            server = _Server((LOOPBACK_HOST, 0), _Handler)
        except OSError as exc:
            raise LoginFlowError(f"could not listen on {LOOPBACK_HOST}: {exc}") from exc
        server.receiver = self
        self._server = server
        self._thread = threading.Thread(
            target=server.serve_forever,
            kwargs={"poll_interval": 0.05},
            name=f"backendless-auth-loopback-{server.server_port}",
            daemon=True,
        )
        self._thread.start()
        logger.debug("loopback receiver listening on %s:%d", LOOPBACK_HOST, server.server_port)
        return self

    def close(self) -> None:
        """Stop serving and release the port; a page still waiting gets its answer first."""
        self._verdict.set()
        with self._lock:
            taken = self._taken
        if taken:
            # The handler threads are daemons: a program that ends right after the login
            # (a script, the CLI) would otherwise cut the page off before it is written.
            self._answered.wait(_ANSWER_WAIT)
        server, self._server = self._server, None
        if server is None:
            return
        server.shutdown()
        server.server_close()
        if self._thread is not None:
            self._thread.join()
            self._thread = None
        logger.debug("loopback receiver on port %d closed", server.server_port)

    def __enter__(self) -> LoopbackReceiver:
        return self.start()

    def __exit__(
        self,
        exc_type: type[BaseException] | None,
        exc: BaseException | None,
        tb: TracebackType | None,
    ) -> None:
        self.close()

    # --- addresses ---------------------------------------------------------------------------

    @property
    def port(self) -> int:
        """The port the receiver listens on."""
        if self._server is None:
            raise LoginFlowError("the loopback receiver is not running")
        return int(self._server.server_port)

    @property
    def redirect_uri(self) -> str:
        """``http://127.0.0.1:<port>/<path>``: the OAuth2 ``redirect_uri`` (state sent apart)."""
        return f"http://{LOOPBACK_HOST}:{self.port}{self._path}"

    @property
    def redirect_url(self) -> str:
        """:attr:`redirect_uri` with ``?state=<state>``: for redirects that keep their query."""
        return f"{self.redirect_uri}?state={self.state}"

    @property
    def path_state_url(self) -> str:
        """:attr:`redirect_uri` with the state as one more segment: ``.../<path>/<state>``.

        For a server that appends its own parameters to the URL it is given: the state
        survives however the query is joined.
        """
        return f"{self.redirect_uri}/{self.state}"

    # --- the flow's side ---------------------------------------------------------------------

    def wait(self, timeout: float) -> Callback:
        """Block until the login redirect arrives.

        Args:
            timeout: Seconds to wait.

        Returns:
            The accepted redirect.

        Raises:
            LoginTimeoutError: Nothing came back in time.
            KeyboardInterrupt: Ctrl+C; the caller's ``with`` block releases the port.
        """
        deadline = time.monotonic() + timeout
        while True:
            remaining = deadline - time.monotonic()
            if remaining <= 0:
                raise LoginTimeoutError(
                    f"the sign-in did not come back within {timeout:g} seconds; start it again"
                )
            try:
                return self._inbox.get(timeout=min(remaining, _POLL))
            except queue.Empty:
                continue

    def finish(self, *, ok: bool, message: str, title: str | None = None) -> None:
        """Tell the browser's waiting page how the login ended.

        Args:
            ok: Whether the login succeeded.
            message: A sentence for the person; it is escaped, and secrets in it are masked.
            title: The page's heading; "Signed in" or "Sign-in failed" by default.
        """
        heading = title or ("Signed in" if ok else "Sign-in failed")
        with self._lock:
            if not self._verdict.is_set():
                self._answer = _Answer(200 if ok else 400, heading, _echo(message), ok)
                self._verdict.set()

    # --- the server's side -------------------------------------------------------------------

    def _handle(self, raw_path: str, host: str) -> tuple[_Answer, bool]:
        """The answer to one GET, and whether it is the accepted redirect's."""
        server = self._server
        if server is None:
            return _NOT_HERE, False
        try:
            parts = urlsplit(raw_path)
        except ValueError:
            return _NOT_HERE, False
        port = server.server_port
        if host not in (f"{LOOPBACK_HOST}:{port}", f"localhost:{port}"):
            return _NOT_HERE, False
        pairs = parse_qsl(parts.query, keep_blank_values=True)
        states = [value for key, value in pairs if key == "state"]
        expected = self.state.encode()
        if parts.path == self._path:
            candidates = states
        elif secrets.compare_digest(
            parts.path.encode("utf-8", "replace"), f"{self._path}/{self.state}".encode()
        ):
            # path_state_url: the state is in the path; a query state, if any, must agree.
            candidates = [self.state, *states]
        else:  # any other path, a wrong state segment included, is just not served here
            return _NOT_HERE, False
        if (
            not candidates
            or len(states) > 1
            or not all(
                secrets.compare_digest(value.encode("utf-8", "replace"), expected)
                for value in candidates
            )
        ):
            with self._lock:
                self.rejected += 1
            logger.warning("loopback receiver: a redirect with a wrong state was refused")
            return _WRONG_STATE, False
        params = dict(reversed(pairs))
        with self._lock:
            if self._taken:
                return _ALREADY, False
            self._taken = True
        self._inbox.put(Callback(params=params, url=f"http://{host}{raw_path}"))
        self._verdict.wait(_VERDICT_WAIT)
        with self._lock:
            return self._answer, True


# --- opening the browser ---------------------------------------------------------------------


def check_flow_options(*, open_browser: object, opener: object, timeout: object) -> float:
    """Check the options shared by browser flows, before any socket or request.

    Returns:
        The timeout as a float.

    Raises:
        InvalidArgumentError: An option is refused.
    """
    if not isinstance(open_browser, bool):
        raise InvalidArgumentError(
            f"open_browser must be True or False, not {type(open_browser).__name__}",
            argument="open_browser",
        )
    if opener is not None and not callable(opener):
        raise InvalidArgumentError(
            "opener must be a callable taking the URL, or None", argument="opener"
        )
    if opener is not None and not open_browser:
        raise InvalidArgumentError(
            "opener was given with open_browser=False: pass one or the other", argument="opener"
        )
    if isinstance(timeout, bool) or not isinstance(timeout, (int, float)):
        raise InvalidArgumentError(
            f"timeout must be a number of seconds, not {type(timeout).__name__}",
            argument="timeout",
        )
    if not math.isfinite(timeout) or timeout <= 0:
        raise InvalidArgumentError(
            "timeout must be a positive, finite number of seconds", argument="timeout"
        )
    return float(timeout)


def _can_open_browser() -> bool:
    """Whether ``webbrowser`` can reach a graphical browser the person sees."""
    import os

    if sys.platform.startswith(("win", "darwin")):
        return not os.environ.get("SSH_CONNECTION")
    # Elsewhere a graphical browser needs a display; without one, webbrowser would start a
    # text browser (lynx, w3m) that takes over, or hangs in, a terminal that may not exist.
    display = os.environ.get("DISPLAY") or os.environ.get("WAYLAND_DISPLAY")
    return bool(display) or bool(os.environ.get("BROWSER"))


def _in_notebook() -> Any:
    """The IPython display module when a Jupyter kernel runs this code, else ``None``."""
    ipython = sys.modules.get("IPython")  # imported by every kernel; never imported here
    if ipython is None:
        return None
    try:
        shell = ipython.get_ipython()
        if shell is None or getattr(shell, "kernel", None) is None:
            return None
        from IPython import display

        return display
    except Exception:  # an odd IPython: fall back to printing
        return None


def _present(url: str, *, label: str, open_browser: bool, opener: Any, timeout: float) -> None:
    """Open ``url`` for the person: ``opener``, the system browser, or print it."""
    if opener is not None:
        opener(url)
        logger.info("sign-in URL handed to the opener; waiting for the browser")
        return
    opened = False
    if open_browser and _can_open_browser():
        try:
            opened = webbrowser.open(url, new=2)
        except webbrowser.Error:
            opened = False
    display = _in_notebook()
    if display is not None:
        link = html.escape(url, quote=True)
        display.display(
            display.HTML(
                f'<a href="{link}" target="_blank" rel="noopener noreferrer">'
                f"Sign in with {html.escape(label)}</a>"
            )
        )
    if not opened:
        minutes = f"{timeout / 60:g} minutes" if timeout >= 60 else f"{timeout:g} seconds"
        lines = [
            f"Open this URL in a browser to sign in with {label}:",
            f"    {url}",
            f"Waiting up to {minutes} for the sign-in to finish...",
            "(If that browser cannot reach this machine, it ends on an address that does not "
            "load: stop this call, then pass that address to users.complete_browser_login().)",
        ]
        print("\n".join(lines), flush=True)
    else:
        logger.info("sign-in opened in the system browser; waiting")


# --- the flow --------------------------------------------------------------------------------


def run_in_browser(
    authorization_url: Callable[[LoopbackReceiver], str],
    complete: Callable[[Callback], T],
    *,
    label: str,
    open_browser: bool = True,
    opener: Callable[[str], object] | None = None,
    timeout: float = DEFAULT_TIMEOUT,
    success_message: Callable[[T], str] | None = None,
) -> T:
    """Run one browser login around a loopback receiver.

    Start the receiver, build the authorization URL for it, open it, wait for the redirect,
    finish the login with it, show the outcome in the browser, and release the port.

    Args:
        authorization_url: Builds the URL to open, given the running receiver (use its
            :attr:`~LoopbackReceiver.redirect_url` or :attr:`~LoopbackReceiver.redirect_uri`
            and :attr:`~LoopbackReceiver.state`).
        complete: Finishes the login from the accepted redirect; its exceptions propagate.
        label: What the person signs in with, for messages ("google").
        open_browser: Open the system browser; when False, or when none can open, print the
            URL (and show a link in Jupyter).
        opener: Called with the URL instead of the system browser.
        timeout: Seconds to wait for the redirect.
        success_message: The sentence shown in the browser on success.

    Returns:
        What ``complete`` returned.

    Raises:
        LoginTimeoutError: Nobody came back within ``timeout``.
        KeyboardInterrupt: Ctrl+C while waiting; the port is released first.
        Exception: Whatever ``authorization_url``, ``opener`` or ``complete`` raised.
    """
    with LoopbackReceiver() as receiver:
        url = authorization_url(receiver)
        _present(url, label=label, open_browser=open_browser, opener=opener, timeout=timeout)
        callback = receiver.wait(timeout)
        try:
            result = complete(callback)
            message = success_message(result) if success_message else "You are signed in."
        except BaseException as exc:
            reason = str(exc) if isinstance(exc, Exception) else "The sign-in was stopped."
            receiver.finish(ok=False, message=reason or type(exc).__name__)
            raise
        receiver.finish(ok=True, message=message)
        return result
