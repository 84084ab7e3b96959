"""The loopback receiver and the browser flow around it, driven by a plain HTTP client.

No Backendless here: ``run_in_browser`` gets small callables, and the "browser" is ``requests``
in a thread (the receiver holds the page until the flow has an outcome, so a request on the
right path blocks until the flow finishes).

Each test that opens a receiver runs through the threaded receiver and its async twin, on
asyncio and on trio (the ``receivers`` fixture, tests/receivers.py); the checks of arguments and
redirects are one shared code path, and run once.
"""

from __future__ import annotations

import _thread
import logging
import socket
import sys
import threading
import types
import webbrowser
from collections.abc import Callable, Iterator
from typing import Any

import pytest
import requests
from receivers import DRIVERS, Receivers

from backendless_auth import (
    InvalidArgumentError,
    LoginCancelledError,
    LoginFlowError,
    LoginTimeoutError,
    browser,
)
from backendless_auth.browser import Callback, LoopbackReceiver


def get(url: str, **kwargs: Any) -> requests.Response:
    return requests.get(url, timeout=10, allow_redirects=False, **kwargs)


class Visitor:
    """A "browser": GETs a URL in a thread and keeps the answer; it keeps cookies."""

    def __init__(self) -> None:
        self.answers: list[requests.Response] = []
        self.threads: list[threading.Thread] = []
        self.session = requests.Session()
        self.errors: list[Exception] = []

    def start(self, url: str) -> str:
        """Open a sign-in's start URL as a browser would; return where it redirects."""
        answer = self.session.get(url, timeout=10, allow_redirects=False)
        assert answer.status_code == 302, answer.status_code
        return answer.headers["Location"]

    def visit(self, url: str, **kwargs: Any) -> None:
        def run() -> None:
            try:
                self.answers.append(
                    self.session.get(url, timeout=10, allow_redirects=False, **kwargs)
                )
            except requests.ConnectionError as exc:  # the receiver is gone: nobody answered
                self.errors.append(exc)

        thread = threading.Thread(target=run)
        thread.start()
        self.threads.append(thread)

    def join(self) -> list[requests.Response]:
        for thread in self.threads:
            thread.join(timeout=15)
        return self.answers


def assert_port_free(port: int) -> None:
    """The port can be listened on again: the receiver's socket is closed."""
    sock = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
    try:
        # As any server would: TIME_WAIT leftovers of served requests do not count as "in use".
        sock.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
        sock.bind(("127.0.0.1", port))
        sock.listen(1)
    finally:
        sock.close()


def assert_port_taken(port: int) -> None:
    sock = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
    sock.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
    try:
        with pytest.raises(OSError):
            sock.bind(("127.0.0.1", port))
    finally:
        sock.close()


@pytest.fixture(params=DRIVERS)
def receivers(request: pytest.FixtureRequest, _driver_portals: Any) -> Receivers:
    """The threaded receiver and ``run_in_browser``, or their async twins (tests/receivers.py)."""
    return Receivers(str(request.param))


@pytest.fixture
def receiver(receivers: Receivers) -> Iterator[LoopbackReceiver]:
    with receivers.receiver() as running:
        yield running


# --- the receiver ----------------------------------------------------------------------------


def test_binds_loopback_only_on_a_system_port(receiver: LoopbackReceiver) -> None:
    assert receiver.redirect_uri.startswith(f"http://127.0.0.1:{receiver.port}/")
    assert receiver.port > 0
    assert_port_taken(receiver.port)
    # Reachable on 127.0.0.1 ...
    assert get(f"http://127.0.0.1:{receiver.port}/favicon.ico").status_code == 404
    # ... and on no other address of this machine.
    try:
        infos = socket.getaddrinfo(socket.gethostname(), None, socket.AF_INET)
    except OSError:  # a host name that does not resolve: no other address to try
        infos = []
    others = {str(info[4][0]) for info in infos if not str(info[4][0]).startswith("127.")}
    for address in others:
        with pytest.raises(OSError):
            socket.create_connection((address, receiver.port), timeout=2).close()


def test_path_and_state_are_unguessable_and_fresh(receivers: Receivers) -> None:
    with receivers.receiver() as one, receivers.receiver() as two:
        path_one = one.redirect_uri.rsplit("/", 1)[1]
        assert len(path_one) >= 16
        assert len(one.state) >= 16
        assert path_one != two.redirect_uri.rsplit("/", 1)[1]
        assert one.state != two.state
        assert one.redirect_url == f"{one.redirect_uri}?state={one.state}"
        assert one.state not in repr(one)
        assert path_one not in repr(one)


def test_state_must_be_long_enough(receivers: Receivers) -> None:
    with pytest.raises(InvalidArgumentError):
        receivers.receiver(state="short")


def test_stray_requests_are_ignored(receiver: LoopbackReceiver) -> None:
    base = f"http://127.0.0.1:{receiver.port}"
    assert get(f"{base}/favicon.ico").status_code == 404
    assert get(f"{base}/").status_code == 404
    assert get(f"{base}/other?state={receiver.state}&userToken=x").status_code == 404
    assert get(f"{receiver.path_state_url}/deeper?state={receiver.state}").status_code == 404
    # A wrong state segment is just another path.
    assert get(f"{receiver.redirect_uri}/wrong-state-in-the-path?userId=u").status_code == 404
    assert get(f"{receiver.redirect_uri}/?state={receiver.state}").status_code == 404
    assert requests.post(receiver.redirect_url, timeout=10).status_code == 404
    # The right path and state, but a Host that is not this receiver (DNS rebinding).
    assert get(receiver.redirect_url, headers={"Host": "evil.example"}).status_code == 404
    with pytest.raises(LoginTimeoutError):
        receiver.wait(0.3)
    assert receiver.rejected == 0


@pytest.mark.parametrize(
    "query",
    [
        "",
        "?userId=u&userToken=t",
        "?state=wrong-state-value&userId=u",
        "?state=&userId=u",
        "/{state}?state=another-state-value",
    ],
    ids=["none", "missing", "wrong", "empty", "disagreeing"],
)
def test_wrong_state_is_refused_and_the_flow_keeps_waiting(
    receiver: LoopbackReceiver, query: str
) -> None:
    answer = get(receiver.redirect_uri + query.format(state=receiver.state))
    assert answer.status_code == 400
    assert "does not belong to the sign-in in progress" in answer.text
    assert receiver.rejected == 1
    with pytest.raises(LoginTimeoutError):
        receiver.wait(0.2)
    # The genuine redirect still finishes the login.
    visitor = Visitor()
    visitor.visit(receiver.redirect_url + "&userId=u1")
    callback = receiver.wait(5)
    assert callback.params["userId"] == "u1"
    receiver.finish(ok=True, message="done")
    assert visitor.join()[0].status_code == 200


@pytest.mark.parametrize(
    "suffix",
    [
        "?userId=u2&userToken=t2",  # a server appending its query
        "?state={state}&userId=u2&userToken=t2",  # the state in both places, agreeing
    ],
)
def test_the_state_may_travel_in_the_path(receiver: LoopbackReceiver, suffix: str) -> None:
    assert receiver.path_state_url == f"{receiver.redirect_uri}/{receiver.state}"
    visitor = Visitor()
    visitor.visit(receiver.path_state_url + suffix.format(state=receiver.state))
    callback = receiver.wait(5)
    assert callback.params["userId"] == "u2"
    receiver.finish(ok=True, message="done")
    assert visitor.join()[0].status_code == 200


def test_a_repeated_state_is_refused(receiver: LoopbackReceiver) -> None:
    answer = get(f"{receiver.redirect_url}&state={receiver.state}")
    assert answer.status_code == 400


def test_serves_one_login_only(receiver: LoopbackReceiver) -> None:
    visitor = Visitor()
    visitor.visit(receiver.redirect_url + "&userId=first")
    callback = receiver.wait(5)
    receiver.finish(ok=True, message="Welcome")
    first = visitor.join()[0]
    assert first.status_code == 200
    assert "Welcome" in first.text
    again = get(receiver.redirect_url + "&userId=second")
    assert again.status_code == 409
    assert callback.params["userId"] == "first"
    with pytest.raises(LoginTimeoutError):
        receiver.wait(0.2)


def test_pages_are_self_contained_and_locked_down(receiver: LoopbackReceiver) -> None:
    visitor = Visitor()
    visitor.visit(receiver.redirect_url)
    receiver.wait(5)
    receiver.finish(ok=False, message="Nope")
    page = visitor.join()[0]
    assert page.status_code == 400
    assert page.headers["Content-Type"] == "text/html; charset=utf-8"
    assert page.headers["Cache-Control"] == "no-store"
    assert page.headers["Referrer-Policy"] == "no-referrer"
    assert "default-src 'none'" in page.headers["Content-Security-Policy"]
    assert "<script" not in page.text
    assert "http" not in page.text.split("</head>")[1]
    assert "Sign-in failed" in page.text
    assert "Nope" in page.text


def test_callback_repr_hides_the_values(receiver: LoopbackReceiver) -> None:
    visitor = Visitor()
    visitor.visit(receiver.redirect_url + "&userToken=secret-token-123")
    callback = receiver.wait(5)
    receiver.finish(ok=True, message="ok")
    visitor.join()
    assert callback.params["userToken"] == "secret-token-123"
    assert "secret-token-123" not in repr(callback)
    assert receiver.state not in repr(callback)
    assert "userToken" in repr(callback)


# --- run_in_browser --------------------------------------------------------------------------


class Flow:
    """The two callables of ``run_in_browser``, recording the receiver's port."""

    def __init__(self, visit_query: str | None = "&userId=u1&userToken=tok-123456") -> None:
        self.port = 0
        self.visitor = Visitor()
        self.visit_query = visit_query
        self.opened: list[str] = []

    def authorization_url(self, receiver: LoopbackReceiver) -> str:
        self.port = receiver.port
        self.redirect = receiver.redirect_url
        return f"https://provider.example/authorize?redirect={receiver.redirect_url}"

    def opener(self, url: str) -> None:
        self.started_with = url
        self.opened.append(self.visitor.start(url))
        if self.visit_query is not None:
            self.visitor.visit(self.redirect + self.visit_query)


def test_run_in_browser_success_shows_the_message_and_releases_the_port(
    receivers: Receivers,
) -> None:
    flow = Flow()
    seen: list[Callback] = []

    def complete(callback: Callback) -> str:
        seen.append(callback)
        return "<Ann & co>"

    result = receivers.run_in_browser(
        flow.authorization_url,
        complete,
        label="google",
        opener=flow.opener,
        timeout=10,
        success_message=lambda who: f"You are signed in as {who}.",
    )
    assert result == "<Ann & co>"
    assert flow.opened == [f"https://provider.example/authorize?redirect={flow.redirect}"]
    page = flow.visitor.join()[0]
    assert page.status_code == 200
    assert "You are signed in as &lt;Ann &amp; co&gt;." in page.text
    assert "<Ann" not in page.text
    assert seen[0].params["userToken"] == "tok-123456"
    assert_port_free(flow.port)


def test_error_values_are_escaped_in_the_page(receivers: Receivers) -> None:
    flow = Flow("&error=%3Cscript%3Ealert(1)%3C%2Fscript%3E&code=3060")

    def complete(callback: Callback) -> None:
        browser.read_backendless_redirect(callback.params)

    with pytest.raises(LoginFlowError) as caught:
        receivers.run_in_browser(
            flow.authorization_url, complete, label="x", opener=flow.opener, timeout=10
        )
    assert caught.value.code == 3060
    page = flow.visitor.join()[0]
    assert page.status_code == 400
    assert "&lt;script&gt;alert(1)&lt;/script&gt;" in page.text
    assert "<script>" not in page.text
    assert_port_free(flow.port)


def test_timeout_raises_our_error_and_releases_the_port(receivers: Receivers) -> None:
    flow = Flow(visit_query=None)
    with pytest.raises(LoginTimeoutError, match=r"did not come back within 0\.3 seconds"):
        receivers.run_in_browser(
            flow.authorization_url, lambda cb: cb, label="x", opener=flow.opener, timeout=0.3
        )
    assert flow.opened
    assert_port_free(flow.port)


def test_ctrl_c_while_waiting_stops_cleanly(receivers: Receivers) -> None:
    flow = Flow(visit_query=None)
    timer = threading.Timer(0.3, _thread.interrupt_main)

    def opener(url: str) -> None:
        flow.opener(url)
        timer.start()

    before = {t.name for t in threading.enumerate()}
    try:
        with pytest.raises(KeyboardInterrupt):
            receivers.run_in_browser(
                flow.authorization_url, lambda cb: cb, label="x", opener=opener, timeout=30
            )
    finally:
        timer.cancel()
        timer.join()
    assert_port_free(flow.port)
    leftovers = {t.name for t in threading.enumerate()} - before
    assert not [name for name in leftovers if name.startswith("backendless-auth-loopback")]


def test_ctrl_c_while_finishing_tells_the_browser_and_releases_the_port(
    receivers: Receivers,
) -> None:
    flow = Flow()

    def complete(callback: Callback) -> None:
        raise KeyboardInterrupt

    with pytest.raises(KeyboardInterrupt):
        receivers.run_in_browser(
            flow.authorization_url, complete, label="x", opener=flow.opener, timeout=10
        )
    page = flow.visitor.join()[0]
    assert page.status_code == 400
    assert "stopped" in page.text
    assert_port_free(flow.port)


@pytest.mark.parametrize("where", ["authorization_url", "opener", "success_message"])
def test_port_released_when_a_step_raises(receivers: Receivers, where: str) -> None:
    flow = Flow()

    def boom(*_: object) -> Any:
        raise RuntimeError(f"{where} broke")

    def authorization_url(receiver: LoopbackReceiver) -> str:
        url = flow.authorization_url(receiver)
        if where == "authorization_url":
            boom()
        return url

    opener: Callable[[str], object] = boom if where == "opener" else flow.opener
    message: Callable[[str], str] | None = boom if where == "success_message" else None
    with pytest.raises(RuntimeError, match=f"{where} broke"):
        receivers.run_in_browser(
            authorization_url,
            lambda cb: "ok",
            label="x",
            opener=opener,
            timeout=10,
            success_message=message,
        )
    assert flow.port
    assert_port_free(flow.port)
    if where == "success_message":
        assert "broke" in flow.visitor.join()[0].text


def test_nothing_secret_is_logged(receivers: Receivers, caplog: pytest.LogCaptureFixture) -> None:
    flow = Flow("&userId=u1&userToken=tok-secret-98765")
    caplog.set_level(logging.DEBUG)
    receivers.run_in_browser(
        flow.authorization_url, lambda cb: cb, label="x", opener=flow.opener, timeout=10
    )
    flow.visitor.join()
    ours = [r for r in caplog.records if r.name.startswith("backendless_auth")]
    assert ours
    text = "\n".join(r.getMessage() for r in ours)
    path = flow.redirect.split("?")[0].rsplit("/", 1)[1]
    state = flow.redirect.split("state=")[1]
    for secret in ("tok-secret-98765", path, state):
        assert secret not in text


# --- presenting the URL ----------------------------------------------------------------------


@pytest.fixture
def no_display(monkeypatch: pytest.MonkeyPatch) -> list[str]:
    """A Linux machine without a display; records any call to webbrowser.open."""
    for name in ("DISPLAY", "WAYLAND_DISPLAY", "BROWSER", "SSH_CONNECTION"):
        monkeypatch.delenv(name, raising=False)
    monkeypatch.setattr(sys, "platform", "linux")
    opened: list[str] = []

    def fake_open(url: str, **_: object) -> bool:
        opened.append(url)
        return True

    monkeypatch.setattr(webbrowser, "open", fake_open)
    return opened


def _visit_printed_url(capsys: pytest.CaptureFixture[str], flow: Flow) -> None:
    """Act as the person reading the printed URL: visit the redirect once it is printed."""

    def watch() -> None:
        for _ in range(200):
            if flow.port:
                flow.visitor.visit(flow.redirect + "&userId=u&userToken=tok-abcdef")
                return
            threading.Event().wait(0.02)

    threading.Thread(target=watch, daemon=True).start()


def test_no_display_prints_the_url_and_a_progress_message(
    receivers: Receivers, no_display: list[str], capsys: pytest.CaptureFixture[str]
) -> None:
    flow = Flow(visit_query=None)
    _visit_printed_url(capsys, flow)
    receivers.run_in_browser(flow.authorization_url, lambda cb: cb, label="google", timeout=10)
    out = capsys.readouterr().out
    assert no_display == []
    assert "Open this URL in a browser to sign in with google:" in out
    assert f"https://provider.example/authorize?redirect={flow.redirect}" in out
    assert "Waiting up to 10 seconds" in out
    assert "complete_browser_login" in out


def test_open_browser_false_prints_even_with_a_display(
    receivers: Receivers,
    no_display: list[str],
    capsys: pytest.CaptureFixture[str],
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    monkeypatch.setenv("DISPLAY", ":0")
    flow = Flow(visit_query=None)
    _visit_printed_url(capsys, flow)
    receivers.run_in_browser(
        flow.authorization_url, lambda cb: cb, label="x", open_browser=False, timeout=10
    )
    assert no_display == []
    assert "Open this URL" in capsys.readouterr().out


def test_with_a_display_the_system_browser_opens_the_start_url(
    receivers: Receivers, capsys: pytest.CaptureFixture[str], monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("DISPLAY", ":0")
    monkeypatch.setattr(sys, "platform", "linux")
    flow = Flow()
    opened: list[str] = []

    def system_browser(url: str, **_: object) -> bool:
        opened.append(url)
        flow.opener(url)  # the browser: start URL, then the provider sends it back
        return True

    monkeypatch.setattr(webbrowser, "open", system_browser)
    receivers.run_in_browser(flow.authorization_url, lambda cb: cb, label="x", timeout=10)
    # What a command line shows: the one-time start URL, never the authorization URL.
    assert opened[0].startswith(f"http://127.0.0.1:{flow.port}/start/")
    assert "provider.example" not in opened[0]
    assert flow.redirect.split("?")[0] not in opened[0]
    assert flow.opened == [f"https://provider.example/authorize?redirect={flow.redirect}"]
    assert flow.visitor.join()[0].status_code == 200
    assert "Open this URL" not in capsys.readouterr().out


def test_a_browser_without_the_start_cookie_is_refused_and_the_flow_waits(
    receivers: Receivers,
) -> None:
    flow = Flow()
    stranger = Visitor()  # another browser: it never opened the start URL

    def opener(url: str) -> None:
        flow.opened.append(flow.visitor.start(url))
        stranger.visit(flow.redirect + "&userId=mallory&userToken=tok-mallory")
        stranger.join()
        flow.visitor.visit(flow.redirect + "&userId=u1&userToken=tok-123456")

    callback = receivers.run_in_browser(
        flow.authorization_url, lambda cb: cb, label="x", opener=opener, timeout=10
    )
    assert callback.params["userId"] == "u1"
    refused = stranger.answers[0]
    assert refused.status_code == 400
    assert "did not come back to the browser that started" in refused.text


@pytest.mark.parametrize("who_first", ["person", "attacker"])
def test_a_second_use_of_the_start_url_stops_the_login(
    receivers: Receivers, who_first: str
) -> None:
    flow = Flow(visit_query=None)
    attacker = Visitor()
    answers: list[int] = []

    def opener(url: str) -> None:
        first, second = (
            (flow.visitor, attacker) if who_first == "person" else (attacker, flow.visitor)
        )
        first.start(url)
        answers.append(second.session.get(url, timeout=10, allow_redirects=False).status_code)
        # Whoever holds the cookie now comes back with a session: too late, the login is over.
        first.visit(flow.redirect + "&userId=u1&userToken=tok-123456")

    with pytest.raises(LoginFlowError, match="opened twice"):
        receivers.run_in_browser(
            flow.authorization_url, lambda cb: cb, label="x", opener=opener, timeout=10
        )
    assert answers == [409]
    late = (flow.visitor if who_first == "person" else attacker).join()
    assert all(page.status_code != 200 for page in late)
    assert_port_free(flow.port)


def test_the_start_url_is_not_served_for_a_printed_link(
    receivers: Receivers, no_display: list[str], capsys: pytest.CaptureFixture[str]
) -> None:
    flow = Flow(visit_query=None)
    starts: list[int] = []

    def watch() -> None:
        for _ in range(200):
            if flow.port:
                # Guess the start URL's shape: nothing is served there for a printed link.
                starts.append(get(f"http://127.0.0.1:{flow.port}/start/x").status_code)
                flow.visitor.visit(flow.redirect + "&userId=u&userToken=tok-abcdef")
                return
            threading.Event().wait(0.02)

    threading.Thread(target=watch, daemon=True).start()
    callback = receivers.run_in_browser(
        flow.authorization_url, lambda cb: cb, label="x", timeout=10
    )
    assert callback.params["userId"] == "u"
    assert starts == [404]


def test_a_failed_open_after_the_browser_used_the_start_url_keeps_the_binding(
    receivers: Receivers, capsys: pytest.CaptureFixture[str], monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("DISPLAY", ":0")
    monkeypatch.setattr(sys, "platform", "linux")
    flow = Flow()

    def half_working_browser(url: str, **_: object) -> bool:
        flow.opener(url)  # it did load the page, but says it failed
        return False

    monkeypatch.setattr(webbrowser, "open", half_working_browser)
    callback = receivers.run_in_browser(
        flow.authorization_url, lambda cb: cb, label="x", timeout=10
    )
    assert callback.params["userId"] == "u1"
    assert "Open this URL" not in capsys.readouterr().out


def test_timeout_message_carries_the_hint(receivers: Receivers) -> None:
    flow = Flow(visit_query=None)
    with pytest.raises(LoginTimeoutError, match=r"check the redirect URI http://127\.0\.0\.1/cb"):
        receivers.run_in_browser(
            flow.authorization_url,
            lambda cb: cb,
            label="x",
            opener=flow.opener,
            timeout=0.3,
            redirect_path="/cb",
            timeout_hint=lambda r: "check the redirect URI http://127.0.0.1/cb",
        )
    assert flow.redirect.startswith(f"http://127.0.0.1:{flow.port}/cb?state=")


@pytest.mark.parametrize("host", ["127.0.0.1", "localhost"])
def test_fixed_path_and_host_name(receivers: Receivers, host: str) -> None:
    with receivers.receiver(host=host, path="/oauth/callback") as receiver:
        assert receiver.redirect_uri == f"http://{host}:{receiver.port}/oauth/callback"
        session = requests.Session()
        receiver.bind("https://provider.example/authorize")
        assert session.get(receiver.start_url, timeout=10, allow_redirects=False).status_code == 302
        visitor = Visitor()
        visitor.session = session
        visitor.visit(f"{receiver.redirect_url}&code=abc")
        callback = receiver.wait(5)
        receiver.finish(ok=True, message="ok")
        assert callback.params["code"] == "abc"
        assert visitor.join()[0].status_code == 200


@pytest.mark.parametrize(
    ("options", "argument"),
    [
        ({"host": "0.0.0.0", "path": None}, "redirect_host"),
        ({"host": "::1", "path": None}, "redirect_host"),
        ({"host": 1, "path": None}, "redirect_host"),
        ({"host": "127.0.0.1", "path": "callback"}, "redirect_path"),
        ({"host": "127.0.0.1", "path": "/a?b=c"}, "redirect_path"),
        ({"host": "127.0.0.1", "path": "/a#b"}, "redirect_path"),
        ({"host": "127.0.0.1", "path": "/a/../b"}, "redirect_path"),
        ({"host": "127.0.0.1", "path": "/start/x"}, "redirect_path"),
        ({"host": "127.0.0.1", "path": "//"}, "redirect_path"),
        ({"host": "127.0.0.1", "path": 5}, "redirect_path"),
    ],
)
def test_check_redirect_options_refuses(options: dict[str, Any], argument: str) -> None:
    with pytest.raises(InvalidArgumentError) as caught:
        browser.check_redirect_options(**options)
    assert caught.value.argument == argument


def test_a_browser_that_fails_to_open_falls_back_to_printing(
    receivers: Receivers,
    no_display: list[str],
    capsys: pytest.CaptureFixture[str],
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    monkeypatch.setenv("DISPLAY", ":0")
    monkeypatch.setattr(webbrowser, "open", lambda url, **_: False)
    flow = Flow(visit_query=None)
    _visit_printed_url(capsys, flow)
    receivers.run_in_browser(flow.authorization_url, lambda cb: cb, label="x", timeout=10)
    assert "Open this URL" in capsys.readouterr().out


def test_in_jupyter_a_clickable_link_is_shown(
    receivers: Receivers,
    no_display: list[str],
    capsys: pytest.CaptureFixture[str],
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    shown: list[str] = []
    display = types.ModuleType("IPython.display")
    display.HTML = lambda text: text  # type: ignore[attr-defined]
    display.display = shown.append  # type: ignore[attr-defined]
    ipython = types.ModuleType("IPython")
    kernel_shell = types.SimpleNamespace(kernel=object())
    ipython.get_ipython = lambda: kernel_shell  # type: ignore[attr-defined]
    ipython.display = display  # type: ignore[attr-defined]
    monkeypatch.setitem(sys.modules, "IPython", ipython)
    monkeypatch.setitem(sys.modules, "IPython.display", display)
    flow = Flow(visit_query=None)
    _visit_printed_url(capsys, flow)
    receivers.run_in_browser(flow.authorization_url, lambda cb: cb, label="<g>", timeout=10)
    assert len(shown) == 1
    assert shown[0].startswith('<a href="https://provider.example/authorize?redirect=http')
    assert 'target="_blank"' in shown[0]
    assert "Sign in with &lt;g&gt;</a>" in shown[0]
    assert "Open this URL" in capsys.readouterr().out


def test_ipython_without_a_kernel_shows_no_link(
    receivers: Receivers,
    no_display: list[str],
    capsys: pytest.CaptureFixture[str],
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    ipython = types.ModuleType("IPython")
    ipython.get_ipython = lambda: types.SimpleNamespace()  # type: ignore[attr-defined]
    monkeypatch.setitem(sys.modules, "IPython", ipython)
    flow = Flow(visit_query=None)
    _visit_printed_url(capsys, flow)
    receivers.run_in_browser(flow.authorization_url, lambda cb: cb, label="x", timeout=10)
    assert "Open this URL" in capsys.readouterr().out


# --- reading redirects -----------------------------------------------------------------------


def test_read_backendless_redirect_accepts_both_token_spellings() -> None:
    assert browser.read_backendless_redirect({"userId": "u", "userToken": "t"}) == ("t", "u")
    assert browser.read_backendless_redirect({"userId": "u", "user-token": "t"}) == ("t", "u")


@pytest.mark.parametrize(
    ("params", "kind", "code"),
    [
        ({"error": "The user denied access at google: access_denied", "code": "3060"}, 1, 3060),
        ({"error": "access_denied"}, 1, None),
        ({"error": "Could not approve social account", "code": "3060"}, 0, 3060),
        ({"code": "8007"}, 0, 8007),
        ({"userId": "u"}, 0, None),
        ({"userToken": "t"}, 0, None),
        ({}, 0, None),
    ],
)
def test_read_backendless_redirect_errors(
    params: dict[str, str], kind: int, code: int | None
) -> None:
    with pytest.raises(LoginFlowError) as caught:
        browser.read_backendless_redirect(params)
    assert isinstance(caught.value, LoginCancelledError) == bool(kind)
    assert caught.value.code == code


@pytest.mark.parametrize(
    "url",
    [None, 42, "", "not a url", "ftp://host/?userId=u", "http:///?userId=u", "http://host/path"],
)
def test_params_from_url_refuses(url: object) -> None:
    with pytest.raises(InvalidArgumentError) as caught:
        browser.params_from_url(url)
    assert caught.value.argument == "redirected_url"


def test_params_from_url_reads_query_and_fragment() -> None:
    params = browser.params_from_url("  http://127.0.0.1:9/p?a=1&b=2&a=3#b=9&c=4  ")
    assert params == {"a": "1", "b": "2", "c": "4"}


@pytest.mark.parametrize(
    ("options", "argument"),
    [
        ({"open_browser": 1}, "open_browser"),
        ({"opener": "firefox"}, "opener"),
        ({"opener": print, "open_browser": False}, "opener"),
        ({"timeout": 0}, "timeout"),
        ({"timeout": -5}, "timeout"),
        ({"timeout": float("inf")}, "timeout"),
        ({"timeout": float("nan")}, "timeout"),
        ({"timeout": True}, "timeout"),
        ({"timeout": "300"}, "timeout"),
    ],
)
def test_check_flow_options(options: dict[str, Any], argument: str) -> None:
    values: dict[str, Any] = {"open_browser": True, "opener": None, "timeout": 300, **options}
    with pytest.raises(InvalidArgumentError) as caught:
        browser.check_flow_options(**values)
    assert caught.value.argument == argument


def test_check_flow_options_returns_the_timeout() -> None:
    assert browser.check_flow_options(open_browser=True, opener=None, timeout=5) == 5.0


def test_the_page_is_written_before_the_flow_returns(receivers: Receivers) -> None:
    # A script or the CLI may exit right after the login; the page must already be sent.
    flow = Flow(visit_query=None)
    sockets: list[socket.socket] = []

    def opener(url: str) -> None:
        flow.visitor.start(url)
        cookie = "; ".join(f"{c.name}={c.value}" for c in flow.visitor.session.cookies)
        sock = socket.create_connection(("127.0.0.1", flow.port), timeout=5)
        path = flow.redirect.split(f":{flow.port}", 1)[1]
        request = (
            f"GET {path}&userId=u HTTP/1.1\r\nHost: 127.0.0.1:{flow.port}\r\n"
            f"Cookie: {cookie}\r\n\r\n"
        )
        sock.sendall(request.encode())
        sockets.append(sock)

    receivers.run_in_browser(
        flow.authorization_url, lambda cb: "ok", label="x", opener=opener, timeout=10
    )
    sock = sockets[0]
    try:
        sock.setblocking(False)
        received = sock.recv(65536)
    finally:
        sock.close()
    assert received.split(b" ", 2)[:2] in ([b"HTTP/1.0", b"200"], [b"HTTP/1.1", b"200"])
    assert b"You are signed in." in received


def test_an_opener_that_only_shows_the_link_returns_false(receivers: Receivers) -> None:
    flow = Flow(visit_query=None)
    shown: list[str] = []

    def show(url: str) -> bool:
        shown.append(getattr(url, "authorization_url", ""))
        assert str(url).startswith(f"http://127.0.0.1:{flow.port}/start/")
        # A browser elsewhere: no start URL, no cookie; the redirect carries the state.
        Visitor().visit(flow.redirect + "&userId=u2&userToken=tok-shown")
        return False

    callback = receivers.run_in_browser(
        flow.authorization_url, lambda cb: cb, label="x", opener=show, timeout=10
    )
    assert callback.params["userId"] == "u2"
    assert shown == [f"https://provider.example/authorize?redirect={flow.redirect}"]


def test_an_opener_that_returns_true_keeps_the_binding(receivers: Receivers) -> None:
    flow = Flow(visit_query=None)
    stranger = Visitor()

    def opener(url: str) -> bool:
        stranger.visit(flow.redirect + "&userId=mallory&userToken=tok-mallory")
        stranger.join()  # answered while the login waits
        return True

    with pytest.raises(LoginTimeoutError):
        receivers.run_in_browser(
            flow.authorization_url, lambda cb: cb, label="x", opener=opener, timeout=1
        )
    assert stranger.join()[0].status_code == 400
