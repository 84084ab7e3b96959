"""AsyncBackendless through the public API, under asyncio and trio, with ``httpx.MockTransport``.

Every call of the async service: the exact request, the result, the errors, the session rules;
the transport's retry rules; 200 concurrent tasks on one app; the event loop never blocked by a
slow token store.
"""

from __future__ import annotations

import json
import random
import time
from collections.abc import Awaitable, Callable
from typing import Any

import anyio
import httpx
import pytest

from backendless_auth import (
    AsyncBackendless,
    AsyncUserService,
    Backendless,
    ConfigurationError,
    InvalidArgumentError,
    KeyringTokenStore,
    LoginRejectedError,
    MemoryTokenStore,
    NetworkError,
    RequestTimeout,
    SessionExpiredError,
    StoredSession,
    Timeout,
    UnexpectedResponseError,
    UserService,
)
from backendless_auth.testing import MemoryKeyring

pytestmark = pytest.mark.anyio

APP_ID = "APP-ID-0001"
API_KEY = "REST-KEY-secret-0002"
BASE = f"https://api.backendless.com/{APP_ID}/{API_KEY}/"
NAMESPACE = f"Backendless_{APP_ID}"
ACCESS_TOKEN = "provider-access-token-0003"
TOKEN_SECRET = "provider-token-secret-0004"
GUEST_TOKEN = "guest-session-token-0005"
USER_TOKEN = "user-session-token-0006"

Handler = Callable[[httpx.Request], httpx.Response]


@pytest.fixture(params=["asyncio", "trio"])
def anyio_backend(request: pytest.FixtureRequest) -> str:
    return str(request.param)


@pytest.fixture(autouse=True)
def _no_retry_wait(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr("backendless_auth._http.RETRY_DELAYS", (0.0, 0.0))


def user(object_id: str = "user-1", token: str | None = USER_TOKEN, **columns: Any) -> Any:
    data: dict[str, Any] = {
        "___class": "Users",
        "objectId": object_id,
        "email": f"{object_id}@example.com",
        "userStatus": "ENABLED",
        **columns,
    }
    if token is not None:
        data["user-token"] = token
    return data


def guest(object_id: str = "guest-1", token: str = GUEST_TOKEN) -> Any:
    return {"___class": "Users", "objectId": object_id, "userStatus": "GUEST", "user-token": token}


def dead() -> httpx.Response:
    return httpx.Response(401, json={"code": 3064, "message": "Not existing user token"})


class Server:
    """Answers by (method, path below the base URL); records every request."""

    def __init__(self) -> None:
        self.routes: dict[tuple[str, str], Callable[[httpx.Request], httpx.Response]] = {}
        self.requests: list[httpx.Request] = []

    def on(self, method: str, path: str, answer: Any) -> None:
        if isinstance(answer, httpx.Response) or callable(answer):
            self.routes[(method, path)] = answer if callable(answer) else (lambda _r: answer)
        else:
            self.routes[(method, path)] = lambda _r: httpx.Response(200, json=answer)

    def __call__(self, request: httpx.Request) -> httpx.Response:
        self.requests.append(request)
        url = str(request.url)
        assert url.startswith(BASE), url
        route = self.routes.get((request.method, url[len(BASE) :]))
        if route is None:
            return httpx.Response(404, json={"code": 0, "message": "no route in this test"})
        return route(request)


def make_app(
    server: Handler, store: Any = None, **kwargs: Any
) -> tuple[AsyncBackendless, httpx.AsyncClient]:
    client = httpx.AsyncClient(transport=httpx.MockTransport(server))
    app = AsyncBackendless(app_id=APP_ID, api_key=API_KEY, token_store=store, http_client=client)
    return app, client


@pytest.fixture
def server() -> Server:
    return Server()


@pytest.fixture
def store() -> MemoryTokenStore:
    return MemoryTokenStore()


@pytest.fixture
async def app(server: Server, store: MemoryTokenStore) -> Any:
    app, client = make_app(server, store)
    async with client, app:
        yield app


async def login_guest(app: AsyncBackendless, server: Server, **kwargs: Any) -> Any:
    server.on("POST", "users/register/guest", guest())
    return await app.users.login_as_guest(**kwargs)


# --- the surface ------------------------------------------------------------------------------


def test_every_sync_call_has_an_async_twin() -> None:
    import inspect

    def public(cls: type) -> dict[str, Any]:
        return {name: getattr(cls, name) for name in dir(cls) if not name.startswith("_")}

    sync_names = set(public(UserService))
    assert sync_names <= set(public(AsyncUserService))
    app = AsyncBackendless(app_id=APP_ID, api_key=API_KEY)
    for name in sync_names:
        member = inspect.getattr_static(UserService, name)
        if isinstance(member, property):
            assert isinstance(inspect.getattr_static(AsyncUserService, name), property)
            continue
        method = getattr(app.users, name)
        assert inspect.iscoroutinefunction(method), name
        assert method.__doc__
        sync_doc = getattr(UserService, name).__doc__
        if name == "login_with_browser":  # the same text, and a paragraph on the async side
            assert sync_doc.split("Args:")[1] == method.__doc__.split("Args:")[1]
            sync_method = getattr(Backendless(app_id=APP_ID, api_key=API_KEY).users, name)
            assert inspect.signature(method) == inspect.signature(sync_method)
            continue
        assert method.__doc__ == sync_doc


async def test_constructor_checks_are_shared_with_backendless() -> None:
    with pytest.raises(ConfigurationError):
        AsyncBackendless(app_id=APP_ID)
    with pytest.raises(ConfigurationError):
        AsyncBackendless(app_id=APP_ID, api_key=API_KEY, server_url="http://example.com")
    with pytest.raises(ConfigurationError):
        AsyncBackendless(app_id=APP_ID, api_key=API_KEY, token_store=object())  # type: ignore[arg-type]
    with pytest.raises(ConfigurationError):
        AsyncBackendless(app_id=APP_ID, api_key=API_KEY, http_client=object())  # type: ignore[arg-type]
    app = AsyncBackendless.from_env({"BACKENDLESS_APP_ID": APP_ID, "BACKENDLESS_API_KEY": API_KEY})
    assert isinstance(app, AsyncBackendless)
    assert app.namespace == NAMESPACE
    assert app.timeout == Timeout()
    assert API_KEY not in repr(app)
    assert API_KEY not in repr(app.users)
    await app.aclose()


async def test_callers_client_is_used_and_not_closed(server: Server) -> None:
    app, client = make_app(server)
    async with app:
        await login_guest(app, server)
    assert len(server.requests) == 1
    assert not client.is_closed
    await client.aclose()


async def test_own_client_is_closed_by_aclose() -> None:
    app = AsyncBackendless(app_id=APP_ID, api_key=API_KEY)
    transport: Any = app._transport_async
    async with app:
        pass
    assert transport.client.is_closed


# --- each call: request, result ---------------------------------------------------------------


async def test_login_as_guest(app: AsyncBackendless, server: Server, store: Any) -> None:
    found = await login_guest(app, server, stay_logged_in=True)
    assert found.is_guest
    assert found.user_token == GUEST_TOKEN
    assert app.users.user_token == GUEST_TOKEN
    assert app.users.current_user == found
    saved = store.load(NAMESPACE)
    assert saved is not None
    assert saved.user_token == GUEST_TOKEN
    (request,) = server.requests
    assert request.method == "POST"
    assert request.content == b""


async def test_login_with_oauth2_request(app: AsyncBackendless, server: Server) -> None:
    server.on("POST", "users/oauth/google/login", user())
    found = await app.users.login_with_oauth2(
        "google", ACCESS_TOKEN, fields_mapping={"email": "email"}
    )
    assert found.user_token == USER_TOKEN
    (request,) = server.requests
    assert request.headers["content-type"] == "application/json"
    assert json.loads(request.content) == {
        "accessToken": ACCESS_TOKEN,
        "fieldsMapping": {"email": "email"},
    }


async def test_login_with_oauth1_upgrades_the_guest(app: AsyncBackendless, server: Server) -> None:
    g = await login_guest(app, server)
    server.on("POST", "users/oauth/twitter/login", user("guest-1"))
    found = await app.users.login_with_oauth1(
        "twitter", ACCESS_TOKEN, TOKEN_SECRET, guest_user=g.to_wire() | {"user-token": None}
    )
    assert found.object_id == "guest-1"
    body = json.loads(server.requests[-1].content)
    assert body["accessTokenSecret"] == TOKEN_SECRET
    assert body["guestUser"]["user-token"] == GUEST_TOKEN  # the session's token goes along
    assert server.requests[-1].headers["user-token"] == GUEST_TOKEN


async def test_get_authorization_url(app: AsyncBackendless, server: Server) -> None:
    server.on("POST", "users/oauth/google/request_url", "https://accounts.example/auth?x=1")
    url = await app.users.get_authorization_url("google", scope=["email", "profile"])
    assert url == "https://accounts.example/auth?x=1"
    body = json.loads(server.requests[0].content)
    assert body == {"permissions": "email profile", "redirect": False}


async def test_is_valid_login_and_logout(app: AsyncBackendless, server: Server, store: Any) -> None:
    assert await app.users.is_valid_login() is False
    assert server.requests == []
    await login_guest(app, server, stay_logged_in=True)
    server.on("GET", f"users/isvalidusertoken/{GUEST_TOKEN}", True)
    assert await app.users.is_valid_login() is True
    server.on("GET", "users/logout", httpx.Response(200))
    await app.users.logout()
    assert server.requests[-1].headers["user-token"] == GUEST_TOKEN
    assert app.users.user_token is None
    assert store.load(NAMESPACE) is None


async def test_get_current_user_from_memory_store_and_reload(server: Server, store: Any) -> None:
    store.save(NAMESPACE, StoredSession(user_token=USER_TOKEN, user_id="user-1"))
    server.on("GET", "data/Users/user-1", user(token=None, name="Ada"))
    app, client = make_app(server, store)
    async with client, app:
        found = await app.users.get_current_user()
        assert found is not None
        assert found.name == "Ada"
        assert found.user_token == USER_TOKEN
        assert await app.users.get_current_user() is found  # in memory: no request
        assert len(server.requests) == 1
        await app.users.get_current_user(reload=True)
        assert len(server.requests) == 2


async def test_complete_browser_login(app: AsyncBackendless, server: Server, store: Any) -> None:
    server.on("GET", "data/Users/user-1", user(token=None))
    found = await app.users.complete_browser_login(
        f"http://localhost/done?userId=user-1&userToken={USER_TOKEN}", stay_logged_in=True
    )
    assert found.user_token == USER_TOKEN
    assert server.requests[0].headers["user-token"] == USER_TOKEN
    assert store.load(NAMESPACE).user_token == USER_TOKEN


# --- errors and session rules -----------------------------------------------------------------


async def test_refused_login_keeps_the_previous_session(
    app: AsyncBackendless, server: Server, store: Any
) -> None:
    await login_guest(app, server, stay_logged_in=True)
    server.on(
        "POST",
        "users/oauth/google/login",
        httpx.Response(401, json={"code": 3003, "message": "invalid login"}),
    )
    with pytest.raises(LoginRejectedError):
        await app.users.login_with_oauth2("google", ACCESS_TOKEN)
    assert app.users.user_token == GUEST_TOKEN
    assert store.load(NAMESPACE).user_token == GUEST_TOKEN


@pytest.mark.parametrize(
    ("call", "kwargs"),
    [
        ("login_with_oauth2", {"provider_code": "", "access_token": ACCESS_TOKEN}),
        ("login_with_oauth2", {"provider_code": "google", "access_token": " "}),
        ("login_as_guest", {"stay_logged_in": "yes"}),
        ("get_current_user", {"reload": 1}),
        ("get_authorization_url", {"provider_code": "google", "scope": 42}),
        ("complete_browser_login", {"redirected_url": "https://example.com/"}),
    ],
)
async def test_bad_arguments_are_refused_before_any_request(
    app: AsyncBackendless, server: Server, call: str, kwargs: dict[str, Any]
) -> None:
    with pytest.raises(InvalidArgumentError):
        await getattr(app.users, call)(**kwargs)
    assert server.requests == []


async def test_3064_clears_the_session(app: AsyncBackendless, server: Server, store: Any) -> None:
    await login_guest(app, server, stay_logged_in=True)
    server.on("POST", "users/oauth/google/request_url", dead())
    with pytest.raises(SessionExpiredError):
        await app.users.get_authorization_url("google")
    assert app.users.user_token is None
    assert store.load(NAMESPACE) is None


async def test_get_current_user_after_expiry_is_none(server: Server, store: Any) -> None:
    store.save(NAMESPACE, StoredSession(user_token=USER_TOKEN, user_id="user-1"))
    server.on("GET", "data/Users/user-1", dead())
    app, client = make_app(server, store)
    async with client, app:
        assert await app.users.get_current_user() is None
        assert app.users.current_user is None
        assert store.load(NAMESPACE) is None


async def test_a_dead_adopted_session_clears_nothing(server: Server, store: Any) -> None:
    # Issue 11 item 17: a fresh process, the store not read yet, holding a good session.
    good = StoredSession(user_token=USER_TOKEN, user_id="user-1")
    store.save(NAMESPACE, good)
    server.on("GET", "data/Users/user-2", dead())
    app, client = make_app(server, store)
    async with client, app:
        with pytest.raises(SessionExpiredError):
            await app.users.complete_browser_login(
                "http://localhost/done?userId=user-2&userToken=dead-token-0008"
            )
        assert store.load(NAMESPACE) == good
        assert app.users.user_token == USER_TOKEN


async def test_3064_does_not_clear_a_newer_session(server: Server, store: Any) -> None:
    app, client = make_app(server, store)

    async def answer(_request: httpx.Request) -> httpx.Response:
        # Another task logs in while the old session's request is in flight.
        server.on("POST", "users/oauth/google/login", user("user-2", "other-token-0007"))
        await app.users.login_with_oauth2("google", ACCESS_TOKEN, stay_logged_in=True)
        return dead()

    async with client, app:
        await login_guest(app, server)
        server.on("GET", "data/Users/guest-1", answer)
        found = await app.users.get_current_user(reload=True)
        assert found is not None
        assert found.object_id == "user-2"
        assert app.users.user_token == "other-token-0007"
        assert store.load(NAMESPACE).user_token == "other-token-0007"


async def test_network_failure_is_our_error_naming_the_call(server: Server) -> None:
    def fail(request: httpx.Request) -> httpx.Response:
        server.requests.append(request)
        raise httpx.ConnectError("boom " + str(request.url), request=request)

    app, client = make_app(fail)
    async with client, app:
        with pytest.raises(NetworkError) as info:
            await app.users.login_as_guest()
    text = str(info.value)
    assert text == "POST login_as_guest: could not connect to the server"
    assert info.value.__context__ is None
    assert info.value.__cause__ is None
    assert len(server.requests) == 3  # a failure to connect never reached the server: retried


@pytest.mark.parametrize(
    ("failure", "error"),
    [
        (httpx.ReadTimeout, RequestTimeout),
        (httpx.RemoteProtocolError, NetworkError),
        (httpx.ReadError, NetworkError),
    ],
)
async def test_post_that_may_have_arrived_is_never_resent(
    server: Server, failure: type[httpx.HTTPError], error: type[Exception]
) -> None:
    def fail(request: httpx.Request) -> httpx.Response:
        server.requests.append(request)
        raise failure("lost", request=request)  # type: ignore[call-arg]

    app, client = make_app(fail)
    async with client, app:
        with pytest.raises(error):
            await app.users.login_as_guest()
    assert len(server.requests) == 1
    store = MemoryTokenStore()
    store.save(NAMESPACE, StoredSession(user_token=USER_TOKEN, user_id="user-1"))
    app, client = make_app(fail, store)
    async with client, app:
        with pytest.raises(error):
            await app.users.get_current_user()
        assert app.users.user_token == USER_TOKEN  # a failed load keeps the session
    assert len(server.requests) == 4  # a GET is retried twice


@pytest.mark.parametrize("status", [502, 503, 504])
async def test_get_retried_on_gateway_statuses_post_not(server: Server, status: int) -> None:
    answers = iter([httpx.Response(status), httpx.Response(200, json=True)])
    app, client = make_app(server, MemoryTokenStore())
    async with client, app:
        await login_guest(app, server)
        server.on("GET", f"users/isvalidusertoken/{GUEST_TOKEN}", lambda _r: next(answers))
        assert await app.users.is_valid_login() is True
        server.on("POST", "users/register/guest", httpx.Response(status))
        with pytest.raises(UnexpectedResponseError):
            await app.users.login_as_guest()
        assert [r.method for r in server.requests].count("POST") == 2


async def test_redirect_is_not_followed(server: Server) -> None:
    server.on("POST", "users/register/guest", httpx.Response(302, headers={"location": BASE}))
    client = httpx.AsyncClient(transport=httpx.MockTransport(server), follow_redirects=True)
    app = AsyncBackendless(app_id=APP_ID, api_key=API_KEY, http_client=client)
    async with client, app:
        with pytest.raises(UnexpectedResponseError, match="redirect"):
            await app.users.login_as_guest()
    assert len(server.requests) == 1


@pytest.mark.parametrize("timeout", [Timeout(2.0, 7.0), Timeout(0.5, 0.5)])
async def test_the_apps_timeout_reaches_every_request_on_the_callers_own_client(
    server: Server, timeout: Timeout
) -> None:
    # The caller's client has its own (longer) default: each request carries the app's.
    server.on("POST", "users/register/guest", guest())
    server.on("GET", f"users/isvalidusertoken/{GUEST_TOKEN}", True)
    client = httpx.AsyncClient(transport=httpx.MockTransport(server), timeout=httpx.Timeout(99.0))
    app = AsyncBackendless(app_id=APP_ID, api_key=API_KEY, http_client=client, timeout=timeout)
    async with client, app:
        await app.users.login_as_guest()
        assert await app.users.is_valid_login()
    assert len(server.requests) == 2
    for request in server.requests:
        sent = request.extensions["timeout"]
        assert sent["connect"] == timeout.connect
        assert sent["read"] == timeout.read
        assert None not in sent.values()


# --- many tasks, one app ----------------------------------------------------------------------


async def test_200_concurrent_tasks_never_mix_tokens(anyio_backend: str) -> None:
    issued: dict[str, str] = {}  # token -> objectId
    rng = random.Random(13)
    counter = iter(range(10_000))

    async def handler(request: httpx.Request) -> httpx.Response:
        await anyio.sleep(rng.random() / 1000)
        path = str(request.url)[len(BASE) :]
        if path == "users/register/guest":
            n = next(counter)
            token, object_id = f"token-{n:04d}", f"guest-{n:04d}"
            issued[token] = object_id
            sent = request.headers.get("user-token")
            assert sent is None or sent in issued
            await anyio.sleep(rng.random() / 1000)
            return httpx.Response(200, json=guest(object_id, token))
        if path.startswith("users/isvalidusertoken/"):
            # The token checked is the token sent: one session, whole.
            assert path.rsplit("/", 1)[1] == request.headers["user-token"]
            return httpx.Response(200, json=True)
        if path.startswith("data/Users/"):
            token = request.headers["user-token"]
            assert issued[token] == path.rsplit("/", 1)[1]
            return httpx.Response(200, json=guest(issued[token], token) | {"user-token": None})
        return httpx.Response(404)

    store = MemoryTokenStore()
    app, client = make_app(handler, store)  # type: ignore[arg-type]
    seen: list[tuple[str | None, str | None]] = []

    async def worker(i: int) -> None:
        if i % 3 == 0:
            found = await app.users.login_as_guest(stay_logged_in=True)
            assert issued[found.user_token or ""] == found.object_id
        elif i % 3 == 1:
            assert await app.users.is_valid_login() in (True, False)
        else:
            current = await app.users.get_current_user(reload=True)
            if current is not None:
                assert issued[current.user_token or ""] == current.object_id
        seen.append((app.users.user_token, app.users.current_user_id))

    async with client, app:
        await app.users.login_as_guest()
        async with anyio.create_task_group() as tg:
            for i in range(200):
                tg.start_soon(worker, i)
        for token, object_id in seen:
            assert token is not None
            assert issued[token] == object_id
        final = app.users.current_user
        assert final is not None
        assert app.users.user_token == final.user_token
        assert issued[final.user_token or ""] == final.object_id == app.users.current_user_id
        saved = store.load(NAMESPACE)
        assert saved is not None
        assert (saved.user_token, saved.user_id) == (final.user_token, final.object_id)


# --- the event loop is never blocked by the store ---------------------------------------------


class SleepingKeyring(MemoryKeyring):
    """A keyring that takes a second per call, as a locked desktop keyring may."""

    def get_password(self, service: str, username: str) -> str | None:
        time.sleep(1)
        return super().get_password(service, username)

    def set_password(self, service: str, username: str, password: str) -> None:
        time.sleep(1)
        super().set_password(service, username, password)

    def delete_password(self, service: str, username: str) -> None:
        time.sleep(1)
        super().delete_password(service, username)


async def _with_heartbeat(work: Callable[[], Awaitable[None]]) -> float:
    """Run ``work`` while a heartbeat ticks every 10 ms; return its worst lateness (seconds)."""
    worst = 0.0
    done = anyio.Event()

    async def heartbeat(*, task_status: Any = anyio.TASK_STATUS_IGNORED) -> None:
        nonlocal worst
        last = time.monotonic()
        task_status.started()
        while not done.is_set():
            await anyio.sleep(0.01)
            now = time.monotonic()
            # A tick that comes late: the loop was busy (or blocked) for that long.
            worst = max(worst, now - last - 0.01)
            last = now

    async with anyio.create_task_group() as tg:
        await tg.start(heartbeat)  # ticking before the work starts
        try:
            await work()
        finally:
            done.set()
    return worst


@pytest.mark.slow
async def test_a_slow_keyring_never_blocks_the_event_loop(server: Server) -> None:
    keyring = SleepingKeyring()
    store = KeyringTokenStore("backendless-auth-test", keyring_backend=keyring, timeout=30)
    server.on("POST", "users/register/guest", guest())
    server.on("GET", "data/Users/guest-1", guest() | {"user-token": None})

    async def work() -> None:
        app, client = make_app(server, store)
        async with client, app:
            await app.users.login_as_guest(stay_logged_in=True)  # clear? no: save
        again, client = make_app(server, store)
        async with client, again:
            found = await again.users.get_current_user()  # load from the store
            assert found is not None
            assert found.user_token == GUEST_TOKEN

    # A store run on the loop blocks it for a whole keyring call (1 s) on every attempt, so a
    # tick comes at least a second late. A busy machine (CI runs three suites on two cores)
    # delays ticks by tens, now and then hundreds, of milliseconds without anything of ours
    # blocking: the bound is half a keyring call, and the quietest of up to three attempts
    # must stay under it.
    attempts = []
    for _ in range(3):
        calls = keyring.calls
        attempts.append(await _with_heartbeat(work))
        assert keyring.calls >= calls + 2
        if attempts[-1] < 0.05:
            break
    worst = min(attempts)
    shown = ", ".join(f"{late * 1000:.0f} ms" for late in attempts)
    assert worst < 0.5, f"the event loop was blocked: worst ticks {shown}"


async def test_200_tasks_racing_logins_logouts_and_reads_leave_whole_state() -> None:
    issued: dict[str, str] = {}  # token -> objectId
    ended: set[str] = set()
    rng = random.Random(1301)
    counter = iter(range(10_000))

    async def handler(request: httpx.Request) -> httpx.Response:
        await anyio.sleep(rng.random() / 1000)
        path = str(request.url)[len(BASE) :]
        sent = request.headers.get("user-token")
        if path == "users/register/guest":
            n = next(counter)
            token, object_id = f"token-{n:04d}", f"guest-{n:04d}"
            issued[token] = object_id
            await anyio.sleep(rng.random() / 1000)
            return httpx.Response(200, json=guest(object_id, token))
        if path == "users/logout":
            assert sent in issued
            ended.add(sent)
            return httpx.Response(200)
        if path.startswith("users/isvalidusertoken/"):
            assert path.rsplit("/", 1)[1] == sent
            return httpx.Response(200, json=sent not in ended)
        if path.startswith("data/Users/"):
            assert sent is not None
            if sent in ended:
                return dead()
            assert issued[sent] == path.rsplit("/", 1)[1]
            return httpx.Response(200, json=guest(issued[sent], sent) | {"user-token": None})
        return httpx.Response(404)

    store = MemoryTokenStore()
    app, client = make_app(handler, store)  # type: ignore[arg-type]

    def check_whole() -> None:
        # Read in one go by each property: a pair that belongs together or nothing.
        token, object_id = app.users.user_token, app.users.current_user_id
        if token is None:
            return
        user = app.users.current_user
        if user is not None and user.user_token == token:
            assert user.object_id == object_id
        assert issued[token] == object_id or object_id is None

    async def worker(i: int) -> None:
        await anyio.sleep(rng.random() / 100)  # spread out, so that calls overlap every way
        kind = i % 4
        if kind == 0:
            found = await app.users.login_as_guest(stay_logged_in=True)
            assert issued[found.user_token or ""] == found.object_id
        elif kind == 1:
            await app.users.logout()
        elif kind == 2:
            assert await app.users.is_valid_login() in (True, False)
        else:
            current = await app.users.get_current_user(reload=True)
            if current is not None:
                assert issued[current.user_token or ""] == current.object_id
        check_whole()

    async with client, app:
        await app.users.login_as_guest(stay_logged_in=True)
        async with anyio.create_task_group() as tg:
            for i in range(200):
                tg.start_soon(worker, i)
        saved = store.load(NAMESPACE)
        token = app.users.user_token
        if token is None:
            assert saved is None
            assert app.users.current_user is None
        else:
            assert saved is not None
            assert (saved.user_token, saved.user_id) == (token, app.users.current_user_id)
            assert issued[token] == app.users.current_user_id
            assert token not in ended  # a session logged out on the server is never kept
    assert len(ended) > 0


def test_an_async_app_imports_no_requests_and_the_package_no_http_library() -> None:
    import subprocess
    import sys

    code = (
        "import sys, backendless_auth as b; before = set(sys.modules); "
        "b.AsyncBackendless(app_id='A', api_key='K'); "
        "http = {'requests', 'urllib3', 'httpx', 'anyio'}; "
        "print(sorted(http & before), sorted(http & set(sys.modules)))"
    )
    out = subprocess.run(
        [sys.executable, "-c", code], check=True, capture_output=True, text=True
    ).stdout.split("] [")
    assert out[0] == "["
    assert out[1].strip() == "'anyio', 'httpx']"
