"""The loopback browser login: a one-shot receiver on 127.0.0.1 and the flow around it.

The person signs in in a browser; the last redirect of the login lands on a small HTTP server
this process runs on ``http://127.0.0.1:<port><path>`` (port 0: the system picks a free one),
carrying a random ``state``: as the query parameter ``state`` (OAuth2's own, and
:attr:`LoopbackReceiver.redirect_url`), or as one more path segment
(:attr:`LoopbackReceiver.path_state_url`, for a server that adds its own query to the URL it is
given, as Backendless does with ``redirectAfterLoginUrl``). The path is fixed for the provider
flows (:data:`DEFAULT_REDIRECT_PATH`, what a native client registers, RFC 8252 §7.3) and random
for the Backendless flow; the state carries the unguessable part.

**Binding the login to the person's browser.** Opening a browser puts its URL in a command
line (``xdg-open <url>``, the browser's own), which every local user can read in
``/proc/<pid>/cmdline``. So the browser is never given the authorization URL: it is given a
one-time *start URL* on the receiver (``http://127.0.0.1:<port>/start/<random>``), which sets a
cookie bound to this login and redirects to the provider. The redirect back is accepted only
from a browser holding that cookie, and a second use of the start URL stops the whole login
(:class:`~backendless_auth.LoginFlowError`), whoever comes second. On Linux the receiver also
asks the kernel who opened each connection (``/proc/net/tcp``) and refuses connections of
other user accounts outright, so another user cannot even spend the start URL. When the URL is
only printed (no browser, ``open_browser=False``, a notebook link), it appears in no command
line, and the redirect is accepted on its ``state`` alone. See ``docs/security.md``.

The receiver:

* binds 127.0.0.1 only, and answers one login: the first request on its path that carries the
  right ``state`` (and cookie) is handed to the flow; the browser's page waits until the flow
  has finished (the session set, the user loaded) and then shows a self-contained success or
  failure page;
* answers anything else with a short page and keeps waiting: other paths (``/favicon.ico``,
  scanners, a wrong state segment) get 404, a request on its path with a missing, wrong or
  repeated ``state`` query parameter gets 400, a redirect from another browser 400, a
  connection of another user 403 (a stale tab or a forged redirect must not end the login in
  progress, nor log anyone in);
* never writes a request line anywhere (they carry the session token), and escapes every value
  it echoes into a page;
* is closed, and its port released, on every way out: success, error, timeout, Ctrl+C.

What the receiver decides lives in :class:`LoginGate`, which does no I/O (no socket, no
thread, no clock): :class:`LoopbackReceiver` drives it from a threaded HTTP server, and an
async driver can drive the same gate from an event loop.

:meth:`UserService.login_with_browser <backendless_auth.UserService.login_with_browser>` and
:mod:`backendless_auth.providers` are built on :func:`run_in_browser`. This module uses the
standard library only, so that importing it stays cheap.
"""

from __future__ import annotations

import html
import logging
import math
import os
import queue
import re
import secrets
import socket
import socketserver
import struct
import sys
import threading
import time
import webbrowser
from collections.abc import Callable, Mapping
from dataclasses import dataclass, field
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from types import TracebackType
from typing import Any, Protocol, TypeVar, cast
from urllib.parse import parse_qsl, urlsplit

from ._redact import REDACTOR
from .exceptions import (
    InvalidArgumentError,
    LoginCancelledError,
    LoginFlowError,
    LoginTimeoutError,
)

__all__ = [
    "DEFAULT_REDIRECT_PATH",
    "DEFAULT_TIMEOUT",
    "Callback",
    "GateReply",
    "LoginGate",
    "LoopbackReceiver",
    "SignInURL",
    "backendless_timeout_hint",
    "check_flow_options",
    "check_redirect_options",
    "flow_error",
    "params_from_url",
    "read_backendless_redirect",
    "run_in_browser",
]

logger = logging.getLogger("backendless_auth")

T = TypeVar("T")

DEFAULT_TIMEOUT = 300.0
"""Seconds a browser login waits for the person by default."""

DEFAULT_REDIRECT_PATH = "/callback"
"""The provider flows' redirect path: register ``http://127.0.0.1/callback`` (any port)."""

LOOPBACK_HOST = "127.0.0.1"
# The names a redirect URI may use for the receiver; it always binds 127.0.0.1.
REDIRECT_HOSTS = ("127.0.0.1", "localhost")
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
_PATH = re.compile(r"(/[A-Za-z0-9._~!$&'()*+,;=:@%-]+)+")
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


def _say_once(text: str) -> str:
    """``text`` with the ``": "``-separated parts that an earlier part already says dropped.

    Backendless (and the emulator) build a denial's message from the provider's own words, so
    "The user denied access at github: The user denied access" reads as one sentence here.
    """
    kept: list[str] = []
    for part in text.split(": "):
        words = " ".join(re.findall(r"\w+", part.lower()))
        if words and any(words in " ".join(re.findall(r"\w+", k.lower())) for k in kept):
            continue
        kept.append(part)
    return ": ".join(kept)


def flow_error(error: str | None, code: str | None, *, description: str | None = None) -> Exception:
    """The exception for a redirect that reports a failure (``error`` and maybe ``code``).

    A denial by the person (``access_denied``, or a message saying "denied" or "cancelled", as
    Backendless's code 3060 for a denial carries) is a :class:`LoginCancelledError`; anything
    else a :class:`LoginFlowError`. Both carry the numeric ``code`` when there is one. The
    message says each thing once: a reason that already says "denied" is not prefixed with
    "the sign-in was denied", and a part of it that repeats an earlier part is dropped.
    """
    number = int(code) if code and code.strip().isdigit() else None
    error_text, description_text = _echo(error), _echo(description)
    if error_text and description_text and error_text.lower() not in description_text.lower():
        # OAuth2: error=access_denied, error_description=a sentence: keep both, once each.
        reason = f"{description_text} ({error_text})"
    else:
        reason = description_text or error_text or "no reason given"
    reason = _say_once(reason)
    denied = _CANCELLED.search(error or "") is not None
    where = f" (code {number})" if number is not None else ""
    if denied:
        says = _CANCELLED.search(reason) is not None
        text = reason if says else f"the sign-in was denied: {reason}"
        return LoginCancelledError(f"{text}{where}", code=number)
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
_OTHER_BROWSER = _Answer(
    400,
    "Sign-in not accepted",
    "This sign-in response did not come back to the browser that started the sign-in, so it "
    "was ignored. Start the sign-in again from your application, in this browser.",
    ok=False,
)
_OTHER_USER = _Answer(
    403,
    "Not yours",
    "This sign-in belongs to another user account on this computer.",
    ok=False,
)
_STARTED_TWICE = _Answer(
    409,
    "Sign-in stopped",
    "The link that starts this sign-in was opened a second time, so the sign-in was stopped. "
    "Start it again from your application.",
    ok=False,
)
_STOPPED = _Answer(409, "Sign-in stopped", "This sign-in was stopped.", ok=False)
_ALREADY = _Answer(409, "Already signed in", "This sign-in has already been completed.", ok=False)
_RECEIVED = _Answer(
    200, "Sign-in received", "Return to your application to see the outcome.", ok=True
)

_STARTED_TWICE_ERROR = (
    "the link that starts the sign-in was opened twice (another program or user on this "
    "computer may have tried to take over the sign-in), so it was stopped; start it again"
)


# --- the gate: what the receiver decides, without I/O ----------------------------------------


@dataclass(frozen=True)
class GateReply:
    """What to answer to one request, and what it means for the login.

    Attributes:
        status: The HTTP status.
        title: The page's heading.
        message: The page's sentence (already masked; escaped when rendered).
        ok: Whether the page shows success.
        location: A ``Location`` to redirect to (the start URL's answer), else ``None``.
        set_cookie: A ``Set-Cookie`` value (the start URL's answer), else ``None``.
        callback: The login redirect to hand to the flow; its page waits for the verdict.
        failure: An error that ends the whole login (fail closed), else ``None``.
    """

    status: int
    title: str
    message: str
    ok: bool
    location: str | None = field(default=None, repr=False)
    set_cookie: str | None = field(default=None, repr=False)
    callback: Callback | None = None
    failure: Exception | None = None

    def headers(self) -> list[tuple[str, str]]:
        """The response headers, security headers included."""
        found = [
            ("Content-Type", "text/html; charset=utf-8"),
            ("Cache-Control", "no-store"),
            ("Referrer-Policy", "no-referrer"),
            ("X-Content-Type-Options", "nosniff"),
            (
                "Content-Security-Policy",
                "default-src 'none'; style-src 'unsafe-inline'; frame-ancestors 'none'",
            ),
        ]
        if self.location is not None:
            found.append(("Location", self.location))
        if self.set_cookie is not None:
            found.append(("Set-Cookie", self.set_cookie))
        return found

    def body(self) -> bytes:
        return render_page(self.title, self.message, ok=self.ok)


def _reply(answer: _Answer, **extra: Any) -> GateReply:
    return GateReply(answer.status, answer.title, answer.message, answer.ok, **extra)


def _cookie(header: str, name: str) -> str | None:
    """The value of cookie ``name`` in a ``Cookie`` header (the first one), else ``None``."""
    for chunk in header.split(";"):
        key, sep, value = chunk.strip().partition("=")
        if sep and key == name:
            return value.strip()
    return None


def check_redirect_options(*, host: object, path: object) -> tuple[str, str | None]:
    """Check ``redirect_host`` and ``redirect_path`` before any socket is opened.

    Returns:
        ``(host, path)``; ``path`` is ``None`` when not given.

    Raises:
        InvalidArgumentError: Not ``"127.0.0.1"`` or ``"localhost"``; not a path such as
            ``"/callback"``.
    """
    if not isinstance(host, str) or host not in REDIRECT_HOSTS:
        raise InvalidArgumentError(
            f"redirect_host must be one of {', '.join(map(repr, REDIRECT_HOSTS))} (the "
            "receiver listens on 127.0.0.1 only)",
            argument="redirect_host",
        )
    if path is None:
        return host, None
    if (
        not isinstance(path, str)
        or not _PATH.fullmatch(path)
        or path.startswith("/start/")
        or any(part in (".", "..") for part in path.split("/"))
    ):
        raise InvalidArgumentError(
            "redirect_path must be a URL path such as '/callback': starting with '/', no "
            "query, no fragment, no '.' or '..' segment, not under /start/",
            argument="redirect_path",
        )
    return host, path


class LoginGate:
    """The receiver's rules for one login, without sockets, threads or clocks.

    A driver (the threaded :class:`LoopbackReceiver`, or an async one) feeds it each request
    with :meth:`handle` and acts on the :class:`GateReply`: send the page, redirect, hand a
    :class:`Callback` to the flow (and answer its page after :meth:`finish`), or end the
    login with the reply's ``failure``. A gate is used by one driver; its methods are not
    meant to be called concurrently (the threaded driver holds a lock around them).

    Args:
        host: The host name in the addresses: ``"127.0.0.1"`` or ``"localhost"``.
        path: The redirect path; random (unguessable) when ``None``.
        state: The value the redirect must carry as ``state``; random by default.

    Attributes:
        state: The expected ``state`` (random, unguessable).
        path: The redirect path.
        start_path: The one-time start URL's path (random).
        rejected: How many requests on the path were refused (wrong ``state``, no cookie).
        foreign: How many requests came from another user account and were refused.
    """

    def __init__(
        self, *, host: str = LOOPBACK_HOST, path: str | None = None, state: str | None = None
    ) -> None:
        if state is not None and (not isinstance(state, str) or len(state) < 16):
            raise InvalidArgumentError("state must be a string of 16 characters or more")
        host, path = check_redirect_options(host=host, path=path)
        self.host = host
        self.state = state or secrets.token_urlsafe(24)
        self.path = path or "/" + secrets.token_urlsafe(18)
        self.start_path = "/start/" + secrets.token_urlsafe(24)
        self._cookie_name = "bl-login-" + secrets.token_hex(6)
        self._cookie_value = secrets.token_urlsafe(32)
        REDACTOR.add(self.state, self.start_path[7:], self._cookie_value)
        if path is None:
            REDACTOR.add(self.path[1:])
        self._target: str | None = None
        self.bound = False
        self.started = False
        self.taken = False
        self.failure: Exception | None = None
        self._verdict: _Answer | None = None
        self.rejected = 0
        self.foreign = 0

    # --- addresses, given the port the driver listens on --------------------------------------

    def origin(self, port: int) -> str:
        """``http://127.0.0.1:<port>`` (or ``localhost``, as chosen)."""
        return f"http://{self.host}:{port}"

    def redirect_uri(self, port: int) -> str:
        """``<origin><path>``: the OAuth2 ``redirect_uri`` (the state is sent apart)."""
        return f"{self.origin(port)}{self.path}"

    def start_url(self, port: int) -> str:
        """The one-time start URL (served once :meth:`bind` was called)."""
        return f"{self.origin(port)}{self.start_path}"

    # --- the flow's side ---------------------------------------------------------------------

    def bind(self, target: str) -> None:
        """Serve the start URL, redirecting to ``target``; then the redirect needs its cookie."""
        self._target = target
        self.bound = True

    def unbind(self) -> bool:
        """Stop serving the start URL and accept the redirect on its state alone.

        For a link that only the person sees (printed, shown in a notebook). Refused (returns
        ``False``, the binding stays) when the start URL was already used: a browser holds it.
        """
        if self.started:
            return False
        self._target = None
        self.bound = False
        return True

    def finish(self, *, ok: bool, message: str, title: str | None = None) -> None:
        """Record the outcome the accepted redirect's page shows (the first call wins)."""
        if self._verdict is None:
            heading = title or ("Signed in" if ok else "Sign-in failed")
            self._verdict = _Answer(200 if ok else 400, heading, _echo(message), ok)

    def verdict(self) -> GateReply:
        """The accepted redirect's page: the outcome, or "received" when none was recorded."""
        return _reply(self._verdict or _RECEIVED)

    # --- the server's side -------------------------------------------------------------------

    def handle(
        self,
        method: str,
        target: str,
        *,
        host_header: str,
        cookie_header: str,
        port: int,
        same_user: bool = True,
    ) -> GateReply:
        """Decide the answer to one request.

        Args:
            method: The HTTP method.
            target: The request target (path and query) as sent.
            host_header: The ``Host`` header.
            cookie_header: The ``Cookie`` header (all of them joined with ``"; "``).
            port: The port the receiver listens on.
            same_user: ``False`` when the connection is known to come from another user
                account of this machine.
        """
        if not same_user:
            self.foreign += 1
            logger.warning("loopback receiver: a connection of another user was refused")
            return _reply(_OTHER_USER)
        if method != "GET" or host_header not in (f"{h}:{port}" for h in REDIRECT_HOSTS):
            return _reply(_NOT_HERE)
        try:
            parts = urlsplit(target)
        except ValueError:
            return _reply(_NOT_HERE)
        raw_path = parts.path.encode("utf-8", "replace")
        if self._target is not None and secrets.compare_digest(raw_path, self.start_path.encode()):
            return self._start()
        pairs = parse_qsl(parts.query, keep_blank_values=True)
        states = [value for key, value in pairs if key == "state"]
        if parts.path == self.path:
            candidates = states
        elif secrets.compare_digest(raw_path, f"{self.path}/{self.state}".encode()):
            # path_state_url: the state is in the path; a query state, if any, must agree.
            candidates = [self.state, *states]
        else:  # any other path, a wrong state segment included, is just not served here
            return _reply(_NOT_HERE)
        expected = self.state.encode()
        if (
            not candidates
            or len(states) > 1
            or not all(
                secrets.compare_digest(value.encode("utf-8", "replace"), expected)
                for value in candidates
            )
        ):
            self.rejected += 1
            logger.warning("loopback receiver: a redirect with a wrong state was refused")
            return _reply(_WRONG_STATE)
        if self.failure is not None:
            return _reply(_STOPPED)
        if self.bound:
            held = _cookie(cookie_header, self._cookie_name) or ""
            if not secrets.compare_digest(
                held.encode("utf-8", "replace"), self._cookie_value.encode()
            ):
                self.rejected += 1
                logger.warning(
                    "loopback receiver: a redirect from a browser that did not start the "
                    "sign-in was refused"
                )
                return _reply(_OTHER_BROWSER)
        if self.taken:
            return _reply(_ALREADY)
        self.taken = True
        params = dict(reversed(pairs))
        callback = Callback(params=params, url=f"http://{host_header}{target}")
        return _reply(_RECEIVED, callback=callback)

    def _start(self) -> GateReply:
        if self.started or self.failure is not None or self.taken:
            if self.failure is None and not self.taken:
                self.failure = LoginFlowError(_STARTED_TWICE_ERROR)
                logger.warning("loopback receiver: the start URL was used twice; login stopped")
                return _reply(_STARTED_TWICE, failure=self.failure)
            return _reply(_STARTED_TWICE if self.failure is not None else _ALREADY)
        self.started = True
        cookie = f"{self._cookie_name}={self._cookie_value}; Path=/; HttpOnly; SameSite=Lax"
        return GateReply(
            302,
            "Signing in",
            "Continue to the sign-in page.",
            ok=True,
            location=self._target,
            set_cookie=cookie,
        )


# --- who is on the other end ------------------------------------------------------------------


def _peer_uid(client: tuple[Any, ...], server: tuple[Any, ...]) -> int | None:
    """The user id owning the client end of a loopback TCP connection, when the OS says.

    Linux lists every socket of the network namespace with its owner in ``/proc/net/tcp``.
    ``None`` elsewhere, or when the connection is not listed (a browser outside this kernel:
    WSL1's Windows side, a forwarded port).
    """
    if not sys.platform.startswith("linux"):
        return None
    try:
        local = _hex_address(client)
        remote = _hex_address(server)
        with open("/proc/net/tcp", encoding="ascii") as fh:
            lines = fh.readlines()
    except (OSError, ValueError, struct.error):
        return None
    for line in lines[1:]:
        fields = line.split()
        if len(fields) > 7 and fields[1] == local and fields[2] == remote:
            try:
                return int(fields[7])
            except ValueError:
                return None
    return None


def _hex_address(address: tuple[Any, ...]) -> str:
    # The kernel prints the address as the native-endian u32 of its network-order bytes.
    packed = socket.inet_aton(str(address[0]))
    return f"{struct.unpack('=I', packed)[0]:08X}:{int(address[1]):04X}"


def _same_user(client: tuple[Any, ...], server: tuple[Any, ...]) -> bool:
    """Whether the connection may come from this user: unknown owner, this user, or root."""
    uid = _peer_uid(client, server)
    return uid is None or uid in (os.geteuid(), 0)


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
        self._serve("GET")

    def do_POST(self) -> None:
        self._serve("POST")

    def _serve(self, method: str) -> None:
        server = cast(_Server, self.server)
        same = _same_user(self.client_address, server.server_address)
        cookies = "; ".join(self.headers.get_all("Cookie") or [])
        reply, delivered = server.receiver._handle(
            method, self.path, self.headers.get("Host", ""), cookies, same_user=same
        )
        try:
            self._send(reply)
        finally:
            if delivered:
                server.receiver._answered.set()

    def _send(self, reply: GateReply) -> None:
        body = reply.body()
        try:
            self.send_response(reply.status)
            for name, value in reply.headers():
                self.send_header(name, value)
            self.send_header("Content-Length", str(len(body)))
            self.end_headers()
            self.wfile.write(body)
        except OSError:  # the browser went away: nothing to tell it
            pass

    def log_message(self, format: str, *args: Any) -> None:
        # The default writes request lines to stderr, and ours carry the session token.
        return

    def log_error(self, format: str, *args: Any) -> None:
        return


class ReceiverBase:
    """What both receivers share (the threaded one here, the async one of ``_browser_async``):
    the addresses and the binding, over a :class:`LoginGate`.

    A subclass sets ``gate``, ``state`` and ``_lock`` (a ``threading.Lock``) and has ``port``.
    """

    gate: LoginGate
    state: str
    _lock: threading.Lock

    @property
    def port(self) -> int:
        raise NotImplementedError  # pragma: no cover - each receiver defines it

    @property
    def origin(self) -> str:
        """``http://127.0.0.1:<port>`` (or ``localhost``, as chosen)."""
        return self.gate.origin(self.port)

    @property
    def redirect_uri(self) -> str:
        """``http://127.0.0.1:<port><path>``: the OAuth2 ``redirect_uri`` (state sent apart)."""
        return self.gate.redirect_uri(self.port)

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

    @property
    def start_url(self) -> str:
        """The one-time URL to open in the browser once :meth:`bind` was called."""
        return self.gate.start_url(self.port)

    def bind(self, authorization_url: str) -> str:
        """Bind the login to the browser that opens :attr:`start_url`, and return that URL.

        The start URL answers once: it sets a cookie and redirects to ``authorization_url``;
        the redirect back is then accepted only with that cookie, and a second use of the
        start URL stops the login (:meth:`wait` raises :class:`LoginFlowError`).
        """
        with self._lock:
            self.gate.bind(authorization_url)
        return self.start_url

    def unbind(self) -> bool:
        """Accept the redirect on its state alone (a link only the person sees); see LoginGate."""
        with self._lock:
            return self.gate.unbind()


class LoopbackReceiver(ReceiverBase):
    """A one-shot HTTP receiver for a login redirect, on ``127.0.0.1`` and a free port.

    Use it as a context manager (or call :meth:`start` and :meth:`close`)::

        with LoopbackReceiver() as receiver:
            url = start_login(redirect=receiver.redirect_url)
            receiver.bind(url)                    # the browser opens receiver.start_url
            callback = receiver.wait(timeout=300)
            ...                                   # finish the login with callback.params
            receiver.finish(ok=True, message="Signed in.")

    The accepted redirect's request is answered only once the flow calls :meth:`finish` (or
    :meth:`close`, or after 60 seconds), so that the browser shows the real outcome: a client
    that sends it must not expect an answer before the flow has taken it with :meth:`wait`.

    Args:
        state: The value the redirect must carry as ``state``; a fresh random one by default.
        host: ``"127.0.0.1"`` (the default) or ``"localhost"``: the name in the addresses.
        path: The redirect path (e.g. :data:`DEFAULT_REDIRECT_PATH`); random by default.

    Attributes:
        state: The expected ``state`` (random, unguessable).
        gate: The :class:`LoginGate` that decides every answer.
    """

    def __init__(
        self, *, state: str | None = None, host: str = LOOPBACK_HOST, path: str | None = None
    ) -> None:
        self.gate = LoginGate(host=host, path=path, state=state)
        self.state = self.gate.state
        self._lock = threading.Lock()
        self._inbox: queue.Queue[Callback | Exception] = queue.Queue()
        self._verdict = threading.Event()
        self._answered = threading.Event()
        self._server: _Server | None = None
        self._thread: threading.Thread | None = None

    def __repr__(self) -> str:
        where = f"port={self._server.server_port}" if self._server else "closed"
        return f"LoopbackReceiver({where})"

    @property
    def rejected(self) -> int:
        """How many requests on the path were refused (missing or wrong ``state``, no cookie)."""
        return self.gate.rejected

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
            taken = self.gate.taken
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

    def wait(self, timeout: float, *, hint: str = "") -> Callback:
        """Block until the login redirect arrives.

        Args:
            timeout: Seconds to wait.
            hint: A sentence added to the timeout's message (what to check).

        Returns:
            The accepted redirect.

        Raises:
            LoginTimeoutError: Nothing came back in time.
            LoginFlowError: The login was stopped (the start URL was used twice).
            KeyboardInterrupt: Ctrl+C; the caller's ``with`` block releases the port.
        """
        deadline = time.monotonic() + timeout
        while True:
            remaining = deadline - time.monotonic()
            if remaining <= 0:
                raise login_timeout_error(timeout, hint)
            try:
                got = self._inbox.get(timeout=min(remaining, _POLL))
            except queue.Empty:
                continue
            if isinstance(got, Exception):
                raise got
            return got

    def finish(self, *, ok: bool, message: str, title: str | None = None) -> None:
        """Tell the browser's waiting page how the login ended.

        Args:
            ok: Whether the login succeeded.
            message: A sentence for the person; it is escaped, and secrets in it are masked.
            title: The page's heading; "Signed in" or "Sign-in failed" by default.
        """
        with self._lock:
            if not self._verdict.is_set():
                self.gate.finish(ok=ok, message=message, title=title)
                self._verdict.set()

    # --- the server's side -------------------------------------------------------------------

    def _handle(
        self, method: str, target: str, host: str, cookies: str, *, same_user: bool
    ) -> tuple[GateReply, bool]:
        """The answer to one request, and whether it is the accepted redirect's."""
        server = self._server
        if server is None:
            return _reply(_NOT_HERE), False
        with self._lock:
            reply = self.gate.handle(
                method,
                target,
                host_header=host,
                cookie_header=cookies,
                port=server.server_port,
                same_user=same_user,
            )
        if reply.failure is not None:
            self._inbox.put(reply.failure)
            return reply, False
        if reply.callback is None:
            return reply, False
        self._inbox.put(reply.callback)
        self._verdict.wait(_VERDICT_WAIT)
        with self._lock:
            return self.gate.verdict(), True


def login_timeout_error(timeout: float, hint: str) -> LoginTimeoutError:
    """The error for a login whose redirect did not come back (every receiver's)."""
    more = f" {hint}" if hint else ""
    return LoginTimeoutError(
        f"the sign-in did not come back within {timeout:g} seconds.{more} Start it again."
    )


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


class SignInURL(str):
    """What an ``opener`` is given: the one-time start URL, a ``str``.

    An opener that starts a browser opens it as it is. An opener that only *shows* a link to
    the person (prints it, for a browser on another machine) shows :attr:`authorization_url`
    instead and returns ``False``: the login then accepts the redirect on its ``state`` alone,
    as for the printed link of ``open_browser=False``.

    Attributes:
        authorization_url: The provider's (or Backendless's) authorization URL it leads to.
    """

    authorization_url: str


class _Binds(Protocol):
    """What :func:`_present` needs of a receiver (the threaded one, or an async twin's)."""

    def bind(self, authorization_url: str) -> str: ...

    def unbind(self) -> bool: ...


def _present(
    receiver: _Binds,
    url: str,
    *,
    label: str,
    open_browser: bool,
    opener: Any,
    timeout: float,
) -> None:
    """Open the sign-in for the person: ``opener``, the system browser, or print it.

    A browser started by this process (``webbrowser``, or ``opener``, which may start one) gets
    the receiver's one-time start URL, never ``url`` itself: a command line is readable by
    every local user. A printed or displayed link is ``url``, which only the person sees.
    """
    if opener is not None:
        given = SignInURL(receiver.bind(url))
        given.authorization_url = url
        if opener(given) is False and receiver.unbind():
            logger.info("the opener showed the sign-in link; waiting for the browser")
        else:
            logger.info("sign-in URL handed to the opener; waiting for the browser")
        return
    opened = False
    if open_browser and _can_open_browser():
        start = receiver.bind(url)
        try:
            opened = webbrowser.open(start, new=2)
        except webbrowser.Error:
            opened = False
        if not opened and not receiver.unbind():
            opened = True  # a browser loaded the start URL all the same: it holds the login
    display = _in_notebook()
    if opened:
        logger.info("sign-in opened in the system browser; waiting")
        if display is not None:  # no second link: its start URL works once
            display.display(
                display.HTML(f"A browser tab was opened to sign in with {html.escape(label)}.")
            )
        return
    if display is not None:
        link = html.escape(url, quote=True)
        display.display(
            display.HTML(
                f'<a href="{link}" target="_blank" rel="noopener noreferrer">'
                f"Sign in with {html.escape(label)}</a>"
            )
        )
    minutes = f"{timeout / 60:g} minutes" if timeout >= 60 else f"{timeout:g} seconds"
    lines = [
        f"Open this URL in a browser to sign in with {label}:",
        f"    {url}",
        f"Waiting up to {minutes} for the sign-in to finish...",
        "(If that browser cannot reach this machine, it ends on an address that does not "
        "load: stop this call, then pass that address to users.complete_browser_login().)",
    ]
    print("\n".join(lines), flush=True)


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
    redirect_host: str = LOOPBACK_HOST,
    redirect_path: str | None = None,
    timeout_hint: Callable[[LoopbackReceiver], str] | None = None,
) -> T:
    """Run one browser login around a loopback receiver.

    Start the receiver, build the authorization URL for it, open it (through the receiver's
    one-time start URL when a browser is started; see the module's docstring), wait for the
    redirect, finish the login with it, show the outcome in the browser, and release the port.

    Args:
        authorization_url: Builds the URL to open, given the running receiver (use its
            :attr:`~LoopbackReceiver.redirect_url` or :attr:`~LoopbackReceiver.redirect_uri`
            and :attr:`~LoopbackReceiver.state`).
        complete: Finishes the login from the accepted redirect; its exceptions propagate.
        label: What the person signs in with, for messages ("google").
        open_browser: Open the system browser; when False, or when none can open, print the
            URL (and show a link in Jupyter).
        opener: Called with a :class:`SignInURL` (the start URL) instead of the system
            browser; returning ``False`` means it only showed the link (see there).
        timeout: Seconds to wait for the redirect.
        success_message: The sentence shown in the browser on success.
        redirect_host: ``"127.0.0.1"`` or ``"localhost"`` in the redirect address.
        redirect_path: The redirect path; random when ``None``.
        timeout_hint: What the timeout's message tells the person to check.

    Returns:
        What ``complete`` returned.

    Raises:
        LoginTimeoutError: Nobody came back within ``timeout``.
        LoginFlowError: The login was stopped: its start URL was used twice.
        KeyboardInterrupt: Ctrl+C while waiting; the port is released first.
        Exception: Whatever ``authorization_url``, ``opener`` or ``complete`` raised.
    """
    with LoopbackReceiver(host=redirect_host, path=redirect_path) as receiver:
        url = authorization_url(receiver)
        _present(
            receiver, url, label=label, open_browser=open_browser, opener=opener, timeout=timeout
        )
        hint = timeout_hint(receiver) if timeout_hint is not None else ""
        callback = receiver.wait(timeout, hint=hint)
        try:
            result = complete(callback)
            message = success_message(result) if success_message else "You are signed in."
        except BaseException as exc:
            reason = str(exc) if isinstance(exc, Exception) else "The sign-in was stopped."
            receiver.finish(ok=False, message=reason or type(exc).__name__)
            raise
        receiver.finish(ok=True, message=message)
        return result


def backendless_timeout_hint(provider: str) -> Callable[[LoopbackReceiver], str]:
    """What the Backendless flow's timeout message tells the person to check."""

    def hint(receiver: LoopbackReceiver) -> str:
        return (
            f"If the browser stopped on an error page at {provider}, check the provider's "
            "settings in the Backendless console (its client id and secret) and that the "
            "provider's app allows Backendless's callback URL; the sign-in was to come back "
            f"to {receiver.origin}."
        )

    return hint
