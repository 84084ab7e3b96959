"""The account calls awaited natively, under asyncio and trio, on ``httpx.MockTransport``:
the same requests and results as the blocking service, concurrent registrations and logins on
one app, and an update racing a login never leaving a mixed session."""

from __future__ import annotations

import json

import anyio
import httpx
import pytest

from backendless_auth import (
    AsyncBackendless,
    InvalidCredentialsError,
    MemoryTokenStore,
    NotLoggedInError,
    UserProperty,
)

pytestmark = pytest.mark.anyio

APP_ID = "APP-ID-0001"
API_KEY = "REST-KEY-secret-0002"
BASE = f"https://api.backendless.com/{APP_ID}/{API_KEY}/"


@pytest.fixture(params=["asyncio", "trio"])
def anyio_backend(request: pytest.FixtureRequest) -> str:
    return str(request.param)


class Server:
    def __init__(self) -> None:
        self.requests: list[httpx.Request] = []
        self.logins = 0

    def __call__(self, request: httpx.Request) -> httpx.Response:
        self.requests.append(request)
        path = str(request.url)[len(BASE) :]
        body = json.loads(request.content) if request.content else None
        if path == "users/register":
            return httpx.Response(200, json={"objectId": f"u-{body['email']}", **body})
        if path == "users/login":
            if body["password"] != "right-password":
                return httpx.Response(401, json={"code": 3003, "message": "Invalid login"})
            self.logins += 1
            return httpx.Response(
                200,
                json={
                    "objectId": f"u-{body['login']}",
                    "email": body["login"],
                    "user-token": f"token-{self.logins:06d}-{body['login']}",
                },
            )
        if path.startswith("users/role/"):
            return httpx.Response(200, json=[{"objectId": "u-1", "roles": ["Pro"]}])
        if path == "users/userroles":
            return httpx.Response(200, json=["AuthenticatedUser"])
        if path == "users/userclassprops":
            return httpx.Response(200, json=[{"name": "email", "type": "STRING", "identity": True}])
        if path == "users/verifypassowrd":
            return httpx.Response(200, json={"valid": body["password"] == "right-password"})
        if request.method == "PUT" and path.startswith("users/"):
            return httpx.Response(200, json={**body, "email": "a@example.com"})
        return httpx.Response(404, json={"code": 0, "message": path})


async def test_the_account_calls_awaited(anyio_backend: str) -> None:
    server = Server()
    client = httpx.AsyncClient(transport=httpx.MockTransport(server))
    async with (
        client,
        AsyncBackendless(
            app_id=APP_ID, api_key=API_KEY, http_client=client, token_store=MemoryTokenStore()
        ) as app,
    ):
        users = app.users
        with pytest.raises(NotLoggedInError):
            await users.verify_password("right-password")
        made = await users.register({"email": "a@example.com", "password": "right-password"})
        assert made.object_id == "u-a@example.com"
        with pytest.raises(InvalidCredentialsError):
            await users.login("a@example.com", "wrong")
        me = await users.login("a@example.com", "right-password", stay_logged_in=True)
        assert users.current_user == me
        assert await users.verify_password("right-password") is True
        assert await users.get_user_roles() == ["AuthenticatedUser"]
        [pro] = await users.find_by_role("Pro", load_roles=True, page_size=5)
        assert pro["roles"] == ["Pro"]
        [column] = await users.describe_user_class()
        assert column == UserProperty(name="email", type="STRING", identity=True)
        saved = await users.update({"objectId": me.object_id, "name": "Ann"})
        assert saved.user_token == me.user_token
        assert users.current_user is not None
        assert users.current_user.name == "Ann"
        await users.set_current_user_token("adopted-token-0001")
        assert users.user_token == "adopted-token-0001"
        assert users.current_user.object_id == me.object_id
    paths = [str(r.url)[len(BASE) :] for r in server.requests]
    assert paths[:3] == ["users/register", "users/login", "users/login"]
    assert "users/role/Pro?loadRoles=true&pageSize=5" in paths


async def test_concurrent_logins_leave_one_whole_session(anyio_backend: str) -> None:
    server = Server()
    client = httpx.AsyncClient(transport=httpx.MockTransport(server))
    store = MemoryTokenStore()
    async with (
        client,
        AsyncBackendless(
            app_id=APP_ID, api_key=API_KEY, http_client=client, token_store=store
        ) as app,
    ):

        async def one(n: int) -> None:
            await app.users.login(f"user-{n}@example.com", "right-password", stay_logged_in=True)
            await app.users.update({"objectId": f"u-user-{n}@example.com", "name": f"N{n}"})

        async with anyio.create_task_group() as tasks:
            for n in range(40):
                tasks.start_soon(one, n)
        current = app.users.current_user
        assert current is not None
        # Token, user id and user are one session: never one login's token with another's user.
        assert current.user_token == app.users.user_token
        assert current.object_id == app.users.current_user_id
        assert app.users.user_token is not None
        assert app.users.user_token.endswith(current.object_id[len("u-") :])
        stored = store.load(app.namespace)
        assert stored is not None
        assert stored.user_token == app.users.user_token
