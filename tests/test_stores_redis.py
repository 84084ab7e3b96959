"""RedisTokenStore against a real ``redis-server``: a fleet of workers sharing one login.

Each test starts its own ``redis-server`` (Debian package) on a free loopback port, with no
persistence, in a temporary folder, and stops it afterwards.
"""

from __future__ import annotations

import hashlib
import json
import logging
import os
import re
import signal
import socket
import subprocess
import sys
import textwrap
import time
import traceback
from collections.abc import Callable, Iterator
from pathlib import Path

import pytest
import redis
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from backendless_auth import InvalidArgumentError, StoredSession, TokenStore, TokenStoreError
from backendless_auth.emulator import Emulator
from backendless_auth.stores import RedisTokenStore

NS = "Backendless_APP-ONE"
SESSION = StoredSession(user_token="TOKEN-AAAA-0123456789", user_id="user-1", saved_at=1.5)
OTHER = StoredSession(user_token="TOKEN-BBBB-9876543210", user_id="user-2", saved_at=2.5)
_FIGURES: dict[str, int] = {}


def _count(name: str, n: int = 1) -> None:
    _FIGURES[name] = _FIGURES.get(name, 0) + n


@pytest.fixture(scope="module", autouse=True)
def _report() -> Iterator[None]:
    yield
    print(f"\n[figures] redis store: {', '.join(f'{k}: {n}' for k, n in sorted(_FIGURES.items()))}")


def _free_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        port: int = probe.getsockname()[1]
        return port


class RedisServer:
    """One ``redis-server`` on 127.0.0.1, no persistence; stop and start it again at will."""

    def __init__(self, executable: str, folder: Path) -> None:
        self.executable = executable
        self.folder = folder
        self.port = _free_port()
        self.process: subprocess.Popen[bytes] | None = None

    @property
    def url(self) -> str:
        return f"redis://127.0.0.1:{self.port}/0"

    def start(self) -> None:
        for _attempt in range(5):
            self.process = subprocess.Popen(
                [
                    self.executable,
                    "--port", str(self.port),
                    "--bind", "127.0.0.1",
                    "--save", "",
                    "--appendonly", "no",
                    "--dir", str(self.folder),
                    "--daemonize", "no",
                    "--loglevel", "warning",
                ],
                stdout=subprocess.DEVNULL,
                stderr=subprocess.DEVNULL,
            )  # fmt: skip
            if self._wait_ready():
                return
            self.stop()
            self.port = _free_port()  # taken meanwhile by someone else: another one
        raise RuntimeError("redis-server did not start")

    def _wait_ready(self) -> bool:
        assert self.process is not None
        client = redis.Redis(port=self.port, socket_timeout=2, socket_connect_timeout=2)
        try:
            for _ in range(500):
                if self.process.poll() is not None:
                    return False
                try:
                    if client.ping():
                        return True
                except redis.RedisError:
                    time.sleep(0.02)
            return False
        finally:
            client.close()

    def stop(self) -> None:
        if self.process is not None:
            self.process.terminate()
            try:
                self.process.wait(timeout=10)
            except subprocess.TimeoutExpired:
                self.process.kill()
                self.process.wait()
            self.process = None

    def client(self) -> redis.Redis:
        return redis.Redis(port=self.port, socket_timeout=5)


@pytest.fixture
def server(require_executable: Callable[[str], str], tmp_path: Path) -> Iterator[RedisServer]:
    instance = RedisServer(require_executable("redis-server"), tmp_path)
    instance.start()
    try:
        yield instance
    finally:
        instance.stop()


@pytest.fixture
def store(server: RedisServer) -> Iterator[RedisTokenStore]:
    instance = RedisTokenStore(url=server.url, timeout=2)
    yield instance
    instance.close()


# --- the protocol ----------------------------------------------------------------------------


def test_is_a_token_store(store: RedisTokenStore) -> None:
    assert isinstance(store, TokenStore)


def test_round_trip_save_load_clear(store: RedisTokenStore) -> None:
    assert store.load(NS) is None
    store.save(NS, SESSION)
    assert store.load(NS) == SESSION
    store.save(NS, OTHER)
    assert store.load(NS) == OTHER
    store.clear(NS)
    assert store.load(NS) is None
    store.clear(NS)  # no error when there is nothing


def test_keys_are_namespaced_per_app_and_prefix(server: RedisServer) -> None:
    one = RedisTokenStore(url=server.url)
    other_prefix = RedisTokenStore(url=server.url, prefix="team-b:")
    one.save("Backendless_APP-ONE", SESSION)
    one.save("Backendless_APP-TWO", OTHER)
    assert one.load("Backendless_APP-ONE") == SESSION
    assert one.load("Backendless_APP-TWO") == OTHER
    assert other_prefix.load("Backendless_APP-ONE") is None
    keys = sorted(server.client().keys("*"))
    assert keys == [
        b"backendless-auth:Backendless_APP-ONE",
        b"backendless-auth:Backendless_APP-TWO",
    ]
    assert json.loads(server.client().get(keys[0])) == json.loads(SESSION.to_json())
    assert one.key_for("Backendless_APP-ONE") == keys[0]


def test_a_save_sets_the_expiry_and_every_save_and_load_refreshes_it(
    server: RedisServer,
) -> None:
    store = RedisTokenStore(url=server.url, ttl=1000)
    client = server.client()
    key = store.key_for(NS)
    store.save(NS, SESSION)
    assert 990 <= client.ttl(key) <= 1000
    client.expire(key, 10)
    assert store.load(NS) == SESSION
    assert 990 <= client.ttl(key) <= 1000  # sliding: a session in use is kept
    client.expire(key, 10)
    store.save(NS, OTHER)
    assert 990 <= client.ttl(key) <= 1000


def test_the_default_expiry_is_thirty_days_and_none_means_no_expiry(server: RedisServer) -> None:
    client = server.client()
    default = RedisTokenStore(url=server.url)
    assert default.ttl == 30 * 86400
    default.save(NS, SESSION)
    assert 30 * 86400 - 10 <= client.ttl(default.key_for(NS)) <= 30 * 86400
    forever = RedisTokenStore(url=server.url, ttl=None)
    forever.save(NS, SESSION)
    assert client.ttl(forever.key_for(NS)) == -1
    assert forever.load(NS) == SESSION
    assert client.ttl(forever.key_for(NS)) == -1


def test_an_expired_key_is_no_session(server: RedisServer) -> None:
    store = RedisTokenStore(url=server.url, ttl=1)
    store.save(NS, SESSION)
    server.client().pexpire(store.key_for(NS), 1)
    deadline = time.monotonic() + 10
    while server.client().exists(store.key_for(NS)) and time.monotonic() < deadline:
        time.sleep(0.01)
    assert store.load(NS) is None


def test_a_client_of_the_callers_is_used_and_not_closed(server: RedisServer) -> None:
    client = redis.Redis(port=server.port, socket_timeout=3, decode_responses=True)
    store = RedisTokenStore(client)
    store.save(NS, SESSION)
    assert store.load(NS) == SESSION  # decode_responses=True gives str: read as well
    store.close()
    assert client.ping()


@pytest.mark.parametrize(
    "kwargs",
    [
        {},
        {"url": "redis://127.0.0.1:1/0", "client": object()},
        {"url": ""},
        {"url": "http://user:hunter2-secret@host/"},
        {"url": "redis://127.0.0.1:1/0", "prefix": ""},
        {"url": "redis://127.0.0.1:1/0", "ttl": 0},
        {"url": "redis://127.0.0.1:1/0", "ttl": 1.5},
        {"url": "redis://127.0.0.1:1/0", "ttl": True},
        {"url": "redis://127.0.0.1:1/0", "timeout": 0},
        {"url": "redis://127.0.0.1:1/0", "timeout": float("nan")},
    ],
)
def test_bad_arguments_are_refused_with_our_error(kwargs: dict[str, object]) -> None:
    with pytest.raises(InvalidArgumentError) as info:
        RedisTokenStore(**kwargs)  # type: ignore[arg-type]
    assert "hunter2" not in "".join(traceback.format_exception(info.value))


def test_a_client_without_a_socket_timeout_is_refused() -> None:
    with pytest.raises(InvalidArgumentError, match="socket_timeout"):
        RedisTokenStore(redis.Redis(port=1, socket_timeout=None))


def test_the_repr_shows_the_server_never_a_password_or_session() -> None:
    store = RedisTokenStore(url="redis://worker:hunter2-secret@127.0.0.1:6390/3")
    assert repr(store) == "RedisTokenStore(server='127.0.0.1:6390/3', prefix='backendless-auth:')"


def test_importing_the_stores_does_not_import_redis() -> None:
    code = "import sys, backendless_auth.stores; print('redis' in sys.modules)"
    result = subprocess.run(
        [sys.executable, "-c", code], capture_output=True, text=True, check=True, timeout=60
    )
    assert result.stdout.strip() == "False"


# --- whatever a key holds ----------------------------------------------------------------------

_HOSTILE = st.one_of(
    st.binary(max_size=300),
    st.text(max_size=300).map(lambda t: t.encode("utf-8", "surrogatepass")),
    st.integers(min_value=1, max_value=200_000).map(lambda n: b"[" * n),
    st.integers(min_value=1, max_value=5000).map(lambda n: b'{"a":' * n),
    st.sampled_from(
        [
            b"",
            b"null",
            b"[]",
            b'{"user-token": ""}',
            b'{"user-token": "T", "savedAt": NaN}',
            b'{"user-token": "T", "savedAt": 1e999}',
            b'{"user-token": "T\\r\\nX-Evil: 1"}',
            b'{"user-token": "T\\ud800"}',
            b'{"user-token": "T", "current-user-id": 5}',
            b'{"user-token": "T", "stayLoggedIn": "yes"}',
            b"\xff\xfe" + SESSION.to_json().encode("utf-16-le"),
            SESSION.to_json().encode()[:-2],
            b"x" * ((1 << 20) + 1),
        ]
    ),
)


@settings(max_examples=120, deadline=None, suppress_health_check=list(HealthCheck))
@given(value=_HOSTILE)
def test_whatever_string_a_key_holds_load_gives_a_session_or_none_and_sets_it_aside(
    store: RedisTokenStore, server: RedisServer, value: bytes
) -> None:
    client = server.client()
    key = store.key_for(NS)
    client.delete(key, key + b":corrupt")
    client.set(key, value)
    loaded = store.load(NS)
    _count("generated string values")
    assert loaded is None or isinstance(loaded, StoredSession)
    if loaded is None:
        assert not client.exists(key)
        assert client.exists(key + b":corrupt")  # kept for a look, with an expiry
        assert 0 < client.ttl(key + b":corrupt") <= 7 * 86400
    store.save(NS, SESSION)
    assert store.load(NS) == SESSION


@pytest.mark.parametrize("kind", ["hash", "list", "set", "zset", "stream"])
def test_a_key_of_another_type_is_no_session_and_set_aside(
    store: RedisTokenStore, server: RedisServer, kind: str, caplog: pytest.LogCaptureFixture
) -> None:
    client = server.client()
    key = store.key_for(NS)
    planted = SESSION.to_json()
    {
        "hash": lambda: client.hset(key, "user-token", planted),
        "list": lambda: client.rpush(key, planted),
        "set": lambda: client.sadd(key, planted),
        "zset": lambda: client.zadd(key, {planted: 1}),
        "stream": lambda: client.xadd(key, {"user-token": planted}),
    }[kind]()
    with caplog.at_level(logging.WARNING, logger="backendless_auth"):
        assert store.load(NS) is None
    _count("other key types")
    assert client.type(key + b":corrupt").decode() == kind
    assert SESSION.user_token not in caplog.text
    store.save(NS, SESSION)
    assert store.load(NS) == SESSION


# --- Redis down, slow, restarted ---------------------------------------------------------------


def _assert_clean(error: BaseException) -> None:
    text = "".join(traceback.format_exception(error))
    for secret in (SESSION.user_token, OTHER.user_token):
        assert secret not in text
    assert error.__cause__ is None
    assert error.__context__ is None


def test_redis_down_gives_token_store_error_and_up_again_works(
    server: RedisServer, store: RedisTokenStore
) -> None:
    store.save(NS, SESSION)
    server.stop()
    for call in (lambda: store.load(NS), lambda: store.save(NS, OTHER), lambda: store.clear(NS)):
        with pytest.raises(TokenStoreError, match=f"127.0.0.1:{server.port}") as info:
            call()
        _assert_clean(info.value)
        _count("calls while down")
    server.start()  # no persistence: what it held is gone, and the store works again
    assert store.load(NS) is None
    store.save(NS, OTHER)
    assert store.load(NS) == OTHER


def test_a_save_refused_by_redis_keeps_the_previous_session(
    server: RedisServer, store: RedisTokenStore
) -> None:
    store.save(NS, SESSION)
    admin = server.client()
    admin.config_set("maxmemory-policy", "noeviction")
    admin.config_set("maxmemory", 1)
    try:
        with pytest.raises(TokenStoreError, match="could not save") as info:
            store.save(NS, OTHER)
        _assert_clean(info.value)
    finally:
        admin.config_set("maxmemory", 0)
    assert store.load(NS) == SESSION


def test_a_redis_that_stops_answering_gives_token_store_error_within_the_timeout(
    server: RedisServer,
) -> None:
    store = RedisTokenStore(url=server.url, timeout=0.5)
    store.save(NS, SESSION)
    assert server.process is not None
    server.process.send_signal(signal.SIGSTOP)
    try:
        with pytest.raises(TokenStoreError, match="Timeout") as info:
            store.load(NS)
        _assert_clean(info.value)
    finally:
        server.process.send_signal(signal.SIGCONT)
    assert store.load(NS) == SESSION


# --- through the SDK, against the emulator -------------------------------------------------------


@pytest.fixture(scope="module")
def emulator() -> Iterator[Emulator]:
    with Emulator() as instance:
        yield instance


def test_a_session_is_restored_by_another_app_instance(
    server: RedisServer, emulator: Emulator
) -> None:
    first = emulator.app(token_store=RedisTokenStore(url=server.url))
    user = first.users.login_as_guest(stay_logged_in=True)
    second = emulator.app(token_store=RedisTokenStore(url=server.url))
    assert second.users.user_token == first.users.user_token
    assert second.users.is_valid_login()
    current = second.users.get_current_user()
    assert current is not None
    assert current.object_id == user.object_id
    second.users.logout()
    assert server.client().keys("*") == []
    assert emulator.app(token_store=RedisTokenStore(url=server.url)).users.user_token is None


_WORKER = textwrap.dedent(
    """
    import hashlib, json, sys
    import redis
    from backendless_auth import Backendless
    from backendless_auth.stores import RedisTokenStore

    url, server_url, app_id, api_key = sys.argv[1:5]
    app = Backendless(
        app_id=app_id, api_key=api_key, server_url=server_url,
        token_store=RedisTokenStore(url=url),
    )
    lock = redis.Redis.from_url(url, socket_timeout=10).lock(
        "test-fleet:login", timeout=60, blocking_timeout=120
    )
    with lock:  # one login for the whole fleet
        logged_in_here = app.users.user_token is None
        if logged_in_here:
            app.users.login_as_guest(stay_logged_in=True)
    token = app.users.user_token
    print(json.dumps({
        "user": app.users.current_user_id,
        "token": hashlib.sha256(token.encode()).hexdigest(),
        "valid": app.users.is_valid_login(),
        "logged_in_here": logged_in_here,
    }))
    """
)


def test_eight_worker_processes_share_one_login(server: RedisServer, emulator: Emulator) -> None:
    before = len(emulator.users())
    env = {**os.environ, "PYTHONPATH": os.pathsep.join(sys.path)}
    workers = [
        subprocess.Popen(
            [
                sys.executable,
                "-c",
                _WORKER,
                server.url,
                emulator.url,
                emulator.app_id,
                emulator.api_key,
            ],
            stdout=subprocess.PIPE,
            stderr=subprocess.PIPE,
            text=True,
            env=env,
        )
        for _ in range(8)
    ]
    results = []
    for worker in workers:
        out, err = worker.communicate(timeout=300)
        assert worker.returncode == 0, err
        results.append(json.loads(out))
    _count("worker processes", len(results))
    assert sum(r["logged_in_here"] for r in results) == 1
    assert len({r["user"] for r in results}) == 1
    assert len({r["token"] for r in results}) == 1
    assert all(r["valid"] for r in results)
    assert len(emulator.users()) == before + 1
    stored = StoredSession.from_json(
        server.client().get("backendless-auth:" + _namespace(emulator))
    )
    assert hashlib.sha256(stored.user_token.encode()).hexdigest() == results[0]["token"]


def _namespace(emulator: Emulator) -> str:
    return emulator.app().namespace


def test_a_fleet_keeps_working_when_redis_restarts_mid_run(
    server: RedisServer, emulator: Emulator
) -> None:
    store = RedisTokenStore(url=server.url, timeout=1)
    app = emulator.app(token_store=store)
    app.users.login_as_guest(stay_logged_in=True)
    restored = emulator.app(token_store=RedisTokenStore(url=server.url, timeout=1))
    assert restored.users.user_token == app.users.user_token
    server.stop()
    # Down: a worker starting now finds no store; a login cannot be kept for the fleet.
    with pytest.raises(TokenStoreError) as info:
        store.load(app.namespace)
    _assert_clean(info.value)
    with pytest.raises(TokenStoreError, match="could not be saved"):
        emulator.app(token_store=store).users.login_as_guest(stay_logged_in=True)
    assert app.users.is_valid_login()  # a session in memory is unaffected
    server.start()
    # Up again, empty (no persistence): the next login is saved for the fleet once more.
    fresh = emulator.app(token_store=store)
    assert fresh.users.user_token is None
    fresh.users.login_as_guest(stay_logged_in=True)
    later = emulator.app(token_store=RedisTokenStore(url=server.url))
    assert later.users.user_token == fresh.users.user_token
    assert later.users.is_valid_login()


def test_the_redis_examples_of_the_docs_run(
    server: RedisServer, emulator: Emulator, monkeypatch: pytest.MonkeyPatch
) -> None:
    page = (Path(__file__).resolve().parent.parent / "docs" / "stores.md").read_text("utf-8")
    blocks = [
        block
        for block in re.findall(r"```python\n(.*?)```", page, re.DOTALL)
        if "RedisTokenStore(url=" in block
    ]
    assert len(blocks) == 2
    monkeypatch.delenv("BACKENDLESS_DOMAIN", raising=False)
    monkeypatch.setenv("BACKENDLESS_APP_ID", emulator.app_id)
    monkeypatch.setenv("BACKENDLESS_API_KEY", emulator.api_key)
    monkeypatch.setenv("BACKENDLESS_SERVER_URL", emulator.url)
    for block in blocks:
        code = block.replace("redis://127.0.0.1:6379/0", server.url)
        assert code != block
        exec(compile(code, "docs/stores.md", "exec"), {})
    namespace = emulator.app().namespace
    assert server.client().exists("backendless-auth:" + namespace)


def test_without_redis_py_building_one_says_what_to_install() -> None:
    code = textwrap.dedent(
        """
        import sys
        sys.modules["redis"] = None  # as if the [redis] extra were not installed
        from backendless_auth import TokenStoreError
        from backendless_auth.stores import RedisTokenStore
        try:
            RedisTokenStore(url="redis://127.0.0.1:6379/0")
        except TokenStoreError as exc:
            print(exc)
        """
    )
    result = subprocess.run(
        [sys.executable, "-c", code], capture_output=True, text=True, check=True, timeout=60
    )
    assert "pip install 'backendless-auth[redis]'" in result.stdout
