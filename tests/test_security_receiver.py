"""The loopback receiver under attack: other interfaces, forged redirects, hostile values.

The receiver that ends a browser login holds, for a few seconds, the right to log this process
in. These tests act as the attacker: another machine on the network, another web page in the
person's browser (CSRF, DNS rebinding), a scanner on this machine, a replayed redirect, and
values crafted to break out of the page it renders. Each is refused, the login in progress goes
on, exactly one login is served, and the port is released whatever happens.

Each test that opens a receiver runs through the threaded receiver and its async twin, on
asyncio and on trio (the ``receivers`` fixture, tests/receivers.py).
"""

from __future__ import annotations

import contextlib
import http.client
import socket
import threading
import time
from collections.abc import Iterator
from typing import Any
from urllib.parse import quote, urlencode, urlsplit

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from receivers import DRIVERS, Receivers

from backendless_auth import LoginFlowError, LoginTimeoutError
from backendless_auth.browser import Callback, LoopbackReceiver, flow_error

_FIGURES: dict[str, int] = {}
SETTINGS = settings(max_examples=60, deadline=None, suppress_health_check=list(HealthCheck))
# The async receivers decide with the same gate: fewer examples each keep the suite's time.
EXAMPLES = {"sync": 60, "asyncio": 10, "trio": 10}


def _count(name: str, n: int = 1) -> None:
    _FIGURES[name] = _FIGURES.get(name, 0) + n


@pytest.fixture(scope="module", autouse=True)
def _report() -> Iterator[None]:
    yield
    print(f"\n[figures] receiver: {', '.join(f'{k}: {n}' for k, n in sorted(_FIGURES.items()))}")


def _get(
    port: int,
    target: str,
    *,
    host: str | None = None,
    method: str = "GET",
    timeout: float = 5,
    cookie: str | None = None,
) -> tuple[int, dict[str, str], str]:
    conn = http.client.HTTPConnection("127.0.0.1", port, timeout=timeout)
    try:
        conn.putrequest(method, target, skip_host=True, skip_accept_encoding=True)
        conn.putheader("Host", host if host is not None else f"127.0.0.1:{port}")
        if cookie is not None:
            conn.putheader("Cookie", cookie)
        conn.endheaders()
        answer = conn.getresponse()
        headers = {k.lower(): v for k, v in answer.getheaders()}
        return answer.status, headers, answer.read().decode("utf-8", "replace")
    finally:
        conn.close()


def _path(receiver: LoopbackReceiver) -> str:
    return urlsplit(receiver.redirect_uri).path


def _refused(port: int, host: str = "127.0.0.1") -> bool:
    with socket.socket(socket.AF_INET6 if ":" in host else socket.AF_INET) as sock:
        sock.settimeout(2)
        try:
            sock.connect((host, port))
        except OSError:
            return True
    return False


def _other_addresses() -> list[str]:
    """This machine's addresses that are not loopback (those another host could reach)."""
    found: set[str] = set()
    for family, probe in ((socket.AF_INET, "192.0.2.1"), (socket.AF_INET6, "2001:db8::1")):
        with contextlib.suppress(OSError), socket.socket(family, socket.SOCK_DGRAM) as sock:
            sock.connect((probe, 9))  # UDP: picks the outgoing address, sends nothing
            address = sock.getsockname()[0]
            if not address.startswith("127.") and address != "::1":
                found.add(address)
    with contextlib.suppress(OSError):
        for info in socket.getaddrinfo(socket.gethostname(), None):
            address = str(info[4][0])
            if not address.startswith("127.") and address not in ("::1",) and "%" not in address:
                found.add(address)
    return sorted(found)


@pytest.fixture(params=DRIVERS)
def receivers(request: pytest.FixtureRequest, _driver_portals: Any) -> Receivers:
    """The threaded receiver and ``run_in_browser``, or their async twins (tests/receivers.py)."""
    return Receivers(str(request.param))


@pytest.fixture
def receiver(receivers: Receivers) -> Iterator[LoopbackReceiver]:
    with receivers.receiver() as r:
        yield r


def _deliver(receiver: LoopbackReceiver, query: str) -> Callback:
    """Send the real redirect as the browser would, and take the login it delivers."""
    answers: list[int] = []

    def browser() -> None:
        answers.append(_get(receiver.port, f"{_path(receiver)}?{query}", timeout=10)[0])

    thread = threading.Thread(target=browser, daemon=True)
    thread.start()
    callback = receiver.wait(5)
    receiver.finish(ok=True, message="Signed in.")
    thread.join(10)
    assert answers == [200]
    return callback


def _nothing_delivered(receiver: LoopbackReceiver) -> bool:
    try:
        receiver.wait(0.05)
    except LoginTimeoutError:
        return True
    return False


# --- binding -----------------------------------------------------------------------------------


def test_listens_on_ipv4_loopback_only(receiver: LoopbackReceiver) -> None:
    assert urlsplit(receiver.redirect_uri).hostname == "127.0.0.1"
    others = _other_addresses()
    for address in [*others, "::1"]:
        _count("other interfaces tried")
        assert _refused(receiver.port, address), f"reachable on {address}"
    status, _, _ = _get(receiver.port, "/")
    assert status == 404  # and it does answer on 127.0.0.1


def test_each_receiver_gets_a_fresh_port_path_and_state(receivers: Receivers) -> None:
    with receivers.receiver() as a, receivers.receiver() as b:
        assert a.port != b.port
        assert _path(a) != _path(b)
        assert a.state != b.state
        assert len(a.state) >= 16
        assert len(_path(a)) >= 16


# --- forged and stray requests -------------------------------------------------------------------

junk = st.text(
    alphabet=st.characters(codec="ascii", exclude_characters="\r\n #?%&"),
    min_size=1,
    max_size=40,
)


def test_wrong_path_or_state_never_delivers_a_login(receivers: Receivers) -> None:
    @settings(SETTINGS, max_examples=EXAMPLES[receivers.driver])
    @given(path=junk, state=junk)
    def check(path: str, state: str) -> None:
        _wrong_path_or_state(receivers, path, state)

    check()


def _wrong_path_or_state(receivers: Receivers, path: str, state: str) -> None:
    with receivers.receiver() as receiver:
        port, good_path = receiver.port, _path(receiver)
        tries = [
            ("/" + quote(path) + "?" + urlencode({"state": receiver.state, "code": "X" * 8}), 404),
            (good_path + "?" + urlencode({"state": state, "code": "X" * 8}), 400),
            (good_path + "?" + urlencode({"code": "X" * 8}), 400),
            (good_path + "/" + quote(path) + "?state=" + receiver.state, 404),
            (good_path + "?" + urlencode([("state", receiver.state), ("state", state)]), 400),
        ]
        for target, expected in tries:
            if state == receiver.state and expected == 400:
                continue
            status, headers, body = _get(port, target)
            _count("forged requests")
            assert status == expected, target
            assert receiver.state not in body
            assert headers["cache-control"] == "no-store"
        assert receiver.rejected >= 2
        assert _nothing_delivered(receiver)
        # The real redirect still works after all that.
        assert _deliver(receiver, "state=" + receiver.state + "&code=12345678").params["code"]


def test_dns_rebinding_host_is_refused(receiver: LoopbackReceiver) -> None:
    target = _path(receiver) + "?state=" + receiver.state + "&code=12345678"
    for host in (
        f"evil.example:{receiver.port}",
        "evil.example",
        f"127.0.0.1:{receiver.port + 1}",
        "",
    ):
        _count("forged requests")
        status, _, _ = _get(receiver.port, target, host=host)
        assert status == 404, host
    assert _nothing_delivered(receiver)


def test_cross_site_post_is_refused(receiver: LoopbackReceiver) -> None:
    target = _path(receiver) + "?state=" + receiver.state + "&code=12345678"
    _count("forged requests")
    status, _, _ = _get(receiver.port, target, method="POST")
    assert status in (404, 405, 501)
    assert _nothing_delivered(receiver)


def test_garbage_on_the_socket_does_not_stop_the_receiver(receiver: LoopbackReceiver) -> None:
    for payload in (b"\x16\x03\x01\x02\x00", b"GET " + b"A" * 70000 + b"\r\n\r\n", b"\r\n\r\n"):
        _count("garbage connections")
        with (
            socket.create_connection(("127.0.0.1", receiver.port), timeout=3) as sock,
            contextlib.suppress(OSError),
        ):
            sock.sendall(payload)
            sock.shutdown(socket.SHUT_WR)
            while sock.recv(4096):
                pass
    assert _deliver(receiver, "state=" + receiver.state + "&a=b").params["a"] == "b"


# --- one login, once -----------------------------------------------------------------------------


def test_concurrent_redirects_deliver_exactly_one_login(receiver: LoopbackReceiver) -> None:
    target = _path(receiver) + "?state=" + receiver.state
    statuses: list[int] = []

    def hit(n: int) -> None:
        status, _, _ = _get(receiver.port, f"{target}&n={n}", timeout=10)
        statuses.append(status)

    threads = [threading.Thread(target=hit, args=(n,)) for n in range(16)]
    for thread in threads:
        thread.start()
    first = receiver.wait(5)
    receiver.finish(ok=True, message="done")
    for thread in threads:
        thread.join(10)
    _count("concurrent redirects", len(threads))
    assert statuses.count(200) == 1
    assert sorted(set(statuses) - {200}) == [409]
    assert _nothing_delivered(receiver)
    assert "n" in first.params


def test_a_replayed_redirect_after_the_login_finds_nobody(receivers: Receivers) -> None:
    seen: list[str] = []

    def walk(url: str) -> None:
        seen.append(url)
        _browse(url, "&code=12345678")

    result = receivers.run_in_browser(
        lambda r: r.redirect_url,
        lambda callback: callback.params["code"],
        label="test",
        opener=walk,
        timeout=10,
    )
    assert result == "12345678"
    port = urlsplit(seen[0]).port
    assert port is not None
    _count("replays")
    assert _refused(port)


def _start(start_url: str) -> tuple[str, str]:
    """Open a sign-in's start URL as the person's browser: where it leads, and its cookie."""
    parts = urlsplit(start_url)
    assert parts.port is not None
    status, headers, _ = _get(parts.port, parts.path)
    assert status == 302
    return headers["location"], headers["set-cookie"].split(";")[0]


def _get_url(url: str, cookie: str | None = None) -> tuple[int, str]:
    parts = urlsplit(url)
    assert parts.port is not None
    status, _, body = _get(parts.port, f"{parts.path}?{parts.query}", timeout=70, cookie=cookie)
    return status, body


def _browse(start_url: str, extra: str) -> None:
    """The person's browser: the start URL, then (in a thread) the redirect back + ``extra``."""
    target, cookie = _start(start_url)
    threading.Thread(target=_get_url, args=(target + extra, cookie), daemon=True).start()


# --- what it echoes ------------------------------------------------------------------------------

hostile = st.one_of(
    st.sampled_from(
        [
            "<script>alert(1)</script>",
            '"><img src=x onerror=alert(1)>',
            "'; background:url(javascript:alert(1)) '",
            "</p><iframe src=https://evil.example></iframe>",
            "<!--",
            "&lt;script&gt;",
            "\u202eevil",
            "a" * 5000,
        ]
    ),
    st.text(max_size=200),
)


def test_echoed_values_are_escaped_in_the_page(receivers: Receivers) -> None:
    @settings(SETTINGS, max_examples=EXAMPLES[receivers.driver])
    @given(error=hostile, description=hostile)
    def check(error: str, description: str) -> None:
        _echoed_values_are_escaped(receivers, error, description)

    check()


def _echoed_values_are_escaped(receivers: Receivers, error: str, description: str) -> None:
    pages: list[tuple[int, dict[str, str], str]] = []

    def browser(start_url: str) -> None:
        url, cookie = _start(start_url)

        def walk() -> None:
            parts = urlsplit(url)
            assert parts.port is not None
            query = (
                parts.query + "&" + urlencode({"error": error, "error_description": description})
            )
            pages.append(_get(parts.port, f"{parts.path}?{query}", timeout=20, cookie=cookie))

        threading.Thread(target=walk, daemon=True).start()

    def complete(callback: Callback) -> Any:
        raise flow_error(
            callback.params.get("error"), None, description=callback.params.get("error_description")
        )

    with pytest.raises(LoginFlowError):
        receivers.run_in_browser(
            lambda r: r.redirect_url, complete, label="x", opener=browser, timeout=10
        )
    deadline = time.monotonic() + 5
    while not pages and time.monotonic() < deadline:
        time.sleep(0.01)
    status, headers, body = pages[0]
    _count("hostile values echoed")
    assert status == 400
    lowered = body.lower()
    for tag in ("<script", "<img", "<iframe", "<!--"):
        assert tag not in lowered
    assert lowered.count("<p") == 2  # the message and the note, nothing injected
    assert "default-src 'none'" in headers["content-security-policy"]
    assert headers["referrer-policy"] == "no-referrer"
    assert headers["x-content-type-options"] == "nosniff"


# --- released on every path -------------------------------------------------------------------


def _run(receivers: Receivers, outcome: str) -> int:
    ports: list[int] = []

    def authorization_url(receiver: LoopbackReceiver) -> str:
        ports.append(receiver.port)
        if outcome == "url raises":
            raise RuntimeError("no URL")
        return receiver.redirect_url

    def opener(url: str) -> None:
        if outcome == "opener raises":
            raise OSError("no browser")
        if outcome == "timeout":
            return
        _browse(url, "&code=12345678")

    def complete(callback: Callback) -> str:
        if outcome == "complete raises":
            raise LoginFlowError("refused")
        if outcome == "ctrl-c":
            raise KeyboardInterrupt
        return callback.params["code"]

    with contextlib.suppress(Exception, KeyboardInterrupt):
        receivers.run_in_browser(authorization_url, complete, label="x", opener=opener, timeout=0.5)
    return ports[0]


@pytest.mark.parametrize(
    "outcome",
    ["success", "url raises", "opener raises", "timeout", "complete raises", "ctrl-c"],
)
def test_port_released_on_every_path(receivers: Receivers, outcome: str) -> None:
    before = receivers.running()
    port = _run(receivers, outcome)
    _count("exit paths")
    assert _refused(port)
    with socket.socket() as sock:
        # SO_REUSEADDR: a closed connection's TIME_WAIT is not a listener still holding it.
        sock.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
        sock.bind(("127.0.0.1", port))
        sock.listen()
    # Nothing left behind: no thread of the threaded receiver, no task of the async one.
    deadline = time.monotonic() + 3
    while receivers.running() > before and time.monotonic() < deadline:
        time.sleep(0.02)
    assert receivers.running() <= before


# --- the gate's rules, generated ------------------------------------------------------------------

# One request: who sends it, and what. "person"/"attacker" are two browsers (cookie jars).
request_kinds = st.sampled_from(
    [
        "start",
        "redirect",
        "redirect-wrong-state",
        "redirect-no-state",
        "redirect-other-path",
        "foreign-start",
        "foreign-redirect",
        "post",
    ]
)
steps = st.lists(st.tuples(st.sampled_from(["person", "attacker"]), request_kinds), max_size=12)


@settings(max_examples=300, deadline=None)
@given(plan=steps, bound=st.booleans())
# The gate alone, no socket: both receivers decide with this one object.
def test_the_gate_delivers_at_most_one_login_and_only_to_the_starting_browser(
    plan: list[tuple[str, str]], bound: bool
) -> None:
    from backendless_auth.browser import LoginGate

    gate = LoginGate(path="/callback")
    if bound:
        gate.bind("https://provider.example/authorize")
    port = 4242
    jars: dict[str, str] = {"person": "", "attacker": ""}
    first_starter: str | None = None
    starts = 0
    delivered: list[str] = []
    failed = False
    for who, kind in plan:
        _count("gate requests")
        if kind in ("start", "foreign-start"):
            target = gate.start_path
        elif kind == "redirect-wrong-state":
            target = "/callback?state=" + "x" * 32 + "&code=c"
        elif kind == "redirect-no-state":
            target = "/callback?code=c"
        elif kind == "redirect-other-path":
            target = f"/other?state={gate.state}&code=c"
        else:
            target = f"/callback?state={gate.state}&code=c"
        foreign = kind.startswith("foreign")
        before = (gate.started, gate.taken, gate.failure)
        reply = gate.handle(
            "POST" if kind == "post" else "GET",
            target,
            host_header=f"127.0.0.1:{port}",
            cookie_header=jars[who],
            port=port,
            same_user=not foreign,
        )
        if foreign or kind == "post":
            # Another user, or a POST, changes nothing and gets nothing.
            assert (gate.started, gate.taken, gate.failure) == before
            assert reply.callback is None
            assert reply.failure is None
            assert reply.set_cookie is None
            assert reply.status in (403, 404)
            continue
        if kind == "start" and bound:
            if reply.set_cookie is not None:
                starts += 1
                first_starter = first_starter or who
                jars[who] = reply.set_cookie.split(";")[0]
                assert reply.status == 302
                assert reply.location is not None
            elif reply.failure is not None:
                failed = True
        if reply.failure is not None:
            failed = True
        if reply.callback is not None:
            delivered.append(who)
            assert kind == "redirect"
            assert not failed, "a login was delivered after the gate failed closed"
            if bound:
                assert who == first_starter, "delivered to a browser that did not start it"
    assert starts <= 1
    assert len(delivered) <= 1
    if not bound:
        assert starts == 0  # a printed link serves no start URL
